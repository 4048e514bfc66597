//! The real i2c-dev backend: one open /dev/i2c-N per opened device, through the `i2cdev` crate.
//!
//! The fd is owned by an `i2cdev::linux::LinuxI2CBus` (a `File` inside, so it closes on drop and
//! is opened with O_CLOEXEC, which std always sets). Dropping the device is what lets the kernel's
//! `i2c_del_adapter()` return when a module is unplugged.
//!
//! Only these ioctls are issued: I2C_FUNCS, I2C_SLAVE, I2C_TENBIT and I2C_PEC (set from the
//! session's own open flags, which the broker accepts only where the adapter has the matching
//! I2C_FUNC bit), I2C_RDWR (messages flagged READ, TEN or nothing) and I2C_SMBUS. The
//! adapter-wide knobs (I2C_TIMEOUT, I2C_RETRIES) would change the bus for every other user, and
//! I2C_SLAVE_FORCE or message flags such as NOSTART let a client bypass a bound driver or speak
//! a protocol the device never agreed to; none is reachable.
//!
//! Why not everything through the crate: `LinuxI2CDevice::new` opens its own fd and issues
//! I2C_PEC, and its `transfer` adds I2C_M_NOSTART between messages of the same direction; the
//! crate's SMBus helpers are private otherwise. So the crate carries the fd and I2C_RDWR (via
//! `LinuxI2CBus`, which passes messages unchanged), and the three other ioctls are declared
//! below on that same fd.

use i2c_hal_core::device::{BusDevice, DeviceFault, DeviceOpener, FaultKind, Target, Transferred};
use i2c_hal_core::request::{validate_transfer, MessageRef, SmbusOp, SmbusValue};
use i2cdev::core::{I2CMessage, I2CTransfer};
use i2cdev::linux::{I2CMessageFlags, LinuxI2CBus, LinuxI2CError, LinuxI2CMessage};
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};

/// Kernel uapi for the ioctls this module issues itself, with the kernel's names.
#[allow(non_camel_case_types)]
mod uapi {
    /// include/uapi/linux/i2c-dev.h: set the fd's target address (EBUSY if a driver owns it).
    pub const I2C_SLAVE: u32 = 0x0703;
    /// include/uapi/linux/i2c-dev.h: 0 for 7-bit addresses, non-zero for 10-bit ones. i2c-dev
    /// refuses an I2C_SLAVE above 0x7f unless this is set (i2cdev_ioctl, I2C_SLAVE case).
    pub const I2C_TENBIT: u32 = 0x0704;
    /// include/uapi/linux/i2c-dev.h: non-zero to send and check a PEC on SMBus transactions.
    pub const I2C_PEC: u32 = 0x0708;
    /// include/uapi/linux/i2c-dev.h: read the adapter's functionality mask (unsigned long).
    pub const I2C_FUNCS: u32 = 0x0705;
    /// include/uapi/linux/i2c-dev.h: one SMBus transaction (struct i2c_smbus_ioctl_data).
    pub const I2C_SMBUS: u32 = 0x0720;

    /// include/uapi/linux/i2c.h: i2c_smbus_ioctl_data.read_write.
    pub const I2C_SMBUS_READ: u8 = 1;
    pub const I2C_SMBUS_WRITE: u8 = 0;

    /// include/uapi/linux/i2c.h: i2c_smbus_ioctl_data.size (the transaction type).
    pub const I2C_SMBUS_QUICK: u32 = 0;
    pub const I2C_SMBUS_BYTE: u32 = 1;
    pub const I2C_SMBUS_BYTE_DATA: u32 = 2;
    pub const I2C_SMBUS_WORD_DATA: u32 = 3;
    pub const I2C_SMBUS_PROC_CALL: u32 = 4;
    pub const I2C_SMBUS_BLOCK_DATA: u32 = 5;
    pub const I2C_SMBUS_BLOCK_PROC_CALL: u32 = 7;
    pub const I2C_SMBUS_I2C_BLOCK_DATA: u32 = 8;

    /// include/uapi/linux/i2c.h.
    pub const I2C_SMBUS_BLOCK_MAX: usize = 32;

    /// `union i2c_smbus_data` (include/uapi/linux/i2c.h): byte, word (host order) or block, where
    /// block[0] is the length. Modelled as its largest member with the union's alignment.
    #[repr(C, align(2))]
    pub struct i2c_smbus_data {
        pub block: [u8; I2C_SMBUS_BLOCK_MAX + 2],
    }

    /// `struct i2c_smbus_ioctl_data` (include/uapi/linux/i2c-dev.h).
    #[repr(C)]
    pub struct i2c_smbus_ioctl_data {
        pub read_write: u8,
        pub command: u8,
        pub size: u32,
        pub data: *mut i2c_smbus_data,
    }

    nix::ioctl_read_bad!(i2c_funcs, I2C_FUNCS, libc::c_ulong);
    nix::ioctl_write_int_bad!(i2c_slave, I2C_SLAVE);
    nix::ioctl_write_int_bad!(i2c_tenbit, I2C_TENBIT);
    nix::ioctl_write_int_bad!(i2c_pec, I2C_PEC);
    nix::ioctl_write_ptr_bad!(i2c_smbus, I2C_SMBUS, i2c_smbus_ioctl_data);
}

/// What an errno from an i2c-dev ioctl means, after Documentation/i2c/fault-codes.rst:
/// ENXIO/EREMOTEIO are an address NACK, and so is ENODEV (i2c-stub and some drivers answer an
/// absent device with it); EAGAIN is lost arbitration; EBADMSG is a PEC mismatch
/// (i2c_smbus_check_pec in drivers/i2c/i2c-core-smbus.c). No errno means "adapter gone": a removed
/// adapter's held fd keeps working, so removal is known from uevents and failed opens only.
pub fn fault_kind(errno: i32) -> FaultKind {
    match errno {
        libc::ENXIO | libc::EREMOTEIO | libc::ENODEV => FaultKind::Nack,
        libc::EBUSY => FaultKind::Busy,
        libc::ETIMEDOUT => FaultKind::Timeout,
        libc::EOPNOTSUPP | libc::EPROTONOSUPPORT => FaultKind::NotSupported,
        libc::EINVAL => FaultKind::InvalidArgument,
        libc::EMSGSIZE => FaultKind::TooLarge,
        libc::EPERM | libc::EACCES => FaultKind::PermissionDenied,
        libc::EAGAIN => FaultKind::ArbitrationLost,
        libc::EBADMSG => FaultKind::Pec,
        _ => FaultKind::Io,
    }
}

/// The fault for an errno from an operation on an open node (I2C_SLAVE, I2C_RDWR, I2C_SMBUS).
pub fn operation_fault(errno: i32, context: impl Into<String>) -> DeviceFault {
    DeviceFault::new(fault_kind(errno), context).with_errno(errno)
}

/// The fault for an errno from opening /dev/i2c-N (and the I2C_FUNCS that goes with it). There
/// ENOENT means devtmpfs has dropped the node, and ENODEV that i2cdev_open() found no adapter
/// for the minor (drivers/i2c/i2c-dev.c): either way the adapter is gone. The same ENODEV from
/// an operation on an open fd stays a NACK (see `fault_kind`).
pub fn open_fault(errno: i32, context: impl Into<String>) -> DeviceFault {
    match errno {
        libc::ENOENT | libc::ENODEV => DeviceFault::new(FaultKind::Gone, context).with_errno(errno),
        _ => operation_fault(errno, context),
    }
}

/// The errno an `io::Error` carries; EIO for one that did not come from the kernel.
pub fn io_errno(err: &std::io::Error) -> i32 {
    err.raw_os_error().unwrap_or(libc::EIO)
}

/// Opens /dev/i2c-N (or DEV_ROOT/i2c-N in tests).
#[derive(Clone, Debug)]
pub struct I2cDevOpener {
    dev_root: PathBuf,
}

impl I2cDevOpener {
    pub fn new(dev_root: impl Into<PathBuf>) -> Self {
        I2cDevOpener { dev_root: dev_root.into() }
    }

    fn node_path(&self, bus_number: u32) -> PathBuf {
        self.dev_root.join(format!("i2c-{bus_number}"))
    }

    /// Opens the node and reads I2C_FUNCS; on any failure the fd is closed before returning.
    fn open_device(&self, bus_number: u32) -> Result<I2cDevDevice, DeviceFault> {
        let path = self.node_path(bus_number);
        let bus = open_node(&path)?;
        let functionality = query_functionality(bus.as_raw_fd())
            .map_err(|errno| open_fault(errno as i32, format!("{}: I2C_FUNCS", path.display())))?;
        Ok(I2cDevDevice::new(bus, path, functionality))
    }
}

impl DeviceOpener for I2cDevOpener {
    fn open(&self, bus_number: u32) -> Result<Box<dyn BusDevice>, DeviceFault> {
        let device = self.open_device(bus_number)?;
        log::debug!(
            "opened {} (functionality {:#010x})",
            device.path.display(),
            device.functionality
        );
        Ok(Box::new(device))
    }

    fn functionality(&self, bus_number: u32) -> Result<u64, DeviceFault> {
        // The device (and its fd) is dropped on return: nothing keeps the adapter pinned.
        Ok(self.open_device(bus_number)?.functionality)
    }
}

/// Opens the node read-write; the returned bus owns the only fd.
fn open_node(path: &Path) -> Result<LinuxI2CBus, DeviceFault> {
    LinuxI2CBus::new(path)
        .map_err(|err| open_fault(crate_errno(&err), format!("open {}", path.display())))
}

// c_ulong is 32 bits on 32-bit ABIs (arm Android): the u64 conversion is a no-op only on 64-bit.
#[allow(clippy::useless_conversion)]
fn query_functionality(fd: RawFd) -> nix::Result<u64> {
    let mut functionality: libc::c_ulong = 0;
    // SAFETY: I2C_FUNCS writes one unsigned long through the pointer, which points to a live,
    // properly aligned c_ulong owned by this frame; on error the kernel writes nothing.
    unsafe { uapi::i2c_funcs(fd, &mut functionality) }?;
    Ok(u64::from(functionality))
}

fn crate_errno(err: &LinuxI2CError) -> i32 {
    match err {
        LinuxI2CError::Errno(errno) => *errno,
        LinuxI2CError::Io(io) => io_errno(io),
    }
}

/// One open i2c-dev node.
#[derive(Debug)]
struct I2cDevDevice {
    /// Owns the fd; dropping it closes the node.
    bus: LinuxI2CBus,
    path: PathBuf,
    /// I2C_FUNCS, read once at open: it is fixed for the adapter's lifetime.
    functionality: u64,
    /// The I2C_TENBIT and I2C_PEC settings last made on this fd, so that sessions sharing it
    /// pay those ioctls only when they differ (I2C_SLAVE is issued every time regardless).
    modes: Option<(bool, bool)>,
}

impl I2cDevDevice {
    fn new(bus: LinuxI2CBus, path: PathBuf, functionality: u64) -> Self {
        // i2cdev_open() starts every fd with client->flags = 0: 7-bit, no PEC.
        I2cDevDevice { bus, path, functionality, modes: Some((false, false)) }
    }

    fn error(&self, errno: i32, what: impl std::fmt::Display) -> DeviceFault {
        operation_fault(errno, format!("{}: {what}", self.path.display()))
    }

    /// Points the fd at `target`: I2C_TENBIT and I2C_PEC as the session was opened, then
    /// I2C_SLAVE (never I2C_SLAVE_FORCE), which the kernel refuses with EBUSY while a driver is
    /// bound. Issued before every operation: a driver may have bound since the last one, and
    /// other sessions share this fd.
    fn set_target(&mut self, target: Target) -> Result<(), DeviceFault> {
        let fd = self.bus.as_raw_fd();
        if self.modes != Some((target.ten_bit, target.pec)) {
            // Forget the old modes first: after a failure we cannot be sure which are set.
            self.modes = None;
            // SAFETY: I2C_TENBIT and I2C_PEC take an int by value and touch no user memory.
            unsafe { uapi::i2c_tenbit(fd, libc::c_int::from(target.ten_bit)) }
                .map_err(|errno| self.error(errno as i32, "I2C_TENBIT"))?;
            // SAFETY: as above.
            unsafe { uapi::i2c_pec(fd, libc::c_int::from(target.pec)) }
                .map_err(|errno| self.error(errno as i32, "I2C_PEC"))?;
            self.modes = Some((target.ten_bit, target.pec));
        }
        // SAFETY: I2C_SLAVE takes the address by value and touches no user memory.
        unsafe { uapi::i2c_slave(fd, libc::c_int::from(target.address)) }
            .map_err(|errno| self.error(errno as i32, format!("I2C_SLAVE {target}")))?;
        Ok(())
    }

    /// One I2C_SMBUS ioctl; `data` is both input and output, as in the kernel's union.
    fn smbus_ioctl(
        &self,
        read_write: u8,
        command: u8,
        size: u32,
        data: &mut uapi::i2c_smbus_data,
        target: Target,
        operation: &str,
    ) -> Result<(), DeviceFault> {
        let request = uapi::i2c_smbus_ioctl_data { read_write, command, size, data };
        // SAFETY: `request` and the i2c_smbus_data it points to are live for the whole call and
        // laid out as the kernel's structs (repr(C)); the kernel reads and writes at most
        // I2C_SMBUS_BLOCK_MAX + 2 bytes of `data`, which is exactly its size.
        unsafe { uapi::i2c_smbus(self.bus.as_raw_fd(), &request) }.map_err(|errno| {
            self.error(errno as i32, format!("I2C_SMBUS {operation} at {target}"))
        })?;
        Ok(())
    }
}

fn empty_smbus_data() -> uapi::i2c_smbus_data {
    uapi::i2c_smbus_data { block: [0; uapi::I2C_SMBUS_BLOCK_MAX + 2] }
}

/// A block for the kernel: block[0] = length (1..=32), then the bytes. Err(errno) otherwise.
fn block_data(bytes: &[u8]) -> Result<uapi::i2c_smbus_data, i32> {
    let len = u8::try_from(bytes.len()).map_err(|_| libc::EMSGSIZE)?;
    if bytes.is_empty() {
        return Err(libc::EINVAL);
    }
    if bytes.len() > uapi::I2C_SMBUS_BLOCK_MAX {
        return Err(libc::EMSGSIZE);
    }
    let mut data = empty_smbus_data();
    data.block[0] = len;
    data.block[1..=bytes.len()].copy_from_slice(bytes);
    Ok(data)
}

/// The bytes of a block the kernel filled: block[0] is the count, refused if above 32.
fn returned_block(data: &uapi::i2c_smbus_data, count: usize) -> Result<Vec<u8>, i32> {
    if count > uapi::I2C_SMBUS_BLOCK_MAX {
        return Err(libc::EPROTO);
    }
    Ok(data.block[1..=count].to_vec())
}

/// No operation checks functionality here: the broker did (core::request::require_functionality)
/// before calling, and anything else gets the kernel's own refusal.
impl BusDevice for I2cDevDevice {
    fn functionality(&self) -> u64 {
        self.functionality
    }

    fn claim(&mut self, target: Target) -> Result<(), DeviceFault> {
        // Always asked again: a driver may have bound to the address since the last call.
        self.set_target(target)
    }

    /// I2C_RDWR carries the address in each message and i2c-dev does not check it against bound
    /// drivers: callers must `claim` the address on this device before transferring to it.
    fn transfer(
        &mut self,
        target: Target,
        messages: &[MessageRef<'_>],
    ) -> Result<Transferred, DeviceFault> {
        // The broker has validated already; checked again here because each length is cut to
        // the u16 of struct i2c_msg (include/uapi/linux/i2c.h) on its way to the kernel, and a
        // longer read must be refused, never shortened.
        validate_transfer(messages).map_err(|refusal| {
            let fault = DeviceFault::refused(refusal);
            DeviceFault {
                context: format!("{}: I2C_RDWR: {}", self.path.display(), fault.context),
                ..fault
            }
        })?;
        // i2c-dev checks for a bound kernel driver only at I2C_SLAVE, and one may have bound
        // since the session opened: ask again before every transfer.
        self.set_target(target)?;
        let address_bits = if target.ten_bit { I2CMessageFlags::TEN_BIT_ADDRESS.bits() } else { 0 };

        let mut read_buffers: Vec<Vec<u8>> = messages
            .iter()
            .filter_map(|m| match m {
                MessageRef::Read(len) => Some(vec![0; *len]),
                MessageRef::Write(_) => None,
            })
            .collect();
        let mut next_read_buffer = read_buffers.iter_mut();
        let mut kernel_messages = Vec::with_capacity(messages.len());
        for message in messages {
            // Only READ and TEN (from the session's open flags) are ever used.
            let (kernel_message, flags) = match message {
                MessageRef::Read(_) => match next_read_buffer.next() {
                    Some(buffer) => (
                        LinuxI2CMessage::read(buffer.as_mut_slice()),
                        I2CMessageFlags::READ.bits() | address_bits,
                    ),
                    None => {
                        return Err(self.error(libc::EINVAL, "I2C_RDWR: read buffers out of step"))
                    }
                },
                MessageRef::Write(bytes) => (LinuxI2CMessage::write(bytes), address_bits),
            };
            let flags = I2CMessageFlags::from_bits_truncate(flags);
            kernel_messages.push(kernel_message.with_address(target.address).with_flags(flags));
        }

        let done = self
            .bus
            .transfer(kernel_messages.as_mut_slice())
            .map_err(|err| self.error(crate_errno(&err), format!("I2C_RDWR at {target}")))?;
        drop(kernel_messages);
        // i2c_transfer() may report fewer messages than asked without an error: the reads
        // after the last completed message were never made, so they are not returned.
        let completed = (done as usize).min(messages.len());
        let reads_done = messages[..completed].iter().filter(|m| m.is_read()).count();
        read_buffers.truncate(reads_done);
        Ok(Transferred { completed, reads: read_buffers })
    }

    fn smbus(&mut self, target: Target, op: &SmbusOp) -> Result<SmbusValue, DeviceFault> {
        let operation = op.name();
        // Re-issued every time for the same reason as in transfer().
        self.set_target(target)?;
        let (read_write, command, size, mut data) = smbus_request(op).map_err(|errno| {
            self.error(errno, format!("I2C_SMBUS {operation}: bad block length"))
        })?;
        self.smbus_ioctl(read_write, command, size, &mut data, target, operation)?;
        smbus_result(op, &data).map_err(|errno| {
            self.error(errno, format!("I2C_SMBUS {operation} at {target}: bad block count"))
        })
    }
}

/// read_write, command, size and data of the I2C_SMBUS request for `op`.
fn smbus_request(op: &SmbusOp) -> Result<(u8, u8, u32, uapi::i2c_smbus_data), i32> {
    use uapi::*;
    let mut data = empty_smbus_data();
    let request = match op {
        SmbusOp::Quick { read } => {
            let read_write = if *read { I2C_SMBUS_READ } else { I2C_SMBUS_WRITE };
            (read_write, 0, I2C_SMBUS_QUICK, data)
        }
        SmbusOp::ReadByte => (I2C_SMBUS_READ, 0, I2C_SMBUS_BYTE, data),
        // For a byte write the value travels in the command field.
        SmbusOp::WriteByte(value) => (I2C_SMBUS_WRITE, *value, I2C_SMBUS_BYTE, data),
        SmbusOp::ReadByteData(register) => (I2C_SMBUS_READ, *register, I2C_SMBUS_BYTE_DATA, data),
        SmbusOp::WriteByteData(register, value) => {
            data.block[0] = *value;
            (I2C_SMBUS_WRITE, *register, I2C_SMBUS_BYTE_DATA, data)
        }
        SmbusOp::ReadWordData(register) => (I2C_SMBUS_READ, *register, I2C_SMBUS_WORD_DATA, data),
        SmbusOp::WriteWordData(register, value) => {
            data.block[..2].copy_from_slice(&value.to_ne_bytes());
            (I2C_SMBUS_WRITE, *register, I2C_SMBUS_WORD_DATA, data)
        }
        SmbusOp::ReadBlockData(register) => (I2C_SMBUS_READ, *register, I2C_SMBUS_BLOCK_DATA, data),
        SmbusOp::WriteBlockData(register, bytes) => {
            (I2C_SMBUS_WRITE, *register, I2C_SMBUS_BLOCK_DATA, block_data(bytes)?)
        }
        SmbusOp::ReadI2cBlockData(register, len) => {
            // The kernel reads the wanted length from block[0] for this transaction type.
            let wanted = u8::try_from(*len).map_err(|_| libc::EMSGSIZE)?;
            if wanted == 0 || *len > I2C_SMBUS_BLOCK_MAX {
                return Err(if wanted == 0 { libc::EINVAL } else { libc::EMSGSIZE });
            }
            data.block[0] = wanted;
            (I2C_SMBUS_READ, *register, I2C_SMBUS_I2C_BLOCK_DATA, data)
        }
        SmbusOp::WriteI2cBlockData(register, bytes) => {
            (I2C_SMBUS_WRITE, *register, I2C_SMBUS_I2C_BLOCK_DATA, block_data(bytes)?)
        }
        // Process calls are writes whose reply the kernel leaves in the same union.
        SmbusOp::ProcessCall(register, value) => {
            data.block[..2].copy_from_slice(&value.to_ne_bytes());
            (I2C_SMBUS_WRITE, *register, I2C_SMBUS_PROC_CALL, data)
        }
        SmbusOp::BlockProcessCall(register, bytes) => {
            (I2C_SMBUS_WRITE, *register, I2C_SMBUS_BLOCK_PROC_CALL, block_data(bytes)?)
        }
    };
    Ok(request)
}

/// What the kernel left in `data` for `op`.
fn smbus_result(op: &SmbusOp, data: &uapi::i2c_smbus_data) -> Result<SmbusValue, i32> {
    let value = match op {
        SmbusOp::ReadByte | SmbusOp::ReadByteData(_) => SmbusValue::Byte(data.block[0]),
        // The kernel stores the word in host byte order.
        SmbusOp::ReadWordData(_) | SmbusOp::ProcessCall(..) => {
            SmbusValue::Word(u16::from_ne_bytes([data.block[0], data.block[1]]))
        }
        // SMBus block read: the device says how many bytes it sent.
        SmbusOp::ReadBlockData(_) | SmbusOp::BlockProcessCall(..) => {
            SmbusValue::Block(returned_block(data, usize::from(data.block[0]))?)
        }
        // I2C block read: exactly the requested length was read.
        SmbusOp::ReadI2cBlockData(_, len) => SmbusValue::Block(returned_block(data, *len)?),
        SmbusOp::Quick { .. }
        | SmbusOp::WriteByte(_)
        | SmbusOp::WriteByteData(..)
        | SmbusOp::WriteWordData(..)
        | SmbusOp::WriteBlockData(..)
        | SmbusOp::WriteI2cBlockData(..) => SmbusValue::None,
    };
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use i2c_hal_core::request::func::*;
    use i2c_hal_core::request::MAX_TRANSFER_BYTES;
    use i2c_hal_core::ErrorCode;
    use std::fs;

    /// How many of this process's fds refer to `path`. Matching by target (not counting all
    /// fds) keeps the check exact while other tests open files in parallel threads.
    fn fds_open_on(path: &Path) -> usize {
        let wanted = fs::canonicalize(path).unwrap();
        fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|entry| fs::read_link(entry.ok()?.path()).ok())
            .filter(|target| *target == wanted)
            .count()
    }

    /// A device over a regular file: every ioctl on it fails with ENOTTY, which tells whether
    /// an ioctl was issued at all.
    fn device_over_regular_file(dir: &Path, functionality: u64) -> I2cDevDevice {
        let path = dir.join("i2c-9");
        fs::write(&path, b"").unwrap();
        I2cDevDevice::new(open_node(&path).unwrap(), path, functionality)
    }

    #[test]
    fn errno_mapping_distinguishes_what_clients_act_on() {
        let code = |errno| fault_kind(errno).code();
        assert_eq!(code(libc::ENXIO), ErrorCode::AddressNack);
        assert_eq!(code(libc::EREMOTEIO), ErrorCode::AddressNack);
        assert_eq!(code(libc::EBUSY), ErrorCode::AddressBusy);
        assert_eq!(code(libc::ETIMEDOUT), ErrorCode::Timeout);
        assert_eq!(code(libc::EOPNOTSUPP), ErrorCode::NotSupported);
        assert_eq!(code(libc::ENODEV), ErrorCode::AddressNack);
        assert_eq!(code(libc::ESHUTDOWN), ErrorCode::IoError);
        assert_eq!(code(libc::EAGAIN), ErrorCode::IoError);
    }

    #[test]
    fn errno_mapping_covers_the_whole_table() {
        let code = |errno| fault_kind(errno).code();
        assert_eq!(code(libc::EPROTONOSUPPORT), ErrorCode::NotSupported);
        assert_eq!(code(libc::EINVAL), ErrorCode::InvalidArgument);
        assert_eq!(code(libc::EMSGSIZE), ErrorCode::TooLarge);
        assert_eq!(code(libc::EPERM), ErrorCode::PermissionDenied);
        assert_eq!(code(libc::EACCES), ErrorCode::PermissionDenied);
        assert_eq!(fault_kind(libc::EAGAIN), FaultKind::ArbitrationLost);
        assert_eq!(code(libc::EPROTO), ErrorCode::IoError);
    }

    #[test]
    fn a_vanished_node_is_gone_on_open_but_enodev_on_an_operation_is_a_nack() {
        for errno in [libc::ENOENT, libc::ENODEV] {
            let fault = open_fault(errno, "open /dev/i2c-3");
            assert_eq!((fault.kind, fault.errno), (FaultKind::Gone, Some(errno)));
            assert_eq!(fault.kind.code(), ErrorCode::BusGone);
        }
        assert_eq!(open_fault(libc::EACCES, "open").kind, FaultKind::PermissionDenied);
        assert_eq!(operation_fault(libc::ENODEV, "I2C_RDWR").kind, FaultKind::Nack);
        assert_eq!(io_errno(&std::io::Error::other("no errno")), libc::EIO);
    }

    #[test]
    fn kernel_struct_layouts_match_the_uapi() {
        assert_eq!(std::mem::size_of::<uapi::i2c_smbus_data>(), 34);
        assert_eq!(std::mem::align_of::<uapi::i2c_smbus_data>(), 2);
        #[cfg(target_pointer_width = "64")]
        assert_eq!(std::mem::size_of::<uapi::i2c_smbus_ioctl_data>(), 16);
        #[cfg(target_pointer_width = "32")]
        assert_eq!(std::mem::size_of::<uapi::i2c_smbus_ioctl_data>(), 12);
    }

    #[test]
    fn a_missing_node_is_enoent_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let opener = I2cDevOpener::new(dir.path());
        let err = opener.open(3).err().unwrap();
        assert_eq!(err.errno, Some(libc::ENOENT));
        assert_eq!(err.kind, FaultKind::Gone, "so the broker answers BUS_GONE");
        assert!(err.context.contains(&dir.path().join("i2c-3").display().to_string()), "{err}");
        assert_eq!(opener.functionality(3).unwrap_err().errno, Some(libc::ENOENT));
    }

    #[test]
    fn a_node_without_i2c_funcs_fails_with_enotty_and_leaks_no_fd() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i2c-4");
        fs::write(&path, b"not a char device").unwrap();
        let opener = I2cDevOpener::new(dir.path());
        let err = opener.open(4).err().unwrap();
        assert_eq!(err.errno, Some(libc::ENOTTY));
        assert!(err.context.contains(&path.display().to_string()), "{err}");
        assert!(err.context.contains("I2C_FUNCS"), "{err}");
        assert_eq!(opener.functionality(4).unwrap_err().errno, Some(libc::ENOTTY));
        assert_eq!(fds_open_on(&path), 0);
    }

    #[test]
    fn the_node_is_opened_close_on_exec_and_closed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let device = device_over_regular_file(dir.path(), I2C_FUNC_I2C);
        assert_eq!(device.functionality(), I2C_FUNC_I2C, "as read at open, no second open");
        let fd_flags =
            nix::fcntl::fcntl(device.bus.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFD).unwrap();
        assert_ne!(fd_flags & libc::FD_CLOEXEC, 0);
        assert_eq!(fds_open_on(&device.path), 1);
        let path = device.path.clone();
        let boxed: Box<dyn BusDevice> = Box::new(device);
        drop(boxed);
        assert_eq!(fds_open_on(&path), 0);
    }

    #[test]
    fn ioctl_failures_carry_errno_path_and_operation() {
        let dir = tempfile::tempdir().unwrap();
        let mut device = device_over_regular_file(dir.path(), I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL);
        let path = device.path.display().to_string();

        let err = device.smbus(Target::seven_bit(0x50), &SmbusOp::ReadByteData(0)).unwrap_err();
        assert_eq!(err.errno, Some(libc::ENOTTY));
        assert!(err.context.contains(&path) && err.context.contains("I2C_SLAVE 0x50"), "{err}");

        let err = device.claim(Target::seven_bit(0x51)).unwrap_err();
        assert_eq!(err.errno, Some(libc::ENOTTY));

        // A transfer re-checks the address first, so it fails there before I2C_RDWR.
        let err = device.transfer(Target::seven_bit(0x50), &[MessageRef::Read(1)]).unwrap_err();
        assert_eq!(err.errno, Some(libc::ENOTTY));
        assert!(err.context.contains(&path) && err.context.contains("I2C_SLAVE 0x50"), "{err}");
    }

    #[test]
    fn transfers_the_kernel_would_refuse_never_reach_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut device = device_over_regular_file(dir.path(), I2C_FUNC_I2C);
        // Any ioctl on the regular file fails with ENOTTY: a fault without errno issued none.
        let mut refused = |messages: &[MessageRef<'_>]| {
            let fault = device.transfer(Target::seven_bit(0x50), messages).unwrap_err();
            assert_eq!(fault.errno, None, "refused before any ioctl: {fault}");
            fault.kind
        };
        assert_eq!(refused(&[]), FaultKind::InvalidArgument);
        assert_eq!(refused(&[MessageRef::Read(0)]), FaultKind::InvalidArgument);
        assert_eq!(refused(&[MessageRef::Read(70_000)]), FaultKind::TooLarge);
        assert_eq!(refused(&vec![MessageRef::Read(1); 43]), FaultKind::TooLarge);
        let at_the_cap = [MessageRef::Write(&[1]), MessageRef::Read(MAX_TRANSFER_BYTES - 1)];
        let accepted = device.transfer(Target::seven_bit(0x50), &at_the_cap);
        assert_eq!(accepted.unwrap_err().errno, Some(libc::ENOTTY), "on to I2C_SLAVE");
    }

    #[test]
    fn smbus_requests_fill_the_kernel_union_as_i2c_dev_expects() {
        let (rw, command, size, data) =
            smbus_request(&SmbusOp::WriteWordData(0x10, 0xbeef)).unwrap();
        assert_eq!((rw, command, size), (uapi::I2C_SMBUS_WRITE, 0x10, uapi::I2C_SMBUS_WORD_DATA));
        assert_eq!(u16::from_ne_bytes([data.block[0], data.block[1]]), 0xbeef);

        let (rw, command, size, _) = smbus_request(&SmbusOp::WriteByte(0x42)).unwrap();
        assert_eq!((rw, command, size), (uapi::I2C_SMBUS_WRITE, 0x42, uapi::I2C_SMBUS_BYTE));

        let (_, _, size, data) = smbus_request(&SmbusOp::WriteBlockData(1, vec![7, 8, 9])).unwrap();
        assert_eq!(size, uapi::I2C_SMBUS_BLOCK_DATA);
        assert_eq!(&data.block[..4], &[3, 7, 8, 9]);

        let (rw, _, size, data) = smbus_request(&SmbusOp::ReadI2cBlockData(2, 5)).unwrap();
        assert_eq!(
            (rw, size, data.block[0]),
            (uapi::I2C_SMBUS_READ, uapi::I2C_SMBUS_I2C_BLOCK_DATA, 5)
        );

        assert_eq!(
            smbus_request(&SmbusOp::WriteBlockData(0, vec![0; 33])).err(),
            Some(libc::EMSGSIZE)
        );
        assert_eq!(smbus_request(&SmbusOp::WriteI2cBlockData(0, vec![])).err(), Some(libc::EINVAL));
        assert_eq!(smbus_request(&SmbusOp::ReadI2cBlockData(0, 0)).err(), Some(libc::EINVAL));
        assert_eq!(smbus_request(&SmbusOp::ReadI2cBlockData(0, 300)).err(), Some(libc::EMSGSIZE));
    }

    #[test]
    fn smbus_results_are_read_back_from_the_union() {
        let mut data = empty_smbus_data();
        data.block[..4].copy_from_slice(&[3, 0xa, 0xb, 0xc]);
        assert_eq!(
            smbus_result(&SmbusOp::ReadBlockData(0), &data),
            Ok(SmbusValue::Block(vec![0xa, 0xb, 0xc]))
        );
        assert_eq!(
            smbus_result(&SmbusOp::ReadI2cBlockData(0, 2), &data),
            Ok(SmbusValue::Block(vec![0xa, 0xb]))
        );
        assert_eq!(smbus_result(&SmbusOp::ReadByteData(0), &data), Ok(SmbusValue::Byte(3)));
        assert_eq!(
            smbus_result(&SmbusOp::ReadWordData(0), &data),
            Ok(SmbusValue::Word(u16::from_ne_bytes([3, 0xa])))
        );
        assert_eq!(smbus_result(&SmbusOp::WriteByte(1), &data), Ok(SmbusValue::None));
        data.block[0] = 40;
        assert_eq!(smbus_result(&SmbusOp::ReadBlockData(0), &data), Err(libc::EPROTO));
    }
}
