//! A small client of the service, used by i2cctl and the tests instead of raw generated proxies.
//! It speaks the core's types (Message, SmbusOp, BusInfo, ErrorCode) so callers never see binder.

use super::compat::aidl::{
    BusInfo::BusInfo as AidlBusInfo,
    IBusListener::{BnBusListener, IBusListener},
    II2cAdmin::II2cAdmin,
    II2cManager::II2cManager,
    II2cSession::II2cSession,
    II2cSessionCallback::{BnI2cSessionCallback, II2cSessionCallback},
    LossReason::LossReason as AidlLossReason,
};
use super::compat::{
    self, binder_object, describe, service_specific, BinderResult, FromIBinder, Interface, Status,
    Strong,
};
use super::convert::{
    bus_from_aidl, byte_from_reply, error_code_from_aidl, generation_to_aidl, length_to_aidl,
    loss_reason_from_aidl, message_to_aidl, open_flags_to_aidl, operations_from_aidl,
    status_from_aidl, transferred_from_aidl, word_from_reply, ReceivedCode,
};
use crate::core::request::{Message, SmbusOp, SmbusValue};
use crate::core::{BusInfo, ErrorCode, LossReason};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use super::endpoint::{Endpoint, ADMIN_SERVICE_NAME, DEFAULT_SOCKET, SERVICE_NAME, SOCKET_ENV};
pub use crate::core::broker::{SessionPhase, SessionSnapshot, StatusSnapshot};
pub use crate::core::device::Transferred;
pub use crate::core::request::{OperationClass, OperationSet};

/// A failed call: the service answered with an ErrorCode (one this build knows, or a newer
/// one), or it could not be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    Service {
        code: ErrorCode,
        message: String,
    },
    /// A service-specific code this build does not know (a newer service): the call failed.
    UnknownCode {
        value: i32,
        message: String,
    },
    Transport(String),
}

impl ClientError {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Service { code, .. } => Some(*code),
            ClientError::UnknownCode { .. } | ClientError::Transport(_) => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Service { code, message } => write!(f, "{code}: {message}"),
            ClientError::UnknownCode { value, message } => {
                write!(f, "error code {value} (unknown to this client): {message}")
            }
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
        let Some((value, message)) = service_specific(&status) else {
            return ClientError::Transport(describe(&status));
        };
        match error_code_from_aidl(value) {
            ReceivedCode::Known(code) => ClientError::Service { code, message },
            ReceivedCode::Unknown(value) => ClientError::UnknownCode { value, message },
        }
    }
}

impl From<crate::core::Error> for ClientError {
    fn from(error: crate::core::Error) -> ClientError {
        ClientError::Service { code: error.code, message: error.message }
    }
}

fn call<T>(result: BinderResult<T>) -> ClientResult<T> {
    result.map_err(ClientError::from)
}

/// Owns the transport: an RPC session is closed when the last user lets go. Kernel binder
/// needs nothing: the process's binder state lives as long as the process.
struct Connection {
    #[cfg(not(target_os = "android"))]
    rpc: Option<compat::rpc::Connection>,
}

impl Connection {
    /// An instance by name: from the RPC socket's directory, or from the service manager.
    fn lookup<I: FromIBinder + ?Sized>(&self, name: &str) -> ClientResult<Strong<I>> {
        #[cfg(not(target_os = "android"))]
        if let Some(rpc) = &self.rpc {
            let binder = rpc.service(name).map_err(|e| {
                ClientError::Transport(format!("{name} is not served on this socket ({e})"))
            })?;
            return <I as FromIBinder>::try_from(binder)
                .map_err(|e| ClientError::Transport(format!("{name} has the wrong type: {e:?}")));
        }
        compat::check_service::<I>(name).map_err(|e| {
            ClientError::Transport(format!(
                "{name} is not registered with the service manager ({e})"
            ))
        })
    }
}

/// Threads receiving callbacks and death notices in a client process.
const CLIENT_BINDER_THREADS: u32 = 2;

/// A connection to the service.
pub struct Client {
    manager: Strong<dyn II2cManager>,
    connection: Arc<Connection>,
}

/// How a session is opened: every option of openSession.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// 0: the bus's current generation; otherwise it must match (NO_SUCH_BUS if not).
    pub generation: u64,
    /// No other session may use the address while this one lives.
    pub exclusive: bool,
    /// The address is a 10-bit address (adapters with I2C_FUNC_10BIT_ADDR).
    pub ten_bit: bool,
    /// SMBus packet error checking (adapters with I2C_FUNC_SMBUS_PEC).
    pub pec: bool,
}

impl Client {
    pub fn connect(endpoint: &Endpoint) -> ClientResult<Client> {
        match endpoint {
            #[cfg(not(target_os = "android"))]
            Endpoint::Socket(path) => Self::connect_rpc(path),
            #[cfg(target_os = "android")]
            Endpoint::Socket(path) => Err(ClientError::Transport(format!(
                "RPC sockets are for hosts; on Android use servicemanager (not {})",
                path.display()
            ))),
            Endpoint::KernelBinder(device) => Self::connect_kernel(device),
        }
    }

    fn connect_kernel(device: &Path) -> ClientResult<Client> {
        compat::init_process(device, CLIENT_BINDER_THREADS)
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let manager = compat::check_service::<dyn II2cManager>(SERVICE_NAME).map_err(|e| {
            ClientError::Transport(format!(
                "{SERVICE_NAME} is not registered with the service manager on {} ({e})",
                device.display()
            ))
        })?;
        let connection = Connection {
            #[cfg(not(target_os = "android"))]
            rpc: None,
        };
        Ok(Client { manager, connection: Arc::new(connection) })
    }

    #[cfg(not(target_os = "android"))]
    fn connect_rpc(path: &Path) -> ClientResult<Client> {
        let rpc = compat::rpc::Connection::open(path).map_err(|e| {
            ClientError::Transport(format!(
                "cannot connect to {} ({e}): is i2c-hal-service running there?",
                path.display()
            ))
        })?;
        let connection = Arc::new(Connection { rpc: Some(rpc) });
        let manager = connection.lookup::<dyn II2cManager>(SERVICE_NAME)?;
        Ok(Client { manager, connection })
    }

    pub fn list_buses(&self) -> ClientResult<Vec<BusInfo>> {
        Ok(call(self.manager.listBuses())?.iter().map(bus_from_aidl).collect())
    }

    /// The interface version and hash the service reports (getInterfaceVersion/Hash).
    pub fn interface_version(&self) -> ClientResult<(i32, String)> {
        Ok((call(self.manager.getInterfaceVersion())?, call(self.manager.getInterfaceHash())?))
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
        let options = OpenOptions { generation, exclusive, ..OpenOptions::default() };
        self.open_with(bus, address, &options, on_lost)
    }

    /// Opens a session with every option of the contract.
    pub fn open_with(
        &self,
        bus: &str,
        address: u16,
        options: &OpenOptions,
        on_lost: Box<dyn Fn(LossReason, String) + Send + Sync>,
    ) -> ClientResult<Session> {
        let callback = binder_object!(BnI2cSessionCallback, LossCallback { on_lost });
        let generation = generation_to_aidl(options.generation)?;
        let flags = open_flags_to_aidl(options.exclusive, options.ten_bit, options.pec);
        let session =
            call(self.manager.openSession(bus, generation, address.into(), flags, &callback))?;
        Ok(Session { session, address, _callback: callback, _connection: self.connection.clone() })
    }

    /// Opens a session whose loss is reported to `callback`, which other sessions may share.
    pub fn open_sharing(
        &self,
        bus: &str,
        address: u16,
        options: &OpenOptions,
        callback: &SharedLossCallback,
    ) -> ClientResult<Session> {
        let generation = generation_to_aidl(options.generation)?;
        let flags = open_flags_to_aidl(options.exclusive, options.ten_bit, options.pec);
        let callback = callback.0.clone();
        let session =
            call(self.manager.openSession(bus, generation, address.into(), flags, &callback))?;
        Ok(Session { session, address, _callback: callback, _connection: self.connection.clone() })
    }

    /// Registers a bus listener; events stop when the returned Watch is dropped.
    pub fn watch(&self, on_event: Box<dyn Fn(BusEvent) + Send + Sync>) -> ClientResult<Watch> {
        let listener = binder_object!(BnBusListener, ListenerCallback { on_event });
        call(self.manager.registerBusListener(&listener))?;
        Ok(Watch { manager: self.manager.clone(), listener, _connection: self.connection.clone() })
    }

    /// The raw manager proxy, for tests that send what the typed API never would (negative
    /// lengths, out-of-range values, unknown flags). Applications have no use for it.
    #[doc(hidden)]
    pub fn raw_manager(&self) -> Strong<dyn II2cManager> {
        self.manager.clone()
    }

    /// The administrative instance (its calls are for root and system only).
    pub fn admin(&self) -> ClientResult<Admin> {
        let admin = self.connection.lookup::<dyn II2cAdmin>(ADMIN_SERVICE_NAME)?;
        Ok(Admin { admin, _connection: self.connection.clone() })
    }

    /// Revokes every session on a bus (root/system only); returns how many were revoked.
    pub fn revoke(&self, bus: &str) -> ClientResult<u32> {
        self.admin()?.revoke(bus)
    }
}

/// The administrative interface, II2cAdmin.
pub struct Admin {
    admin: Strong<dyn II2cAdmin>,
    _connection: Arc<Connection>,
}

impl Admin {
    /// Revokes every session on a bus; returns how many were revoked.
    pub fn revoke(&self, bus: &str) -> ClientResult<u32> {
        Ok(u32::try_from(call(self.admin.revokeBus(bus))?).unwrap_or(0))
    }

    /// Re-reads the service's policy file; returns how many sessions the new policy ended.
    pub fn reload_policy(&self) -> ClientResult<u32> {
        Ok(u32::try_from(call(self.admin.reloadPolicy())?).unwrap_or(0))
    }

    /// Buses, sessions with their owners, counters and recent removals.
    pub fn status(&self) -> ClientResult<StatusSnapshot> {
        Ok(status_from_aidl(&call(self.admin.getStatus())?))
    }

    /// The interface version and hash of the admin instance.
    pub fn interface_version(&self) -> ClientResult<(i32, String)> {
        Ok((call(self.admin.getInterfaceVersion())?, call(self.admin.getInterfaceHash())?))
    }
}

/// One session-lost callback object for several sessions (`Client::open_sharing`). Binder
/// delivers oneway calls to one object in the order they were sent, so a later callback on it
/// proves that an earlier one was not followed by a repeat before it (the VTS relies on this).
#[derive(Clone)]
pub struct SharedLossCallback(Strong<dyn II2cSessionCallback>);

impl SharedLossCallback {
    pub fn new(on_lost: Box<dyn Fn(LossReason, String) + Send + Sync>) -> SharedLossCallback {
        SharedLossCallback(binder_object!(BnI2cSessionCallback, LossCallback { on_lost }))
    }

    /// The binder object, for tests that call the raw manager proxy (`Client::raw_manager`).
    #[doc(hidden)]
    pub fn raw(&self) -> Strong<dyn II2cSessionCallback> {
        self.0.clone()
    }
}

struct LossCallback {
    on_lost: Box<dyn Fn(LossReason, String) + Send + Sync>,
}

impl Interface for LossCallback {}

impl II2cSessionCallback for LossCallback {
    fn onSessionLost(&self, reason: AidlLossReason, message: &str) -> BinderResult<()> {
        // An unknown (newer) reason still means the session is dead; report it as removal.
        let reason = loss_reason_from_aidl(reason).unwrap_or(LossReason::Removed);
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
        (self.on_event)(BusEvent::Added(bus_from_aidl(bus)));
        Ok(())
    }

    fn onBusRemoved(&self, bus: &AidlBusInfo) -> BinderResult<()> {
        (self.on_event)(BusEvent::Removed(bus_from_aidl(bus)));
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
    /// One combined transfer: how many messages the adapter completed, and the reads.
    pub fn transfer(&self, messages: &[Message]) -> ClientResult<Transferred> {
        let messages: Vec<_> = messages.iter().map(message_to_aidl).collect();
        Ok(transferred_from_aidl(call(self.session.transfer(&messages))?))
    }

    /// The operation classes this session may use.
    pub fn allowed_operations(&self) -> ClientResult<OperationSet> {
        Ok(operations_from_aidl(call(self.session.getAllowedOperations())?))
    }

    pub fn write_read(&self, write: &[u8], read_len: usize) -> ClientResult<Vec<u8>> {
        call(self.session.writeRead(write, length_to_aidl(read_len)))
    }

    pub fn smbus(&self, op: &SmbusOp) -> ClientResult<SmbusValue> {
        let s = &self.session;
        let int = i32::from;
        let value = match op {
            SmbusOp::Quick { read } => call(s.smbusQuick(*read)).map(|()| SmbusValue::None)?,
            SmbusOp::ReadByte => SmbusValue::Byte(byte_from_reply(call(s.smbusReadByte())?)),
            SmbusOp::WriteByte(v) => call(s.smbusWriteByte(int(*v))).map(|()| SmbusValue::None)?,
            SmbusOp::ReadByteData(c) => {
                SmbusValue::Byte(byte_from_reply(call(s.smbusReadByteData(int(*c)))?))
            }
            SmbusOp::WriteByteData(c, v) => {
                call(s.smbusWriteByteData(int(*c), int(*v))).map(|()| SmbusValue::None)?
            }
            SmbusOp::ReadWordData(c) => {
                SmbusValue::Word(word_from_reply(call(s.smbusReadWordData(int(*c)))?))
            }
            SmbusOp::WriteWordData(c, v) => {
                call(s.smbusWriteWordData(int(*c), i32::from(*v))).map(|()| SmbusValue::None)?
            }
            SmbusOp::ReadBlockData(c) => SmbusValue::Block(call(s.smbusReadBlockData(int(*c)))?),
            SmbusOp::WriteBlockData(c, data) => {
                call(s.smbusWriteBlockData(int(*c), data)).map(|()| SmbusValue::None)?
            }
            SmbusOp::ReadI2cBlockData(c, len) => {
                SmbusValue::Block(call(s.smbusReadI2cBlockData(int(*c), length_to_aidl(*len)))?)
            }
            SmbusOp::WriteI2cBlockData(c, data) => {
                call(s.smbusWriteI2cBlockData(int(*c), data)).map(|()| SmbusValue::None)?
            }
            SmbusOp::ProcessCall(c, v) => {
                SmbusValue::Word(word_from_reply(call(s.smbusProcessCall(int(*c), i32::from(*v)))?))
            }
            SmbusOp::BlockProcessCall(c, data) => {
                SmbusValue::Block(call(s.smbusBlockProcessCall(int(*c), data))?)
            }
        };
        Ok(value)
    }

    pub fn bus_info(&self) -> ClientResult<BusInfo> {
        Ok(bus_from_aidl(&call(self.session.getBusInfo())?))
    }

    pub fn address(&self) -> u16 {
        self.address
    }

    /// The session's address as the service reports it (getAddress): one round trip with
    /// next to no work behind it, which makes it the measure of a call's transport cost.
    pub fn address_from_service(&self) -> ClientResult<u16> {
        let address = call(self.session.getAddress())?;
        u16::try_from(address)
            .map_err(|_| ClientError::Transport(format!("the service reported address {address}")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_specific_codes_become_typed_errors_and_unknown_ones_stay_themselves() {
        let known = ClientError::from(compat::service_error(ErrorCode::BusGone as i32, "gone"));
        assert_eq!(
            known,
            ClientError::Service { code: ErrorCode::BusGone, message: "gone".into() }
        );
        let newer = ClientError::from(compat::service_error(4242, "from the future"));
        assert_eq!(
            newer,
            ClientError::UnknownCode { value: 4242, message: "from the future".into() }
        );
        assert_eq!(newer.code(), None);
        assert!(newer.to_string().contains("4242"), "{newer}");
    }
}
