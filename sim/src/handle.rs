//! One open simulated /dev/i2c-N. It holds a real fd on the node file, so the service process
//! really owns a descriptor per handle (visible in /proc/self/fd), and it pins the adapter: the
//! module's removal cannot finish until the handle is dropped, as with a real i2c-dev fd.

use super::adapter::SimAdapter;
use super::kernel::SimKernel;
use i2c_hal_core::device::{BusDevice, DeviceFault, Target, Transferred};
use i2c_hal_core::request::{MessageRef, SmbusOp, SmbusValue};
use i2c_hal_core::sync::lock;
use i2c_hal_platform::i2cdev::{io_errno, open_fault};
use std::fs::{File, OpenOptions};
use std::sync::{Arc, Mutex};

pub(super) struct SimHandle {
    kernel: Arc<SimKernel>,
    module_index: usize,
    bus_number: u32,
    /// Closed before the kernel hears about the release, so a finished unplug implies a closed fd.
    node: Option<File>,
    /// Still answers after unplug, as the kernel's held fd keeps working until it is closed.
    hardware: Arc<Mutex<SimAdapter>>,
}

impl SimHandle {
    pub(super) fn open(kernel: &Arc<SimKernel>, bus_number: u32) -> Result<SimHandle, DeviceFault> {
        let (module_index, hardware) = kernel.acquire(bus_number)?;
        // Counted from here on: if opening the file fails, dropping `handle` releases the count.
        let mut handle = SimHandle {
            kernel: Arc::clone(kernel),
            module_index,
            bus_number,
            node: None,
            hardware,
        };
        let path = kernel.dev_node(bus_number);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|err| open_fault(io_errno(&err), format!("opening {}", path.display())))?;
        handle.node = Some(file);
        Ok(handle)
    }

    fn with_hardware<T>(
        &self,
        operation: impl FnOnce(&mut SimAdapter) -> Result<T, DeviceFault>,
    ) -> Result<T, DeviceFault> {
        let mut hardware = lock(&self.hardware);
        operation(&mut hardware).map_err(|fault| DeviceFault {
            context: format!("i2c-{}: {}", self.bus_number, fault.context),
            ..fault
        })
    }
}

impl BusDevice for SimHandle {
    fn functionality(&self) -> u64 {
        lock(&self.hardware).functionality()
    }

    fn claim(&mut self, target: Target) -> Result<(), DeviceFault> {
        self.with_hardware(|hardware| hardware.claim(target))
    }

    fn transfer(
        &mut self,
        target: Target,
        messages: &[MessageRef<'_>],
    ) -> Result<Transferred, DeviceFault> {
        self.with_hardware(|hardware| hardware.transfer(target, messages))
    }

    fn smbus(&mut self, target: Target, op: &SmbusOp) -> Result<SmbusValue, DeviceFault> {
        self.with_hardware(|hardware| hardware.smbus(target, op))
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        drop(self.node.take());
        self.kernel.release(self.module_index);
    }
}
