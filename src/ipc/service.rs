//! The binder objects: `II2cManager` (the service root) and one `II2cSession` per open session.
//! They translate between AIDL types and the core, and tie session lifetime to binder lifetime:
//! a session ends when the client closes it, drops its last reference, or dies.

use super::compat::aidl::{
    BusInfo::BusInfo as AidlBusInfo,
    I2cMessage::I2cMessage,
    I2cReadResult::I2cReadResult,
    IBusListener::IBusListener,
    II2cManager,
    II2cSession::{BnI2cSession, II2cSession},
    II2cSessionCallback::II2cSessionCallback,
    LossReason::LossReason as AidlLossReason,
};
use super::compat::{
    calling_identity, invalid_argument, link_to_death, service_error, unlink_to_death,
    BinderResult, DeathRecipient, Interface, SIBinder, Strong, WIBinder,
};
use super::notifier::Notifier;
use crate::core::broker::{
    Broker, BusObserver, ListenerId, OpenRequest, SessionId, SessionObserver,
};
use crate::core::request::{byte_arg, length_arg, word_arg, Message, SmbusOp, SmbusValue};
use crate::core::{BusInfo, BusSelector, Error, Generation, LossReason};
use log::{info, warn};
use std::sync::{Arc, Mutex, Weak};

pub fn to_aidl_bus(info: &BusInfo) -> AidlBusInfo {
    AidlBusInfo {
        busNumber: info.bus_number as i32,
        name: info.name.clone(),
        stableId: info.stable_id.clone(),
        generation: info.generation.0 as i64,
        functionality: info.functionality as i64,
    }
}

fn core_result<T>(result: crate::core::Result<T>) -> BinderResult<T> {
    result.map_err(|e| service_error(&e))
}

// ------------------------------------------------------------------------------ callbacks ----

/// Forwards a session's death to its client through the notifier (never from a broker lock).
struct CallbackObserver {
    callback: Strong<dyn II2cSessionCallback>,
    notifier: Arc<Notifier>,
}

impl SessionObserver for CallbackObserver {
    fn session_lost(&self, reason: LossReason, message: &str) {
        let callback = self.callback.clone();
        let message = message.to_string();
        self.notifier.post(move || {
            let reason = AidlLossReason(reason as i32);
            if let Err(e) = callback.onSessionLost(reason, &message) {
                warn!("session-lost callback not delivered: {e:?}");
            }
        });
    }
}

struct ListenerObserver {
    listener: Strong<dyn IBusListener>,
    notifier: Arc<Notifier>,
}

type ListenerCall = fn(&dyn IBusListener, &AidlBusInfo) -> BinderResult<()>;

impl ListenerObserver {
    fn post(&self, bus: &BusInfo, event: &'static str, call: ListenerCall) {
        let listener = self.listener.clone();
        let bus = to_aidl_bus(bus);
        self.notifier.post(move || {
            if let Err(e) = call(&*listener, &bus) {
                warn!("bus-{event} callback not delivered: {e:?}");
            }
        });
    }
}

impl BusObserver for ListenerObserver {
    fn bus_added(&self, bus: &BusInfo) {
        self.post(bus, "added", |listener, bus| listener.onBusAdded(bus));
    }

    fn bus_removed(&self, bus: &BusInfo) {
        self.post(bus, "removed", |listener, bus| listener.onBusRemoved(bus));
    }
}

/// Reclaims a session when the process behind its callback dies (crash, SIGKILL).
struct SessionReaper {
    broker: Weak<Broker>,
    id: SessionId,
}

impl DeathRecipient for SessionReaper {
    fn binder_died(&self, _who: &WIBinder) {
        if let Some(broker) = self.broker.upgrade() {
            info!("client of session {} died: reclaiming it", self.id.0);
            broker.close_session(self.id);
        }
    }
}

// -------------------------------------------------------------------------------- manager ----

struct RegisteredListener {
    binder: SIBinder,
    id: ListenerId,
    reaper: Arc<ListenerReaper>,
}

type ListenerTable = Arc<Mutex<Vec<RegisteredListener>>>;

/// Unregisters a listener whose process died.
struct ListenerReaper {
    broker: Weak<Broker>,
    table: Weak<Mutex<Vec<RegisteredListener>>>,
    id: ListenerId,
}

impl DeathRecipient for ListenerReaper {
    fn binder_died(&self, _who: &WIBinder) {
        if let Some(broker) = self.broker.upgrade() {
            broker.remove_listener(self.id);
        }
        if let Some(table) = self.table.upgrade() {
            table.lock().unwrap_or_else(|e| e.into_inner()).retain(|l| l.id != self.id);
        }
    }
}

pub struct ManagerService {
    broker: Arc<Broker>,
    notifier: Arc<Notifier>,
    listeners: ListenerTable,
}

impl ManagerService {
    pub fn new(broker: Arc<Broker>, notifier: Arc<Notifier>) -> ManagerService {
        ManagerService { broker, notifier, listeners: Arc::default() }
    }

    pub fn into_binder(self) -> Strong<dyn II2cManager::II2cManager> {
        II2cManager::BnI2cManager::new_binder(self)
    }

    fn lock_listeners(&self) -> std::sync::MutexGuard<'_, Vec<RegisteredListener>> {
        self.listeners.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Interface for ManagerService {
    fn dump(&self, writer: &mut dyn std::io::Write, _args: &[String]) -> rsbinder::Result<()> {
        let _ = writer.write_all(self.broker.dump().as_bytes());
        Ok(())
    }
}

fn open_request(bus: &str, generation: i64, address: i32, flags: i32) -> BinderResult<OpenRequest> {
    let known = II2cManager::FLAG_EXCLUSIVE;
    if flags & !known != 0 {
        return Err(invalid_argument(format!("unknown flags {flags:#x} (known: {known:#x})")));
    }
    let generation = match generation {
        0 => None,
        g if g > 0 => Some(Generation(g as u64)),
        g => return Err(invalid_argument(format!("generation {g} is negative"))),
    };
    Ok(OpenRequest {
        bus: BusSelector::parse(bus),
        generation,
        address: address as i64,
        exclusive: flags & II2cManager::FLAG_EXCLUSIVE != 0,
    })
}

impl II2cManager::II2cManager for ManagerService {
    fn listBuses(&self) -> BinderResult<Vec<AidlBusInfo>> {
        Ok(self.broker.list_buses().iter().map(to_aidl_bus).collect())
    }

    fn openSession(
        &self,
        bus: &str,
        generation: i64,
        address: i32,
        flags: i32,
        callback: &Strong<dyn II2cSessionCallback>,
    ) -> BinderResult<Strong<dyn II2cSession>> {
        let request = open_request(bus, generation, address, flags)?;
        let observer = Arc::new(CallbackObserver {
            callback: callback.clone(),
            notifier: self.notifier.clone(),
        });
        let caller = calling_identity();
        let (id, _) = core_result(self.broker.open_session(caller, &request, observer))?;
        let reaper = Arc::new(SessionReaper { broker: Arc::downgrade(&self.broker), id });
        let callback_binder = callback.as_binder();
        if let Err(e) = link_to_death(&callback_binder, &reaper) {
            // Its process is already gone (or the binder is local): nobody to serve.
            warn!("cannot watch the callback of session {} ({e:?}); closing it", id.0);
            self.broker.close_session(id);
            return Err(service_error(&Error::new(
                crate::core::ErrorCode::InvalidArgument,
                "the session callback is not a live remote binder",
            )));
        }
        let session = SessionService { broker: self.broker.clone(), id, callback_binder, reaper };
        Ok(BnI2cSession::new_binder(session))
    }

    fn registerBusListener(&self, listener: &Strong<dyn IBusListener>) -> BinderResult<()> {
        let binder = listener.as_binder();
        if self.lock_listeners().iter().any(|l| l.binder == binder) {
            return Err(invalid_argument("this listener is already registered"));
        }
        let observer = Arc::new(ListenerObserver {
            listener: listener.clone(),
            notifier: self.notifier.clone(),
        });
        let id = core_result(self.broker.add_listener(calling_identity(), observer))?;
        let reaper = Arc::new(ListenerReaper {
            broker: Arc::downgrade(&self.broker),
            table: Arc::downgrade(&self.listeners),
            id,
        });
        // No lock is held here: the reaper takes the table lock if the listener is already dead.
        if let Err(e) = link_to_death(&binder, &reaper) {
            warn!("cannot watch bus listener ({e:?}); not registering it");
            self.broker.remove_listener(id);
            return Err(invalid_argument("the listener is not a live remote binder"));
        }
        self.lock_listeners().push(RegisteredListener { binder, id, reaper });
        Ok(())
    }

    fn unregisterBusListener(&self, listener: &Strong<dyn IBusListener>) -> BinderResult<()> {
        let binder = listener.as_binder();
        let mut table = self.lock_listeners();
        let Some(index) = table.iter().position(|l| l.binder == binder) else {
            return Err(invalid_argument("this listener is not registered"));
        };
        let entry = table.remove(index);
        drop(table);
        unlink_to_death(&entry.binder, &entry.reaper);
        self.broker.remove_listener(entry.id);
        Ok(())
    }

    fn revokeBus(&self, bus: &str) -> BinderResult<i32> {
        let count = core_result(self.broker.revoke(calling_identity(), &BusSelector::parse(bus)))?;
        Ok(count as i32)
    }
}

// -------------------------------------------------------------------------------- session ----

/// One client session. Dropping it (the client released its last reference, or its connection
/// went away) ends the session just as close() does.
struct SessionService {
    broker: Arc<Broker>,
    id: SessionId,
    callback_binder: SIBinder,
    reaper: Arc<SessionReaper>,
}

impl Drop for SessionService {
    fn drop(&mut self) {
        unlink_to_death(&self.callback_binder, &self.reaper);
        self.broker.close_session(self.id);
    }
}

impl Interface for SessionService {}

impl SessionService {
    fn smbus(&self, op: SmbusOp) -> BinderResult<SmbusValue> {
        core_result(self.broker.smbus(self.id, &op))
    }

    fn smbus_int(&self, op: SmbusOp) -> BinderResult<i32> {
        match self.smbus(op)? {
            SmbusValue::Byte(b) => Ok(b as i32),
            SmbusValue::Word(w) => Ok(w as i32),
            other => Err(internal(format!("unexpected SMBus result {other:?}"))),
        }
    }

    fn smbus_block(&self, op: SmbusOp) -> BinderResult<Vec<u8>> {
        match self.smbus(op)? {
            SmbusValue::Block(bytes) => Ok(bytes),
            other => Err(internal(format!("unexpected SMBus result {other:?}"))),
        }
    }

    fn smbus_unit(&self, op: SmbusOp) -> BinderResult<()> {
        self.smbus(op).map(|_| ())
    }
}

fn internal(message: String) -> rsbinder::Status {
    service_error(&Error::new(crate::core::ErrorCode::IoError, message))
}

fn to_message(index: usize, message: &I2cMessage) -> BinderResult<Message> {
    if !message.read {
        return Ok(Message::Write(message.writeData.clone()));
    }
    if !message.writeData.is_empty() {
        return Err(invalid_argument(format!("message {index} is a read but carries write data")));
    }
    core_result(length_arg(&format!("message {index} readLength"), message.readLength))
        .map(Message::Read)
}

fn byte(what: &str, value: i32) -> BinderResult<u8> {
    core_result(byte_arg(what, value))
}

impl II2cSession for SessionService {
    fn transfer(&self, messages: &[I2cMessage]) -> BinderResult<Vec<I2cReadResult>> {
        let converted = messages
            .iter()
            .enumerate()
            .map(|(i, m)| to_message(i, m))
            .collect::<BinderResult<Vec<_>>>()?;
        let reads = core_result(self.broker.transfer(self.id, &converted))?;
        Ok(reads.into_iter().map(|data| I2cReadResult { data }).collect())
    }

    fn writeRead(&self, write_data: &[u8], read_length: i32) -> BinderResult<Vec<u8>> {
        let read_length = core_result(length_arg("readLength", read_length))?;
        let mut messages = Vec::with_capacity(2);
        if !write_data.is_empty() {
            messages.push(Message::Write(write_data.to_vec()));
        }
        if read_length > 0 {
            messages.push(Message::Read(read_length));
        }
        let reads = core_result(self.broker.transfer(self.id, &messages))?;
        Ok(reads.into_iter().next().unwrap_or_default())
    }

    fn smbusQuick(&self, read_bit: bool) -> BinderResult<()> {
        self.smbus_unit(SmbusOp::Quick { read: read_bit })
    }

    fn smbusReadByte(&self) -> BinderResult<i32> {
        self.smbus_int(SmbusOp::ReadByte)
    }

    fn smbusWriteByte(&self, value: i32) -> BinderResult<()> {
        self.smbus_unit(SmbusOp::WriteByte(byte("value", value)?))
    }

    fn smbusReadByteData(&self, command: i32) -> BinderResult<i32> {
        self.smbus_int(SmbusOp::ReadByteData(byte("command", command)?))
    }

    fn smbusWriteByteData(&self, command: i32, value: i32) -> BinderResult<()> {
        self.smbus_unit(SmbusOp::WriteByteData(byte("command", command)?, byte("value", value)?))
    }

    fn smbusReadWordData(&self, command: i32) -> BinderResult<i32> {
        self.smbus_int(SmbusOp::ReadWordData(byte("command", command)?))
    }

    fn smbusWriteWordData(&self, command: i32, value: i32) -> BinderResult<()> {
        let value = core_result(word_arg("value", value))?;
        self.smbus_unit(SmbusOp::WriteWordData(byte("command", command)?, value))
    }

    fn smbusReadBlockData(&self, command: i32) -> BinderResult<Vec<u8>> {
        self.smbus_block(SmbusOp::ReadBlockData(byte("command", command)?))
    }

    fn smbusWriteBlockData(&self, command: i32, data: &[u8]) -> BinderResult<()> {
        self.smbus_unit(SmbusOp::WriteBlockData(byte("command", command)?, data.to_vec()))
    }

    fn smbusReadI2cBlockData(&self, command: i32, length: i32) -> BinderResult<Vec<u8>> {
        let length = core_result(length_arg("length", length))?;
        self.smbus_block(SmbusOp::ReadI2cBlockData(byte("command", command)?, length))
    }

    fn smbusWriteI2cBlockData(&self, command: i32, data: &[u8]) -> BinderResult<()> {
        self.smbus_unit(SmbusOp::WriteI2cBlockData(byte("command", command)?, data.to_vec()))
    }

    fn getBusInfo(&self) -> BinderResult<AidlBusInfo> {
        let (info, _) = core_result(self.broker.session_info(self.id))?;
        Ok(to_aidl_bus(&info))
    }

    fn getAddress(&self) -> BinderResult<i32> {
        let (_, address) = core_result(self.broker.session_info(self.id))?;
        Ok(address as i32)
    }

    fn close(&self) -> BinderResult<()> {
        self.broker.close_session(self.id);
        Ok(())
    }
}
