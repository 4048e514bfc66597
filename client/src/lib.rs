//! The client library: how programs (i2cctl, the tests, the VTS suite, apps written in Rust)
//! use the service. It speaks the core's types (Message, SmbusOp, BusInfo, ErrorCode), so
//! callers never see binder:
//!
//! - [`Client::connect_default`] finds the service (kernel binder, else the RPC socket) and
//!   [`Client::connect`] takes an [`Endpoint`];
//! - [`Client::list_buses`], [`Client::watch`] and [`Client::wait_for_bus`] follow the buses;
//! - [`Client::open_with`] (a closure) and [`Client::open_channel`] (a channel) open a session
//!   with every option of the contract ([`OpenOptions`]) and report its loss;
//! - [`Client::reopen`] waits for the bus with the same stable id to come back and opens a new
//!   session on it (a lost session never revives);
//! - [`Client::on_service_death`] reports the death of the service itself;
//! - a [`Session`] is an `embedded_hal::i2c::I2c`, so existing driver crates run on it.
//!
//! docs/app-developers.md shows all of it in use.

pub mod convert;
pub mod status;

use crate::convert::{
    bus_from_aidl, byte_from_reply, error_code_from_aidl, generation_to_aidl, length_to_aidl,
    loss_reason_from_aidl, message_to_aidl, open_flags_to_aidl, operations_from_aidl,
    status_from_aidl, transferred_from_aidl, word_from_reply, ReceivedCode,
};
use i2c_hal_binder::aidl::{
    BusInfo::BusInfo as AidlBusInfo,
    IBusListener::{BnBusListener, IBusListener},
    II2cAdmin::II2cAdmin,
    II2cManager::II2cManager,
    II2cSession::II2cSession,
    II2cSessionCallback::{BnI2cSessionCallback, II2cSessionCallback},
    LossReason::LossReason as AidlLossReason,
};
use i2c_hal_binder::{
    self as compat, binder_object, describe, service_specific, BinderResult, FromIBinder,
    Interface, Status, Strong,
};
use i2c_hal_core::request::{Message, SmbusOp, SmbusValue};
use i2c_hal_core::{BusInfo, ErrorCode, LossReason};
use std::fmt;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub use i2c_hal_binder::endpoint::{
    Endpoint, ADMIN_SERVICE_NAME, DEFAULT_SOCKET, SERVICE_NAME, SOCKET_ENV,
};
pub use i2c_hal_core::device::Transferred;
pub use i2c_hal_core::request::{OperationClass, OperationSet};
pub use i2c_hal_platform::unix_socket::{TrustedServers, SERVER_UID_ENV};
pub use status::{RemovalReport, SessionReport, SessionState, StatusReport};

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
    /// The socket's server runs as a uid this client does not trust (not root, not this
    /// user, not one named by `--server-uid` or $I2C_HAL_SERVER_UID): nothing was sent.
    UntrustedService(String),
}

impl ClientError {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Service { code, .. } => Some(*code),
            ClientError::UnknownCode { .. }
            | ClientError::Transport(_)
            | ClientError::UntrustedService(_) => None,
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
            ClientError::UntrustedService(message) => write!(f, "UNTRUSTED_SERVICE: {message}"),
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

impl From<i2c_hal_core::Error> for ClientError {
    fn from(error: i2c_hal_core::Error) -> ClientError {
        ClientError::Service { code: error.code, message: error.message }
    }
}

impl ClientError {
    /// True when the failure means the service is unreachable or gone (not a refusal).
    pub fn is_transport(&self) -> bool {
        matches!(self, ClientError::Transport(_))
    }
}

/// How a session ended, as the service reported it (onSessionLost). The session stays dead:
/// every call on it answers BUS_GONE (or SESSION_CLOSED) from then on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionLost {
    pub reason: LossReason,
    pub message: String,
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
                ClientError::Transport(format!("{name} is not served on this socket: {e}"))
            })?;
            return <I as FromIBinder>::try_from(binder).map_err(|_| {
                ClientError::Transport(format!("{name} on this socket is another interface"))
            });
        }
        compat::check_service::<I>(name).map_err(|e| {
            ClientError::Transport(format!(
                "{name} is not registered with the service manager: {e}"
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
    /// Connects where i2cctl would without --socket: `$I2C_HAL_SOCKET` if set, else kernel
    /// binder when a binder device exists, else the default socket (`endpoint`'s
    /// `default_client_socket`: /run/i2c-hal/i2c-hal.sock, or the user's own).
    pub fn connect_default() -> ClientResult<Client> {
        Self::connect(&Endpoint::resolve(None))
    }

    /// Connects to `endpoint`. On an RPC socket the server must run as root, as this user,
    /// or as a uid $I2C_HAL_SERVER_UID names ([`TrustedServers`]).
    pub fn connect(endpoint: &Endpoint) -> ClientResult<Client> {
        let trusted = TrustedServers::from_env().map_err(ClientError::UntrustedService)?;
        Self::connect_trusting(endpoint, &trusted)
    }

    /// Connects to `endpoint`, accepting an RPC socket's server only if `trusted` names it.
    pub fn connect_trusting(endpoint: &Endpoint, trusted: &TrustedServers) -> ClientResult<Client> {
        match endpoint {
            #[cfg(not(target_os = "android"))]
            Endpoint::Socket(path) => Self::connect_rpc(path, trusted),
            #[cfg(target_os = "android")]
            Endpoint::Socket(path) => {
                let _ = trusted;
                Err(ClientError::Transport(format!(
                    "RPC sockets are for hosts; on Android use servicemanager (not {})",
                    path.display()
                )))
            }
            Endpoint::KernelBinder(device) => Self::connect_kernel(device),
        }
    }

    fn connect_kernel(device: &Path) -> ClientResult<Client> {
        compat::init_process(device, CLIENT_BINDER_THREADS)
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let manager = compat::check_service::<dyn II2cManager>(SERVICE_NAME).map_err(|e| {
            ClientError::Transport(format!(
                "{SERVICE_NAME} is not registered with the service manager on {}: {e}",
                device.display()
            ))
        })?;
        let connection = Connection {
            #[cfg(not(target_os = "android"))]
            rpc: None,
        };
        Ok(Client { manager, connection: Arc::new(connection) })
    }

    /// Connects to `path`, checks who serves it (SO_PEERCRED) and founds the binder session on
    /// that very connection; the connection for callbacks is attached by path a moment later,
    /// which reaches the same server where the socket's directory is writable by the service
    /// only, as the service makes sure of for its own socket (`platform::unix_socket`).
    #[cfg(not(target_os = "android"))]
    fn connect_rpc(path: &Path, trusted: &TrustedServers) -> ClientResult<Client> {
        let stream = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
            ClientError::Transport(format!(
                "cannot connect to {}: {} (is i2c-hal-service running there?)",
                path.display(),
                e.kind()
            ))
        })?;
        trusted.check(&stream, path).map_err(ClientError::UntrustedService)?;
        let rpc = compat::rpc::Connection::adopt(stream, path).map_err(|e| {
            ClientError::Transport(format!(
                "cannot connect to {}: {e} (is i2c-hal-service running there?)",
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
        self.open_reporting_to(bus, address, options, callback)
    }

    /// The one openSession call every open flavour makes, with the callback it chose.
    fn open_reporting_to(
        &self,
        bus: &str,
        address: u16,
        options: &OpenOptions,
        callback: Strong<dyn II2cSessionCallback>,
    ) -> ClientResult<Session> {
        let generation = generation_to_aidl(options.generation)?;
        let flags = open_flags_to_aidl(options.exclusive, options.ten_bit, options.pec);
        let session =
            call(self.manager.openSession(bus, generation, address.into(), flags, &callback))?;
        Ok(Session {
            session,
            address,
            ten_bit: options.ten_bit,
            functionality: OnceLock::new(),
            _callback: callback,
            _connection: self.connection.clone(),
        })
    }

    /// Opens a session whose loss arrives on a channel instead of a closure: at most one
    /// [`SessionLost`] is ever sent, and the channel stays open as long as the session.
    pub fn open_channel(
        &self,
        bus: &str,
        address: u16,
        options: &OpenOptions,
    ) -> ClientResult<(Session, Receiver<SessionLost>)> {
        let (sender, receiver) = mpsc::channel();
        // The callback runs on a binder thread; the Mutex makes the Sender Sync for it.
        let sender = std::sync::Mutex::new(sender);
        let on_lost = Box::new(move |reason, message| {
            let sender = sender.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // A receiver that was dropped wanted no news.
            let _ = sender.send(SessionLost { reason, message });
        });
        let session = self.open_with(bus, address, options, on_lost)?;
        Ok((session, receiver))
    }

    /// Waits until a bus with `stable_id` is live in a generation newer than `after` (0: any)
    /// and returns it; NO_SUCH_BUS if none appears within `timeout`. This is how a client
    /// learns that a removed module is back: the same module gets the same stable id and a
    /// new generation. It registers a bus listener first and lists the buses second, so a bus
    /// that comes back between the two calls is seen either way.
    pub fn wait_for_bus(
        &self,
        stable_id: &str,
        after: u64,
        timeout: Duration,
    ) -> ClientResult<BusInfo> {
        let (sender, receiver) = mpsc::channel();
        let sender = std::sync::Mutex::new(sender);
        let _watch = self.watch(Box::new(move |event| {
            if let BusEvent::Added(bus) = event {
                let sender = sender.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let _ = sender.send(bus);
            }
        }))?;
        let newer = |bus: &BusInfo| bus.stable_id == stable_id && bus.generation.0 > after;
        if let Some(bus) = self.list_buses()?.into_iter().find(newer) {
            return Ok(bus);
        }
        let deadline = Instant::now() + timeout;
        loop {
            match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(bus) if newer(&bus) => return Ok(bus),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    return Err(ClientError::Service {
                        code: ErrorCode::NoSuchBus,
                        message: format!(
                            "no bus with stable id {stable_id} newer than generation {after} \
                             appeared within {} ms",
                            timeout.as_millis()
                        ),
                    })
                }
            }
        }
    }

    /// Opens a new session on the module a lost session was on, once it is back: waits (up to
    /// `timeout`) for a generation of `lost_bus.stable_id` newer than `lost_bus.generation`,
    /// then opens `address` on exactly that generation. The lost session stays dead; this is
    /// a new one, with its own loss channel. If the module goes away again in between, the
    /// open fails with NO_SUCH_BUS and the caller may simply call `reopen` again.
    pub fn reopen(
        &self,
        lost_bus: &BusInfo,
        address: u16,
        options: &OpenOptions,
        timeout: Duration,
    ) -> ClientResult<(Session, Receiver<SessionLost>)> {
        let bus = self.wait_for_bus(&lost_bus.stable_id, lost_bus.generation.0, timeout)?;
        let options = OpenOptions { generation: bus.generation.0, ..*options };
        self.open_channel(&bus.stable_id, address, &options)
    }

    /// Runs `on_death` (on a binder thread) once if the service process dies or its RPC
    /// connection ends, for as long as the returned guard lives. A binder death notification
    /// on the manager object: nothing needs to poll. Fails (as a transport error) if the
    /// service is already gone.
    pub fn on_service_death(
        &self,
        on_death: impl Fn() + Send + Sync + 'static,
    ) -> ClientResult<ServiceDeathWatch> {
        let watch = compat::watch_death(&self.manager.as_binder(), on_death).map_err(|_| {
            ClientError::Transport(
                "the service is gone (its process died or ended the connection)".to_string(),
            )
        })?;
        Ok(ServiceDeathWatch { _watch: watch, _connection: self.connection.clone() })
    }

    /// [`Client::on_service_death`] as a channel: one `()` arrives when the service dies.
    pub fn service_death_channel(&self) -> ClientResult<(ServiceDeathWatch, Receiver<()>)> {
        let (sender, receiver) = mpsc::channel();
        let sender = std::sync::Mutex::new(sender);
        let watch = self.on_service_death(move || {
            let sender = sender.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let _ = sender.send(());
        })?;
        Ok((watch, receiver))
    }

    /// Opens a session whose loss is reported to `callback`, which other sessions may share.
    pub fn open_sharing(
        &self,
        bus: &str,
        address: u16,
        options: &OpenOptions,
        callback: &SharedLossCallback,
    ) -> ClientResult<Session> {
        self.open_reporting_to(bus, address, options, callback.0.clone())
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

/// Keeps a service-death notification armed; dropping it disarms it.
pub struct ServiceDeathWatch {
    // Declared first so it unlinks before the connection it watches can close.
    _watch: compat::DeathWatch,
    _connection: Arc<Connection>,
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
    pub fn status(&self) -> ClientResult<StatusReport> {
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
    ten_bit: bool,
    /// The bus's I2C_FUNCS, fetched once by the embedded-hal methods (which need to know
    /// whether plain I2C messages are possible or SMBus must stand in).
    functionality: OnceLock<u64>,
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

/// `embedded_hal::i2c::I2c` on a session, so that driver crates written for embedded-hal 1.0
/// (eeprom24x, lm75, ...) run unmodified on a bus that lives behind the service.
///
/// A session is bound to one address: a call for another address is refused with
/// INVALID_ARGUMENT, before anything is sent (open a session per device). On an adapter with
/// I2C_FUNC_I2C a transaction is one combined transfer (adjacent operations of the same
/// direction merged, as the trait requires). On an SMBus-only adapter the transactions that
/// have an SMBus command with the same bytes on the wire are sent as that command
/// (Documentation/i2c/smbus-protocol.rst); the rest fail with NOT_SUPPORTED.
mod hal {
    use super::{ClientError, ClientResult, Session};
    use embedded_hal::i2c::{
        self, ErrorKind, NoAcknowledgeSource, Operation, SevenBitAddress, TenBitAddress,
    };
    use i2c_hal_core::request::{func, Message, SmbusOp, SmbusValue, SMBUS_BLOCK_MAX};
    use i2c_hal_core::ErrorCode;

    impl i2c::Error for ClientError {
        fn kind(&self) -> ErrorKind {
            error_kind(self)
        }
    }

    /// The embedded-hal kind of a failure, from its ErrorCode alone (the message is for people).
    ///
    /// The v1 contract folds several kernel faults (Documentation/i2c/fault-codes.rst) into one
    /// code: ADDRESS_NACK is ENXIO, and also EREMOTEIO, which drivers report for a NACK of
    /// either phase; IO_ERROR is EIO and EPROTO, and also EAGAIN, lost arbitration. So a NACK
    /// reads as one of unknown source (never wrongly as the address's) and lost arbitration as
    /// a bus error. Telling them apart needs the kernel's errno on the wire: a v2 change
    /// (docs/contract.md, "What v2 would add").
    pub fn error_kind(error: &ClientError) -> ErrorKind {
        let ClientError::Service { code, .. } = error else {
            return ErrorKind::Other;
        };
        match code {
            ErrorCode::AddressNack => ErrorKind::NoAcknowledge(NoAcknowledgeSource::Unknown),
            ErrorCode::IoError => ErrorKind::Bus,
            _ => ErrorKind::Other,
        }
    }

    fn refused(code: ErrorCode, message: String) -> ClientError {
        ClientError::Service { code, message }
    }

    /// Adjacent operations of one direction, joined: the trait says they go on the wire
    /// without a repeated START between them, which is what one message is.
    fn merge(operations: &[Operation<'_>]) -> Vec<Message> {
        let mut messages: Vec<Message> = Vec::new();
        for operation in operations {
            match (operation, messages.last_mut()) {
                (Operation::Read(buffer), Some(Message::Read(length))) => *length += buffer.len(),
                (Operation::Write(bytes), Some(Message::Write(data))) => {
                    data.extend_from_slice(bytes)
                }
                (Operation::Read(buffer), _) => messages.push(Message::Read(buffer.len())),
                (Operation::Write(bytes), _) => messages.push(Message::Write(bytes.to_vec())),
            }
        }
        messages
    }

    /// Copies the reads of a merged transaction back into the operations' buffers.
    fn scatter(operations: &mut [Operation<'_>], reads: Vec<Vec<u8>>) -> ClientResult<()> {
        let mut reads = reads.into_iter();
        let mut current: Vec<u8> = Vec::new();
        let mut offset = 0;
        let mut previous_was_read = false;
        for operation in operations.iter_mut() {
            let Operation::Read(buffer) = operation else {
                previous_was_read = false;
                continue;
            };
            if !previous_was_read {
                current = reads.next().unwrap_or_default();
                offset = 0;
            }
            previous_was_read = true;
            let Some(bytes) = current.get(offset..offset + buffer.len()) else {
                return Err(refused(
                    ErrorCode::IoError,
                    format!("the service returned {} byte(s) for a longer read", current.len()),
                ));
            };
            buffer.copy_from_slice(bytes);
            offset += buffer.len();
        }
        Ok(())
    }

    /// The SMBus command with the same bytes on the wire as `messages`, if there is one.
    fn smbus_equivalent(messages: &[Message]) -> Option<SmbusOp> {
        Some(match messages {
            [Message::Write(data)] => match data.as_slice() {
                [] => SmbusOp::Quick { read: false },
                [byte] => SmbusOp::WriteByte(*byte),
                [command, value] => SmbusOp::WriteByteData(*command, *value),
                // SMBus words travel low byte first.
                [command, low, high] => {
                    SmbusOp::WriteWordData(*command, u16::from_le_bytes([*low, *high]))
                }
                [command, block @ ..] if block.len() <= SMBUS_BLOCK_MAX => {
                    SmbusOp::WriteI2cBlockData(*command, block.to_vec())
                }
                _ => return None,
            },
            [Message::Read(0)] => SmbusOp::Quick { read: true },
            [Message::Read(1)] => SmbusOp::ReadByte,
            [Message::Write(command), Message::Read(length)] => {
                match (command.as_slice(), length) {
                    ([command], 1) => SmbusOp::ReadByteData(*command),
                    ([command], 2) => SmbusOp::ReadWordData(*command),
                    ([command], 3..=SMBUS_BLOCK_MAX) => {
                        SmbusOp::ReadI2cBlockData(*command, *length)
                    }
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    fn smbus_reads(value: SmbusValue) -> Vec<Vec<u8>> {
        match value {
            SmbusValue::None => Vec::new(),
            SmbusValue::Byte(byte) => vec![vec![byte]],
            SmbusValue::Word(word) => vec![word.to_le_bytes().to_vec()],
            SmbusValue::Block(block) => vec![block],
        }
    }

    impl Session {
        fn bus_functionality(&self) -> ClientResult<u64> {
            if let Some(functionality) = self.functionality.get() {
                return Ok(*functionality);
            }
            let functionality = self.bus_info()?.functionality;
            Ok(*self.functionality.get_or_init(|| functionality))
        }

        fn hal_transaction(
            &self,
            address: u16,
            ten_bit: bool,
            operations: &mut [Operation<'_>],
        ) -> ClientResult<()> {
            if address != self.address || ten_bit != self.ten_bit {
                let width = |ten: bool| if ten { "10-bit" } else { "7-bit" };
                return Err(refused(
                    ErrorCode::InvalidArgument,
                    format!(
                        "this session is for {} address {:#x}, not {} address {address:#x}: open \
                         a session per device",
                        width(self.ten_bit),
                        self.address,
                        width(ten_bit)
                    ),
                ));
            }
            if operations.is_empty() {
                return Ok(());
            }
            let messages = merge(operations);
            let reads = if self.bus_functionality()? & func::I2C_FUNC_I2C != 0 {
                let done = self.transfer(&messages)?;
                if done.completed < messages.len() {
                    return Err(refused(
                        ErrorCode::IoError,
                        format!(
                            "the adapter completed {} of {} messages",
                            done.completed,
                            messages.len()
                        ),
                    ));
                }
                done.reads
            } else {
                let Some(op) = smbus_equivalent(&messages) else {
                    return Err(refused(
                        ErrorCode::NotSupported,
                        "the bus is SMBus only (no I2C_FUNC_I2C) and this transaction has no \
                         SMBus equivalent"
                            .to_string(),
                    ));
                };
                smbus_reads(self.smbus(&op)?)
            };
            scatter(operations, reads)
        }
    }

    impl i2c::ErrorType for Session {
        type Error = ClientError;
    }

    impl i2c::I2c<SevenBitAddress> for Session {
        fn transaction(
            &mut self,
            address: SevenBitAddress,
            operations: &mut [Operation<'_>],
        ) -> Result<(), ClientError> {
            self.hal_transaction(u16::from(address), false, operations)
        }
    }

    impl i2c::I2c<TenBitAddress> for Session {
        fn transaction(
            &mut self,
            address: TenBitAddress,
            operations: &mut [Operation<'_>],
        ) -> Result<(), ClientError> {
            self.hal_transaction(address, true, operations)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn service(code: ErrorCode, message: &str) -> ClientError {
            ClientError::Service { code, message: message.into() }
        }

        #[test]
        fn error_kinds_come_from_the_code_never_from_the_message() {
            let nack = service(ErrorCode::AddressNack, "i2c-0: no device acknowledged 0x51");
            assert_eq!(error_kind(&nack), ErrorKind::NoAcknowledge(NoAcknowledgeSource::Unknown));
            // A message that quotes an errno changes nothing: the wire's field is the code.
            let lost =
                service(ErrorCode::IoError, "x: Resource temporarily unavailable (os error 11)");
            assert_eq!(error_kind(&lost), ErrorKind::Bus);
            let remote = service(ErrorCode::AddressNack, "x: Remote I/O error (os error 121)");
            assert_eq!(error_kind(&remote), error_kind(&nack));
            assert_eq!(error_kind(&service(ErrorCode::BusGone, "gone")), ErrorKind::Other);
            assert_eq!(error_kind(&ClientError::Transport("down".into())), ErrorKind::Other);
            let newer = ClientError::UnknownCode { value: 99, message: "(os error 11)".into() };
            assert_eq!(error_kind(&newer), ErrorKind::Other);
        }

        #[test]
        fn adjacent_operations_of_one_direction_become_one_message() {
            let (mut a, mut b) = ([0u8; 2], [0u8; 3]);
            let mut operations = [
                Operation::Write(&[1]),
                Operation::Write(&[2, 3]),
                Operation::Read(&mut a),
                Operation::Read(&mut b),
                Operation::Write(&[4]),
            ];
            assert_eq!(
                merge(&operations),
                vec![Message::Write(vec![1, 2, 3]), Message::Read(5), Message::Write(vec![4])]
            );
            scatter(&mut operations, vec![vec![10, 11, 12, 13, 14]]).unwrap();
            assert_eq!((a, b), ([10, 11], [12, 13, 14]));
            let mut short = [0u8; 4];
            let error = scatter(&mut [Operation::Read(&mut short)], vec![vec![1]]).unwrap_err();
            assert_eq!(error.code(), Some(ErrorCode::IoError));
        }

        #[test]
        fn smbus_stands_in_only_where_the_wire_is_the_same() {
            let write = |bytes: &[u8]| smbus_equivalent(&[Message::Write(bytes.to_vec())]);
            let write_read = |command: &[u8], length| {
                smbus_equivalent(&[Message::Write(command.to_vec()), Message::Read(length)])
            };
            assert_eq!(write(&[]), Some(SmbusOp::Quick { read: false }));
            assert_eq!(write(&[7]), Some(SmbusOp::WriteByte(7)));
            assert_eq!(write(&[1, 0x80]), Some(SmbusOp::WriteByteData(1, 0x80)));
            assert_eq!(write(&[3, 0x50, 0x80]), Some(SmbusOp::WriteWordData(3, 0x8050)));
            assert_eq!(write(&[3, 1, 2, 3]), Some(SmbusOp::WriteI2cBlockData(3, vec![1, 2, 3])));
            assert_eq!(write(&[0; 34]), None);
            assert_eq!(smbus_equivalent(&[Message::Read(1)]), Some(SmbusOp::ReadByte));
            assert_eq!(smbus_equivalent(&[Message::Read(2)]), None);
            assert_eq!(write_read(&[0], 1), Some(SmbusOp::ReadByteData(0)));
            assert_eq!(write_read(&[0], 2), Some(SmbusOp::ReadWordData(0)));
            assert_eq!(write_read(&[0], 8), Some(SmbusOp::ReadI2cBlockData(0, 8)));
            assert_eq!(write_read(&[0], 33), None);
            assert_eq!(write_read(&[0, 1], 1), None);
            // A word arrives low byte first, as it was on the wire.
            assert_eq!(smbus_reads(SmbusValue::Word(0x8019)), vec![vec![0x19, 0x80]]);
        }
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
