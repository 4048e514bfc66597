//! A small client of the service, used by i2cctl and the tests instead of raw generated proxies.
//! It speaks the core's types (Message, SmbusOp, BusInfo, ErrorCode) so callers never see binder.

use crate::core::request::{Message, SmbusOp, SmbusValue};
use crate::core::{BusInfo, ErrorCode, LossReason};
use std::fmt;
use std::path::PathBuf;

/// The environment variable that overrides the default socket path.
pub const SOCKET_ENV: &str = "I2C_HAL_SOCKET";
/// Where the service listens for RPC binder when no path is given and no binder device exists.
pub const DEFAULT_SOCKET: &str = "/tmp/i2c-hal.sock";
/// The service instance name (VINTF fqname).
pub const SERVICE_NAME: &str = "vendor.i2c.II2cManager/default";

/// How to reach the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// RPC binder over a Unix socket.
    Socket(PathBuf),
    /// Kernel binder through the service manager, on this binder device.
    KernelBinder(PathBuf),
}

impl Endpoint {
    /// `--socket` wins, then $I2C_HAL_SOCKET, then a kernel binder device if one exists,
    /// then DEFAULT_SOCKET.
    pub fn resolve(socket_arg: Option<PathBuf>) -> Endpoint {
        todo!("{socket_arg:?}")
    }
}

/// A failed call: either the service answered with an ErrorCode, or it could not be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    Service { code: ErrorCode, message: String },
    Transport(String),
}

impl ClientError {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Service { code, .. } => Some(*code),
            ClientError::Transport(_) => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Service { code, message } => write!(f, "{code}: {message}"),
            ClientError::Transport(message) => write!(f, "SERVICE_UNREACHABLE: {message}"),
        }
    }
}

impl std::error::Error for ClientError {}

pub type ClientResult<T> = Result<T, ClientError>;

/// A bus hot-plug notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusEvent {
    Added(BusInfo),
    Removed(BusInfo),
}

/// A connection to the service.
pub struct Client {}

impl Client {
    pub fn connect(endpoint: &Endpoint) -> ClientResult<Client> {
        todo!("{endpoint:?}")
    }

    pub fn list_buses(&self) -> ClientResult<Vec<BusInfo>> {
        todo!()
    }

    /// Opens a session. `bus` is a bus number or stable id; `generation` 0 means current.
    /// `on_lost` runs (on a binder thread) once if the session dies.
    pub fn open(
        &self,
        bus: &str,
        generation: u64,
        address: u16,
        exclusive: bool,
        on_lost: Box<dyn Fn(LossReason, String) + Send + Sync>,
    ) -> ClientResult<Session> {
        let _ = on_lost;
        todo!("{bus} {generation} {address} {exclusive}")
    }

    /// Registers a bus listener; events stop when the returned Watch is dropped.
    pub fn watch(&self, on_event: Box<dyn Fn(BusEvent) + Send + Sync>) -> ClientResult<Watch> {
        let _ = on_event;
        todo!()
    }

    /// Revokes every session on a bus (root/system only); returns how many were revoked.
    pub fn revoke(&self, bus: &str) -> ClientResult<u32> {
        todo!("{bus}")
    }
}

/// An open session. Dropping it without close() lets the service reclaim it too.
pub struct Session {}

impl Session {
    pub fn transfer(&self, messages: &[Message]) -> ClientResult<Vec<Vec<u8>>> {
        todo!("{messages:?}")
    }
    pub fn write_read(&self, write: &[u8], read_len: usize) -> ClientResult<Vec<u8>> {
        todo!("{write:?} {read_len}")
    }
    pub fn smbus(&self, op: &SmbusOp) -> ClientResult<SmbusValue> {
        todo!("{op:?}")
    }
    pub fn bus_info(&self) -> ClientResult<BusInfo> {
        todo!()
    }
    pub fn address(&self) -> u16 {
        todo!()
    }
    pub fn close(&self) -> ClientResult<()> {
        todo!()
    }
}

/// A registered bus listener; unregisters on drop.
pub struct Watch {}
