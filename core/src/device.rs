//! The seam between the core and the kernel: one open /dev/i2c-N. The platform layer implements
//! it over i2c-dev (and the simulator over its device models); the core only decides when a
//! device is opened, used and dropped. Dropping a `BusDevice` must close its fd: that drop is
//! what lets the kernel's `i2c_del_adapter()` finish.

use super::error::{Error, ErrorCode};
use super::request::{MessageRef, SmbusOp, SmbusValue};
use std::fmt;

/// What went wrong on a device, as far as the core cares: each kind is one thing a client can
/// act on. The platform decides the kind (it knows what an errno means on which call); the core
/// only maps kinds to error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// No device acknowledged the address.
    Nack,
    /// Something else owns the address (a kernel driver bound to it).
    Busy,
    /// The adapter's node is gone: the adapter was removed.
    Gone,
    Timeout,
    /// The adapter (or its driver) cannot do this operation.
    NotSupported,
    InvalidArgument,
    TooLarge,
    PermissionDenied,
    /// Another master won the bus; the client can only retry, so it is an I/O error to it.
    ArbitrationLost,
    /// The SMBus packet error code did not match: the bytes were corrupted on the wire.
    Pec,
    /// Any other failure of the bus or the device.
    Io,
}

impl FaultKind {
    /// The code a client sees for this kind of fault.
    pub fn code(self) -> ErrorCode {
        match self {
            FaultKind::Nack => ErrorCode::AddressNack,
            FaultKind::Busy => ErrorCode::AddressBusy,
            FaultKind::Gone => ErrorCode::BusGone,
            FaultKind::Timeout => ErrorCode::Timeout,
            FaultKind::NotSupported => ErrorCode::NotSupported,
            FaultKind::InvalidArgument => ErrorCode::InvalidArgument,
            FaultKind::TooLarge => ErrorCode::TooLarge,
            FaultKind::PermissionDenied => ErrorCode::PermissionDenied,
            FaultKind::Pec => ErrorCode::PecError,
            FaultKind::ArbitrationLost | FaultKind::Io => ErrorCode::IoError,
        }
    }

    /// For log text when the platform gave no errno.
    fn describe(self) -> &'static str {
        match self {
            FaultKind::Nack => "no acknowledge",
            FaultKind::Busy => "address in use",
            FaultKind::Gone => "adapter gone",
            FaultKind::Timeout => "timed out",
            FaultKind::NotSupported => "not supported",
            FaultKind::InvalidArgument => "invalid argument",
            FaultKind::TooLarge => "too large",
            FaultKind::PermissionDenied => "permission denied",
            FaultKind::ArbitrationLost => "arbitration lost",
            FaultKind::Pec => "packet error code mismatch",
            FaultKind::Io => "I/O error",
        }
    }
}

/// A failed device operation: its kind, what was being done, and the raw errno if the platform
/// had one. The errno is for log text only; decisions use `kind`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceFault {
    pub kind: FaultKind,
    pub context: String,
    pub errno: Option<i32>,
}

impl DeviceFault {
    pub fn new(kind: FaultKind, context: impl Into<String>) -> Self {
        DeviceFault { kind, context: context.into(), errno: None }
    }

    /// A request the core's own rules refuse (`request::validate_transfer` and the like), met
    /// by a backend that applies them again on its own: the same refusal, as a fault.
    pub fn refused(error: Error) -> Self {
        let kind = match error.code {
            ErrorCode::AddressNack => FaultKind::Nack,
            ErrorCode::AddressBusy => FaultKind::Busy,
            ErrorCode::BusGone => FaultKind::Gone,
            ErrorCode::Timeout => FaultKind::Timeout,
            ErrorCode::NotSupported => FaultKind::NotSupported,
            ErrorCode::TooLarge => FaultKind::TooLarge,
            ErrorCode::PermissionDenied => FaultKind::PermissionDenied,
            ErrorCode::IoError => FaultKind::Io,
            ErrorCode::PecError => FaultKind::Pec,
            // No request rule gives the session-level codes; a refused request is invalid.
            ErrorCode::InvalidArgument
            | ErrorCode::NoSuchBus
            | ErrorCode::QuotaExceeded
            | ErrorCode::SessionClosed => FaultKind::InvalidArgument,
        };
        DeviceFault::new(kind, error.message)
    }

    /// Keeps the platform's errno for the log line.
    pub fn with_errno(self, errno: i32) -> Self {
        DeviceFault { errno: Some(errno), ..self }
    }
}

impl fmt::Display for DeviceFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno {
            Some(errno) => {
                write!(f, "{}: {}", self.context, std::io::Error::from_raw_os_error(errno))
            }
            None => write!(f, "{}: {}", self.context, self.kind.describe()),
        }
    }
}

impl std::error::Error for DeviceFault {}

impl From<DeviceFault> for Error {
    fn from(fault: DeviceFault) -> Error {
        Error::new(fault.kind.code(), fault.to_string())
    }
}

/// Who a device operation talks to: a session's address and how it is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub address: u16,
    /// A 10-bit address (I2C_TENBIT; I2C_M_TEN on each I2C_RDWR message).
    pub ten_bit: bool,
    /// SMBus packet error checking (I2C_PEC) on every SMBus operation.
    pub pec: bool,
}

impl Target {
    /// A plain 7-bit target without PEC.
    pub fn seven_bit(address: u16) -> Target {
        Target { address, ten_bit: false, pec: false }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ten_bit {
            write!(f, "{:#05x} (10-bit)", self.address)
        } else {
            write!(f, "{:#04x}", self.address)
        }
    }
}

/// What a combined transfer did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transferred {
    /// Messages the adapter reports as done (i2c_transfer()'s result); the messages after
    /// them were not put on the bus.
    pub completed: usize,
    /// The bytes of each read message among the completed ones, in order.
    pub reads: Vec<Vec<u8>>,
}

/// One open i2c-dev character device. Implementations are used by one thread at a time (the
/// core serialises access per adapter, as the kernel does).
pub trait BusDevice: Send {
    /// Checks that no kernel driver owns the target (`FaultKind::Busy` if one does).
    fn claim(&mut self, target: Target) -> Result<(), DeviceFault>;
    /// One combined transfer (I2C_RDWR).
    fn transfer(
        &mut self,
        target: Target,
        messages: &[MessageRef<'_>],
    ) -> Result<Transferred, DeviceFault>;
    /// One SMBus operation (I2C_SMBUS).
    fn smbus(&mut self, target: Target, op: &SmbusOp) -> Result<SmbusValue, DeviceFault>;
    /// The adapter's I2C_FUNCS mask, as read on this open node (it is fixed for the adapter's
    /// lifetime), so whoever opens a device learns it without opening the node again.
    fn functionality(&self) -> u64;
}

/// Opens the i2c-dev node of a bus number. Shared by all threads.
pub trait DeviceOpener: Send + Sync {
    /// A node that does not exist (any more) is `FaultKind::Gone`: the adapter went away.
    fn open(&self, bus_number: u32) -> Result<Box<dyn BusDevice>, DeviceFault>;
    /// The adapter's I2C_FUNCS mask without keeping the node open: the probe when an adapter
    /// appears. Once a device is open, ask it instead (`BusDevice::functionality`).
    fn functionality(&self, bus_number: u32) -> Result<u64, DeviceFault>;
}
