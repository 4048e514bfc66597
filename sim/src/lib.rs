//! The simulated platform behind `i2c-hal-service --sim`: a fake kernel that drives the same
//! production code as real hardware. It writes a sysfs-shaped tree read by the production sysfs
//! scanner, emits kernel-format uevent bytes parsed by the production parser, hands out handles
//! that hold real fds, and, like i2c_del_adapter(), makes removal wait for the last open handle.
//!
//! The built-in modules, described in [`catalog`], can be plugged and unplugged (also from
//! i2cctl, through [`control`]):
//! - `eeprom-module`: a full I2C adapter with a 24C02 EEPROM at 0x50;
//! - `sensor-module`: an SMBus-only adapter with an LM75 at 0x48 and a driver-bound chip at 0x49;
//! - `smbus2-module` (not plugged by default): an SMBus 2.0 adapter (PEC, process call, block
//!   process call) with an SMBus 2.0 device at 0x42 that checks and sends PEC, answers process
//!   calls with the word plus one and block process calls with the block reversed, and sends a
//!   wrong PEC on request;
//! - `ten-bit-module` (not plugged by default): a full I2C adapter with 10-bit addressing and a
//!   24C02-like EEPROM at the 10-bit address 0x150 (the 7-bit 0x50 there is empty).

#![forbid(unsafe_code)]

mod adapter;
pub mod catalog;
mod chips;
pub mod control;
mod handle;
mod kernel;
mod pec;
mod tree;

#[cfg(test)]
mod tests;

pub use kernel::SimKernel;

use i2c_hal_platform::source::{SourceError, UeventSource};
use std::fmt;
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// One module as `list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleStatus {
    pub name: String,
    pub description: String,
    pub state: ModuleState,
    /// Handles (open fds) currently pinning the module's adapter.
    pub open_handles: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleState {
    Unplugged,
    Plugged {
        bus_number: u32,
    },
    /// Unplugged, but open handles still pin the adapter; the bus number stays reserved.
    Removing {
        bus_number: u32,
    },
}

/// Why the simulated kernel would not plug or unplug a module. (What a client of the control
/// socket gets back is a `control::ControlError`.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimKernelError {
    UnknownModule(String),
    AlreadyPlugged(String),
    NotPlugged(String),
    RemovalBlocked { module: String, bus_number: u32, open_handles: usize, waited: Duration },
    Io(String),
}

impl fmt::Display for SimKernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimKernelError::UnknownModule(name) => write!(
                f,
                "unknown module '{name}' (known modules: {})",
                SimKernel::module_names().join(", ")
            ),
            SimKernelError::AlreadyPlugged(name) => {
                write!(f, "module '{name}' is already plugged (or its removal is still pending)")
            }
            SimKernelError::NotPlugged(name) => write!(f, "module '{name}' is not plugged"),
            SimKernelError::RemovalBlocked { module, bus_number, open_handles, waited } => write!(
                f,
                "removal of module '{module}' (i2c-{bus_number}) is blocked: {open_handles} open \
                 handle(s) still held after {waited:.1?}; it completes when the last one is closed"
            ),
            SimKernelError::Io(message) => write!(f, "simulator I/O error: {message}"),
        }
    }
}

impl std::error::Error for SimKernelError {}

/// The simulator's uevent stream for the monitor, in place of the netlink socket.
pub struct SimSource(Receiver<Vec<u8>>);

impl SimSource {
    pub fn new(rx: Receiver<Vec<u8>>) -> Self {
        SimSource(rx)
    }
}

impl UeventSource for SimSource {
    /// Blocks for the next event; once the simulator is gone the stream is `Closed` for good.
    fn next_event(&mut self) -> Result<Vec<u8>, SourceError> {
        self.0.recv().map_err(|_| SourceError::Closed)
    }
}
