//! The seam between the core and the kernel: one open /dev/i2c-N. The platform layer implements
//! it over i2c-dev (and the simulator over its device models); the core only decides when a
//! device is opened, used and dropped. Dropping a `BusDevice` must close its fd: that drop is
//! what lets the kernel's `i2c_del_adapter()` finish.

use super::error::{Error, ErrorCode};
use super::request::{Message, SmbusOp, SmbusValue};
use std::fmt;

/// A failed device operation, with the errno the kernel gave so the mapping stays in one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceError {
    pub errno: i32,
    pub context: String,
}

impl DeviceError {
    pub fn new(errno: i32, context: impl Into<String>) -> Self {
        DeviceError { errno, context: context.into() }
    }

    pub fn from_io(err: &std::io::Error, context: impl Into<String>) -> Self {
        DeviceError::new(err.raw_os_error().unwrap_or(libc::EIO), context)
    }
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, std::io::Error::from_raw_os_error(self.errno))
    }
}

impl std::error::Error for DeviceError {}

impl From<DeviceError> for Error {
    fn from(err: DeviceError) -> Error {
        Error::new(ErrorCode::from_errno(err.errno), err.to_string())
    }
}

/// One open i2c-dev character device. Implementations are used by one thread at a time (the
/// core serialises access per adapter, as the kernel does).
pub trait BusDevice: Send {
    /// Checks that no kernel driver owns `address` (I2C_SLAVE fails with EBUSY then).
    fn claim(&mut self, address: u16) -> Result<(), DeviceError>;
    /// One combined transfer (I2C_RDWR); returns the bytes of each read message, in order.
    fn transfer(&mut self, address: u16, messages: &[Message])
        -> Result<Vec<Vec<u8>>, DeviceError>;
    /// One SMBus operation (I2C_SMBUS).
    fn smbus(&mut self, address: u16, op: &SmbusOp) -> Result<SmbusValue, DeviceError>;
}

/// Opens the i2c-dev node of a bus number. Shared by all threads.
pub trait DeviceOpener: Send + Sync {
    fn open(&self, bus_number: u32) -> Result<Box<dyn BusDevice>, DeviceError>;
    /// The adapter's I2C_FUNCS mask; opens the node briefly if it must.
    fn functionality(&self, bus_number: u32) -> Result<u64, DeviceError>;
}
