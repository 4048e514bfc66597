//! A small client of the service, used by i2cctl and the tests instead of raw generated proxies.
//! It speaks the core's types (Message, SmbusOp, BusInfo, ErrorCode) so callers never see binder.

use super::compat::aidl::{
    BusInfo::BusInfo as AidlBusInfo,
    I2cMessage::I2cMessage,
    IBusListener::{BnBusListener, IBusListener},
    II2cManager::{II2cManager, FLAG_EXCLUSIVE},
    II2cSession::II2cSession,
    II2cSessionCallback::{BnI2cSessionCallback, II2cSessionCallback},
    LossReason::LossReason as AidlLossReason,
};
use super::compat::{BinderResult, ExceptionCode, FromIBinder, Interface, Status, Strong};
use crate::core::request::{Message, SmbusOp, SmbusValue};
use crate::core::{BusInfo, ErrorCode, Generation, LossReason};
use rsbinder::rpc::{RpcClientConfig, RpcSession};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use super::endpoint::{Endpoint, DEFAULT_SOCKET, SERVICE_NAME, SOCKET_ENV};

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

impl From<Status> for ClientError {
    fn from(status: Status) -> ClientError {
        if status.exception_code() == ExceptionCode::ServiceSpecific {
            let value = status.service_specific_error();
            let message = status.message().unwrap_or_default().to_string();
            return match ErrorCode::from_i32(value) {
                Some(code) => ClientError::Service { code, message },
                None => ClientError::Transport(format!("unknown service error {value}: {message}")),
            };
        }
        ClientError::Transport(format!("{status:?}"))
    }
}

fn call<T>(result: BinderResult<T>) -> ClientResult<T> {
    result.map_err(ClientError::from)
}

fn from_aidl_bus(info: &AidlBusInfo) -> BusInfo {
    BusInfo {
        bus_number: info.busNumber.max(0) as u32,
        name: info.name.clone(),
        stable_id: info.stableId.clone(),
        generation: Generation(info.generation.max(0) as u64),
        functionality: info.functionality as u64,
    }
}

/// Owns the transport; closing an RPC session is explicit because its incoming (callback)
/// threads would otherwise keep it alive after every proxy is dropped.
struct Connection {
    rpc: Option<RpcSession>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(rpc) = &self.rpc {
            rpc.close_session();
        }
    }
}

/// Kernel binder needs one ProcessState per process, with a thread pool for callbacks.
fn init_kernel_binder(device: &Path) -> ClientResult<()> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        rsbinder::ProcessState::init(&device.to_string_lossy(), 2)
            .map_err(|e| format!("binder init on {}: {e}", device.display()))?;
        rsbinder::ProcessState::start_thread_pool();
        Ok(())
    })
    .clone()
    .map_err(ClientError::Transport)
}

/// A connection to the service.
pub struct Client {
    manager: Strong<dyn II2cManager>,
    connection: Arc<Connection>,
}

impl Client {
    pub fn connect(endpoint: &Endpoint) -> ClientResult<Client> {
        match endpoint {
            Endpoint::Socket(path) => Self::connect_rpc(path),
            Endpoint::KernelBinder(device) => {
                init_kernel_binder(device)?;
                let manager = rsbinder::hub::check_interface::<dyn II2cManager>(SERVICE_NAME)
                    .map_err(|e| {
                        ClientError::Transport(format!(
                            "{SERVICE_NAME} is not registered with the service manager on {} ({e:?})",
                            device.display()
                        ))
                    })?;
                Ok(Client { manager, connection: Arc::new(Connection { rpc: None }) })
            }
        }
    }

    fn connect_rpc(path: &Path) -> ClientResult<Client> {
        let config = RpcClientConfig::unix(path, 2).incoming_connections(1);
        let rpc = RpcSession::setup_client_android13plus_with_config(config).map_err(|e| {
            ClientError::Transport(format!(
                "cannot connect to {} ({e:?}): is i2c-hal-service running there?",
                path.display()
            ))
        })?;
        let root = rpc.get_root().map_err(|e| ClientError::Transport(format!("{e:?}")));
        let connection = Arc::new(Connection { rpc: Some(rpc) });
        let manager = <dyn II2cManager as FromIBinder>::try_from(root?)
            .map_err(|e| ClientError::Transport(format!("not an II2cManager: {e:?}")))?;
        Ok(Client { manager, connection })
    }

    pub fn list_buses(&self) -> ClientResult<Vec<BusInfo>> {
        Ok(call(self.manager.listBuses())?.iter().map(from_aidl_bus).collect())
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
        let callback = BnI2cSessionCallback::new_binder(LossCallback { on_lost });
        let flags = if exclusive { FLAG_EXCLUSIVE } else { 0 };
        let generation = i64::try_from(generation)
            .map_err(|_| ClientError::Transport(format!("generation {generation} too large")))?;
        let session =
            call(self.manager.openSession(bus, generation, address as i32, flags, &callback))?;
        Ok(Session { session, address, _callback: callback, _connection: self.connection.clone() })
    }

    /// Registers a bus listener; events stop when the returned Watch is dropped.
    pub fn watch(&self, on_event: Box<dyn Fn(BusEvent) + Send + Sync>) -> ClientResult<Watch> {
        let listener = BnBusListener::new_binder(ListenerCallback { on_event });
        call(self.manager.registerBusListener(&listener))?;
        Ok(Watch { manager: self.manager.clone(), listener, _connection: self.connection.clone() })
    }

    /// Revokes every session on a bus (root/system only); returns how many were revoked.
    pub fn revoke(&self, bus: &str) -> ClientResult<u32> {
        Ok(call(self.manager.revokeBus(bus))?.max(0) as u32)
    }
}

struct LossCallback {
    on_lost: Box<dyn Fn(LossReason, String) + Send + Sync>,
}

impl Interface for LossCallback {}

impl II2cSessionCallback for LossCallback {
    fn onSessionLost(&self, reason: AidlLossReason, message: &str) -> BinderResult<()> {
        // An unknown (newer) reason still means the session is dead; report it as removal.
        let reason = LossReason::from_i32(reason.0).unwrap_or(LossReason::Removed);
        (self.on_lost)(reason, message.to_string());
        Ok(())
    }
}

struct ListenerCallback {
    on_event: Box<dyn Fn(BusEvent) + Send + Sync>,
}

impl Interface for ListenerCallback {}

impl IBusListener for ListenerCallback {
    fn onBusAdded(&self, bus: &AidlBusInfo) -> BinderResult<()> {
        (self.on_event)(BusEvent::Added(from_aidl_bus(bus)));
        Ok(())
    }

    fn onBusRemoved(&self, bus: &AidlBusInfo) -> BinderResult<()> {
        (self.on_event)(BusEvent::Removed(from_aidl_bus(bus)));
        Ok(())
    }
}

/// An open session. Dropping it without close() lets the service reclaim it too.
pub struct Session {
    session: Strong<dyn II2cSession>,
    address: u16,
    _callback: Strong<dyn II2cSessionCallback>,
    _connection: Arc<Connection>,
}

impl Session {
    pub fn transfer(&self, messages: &[Message]) -> ClientResult<Vec<Vec<u8>>> {
        let messages: Vec<I2cMessage> = messages
            .iter()
            .map(|m| match m {
                Message::Read(len) => I2cMessage {
                    read: true,
                    readLength: i32::try_from(*len).unwrap_or(i32::MAX),
                    writeData: Vec::new(),
                },
                Message::Write(data) => {
                    I2cMessage { read: false, readLength: 0, writeData: data.clone() }
                }
            })
            .collect();
        Ok(call(self.session.transfer(&messages))?.into_iter().map(|r| r.data).collect())
    }

    pub fn write_read(&self, write: &[u8], read_len: usize) -> ClientResult<Vec<u8>> {
        call(self.session.writeRead(write, i32::try_from(read_len).unwrap_or(i32::MAX)))
    }

    pub fn smbus(&self, op: &SmbusOp) -> ClientResult<SmbusValue> {
        let s = &self.session;
        let value = match op {
            SmbusOp::Quick { read } => call(s.smbusQuick(*read)).map(|()| SmbusValue::None)?,
            SmbusOp::ReadByte => SmbusValue::Byte(call(s.smbusReadByte())? as u8),
            SmbusOp::WriteByte(v) => {
                call(s.smbusWriteByte(*v as i32)).map(|()| SmbusValue::None)?
            }
            SmbusOp::ReadByteData(c) => {
                SmbusValue::Byte(call(s.smbusReadByteData(*c as i32))? as u8)
            }
            SmbusOp::WriteByteData(c, v) => {
                call(s.smbusWriteByteData(*c as i32, *v as i32)).map(|()| SmbusValue::None)?
            }
            SmbusOp::ReadWordData(c) => {
                SmbusValue::Word(call(s.smbusReadWordData(*c as i32))? as u16)
            }
            SmbusOp::WriteWordData(c, v) => {
                call(s.smbusWriteWordData(*c as i32, *v as i32)).map(|()| SmbusValue::None)?
            }
            SmbusOp::ReadBlockData(c) => SmbusValue::Block(call(s.smbusReadBlockData(*c as i32))?),
            SmbusOp::WriteBlockData(c, data) => {
                call(s.smbusWriteBlockData(*c as i32, data)).map(|()| SmbusValue::None)?
            }
            SmbusOp::ReadI2cBlockData(c, len) => SmbusValue::Block(call(
                s.smbusReadI2cBlockData(*c as i32, i32::try_from(*len).unwrap_or(i32::MAX)),
            )?),
            SmbusOp::WriteI2cBlockData(c, data) => {
                call(s.smbusWriteI2cBlockData(*c as i32, data)).map(|()| SmbusValue::None)?
            }
        };
        Ok(value)
    }

    pub fn bus_info(&self) -> ClientResult<BusInfo> {
        Ok(from_aidl_bus(&call(self.session.getBusInfo())?))
    }

    pub fn address(&self) -> u16 {
        self.address
    }

    pub fn close(&self) -> ClientResult<()> {
        call(self.session.close())
    }
}

/// A registered bus listener; unregisters on drop.
pub struct Watch {
    manager: Strong<dyn II2cManager>,
    listener: Strong<dyn IBusListener>,
    _connection: Arc<Connection>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.manager.unregisterBusListener(&self.listener);
    }
}
