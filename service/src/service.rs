//! The binder objects: `II2cManager` (the service root) and one `II2cSession` per open session.
//! They translate between AIDL types and the core, and tie session lifetime to binder lifetime:
//! a session ends when the client closes it, drops its last reference, or dies.

use super::convert::{
    bus_to_aidl, byte_from_aidl, error_code_to_aidl, length_from_aidl, loss_reason_to_aidl,
    open_request_from_aidl, operations_to_aidl, status_to_aidl, transferred_to_aidl,
    with_messages_from_aidl, word_from_aidl,
};
use super::notifier::Notifier;
use crate::transport::admission::Admission;
use i2c_hal_binder::aidl::{
    BusInfo::BusInfo as AidlBusInfo,
    I2cMessage::I2cMessage,
    IBusListener::IBusListener,
    II2cAdmin::{BnI2cAdmin, II2cAdmin},
    II2cManager::{BnI2cManager, II2cManager},
    II2cSession::{BnI2cSession, II2cSession},
    II2cSessionCallback::II2cSessionCallback,
    ServiceStatus::ServiceStatus,
    TransferResult::TransferResult,
};
use i2c_hal_binder::{
    binder_object, calling_identity, impl_dump, service_error, watch_death, BinderRef,
    BinderResult, DeathWatch, DumpText, Interface, Status, Strong,
};
use i2c_hal_core::broker::{Broker, BusObserver, ListenerId, SessionId, SessionObserver};
use i2c_hal_core::device::Transferred;
use i2c_hal_core::policy::Caller;
use i2c_hal_core::request::{MessageRef, SmbusOp, SmbusValue};
use i2c_hal_core::{BusInfo, BusSelector, Error, ErrorCode, LossReason};
use log::warn;
use std::sync::{Arc, Mutex, Weak};

/// The status a client gets for a failed call.
fn to_status(error: &Error) -> Status {
    service_error(error_code_to_aidl(error.code).0, &error.message)
}

/// Refusals made at the binder edge (malformed arguments) are counted in the dump like the
/// broker's own, so the error counters tell the whole story.
fn refused(broker: &Broker, error: Error) -> Status {
    broker.stats().record_error(error.code);
    to_status(&error)
}

/// Converts an argument at the edge; a malformed one is refused and counted.
fn checked<T>(broker: &Broker, converted: i2c_hal_core::Result<T>) -> BinderResult<T> {
    converted.map_err(|e| refused(broker, e))
}

/// A broker result as the client sees it (the broker has counted its own errors).
fn answered<T>(result: i2c_hal_core::Result<T>) -> BinderResult<T> {
    result.map_err(|e| to_status(&e))
}

// ------------------------------------------------------------------------------ callbacks ----

/// A session's death, told to its client. The broker hands it to the notifier with the rest
/// of its event's batch; a notifier thread makes the call.
struct CallbackObserver {
    callback: Strong<dyn II2cSessionCallback>,
}

impl SessionObserver for CallbackObserver {
    fn session_lost(&self, reason: LossReason, message: &str) {
        if let Err(e) = self.callback.onSessionLost(loss_reason_to_aidl(reason), message) {
            warn!("session-lost callback not delivered: {e:?}");
        }
    }
}

/// Hot-plug, told to a registered listener (on a notifier thread, as above).
struct ListenerObserver {
    listener: Strong<dyn IBusListener>,
}

impl BusObserver for ListenerObserver {
    fn bus_added(&self, bus: &BusInfo) {
        if let Err(e) = self.listener.onBusAdded(&bus_to_aidl(bus)) {
            warn!("bus-added callback not delivered: {e:?}");
        }
    }

    fn bus_removed(&self, bus: &BusInfo) {
        if let Err(e) = self.listener.onBusRemoved(&bus_to_aidl(bus)) {
            warn!("bus-removed callback not delivered: {e:?}");
        }
    }
}

// -------------------------------------------------------------------------------- manager ----

struct RegisteredListener {
    binder: BinderRef,
    id: ListenerId,
    /// Unregisters the listener if its process dies; dropping it disarms that.
    _death: DeathWatch,
}

type ListenerTable = Arc<Mutex<Vec<RegisteredListener>>>;

fn lock_table(
    table: &Mutex<Vec<RegisteredListener>>,
) -> std::sync::MutexGuard<'_, Vec<RegisteredListener>> {
    i2c_hal_core::sync::lock(table)
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

    pub fn into_binder(self) -> Strong<dyn II2cManager> {
        binder_object!(BnI2cManager, self)
    }

    fn invalid(&self, message: &str) -> Status {
        refused(&self.broker, Error::new(ErrorCode::InvalidArgument, message))
    }
}

impl DumpText for ManagerService {
    fn dump_text(&self, _args: &[String]) -> String {
        let mut text = self.broker.dump();
        self.notifier.render(&mut text);
        text
    }
}

impl_dump!(ManagerService);

/// Unregisters a listener whose process died.
fn reap_listener_on_death(
    broker: Weak<Broker>,
    table: Weak<Mutex<Vec<RegisteredListener>>>,
    id: ListenerId,
) -> impl Fn() + Send + Sync {
    move || {
        if let Some(broker) = broker.upgrade() {
            broker.remove_listener(id);
        }
        if let Some(table) = table.upgrade() {
            // Taken out under the lock, dropped after it: dropping the entry unlinks its watch.
            let dead: Vec<RegisteredListener> = {
                let mut table = lock_table(&table);
                let (dead, live) = table.drain(..).partition(|l| l.id == id);
                *table = live;
                dead
            };
            drop(dead);
        }
    }
}

impl II2cManager for ManagerService {
    fn listBuses(&self) -> BinderResult<Vec<AidlBusInfo>> {
        Ok(self.broker.list_buses().iter().map(bus_to_aidl).collect())
    }

    fn openSession(
        &self,
        bus: &str,
        generation: i64,
        address: i32,
        flags: i32,
        callback: &Strong<dyn II2cSessionCallback>,
    ) -> BinderResult<Strong<dyn II2cSession>> {
        let request =
            checked(&self.broker, open_request_from_aidl(bus, generation, address, flags))?;
        let caller = calling_identity();
        let observer = Arc::new(CallbackObserver { callback: callback.clone() });
        let (id, _) = answered(self.broker.open_session(caller, &request, observer))?;
        // No death watch: the session object's last reference reclaims it (`Drop`), and the
        // binder driver (or the RPC session's end) drops every reference a dying process held.
        // A watch per session took a good part of the 1 KiB a session may take (docs/perf.md,
        // 'Memory per session').
        let session = SessionService { broker: self.broker.clone(), id, owner: caller };
        Ok(binder_object!(BnI2cSession, session))
    }

    fn registerBusListener(&self, listener: &Strong<dyn IBusListener>) -> BinderResult<()> {
        let binder = listener.as_binder();
        if lock_table(&self.listeners).iter().any(|l| l.binder == binder) {
            return Err(self.invalid("this listener is already registered"));
        }
        let caller = calling_identity();
        let observer = Arc::new(ListenerObserver { listener: listener.clone() });
        let id = answered(self.broker.add_listener(caller, observer))?;
        let on_death = reap_listener_on_death(
            Arc::downgrade(&self.broker),
            Arc::downgrade(&self.listeners),
            id,
        );
        // No lock is held here: the watch may fire at once if the listener is already dead.
        let death = match watch_death(&binder, on_death) {
            Ok(death) => death,
            Err(e) => {
                warn!("cannot watch bus listener ({e}); not registering it");
                self.broker.remove_listener(id);
                return Err(self.invalid("the listener is not a live remote binder"));
            }
        };
        lock_table(&self.listeners).push(RegisteredListener { binder, id, _death: death });
        Ok(())
    }

    fn unregisterBusListener(&self, listener: &Strong<dyn IBusListener>) -> BinderResult<()> {
        let binder = listener.as_binder();
        let entry = {
            let mut table = lock_table(&self.listeners);
            let Some(index) = table.iter().position(|l| l.binder == binder) else {
                drop(table);
                return Err(self.invalid("this listener is not registered"));
            };
            table.remove(index)
        };
        self.broker.remove_listener(entry.id);
        drop(entry); // unlinks the death watch, outside the table lock
        Ok(())
    }
}

/// Only the session's owner (its uid; the pid may differ, e.g. a client's helper process of
/// the same app) may use a session.
fn check_owner(owner: Caller, caller: Caller) -> i2c_hal_core::Result<()> {
    if caller.uid == owner.uid {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::PermissionDenied,
        format!("this session belongs to uid {}, not to uid {}", owner.uid, caller.uid),
    ))
}

// ---------------------------------------------------------------------------------- admin ----

/// The administrative interface, served as its own instance so that SELinux can grant it
/// apart from the app-facing manager; the broker's policy refuses non-system callers.
pub struct AdminService {
    broker: Arc<Broker>,
    /// The RPC socket's connection counts, reported beside the broker's counters; None over
    /// kernel binder, where the driver and servicemanager keep the connections.
    transport: Option<Arc<Admission>>,
}

impl AdminService {
    pub fn new(broker: Arc<Broker>) -> AdminService {
        AdminService { broker, transport: None }
    }

    /// Reports `admission`'s counters in getStatus too.
    pub fn with_transport(self, admission: Arc<Admission>) -> AdminService {
        AdminService { transport: Some(admission), ..self }
    }

    pub fn into_binder(self) -> Strong<dyn II2cAdmin> {
        binder_object!(BnI2cAdmin, self)
    }
}

impl Interface for AdminService {}

impl II2cAdmin for AdminService {
    fn revokeBus(&self, bus: &str) -> BinderResult<i32> {
        let count = answered(self.broker.revoke(calling_identity(), &BusSelector::parse(bus)))?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }

    fn reloadPolicy(&self) -> BinderResult<i32> {
        let ended = answered(self.broker.reload_policy(calling_identity()))?;
        Ok(i32::try_from(ended).unwrap_or(i32::MAX))
    }

    fn getStatus(&self) -> BinderResult<ServiceStatus> {
        let mut status = answered(self.broker.status(calling_identity()))?;
        if let Some(admission) = &self.transport {
            status.counters.extend(admission.counters());
        }
        Ok(status_to_aidl(&status))
    }
}

// -------------------------------------------------------------------------------- session ----

/// One client session. Dropping it (the client released its last reference, or its connection
/// went away) ends the session just as close() does.
struct SessionService {
    broker: Arc<Broker>,
    id: SessionId,
    /// Who opened it. Over kernel binder a session object can be handed to another process;
    /// the grants it carries are its owner's, so only the owner's uid may use it.
    owner: Caller,
}

impl Drop for SessionService {
    fn drop(&mut self) {
        self.broker.close_session(self.id);
    }
}

impl Interface for SessionService {}

impl SessionService {
    fn arg<T>(&self, converted: i2c_hal_core::Result<T>) -> BinderResult<T> {
        checked(&self.broker, converted)
    }

    fn byte(&self, what: &str, value: i32) -> BinderResult<u8> {
        self.arg(byte_from_aidl(what, value))
    }

    fn run_transfer(&self, messages: &[MessageRef<'_>]) -> BinderResult<Transferred> {
        self.owned()?;
        answered(self.broker.transfer(self.id, messages))
    }

    /// Refuses (and counts) a call from anyone but the session's owner.
    fn owned(&self) -> BinderResult<()> {
        self.arg(check_owner(self.owner, calling_identity()))
    }

    fn smbus(&self, op: SmbusOp) -> BinderResult<SmbusValue> {
        self.owned()?;
        answered(self.broker.smbus(self.id, &op))
    }

    fn smbus_int(&self, op: SmbusOp) -> BinderResult<i32> {
        match self.smbus(op)? {
            SmbusValue::Byte(b) => Ok(b.into()),
            SmbusValue::Word(w) => Ok(w.into()),
            other => Err(self.internal(format!("unexpected SMBus result {other:?}"))),
        }
    }

    fn smbus_block(&self, op: SmbusOp) -> BinderResult<Vec<u8>> {
        match self.smbus(op)? {
            SmbusValue::Block(bytes) => Ok(bytes),
            other => Err(self.internal(format!("unexpected SMBus result {other:?}"))),
        }
    }

    fn smbus_unit(&self, op: SmbusOp) -> BinderResult<()> {
        self.smbus(op).map(|_| ())
    }

    fn internal(&self, message: String) -> Status {
        refused(&self.broker, Error::new(ErrorCode::IoError, message))
    }
}

impl II2cSession for SessionService {
    fn transfer(&self, messages: &[I2cMessage]) -> BinderResult<TransferResult> {
        let done = self.arg(with_messages_from_aidl(messages, |views| self.run_transfer(views)))?;
        Ok(transferred_to_aidl(done?))
    }

    fn writeRead(&self, write_data: &[u8], read_length: i32) -> BinderResult<Vec<u8>> {
        let read_length = self.arg(length_from_aidl("readLength", read_length))?;
        let mut messages = Vec::with_capacity(2);
        if !write_data.is_empty() {
            messages.push(MessageRef::Write(write_data));
        }
        if read_length > 0 {
            messages.push(MessageRef::Read(read_length));
        }
        let wanted = messages.len();
        let done = self.run_transfer(&messages)?;
        if done.completed < wanted {
            // writeRead has no room to say "partly done": a short transfer is a failure.
            return Err(self.internal(format!(
                "the adapter completed {} of {wanted} messages",
                done.completed
            )));
        }
        Ok(done.reads.into_iter().next().unwrap_or_default())
    }

    fn smbusQuick(&self, read_bit: bool) -> BinderResult<()> {
        self.smbus_unit(SmbusOp::Quick { read: read_bit })
    }

    fn smbusReadByte(&self) -> BinderResult<i32> {
        self.smbus_int(SmbusOp::ReadByte)
    }

    fn smbusWriteByte(&self, value: i32) -> BinderResult<()> {
        self.smbus_unit(SmbusOp::WriteByte(self.byte("value", value)?))
    }

    fn smbusReadByteData(&self, command: i32) -> BinderResult<i32> {
        self.smbus_int(SmbusOp::ReadByteData(self.byte("command", command)?))
    }

    fn smbusWriteByteData(&self, command: i32, value: i32) -> BinderResult<()> {
        let op = SmbusOp::WriteByteData(self.byte("command", command)?, self.byte("value", value)?);
        self.smbus_unit(op)
    }

    fn smbusReadWordData(&self, command: i32) -> BinderResult<i32> {
        self.smbus_int(SmbusOp::ReadWordData(self.byte("command", command)?))
    }

    fn smbusWriteWordData(&self, command: i32, value: i32) -> BinderResult<()> {
        let value = self.arg(word_from_aidl("value", value))?;
        self.smbus_unit(SmbusOp::WriteWordData(self.byte("command", command)?, value))
    }

    fn smbusProcessCall(&self, command: i32, value: i32) -> BinderResult<i32> {
        let value = self.arg(word_from_aidl("value", value))?;
        self.smbus_int(SmbusOp::ProcessCall(self.byte("command", command)?, value))
    }

    fn smbusBlockProcessCall(&self, command: i32, data: &[u8]) -> BinderResult<Vec<u8>> {
        self.smbus_block(SmbusOp::BlockProcessCall(self.byte("command", command)?, data.to_vec()))
    }

    fn smbusReadBlockData(&self, command: i32) -> BinderResult<Vec<u8>> {
        self.smbus_block(SmbusOp::ReadBlockData(self.byte("command", command)?))
    }

    fn smbusWriteBlockData(&self, command: i32, data: &[u8]) -> BinderResult<()> {
        self.smbus_unit(SmbusOp::WriteBlockData(self.byte("command", command)?, data.to_vec()))
    }

    fn smbusReadI2cBlockData(&self, command: i32, length: i32) -> BinderResult<Vec<u8>> {
        let length = self.arg(length_from_aidl("length", length))?;
        self.smbus_block(SmbusOp::ReadI2cBlockData(self.byte("command", command)?, length))
    }

    fn smbusWriteI2cBlockData(&self, command: i32, data: &[u8]) -> BinderResult<()> {
        self.smbus_unit(SmbusOp::WriteI2cBlockData(self.byte("command", command)?, data.to_vec()))
    }

    fn getBusInfo(&self) -> BinderResult<AidlBusInfo> {
        self.owned()?;
        let (info, _) = answered(self.broker.session_info(self.id))?;
        Ok(bus_to_aidl(&info))
    }

    fn getAddress(&self) -> BinderResult<i32> {
        self.owned()?;
        Ok(answered(self.broker.session_target(self.id))?.address.into())
    }

    fn getAllowedOperations(&self) -> BinderResult<i32> {
        self.owned()?;
        Ok(operations_to_aidl(answered(self.broker.allowed_operations(self.id))?))
    }

    fn close(&self) -> BinderResult<()> {
        self.owned()?;
        self.broker.close_session(self.id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use i2c_hal_binder::aidl::{
        IBusListener::BnBusListener, II2cSessionCallback::BnI2cSessionCallback,
    };
    use i2c_hal_binder::service_specific;
    use i2c_hal_core::device::{BusDevice, DeviceFault, DeviceOpener, FaultKind};
    use i2c_hal_core::policy::{Limits, OpenPolicy};

    /// No adapter ever opens: these tests stop at the binder edge.
    struct NoDevices;

    impl DeviceOpener for NoDevices {
        fn open(&self, _: u32) -> Result<Box<dyn BusDevice>, DeviceFault> {
            Err(DeviceFault::new(FaultKind::Gone, "no devices here"))
        }

        fn functionality(&self, _: u32) -> Result<u64, DeviceFault> {
            Ok(0)
        }
    }

    struct Quiet;

    impl Interface for Quiet {}

    impl II2cSessionCallback for Quiet {
        fn onSessionLost(
            &self,
            _: i2c_hal_binder::aidl::LossReason::LossReason,
            _: &str,
        ) -> BinderResult<()> {
            Ok(())
        }
    }

    impl IBusListener for Quiet {
        fn onBusAdded(&self, _: &AidlBusInfo) -> BinderResult<()> {
            Ok(())
        }

        fn onBusRemoved(&self, _: &AidlBusInfo) -> BinderResult<()> {
            Ok(())
        }
    }

    fn code_of(status: &Status) -> i32 {
        service_specific(status).expect("a service-specific error").0
    }

    #[test]
    fn only_the_owner_uid_may_use_a_session() {
        let owner = Caller { uid: 10_057, pid: 100 };
        assert!(check_owner(owner, Caller { uid: 10_057, pid: 200 }).is_ok(), "same app");
        let other = check_owner(owner, Caller { uid: 10_058, pid: 100 }).unwrap_err();
        assert_eq!(other.code, ErrorCode::PermissionDenied);
        assert!(other.message.contains("10057") && other.message.contains("10058"), "{other}");
        // The same app in another Android user is another principal.
        let second_user = Caller { uid: 1_010_057, pid: 100 };
        assert_eq!(check_owner(owner, second_user).unwrap_err().code, ErrorCode::PermissionDenied);
    }

    #[test]
    fn refusals_at_the_binder_edge_are_typed_and_counted_in_the_dump() {
        let notifier = Notifier::start().unwrap();
        let (devices, policy) = (Arc::new(NoDevices), Arc::new(OpenPolicy));
        let broker = Arc::new(Broker::new(devices, policy, Limits::default(), notifier.clone()));
        let manager = ManagerService::new(broker.clone(), notifier);
        let callback = binder_object!(BnI2cSessionCallback, Quiet);
        let invalid = ErrorCode::InvalidArgument as i32;

        let negative_generation = manager.openSession("0", -1, 0x50, 0, &callback).err().unwrap();
        assert_eq!(code_of(&negative_generation), invalid);
        let unknown_flags = manager.openSession("0", 0, 0x50, 0x40, &callback).err().unwrap();
        assert_eq!(code_of(&unknown_flags), invalid);
        let listener = binder_object!(BnBusListener, Quiet);
        let not_registered = manager.unregisterBusListener(&listener).unwrap_err();
        assert_eq!(code_of(&not_registered), invalid);

        assert_eq!(broker.stats().errors().get(&ErrorCode::InvalidArgument), Some(&3));
        let dump = manager.dump_text(&[]);
        assert!(dump.contains("INVALID_ARGUMENT=3"), "{dump}");
        assert!(dump.contains("callbacks: delivered=0"), "{dump}");
    }
}
