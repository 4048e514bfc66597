//! The broker's behaviour with a fake device layer: no binder, no syscalls.

use super::*;
use crate::device::{DeviceFault, FaultKind, Target, Transferred};
use crate::policy::OpenPolicy;
use crate::request::{Message, MessageRef};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc;
use std::sync::Condvar;
use std::thread;
use std::time::Duration;

const EEPROM: u16 = 0x50;
const FULL_I2C: u64 = func::I2C_FUNC_I2C | func::I2C_FUNC_SMBUS_EMUL;

/// What the fake kernel saw, in order, so tests can assert sequencing without timing.
#[derive(Default)]
struct Journal {
    events: Mutex<Vec<String>>,
    open_handles: Mutex<usize>,
}

impl Journal {
    fn log(&self, event: impl Into<String>) {
        self.events.lock().unwrap().push(event.into());
    }
    fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }
    fn open_handles(&self) -> usize {
        *self.open_handles.lock().unwrap()
    }
}

/// Holds a transfer inside the device until released, to model one in-flight operation.
#[derive(Default)]
struct Gate {
    closed: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    fn close(&self) {
        *self.closed.lock().unwrap() = true;
    }
    fn open(&self) {
        *self.closed.lock().unwrap() = false;
        self.changed.notify_all();
    }
    fn pass(&self) {
        let mut closed = self.closed.lock().unwrap();
        while *closed {
            closed = self.changed.wait(closed).unwrap();
        }
    }
}

struct FakeOpener {
    journal: Arc<Journal>,
    gate: Arc<Gate>,
    /// Holds open() inside the device, to model a session still opening.
    open_gate: Arc<Gate>,
    open_entered: Mutex<Option<mpsc::Sender<()>>>,
    entered: Mutex<Option<mpsc::Sender<()>>>,
    /// Addresses a kernel driver owns.
    bound: Vec<u16>,
    functionality: u64,
    /// Every time the node was opened: by `open` and by the `functionality` probe alike.
    node_opens: AtomicUsize,
    /// The probe fails, as when ueventd has not created the node yet.
    probe_fails: AtomicBool,
    transfers_fail: Arc<AtomicBool>,
}

struct FakeDevice {
    bus: u32,
    journal: Arc<Journal>,
    gate: Arc<Gate>,
    /// Transfers that pass the gate fail, as they do when the hardware vanished under them.
    transfers_fail: Arc<AtomicBool>,
    entered: Option<mpsc::Sender<()>>,
    bound: Vec<u16>,
    functionality: u64,
    memory: [u8; 256],
    pointer: u8,
}

impl DeviceOpener for FakeOpener {
    fn open(&self, bus_number: u32) -> std::result::Result<Box<dyn BusDevice>, DeviceFault> {
        if let Some(entered) = &*self.open_entered.lock().unwrap() {
            let _ = entered.send(());
        }
        self.open_gate.pass();
        self.node_opens.fetch_add(1, Ordering::Relaxed);
        *self.journal.open_handles.lock().unwrap() += 1;
        self.journal.log(format!("open {bus_number}"));
        Ok(Box::new(FakeDevice {
            bus: bus_number,
            journal: self.journal.clone(),
            gate: self.gate.clone(),
            transfers_fail: self.transfers_fail.clone(),
            entered: self.entered.lock().unwrap().clone(),
            bound: self.bound.clone(),
            functionality: self.functionality,
            memory: [0; 256],
            pointer: 0,
        }))
    }

    fn functionality(&self, bus_number: u32) -> std::result::Result<u64, DeviceFault> {
        self.node_opens.fetch_add(1, Ordering::Relaxed);
        if self.probe_fails.load(Ordering::Relaxed) {
            return Err(DeviceFault::new(FaultKind::Gone, format!("no node for bus {bus_number}")));
        }
        Ok(self.functionality)
    }
}

impl Drop for FakeDevice {
    fn drop(&mut self) {
        *self.journal.open_handles.lock().unwrap() -= 1;
        self.journal.log(format!("close {}", self.bus));
    }
}

impl BusDevice for FakeDevice {
    fn functionality(&self) -> u64 {
        self.functionality
    }

    fn claim(&mut self, target: Target) -> std::result::Result<(), DeviceFault> {
        let address = target.address;
        self.journal.log(format!("claim {address:#04x}"));
        if self.bound.contains(&address) {
            return Err(DeviceFault::new(FaultKind::Busy, "I2C_SLAVE"));
        }
        Ok(())
    }

    fn transfer(
        &mut self,
        target: Target,
        messages: &[MessageRef<'_>],
    ) -> std::result::Result<Transferred, DeviceFault> {
        let address = target.address;
        self.journal.log("transfer start");
        if let Some(entered) = &self.entered {
            let _ = entered.send(());
        }
        self.gate.pass();
        self.journal.log("transfer end");
        if self.transfers_fail.load(Ordering::SeqCst) {
            return Err(DeviceFault::new(FaultKind::Io, "I2C_RDWR: the bridge went away"));
        }
        if address != EEPROM {
            return Err(DeviceFault::new(FaultKind::Nack, "I2C_RDWR"));
        }
        let mut reads = Vec::new();
        for message in messages {
            match message {
                MessageRef::Write(data) => {
                    self.pointer = data[0];
                    for byte in &data[1..] {
                        self.memory[self.pointer as usize] = *byte;
                        self.pointer = self.pointer.wrapping_add(1);
                    }
                }
                MessageRef::Read(len) => {
                    let bytes = (0..*len)
                        .map(|_| {
                            let b = self.memory[self.pointer as usize];
                            self.pointer = self.pointer.wrapping_add(1);
                            b
                        })
                        .collect();
                    reads.push(bytes);
                }
            }
        }
        Ok(Transferred { completed: messages.len(), reads })
    }

    fn smbus(
        &mut self,
        target: Target,
        op: &SmbusOp,
    ) -> std::result::Result<SmbusValue, DeviceFault> {
        let address = target.address;
        self.journal.log(format!("smbus {}", op.name()));
        if address != EEPROM {
            return Err(DeviceFault::new(FaultKind::Nack, "I2C_SMBUS"));
        }
        match op {
            SmbusOp::ReadByteData(reg) => Ok(SmbusValue::Byte(self.memory[*reg as usize])),
            SmbusOp::WriteByteData(reg, value) => {
                self.memory[*reg as usize] = *value;
                Ok(SmbusValue::None)
            }
            _ => Err(DeviceFault::new(FaultKind::NotSupported, "I2C_SMBUS")),
        }
    }
}

/// Records every loss it is told about.
#[derive(Default)]
struct Recorder {
    losses: Mutex<Vec<(LossReason, String)>>,
    journal: Option<Arc<Journal>>,
}

impl SessionObserver for Recorder {
    fn session_lost(&self, reason: LossReason, message: &str) {
        if let Some(journal) = &self.journal {
            journal.log("notified");
        }
        self.losses.lock().unwrap().push((reason, message.to_string()));
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recorder({:?})", self.losses())
    }
}

impl Recorder {
    fn losses(&self) -> Vec<LossReason> {
        self.losses.lock().unwrap().iter().map(|(r, _)| *r).collect()
    }
}

#[derive(Default)]
struct BusLog {
    events: Mutex<Vec<String>>,
}

impl BusObserver for BusLog {
    fn bus_added(&self, bus: &BusInfo) {
        self.events.lock().unwrap().push(format!("added {} g{}", bus.bus_number, bus.generation));
    }
    fn bus_removed(&self, bus: &BusInfo) {
        self.events.lock().unwrap().push(format!("removed {} g{}", bus.bus_number, bus.generation));
    }
}

struct Fixture {
    broker: Arc<Broker>,
    journal: Arc<Journal>,
    gate: Arc<Gate>,
    opener: Arc<FakeOpener>,
}

const APP: Caller = Caller { uid: 10_001, pid: 4242 };
const OTHER_APP: Caller = Caller { uid: 10_002, pid: 4343 };
const ROOT: Caller = Caller { uid: 0, pid: 1 };

fn fixture_with(functionality: u64, limits: Limits) -> Fixture {
    fixture_with_policy(functionality, limits, Arc::new(OpenPolicy))
}

/// A reloadable policy read by `loader`, for a host (these policies name uids only).
fn policy_source(
    loader: crate::policy::engine::PolicyLoader,
) -> crate::policy::engine::PolicySource {
    crate::policy::engine::PolicySource {
        origin: "policy.json".into(),
        loader,
        scheme: crate::policy::UidScheme::Host,
        groups: None,
    }
}

fn fixture_with_policy(functionality: u64, limits: Limits, policy: Arc<dyn Policy>) -> Fixture {
    let journal = Arc::new(Journal::default());
    let gate = Arc::new(Gate::default());
    let opener = Arc::new(FakeOpener {
        journal: journal.clone(),
        gate: gate.clone(),
        open_gate: Arc::new(Gate::default()),
        open_entered: Mutex::new(None),
        entered: Mutex::new(None),
        bound: vec![0x49],
        functionality,
        node_opens: AtomicUsize::new(0),
        transfers_fail: Arc::new(AtomicBool::new(false)),
        probe_fails: AtomicBool::new(false),
    });
    let sink = Arc::new(JournalSink(journal.clone()));
    let broker = Arc::new(Broker::new(opener.clone(), policy, limits, sink));
    Fixture { broker, journal, gate, opener }
}

fn fixture() -> Fixture {
    fixture_with(FULL_I2C, Limits::default())
}

fn module(bus_number: u32, slot: &str) -> AdapterDescriptor {
    AdapterDescriptor {
        bus_number,
        devpath: format!("/devices/platform/sim/{slot}/i2c-{bus_number}"),
        name: format!("{slot} adapter"),
        stable_id: format!("platform/sim/{slot}/{slot}-adapter"),
        functionality: 0,
    }
}

fn request(bus: &str, address: i64) -> OpenRequest {
    OpenRequest {
        bus: BusSelector::parse(bus),
        generation: None,
        address,
        exclusive: false,
        ten_bit: false,
        pec: false,
    }
}

impl Fixture {
    fn open(&self, caller: Caller, req: &OpenRequest) -> Result<(SessionId, Arc<Recorder>)> {
        let recorder = Arc::new(Recorder::default());
        let (id, _) = self.broker.open_session(caller, req, recorder.clone())?;
        Ok((id, recorder))
    }

    fn write_read(&self, id: SessionId, offset: u8, data: &[u8]) -> Result<Vec<u8>> {
        let mut write = vec![offset];
        write.extend_from_slice(data);
        self.broker.transfer(id, &[Message::Write(write)])?;
        let reads =
            self.broker.transfer(id, &[Message::Write(vec![offset]), Message::Read(data.len())])?;
        Ok(reads.reads.into_iter().next().unwrap_or_default())
    }
}

#[test]
fn open_transfer_close_holds_the_fd_only_while_sessions_live() {
    let f = fixture();
    f.broker.adapter_added(module(3, "slot-a"));
    assert_eq!(f.journal.open_handles(), 0, "no fd before any session");

    let (a, _) = f.open(APP, &request("3", 0x50)).unwrap();
    let (b, _) = f.open(OTHER_APP, &request("platform/sim/slot-a/slot-a-adapter", 0x50)).unwrap();
    assert_eq!(f.journal.open_handles(), 1, "one fd per adapter, shared by sessions");
    assert_eq!(f.write_read(a, 0x10, &[1, 2, 3]).unwrap(), vec![1, 2, 3]);

    f.broker.close_session(a);
    assert_eq!(f.journal.open_handles(), 1, "b still needs the fd");
    assert_eq!(
        f.broker.transfer(a, &[Message::Read(1)]).unwrap_err().code,
        ErrorCode::SessionClosed
    );
    f.broker.close_session(b);
    assert_eq!(f.journal.open_handles(), 0, "last close closes the fd");
    f.broker.close_session(b); // idempotent
    assert_eq!(f.broker.stats().sessions_closed.load(Ordering::Relaxed), 2);
}

#[test]
fn removal_kills_sessions_once_closes_the_fd_and_keeps_zombies_dead() {
    let f = fixture();
    f.broker.adapter_added(module(3, "slot-a"));
    let (id, recorder) = f.open(APP, &request("3", 0x50)).unwrap();
    assert_eq!(f.journal.open_handles(), 1);

    let removed = f.broker.adapter_removed(3, "/devices/platform/sim/slot-a/i2c-3").unwrap();
    assert_eq!(removed.bus_number, 3);
    assert_eq!(f.journal.open_handles(), 0, "fd closed by removal, not by the client");
    assert_eq!(recorder.losses(), vec![LossReason::Removed]);

    for _ in 0..3 {
        let err = f.broker.transfer(id, &[Message::Read(1)]).unwrap_err();
        assert_eq!(err.code, ErrorCode::BusGone);
        assert_eq!(
            f.broker.smbus(id, &SmbusOp::ReadByteData(0)).unwrap_err().code,
            ErrorCode::BusGone
        );
        assert_eq!(f.broker.session_info(id).unwrap_err().code, ErrorCode::BusGone);
    }
    assert!(f.broker.adapter_removed(3, "/devices/platform/sim/slot-a/i2c-3").is_none());
    assert_eq!(recorder.losses().len(), 1, "the callback arrives exactly once");
    f.broker.close_session(id);
    assert_eq!(f.broker.session_info(id).unwrap_err().code, ErrorCode::SessionClosed);
}

#[test]
fn a_new_adapter_under_a_reused_number_never_revives_old_sessions() {
    let f = fixture();
    let first = f.broker.adapter_added(module(3, "slot-a")).unwrap();
    let (old, _) = f.open(APP, &request("3", 0x50)).unwrap();
    f.broker.adapter_removed(3, "/devices/platform/sim/slot-a/i2c-3");

    // A different module gets the same bus number.
    let second = f.broker.adapter_added(module(3, "slot-b")).unwrap();
    assert!(second.generation > first.generation);
    assert_eq!(f.broker.transfer(old, &[Message::Read(1)]).unwrap_err().code, ErrorCode::BusGone);

    let (new, _) = f.open(APP, &request("3", 0x50)).unwrap();
    assert_eq!(f.write_read(new, 0, &[9]).unwrap(), vec![9]);
    assert_eq!(f.broker.transfer(old, &[Message::Read(1)]).unwrap_err().code, ErrorCode::BusGone);

    // Asking for the generation one saw earlier refuses the newcomer.
    let stale = OpenRequest { generation: Some(first.generation), ..request("3", 0x50) };
    assert_eq!(f.open(APP, &stale).unwrap_err().code, ErrorCode::NoSuchBus);
    let current = OpenRequest { generation: Some(second.generation), ..request("3", 0x50) };
    assert!(f.open(APP, &current).is_ok());
    // The old stable id is gone even though the number lives on.
    let by_old_id = request("platform/sim/slot-a/slot-a-adapter", 0x50);
    assert_eq!(f.open(APP, &by_old_id).unwrap_err().code, ErrorCode::NoSuchBus);
}

#[test]
fn replug_of_the_same_module_gets_a_new_generation() {
    let f = fixture();
    let first = f.broker.adapter_added(module(0, "slot-a")).unwrap();
    let (old, recorder) = f.open(APP, &request("0", 0x50)).unwrap();
    f.broker.adapter_removed(0, "/devices/platform/sim/slot-a/i2c-0");
    let again = f.broker.adapter_added(module(0, "slot-a")).unwrap();
    assert_eq!(again.stable_id, first.stable_id);
    assert!(again.generation > first.generation);
    assert_eq!(f.broker.transfer(old, &[Message::Read(1)]).unwrap_err().code, ErrorCode::BusGone);
    assert_eq!(recorder.losses(), vec![LossReason::Removed]);
}

type Transferring = thread::JoinHandle<Result<Transferred>>;
type Removing = thread::JoinHandle<Option<BusInfo>>;

impl Fixture {
    /// Devices opened from now on report each transfer that reaches them.
    fn announce_transfers(&self) -> mpsc::Receiver<()> {
        let (entered_tx, entered_rx) = mpsc::channel();
        *self.opener.entered.lock().unwrap() = Some(entered_tx);
        entered_rx
    }
}

/// Starts a transfer on session `id` of bus 5 and holds it inside the device; then starts the
/// removal of bus 5 and returns once removal has marked the session dead (it then waits for
/// the transfer, which the caller releases with `f.gate.open()`).
/// `entered` is from `f.announce_transfers()`, called before the session opened its device.
fn remove_bus_5_under_a_transfer(
    f: &Fixture,
    id: SessionId,
    entered_rx: mpsc::Receiver<()>,
) -> (Transferring, Removing) {
    f.gate.close();
    let broker = f.broker.clone();
    let in_flight = thread::spawn(move || broker.transfer(id, &[Message::Read(2)]));
    entered_rx.recv_timeout(Duration::from_secs(10)).expect("transfer reached the device");
    let broker = f.broker.clone();
    let remover =
        thread::spawn(move || broker.adapter_removed(5, "/devices/platform/sim/slot-a/i2c-5"));
    // Removal marks the session dead before it waits for the device, so from then on new calls
    // are refused at once instead of queueing behind the in-flight transfer.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while f.broker.session_info(id).is_ok() {
        assert!(std::time::Instant::now() < deadline, "removal never marked the session dead");
        thread::yield_now();
    }
    (in_flight, remover)
}

#[test]
fn removal_waits_for_the_in_flight_transfer_then_closes_then_notifies() {
    let f = fixture();
    let entered = f.announce_transfers();
    f.broker.adapter_added(module(5, "slot-a"));
    let recorder = Arc::new(Recorder { journal: Some(f.journal.clone()), ..Recorder::default() });
    let (id, _) = f.broker.open_session(APP, &request("5", 0x50), recorder.clone()).unwrap();
    let (in_flight, remover) = remove_bus_5_under_a_transfer(&f, id, entered);
    assert_eq!(f.broker.transfer(id, &[Message::Read(1)]).unwrap_err().code, ErrorCode::BusGone);
    assert!(!f.journal.events().contains(&"close 5".to_string()), "fd closed under a transfer");
    f.gate.open();

    assert!(in_flight.join().unwrap().is_ok(), "the in-flight transfer completes");
    assert!(remover.join().unwrap().is_some());
    let events = f.journal.events();
    let position =
        |e: &str| events.iter().position(|x| x == e).unwrap_or_else(|| panic!("{e} in {events:?}"));
    assert!(position("transfer end") < position("close 5"), "{events:?}");
    assert!(position("close 5") < position("notified"), "{events:?}");
}

#[test]
fn a_transfer_that_fails_because_its_bus_was_removed_under_it_says_bus_gone() {
    let f = fixture();
    let entered = f.announce_transfers();
    f.broker.adapter_added(module(5, "slot-a"));
    let (id, _) = f.open(APP, &request("5", 0x50)).unwrap();
    let (in_flight, remover) = remove_bus_5_under_a_transfer(&f, id, entered);
    // The hardware is gone: the transfer in flight fails on the wire.
    f.opener.transfers_fail.store(true, Ordering::SeqCst);
    f.gate.open();
    let failed = in_flight.join().unwrap().unwrap_err();
    assert_eq!(failed.code, ErrorCode::BusGone, "not an I/O error: {}", failed.message);
    assert!(failed.message.contains("the bridge went away"), "{}", failed.message);
    assert!(remover.join().unwrap().is_some());
}

#[test]
fn a_transfer_that_fails_on_a_live_bus_keeps_its_own_code() {
    let f = fixture();
    f.broker.adapter_added(module(5, "slot-a"));
    let (id, _) = f.open(APP, &request("5", 0x50)).unwrap();
    f.opener.transfers_fail.store(true, Ordering::SeqCst);
    let failed = f.broker.transfer(id, &[Message::Read(2)]).unwrap_err();
    assert_eq!(failed.code, ErrorCode::IoError);
}

#[test]
fn a_session_still_opening_when_its_bus_goes_fails_its_open_and_is_not_called_back() {
    let f = fixture();
    f.broker.adapter_added(module(6, "slot-a"));
    let (entered_tx, entered_rx) = mpsc::channel();
    *f.opener.open_entered.lock().unwrap() = Some(entered_tx);
    f.opener.open_gate.close();
    let recorder = Arc::new(Recorder::default());
    let (broker, observer) = (f.broker.clone(), recorder.clone());
    let opening = thread::spawn(move || broker.open_session(APP, &request("6", 0x50), observer));
    entered_rx.recv_timeout(Duration::from_secs(10)).expect("open reached the device");

    let broker = f.broker.clone();
    let remover =
        thread::spawn(move || broker.adapter_removed(6, "/devices/platform/sim/slot-a/i2c-6"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !f.broker.dump().contains("Dead(Removed)") {
        assert!(std::time::Instant::now() < deadline, "removal never marked the opening session");
        thread::yield_now();
    }
    f.opener.open_gate.open();

    assert_eq!(opening.join().unwrap().unwrap_err().code, ErrorCode::BusGone);
    assert!(remover.join().unwrap().is_some());
    assert!(recorder.losses().is_empty(), "no callback for a session never handed out");
    assert_eq!(f.journal.open_handles(), 0, "the fd opened for it is closed");
    assert!(!f.broker.dump().contains("#0"), "and the session is gone");
}

#[test]
fn bad_requests_get_precise_codes_and_change_nothing() {
    let f = fixture();
    f.broker.adapter_added(module(1, "slot-a"));
    assert_eq!(f.open(APP, &request("9", 0x50)).unwrap_err().code, ErrorCode::NoSuchBus);
    assert_eq!(f.open(APP, &request("no/such/id", 0x50)).unwrap_err().code, ErrorCode::NoSuchBus);
    for bad in [0x00, 0x07, 0x78, 0x80, -5] {
        assert_eq!(f.open(APP, &request("1", bad)).unwrap_err().code, ErrorCode::InvalidArgument);
    }
    assert_eq!(f.open(APP, &request("1", 0x49)).unwrap_err().code, ErrorCode::AddressBusy);
    assert_eq!(f.journal.open_handles(), 0, "failed opens leave no fd behind");

    let (id, _) = f.open(APP, &request("1", 0x50)).unwrap();
    let cases: Vec<(Vec<Message>, ErrorCode)> = vec![
        (vec![], ErrorCode::InvalidArgument),
        (vec![Message::Read(0)], ErrorCode::InvalidArgument),
        (vec![Message::Write(vec![])], ErrorCode::InvalidArgument),
        (vec![Message::Read(8193)], ErrorCode::TooLarge),
        (vec![Message::Read(1); 43], ErrorCode::TooLarge),
    ];
    for (messages, code) in cases {
        assert_eq!(f.broker.transfer(id, &messages).unwrap_err().code, code);
    }
    assert_eq!(
        f.broker.smbus(id, &SmbusOp::WriteI2cBlockData(0, vec![0; 33])).unwrap_err().code,
        ErrorCode::TooLarge
    );
    assert_eq!(f.write_read(id, 0x20, &[7]).unwrap(), vec![7], "the session still works");
    let errors = f.broker.stats().errors();
    assert_eq!(errors[&ErrorCode::InvalidArgument], 5 + 3);
    assert_eq!(errors[&ErrorCode::TooLarge], 3);
}

#[test]
fn device_errors_map_to_codes() {
    let f = fixture();
    f.broker.adapter_added(module(1, "slot-a"));
    let (absent, _) = f.open(APP, &request("1", 0x33)).unwrap();
    assert_eq!(
        f.broker.transfer(absent, &[Message::Read(1)]).unwrap_err().code,
        ErrorCode::AddressNack
    );
    let (eeprom, _) = f.open(APP, &request("1", 0x50)).unwrap();
    assert_eq!(f.broker.smbus(eeprom, &SmbusOp::WriteByteData(3, 0x5a)), Ok(SmbusValue::None));
    assert_eq!(f.broker.smbus(eeprom, &SmbusOp::ReadByteData(3)), Ok(SmbusValue::Byte(0x5a)));
}

#[test]
fn smbus_only_adapters_refuse_raw_transfers() {
    let smbus_only = func::I2C_FUNC_SMBUS_READ_BYTE_DATA | func::I2C_FUNC_SMBUS_WRITE_BYTE_DATA;
    let f = fixture_with(smbus_only, Limits::default());
    f.broker.adapter_added(module(0, "slot-a"));
    let (id, _) = f.open(APP, &request("0", 0x50)).unwrap();
    let err = f.broker.transfer(id, &[Message::Read(1)]).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotSupported);
    assert!(err.message.contains("SMBus-only"), "{}", err.message);
    assert_eq!(
        f.broker.smbus(id, &SmbusOp::ReadWordData(0)).unwrap_err().code,
        ErrorCode::NotSupported
    );
    assert_eq!(f.broker.smbus(id, &SmbusOp::ReadByteData(0)), Ok(SmbusValue::Byte(0)));
    assert_eq!(
        f.broker.list_buses()[0].functionality,
        smbus_only,
        "learned from the device at add"
    );
}

#[test]
fn an_attach_opens_the_node_once_and_learns_functionality_from_it() {
    let f = fixture();
    // The node is not there yet when the adapter is announced (ueventd on Android).
    f.opener.probe_fails.store(true, Ordering::Relaxed);
    f.broker.adapter_added(module(3, "slot-a"));
    assert_eq!(f.broker.list_buses()[0].functionality, 0, "not known at add");
    f.opener.probe_fails.store(false, Ordering::Relaxed);

    let before = f.opener.node_opens.load(Ordering::Relaxed);
    f.open(APP, &request("3", 0x50)).unwrap();
    assert_eq!(f.opener.node_opens.load(Ordering::Relaxed) - before, 1, "one attach, one open");
    assert_eq!(f.broker.list_buses()[0].functionality, FULL_I2C, "learned from the open device");
    f.open(OTHER_APP, &request("3", 0x51)).unwrap();
    assert_eq!(f.opener.node_opens.load(Ordering::Relaxed) - before, 1, "the fd is shared");
}

#[test]
fn operations_the_adapter_lacks_are_refused_before_any_device_call() {
    // Plain I2C with kernel SMBus emulation would be I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL; this
    // adapter has the emulated SMBus set only, and no SMBus block read in either case.
    let f = fixture_with(func::I2C_FUNC_SMBUS_EMUL, Limits::default());
    f.broker.adapter_added(module(0, "slot-a"));
    let (id, _) = f.open(APP, &request("0", 0x50)).unwrap();
    let before = f.journal.events();

    let err = f.broker.transfer(id, &[Message::Write(vec![0]), Message::Read(2)]).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotSupported);
    assert!(err.message.contains("I2C_FUNC_I2C"), "{}", err.message);
    assert!(err.message.contains("use SMBus operations"), "{}", err.message);

    let err = f.broker.smbus(id, &SmbusOp::ReadBlockData(0x10)).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotSupported);
    assert!(err.message.contains("I2C_FUNC_SMBUS_READ_BLOCK_DATA"), "{}", err.message);
    assert_eq!(f.journal.events(), before, "no device call before the refusals");
    assert_eq!(f.broker.smbus(id, &SmbusOp::ReadByteData(0)), Ok(SmbusValue::Byte(0)));
    assert_ne!(f.journal.events(), before, "an operation it has does reach the device");
}

#[test]
fn exclusive_sessions_exclude_everyone_else_on_that_address() {
    let f = fixture();
    f.broker.adapter_added(module(1, "slot-a"));
    let exclusive = OpenRequest { exclusive: true, ..request("1", 0x50) };
    let (holder, _) = f.open(APP, &exclusive).unwrap();
    assert_eq!(f.open(OTHER_APP, &request("1", 0x50)).unwrap_err().code, ErrorCode::AddressBusy);
    assert_eq!(f.open(OTHER_APP, &exclusive).unwrap_err().code, ErrorCode::AddressBusy);
    assert!(f.open(OTHER_APP, &request("1", 0x51)).is_ok(), "other addresses are free");
    f.broker.close_session(holder);
    let (shared, _) = f.open(OTHER_APP, &request("1", 0x50)).unwrap();
    assert_eq!(f.open(APP, &exclusive).unwrap_err().code, ErrorCode::AddressBusy);
    f.broker.close_session(shared);
    assert!(f.open(APP, &exclusive).is_ok());
}

#[test]
fn quotas_bound_what_one_uid_may_hold() {
    let limits = Limits { max_sessions_per_uid: 2, max_listeners_per_uid: 1 };
    let f = fixture_with(FULL_I2C, limits);
    f.broker.adapter_added(module(1, "slot-a"));
    let (first, _) = f.open(APP, &request("1", 0x50)).unwrap();
    f.open(APP, &request("1", 0x51)).unwrap();
    assert_eq!(f.open(APP, &request("1", 0x52)).unwrap_err().code, ErrorCode::QuotaExceeded);
    assert!(f.open(OTHER_APP, &request("1", 0x52)).is_ok(), "quota is per uid");
    f.broker.close_session(first);
    assert!(f.open(APP, &request("1", 0x52)).is_ok());

    f.broker.add_listener(APP, Arc::new(BusLog::default())).unwrap();
    let err = f.broker.add_listener(APP, Arc::new(BusLog::default())).unwrap_err();
    assert_eq!(err.code, ErrorCode::QuotaExceeded);
}

/// Delivers in place, writing where each batch begins and ends into the journal its
/// observers write to.
struct JournalSink(Arc<Journal>);

impl LossSink for JournalSink {
    fn losses(&self, batch: LossBatch) {
        self.0.log("batch begins");
        DirectSink.losses(batch);
        self.0.log("batch ends");
    }

    fn bus_added(&self, bus: BusInfo, listeners: Vec<Addressed<dyn BusObserver>>) {
        DirectSink.bus_added(bus, listeners);
    }
}

/// A bus listener that writes into the journal.
struct JournalListener(Arc<Journal>);

impl BusObserver for JournalListener {
    fn bus_added(&self, _bus: &BusInfo) {}
    fn bus_removed(&self, bus: &BusInfo) {
        self.0.log(format!("bus {} removed", bus.bus_number));
    }
}

#[test]
fn a_removal_or_revoke_hands_the_sink_one_batch_after_the_fd_is_closed() {
    let f = fixture();
    f.broker.add_listener(APP, Arc::new(JournalListener(f.journal.clone()))).unwrap();
    let open_journaled = |bus: &str| {
        let recorder =
            Arc::new(Recorder { journal: Some(f.journal.clone()), ..Recorder::default() });
        f.broker.open_session(APP, &request(bus, 0x50), recorder).unwrap();
    };
    let told_after = |milestone: &str| {
        let events = f.journal.events();
        let at = events.iter().rposition(|e| e == milestone).expect(milestone);
        events[at + 1..].to_vec()
    };

    f.broker.adapter_added(module(5, "slot-a"));
    (0..3).for_each(|_| open_journaled("5"));
    f.broker.adapter_removed(5, "/devices/platform/sim/slot-a/i2c-5").unwrap();
    assert_eq!(
        told_after("close 5"),
        ["batch begins", "notified", "notified", "notified", "bus 5 removed", "batch ends"],
    );

    f.broker.adapter_added(module(6, "slot-b"));
    (0..2).for_each(|_| open_journaled("6"));
    assert_eq!(f.broker.revoke(ROOT, &BusSelector::Number(6)), Ok(2));
    assert_eq!(told_after("close 6"), ["batch begins", "notified", "notified", "batch ends"]);
}

#[test]
fn a_policy_reload_hands_the_sink_the_sessions_it_ends_in_one_batch() {
    let policy = Arc::new(UidPolicy { allowed: Mutex::new(vec![APP.uid, OTHER_APP.uid]) });
    let f = fixture_with_policy(FULL_I2C, Limits::default(), policy.clone());
    f.broker.adapter_added(module(7, "slot-a"));
    for (caller, address) in [(APP, 0x50), (OTHER_APP, 0x51), (OTHER_APP, 0x52)] {
        let recorder =
            Arc::new(Recorder { journal: Some(f.journal.clone()), ..Recorder::default() });
        f.broker.open_session(caller, &request("7", address), recorder).unwrap();
    }
    policy.allowed.lock().unwrap().retain(|uid| *uid == APP.uid);
    assert_eq!(f.broker.reload_policy(ROOT), Ok(2));
    let events = f.journal.events();
    assert_eq!(
        events[events.len() - 4..],
        ["batch begins", "notified", "notified", "batch ends"],
        "{events:?}"
    );
}

#[test]
fn revoke_is_admin_only_kills_sessions_and_releases_the_fd() {
    let f = fixture();
    f.broker.adapter_added(module(2, "slot-a"));
    let (id, recorder) = f.open(APP, &request("2", 0x50)).unwrap();
    assert_eq!(
        f.broker.revoke(APP, &BusSelector::Number(2)).unwrap_err().code,
        ErrorCode::PermissionDenied
    );
    assert_eq!(f.journal.open_handles(), 1);
    assert_eq!(
        f.broker.revoke(ROOT, &BusSelector::Number(7)).unwrap_err().code,
        ErrorCode::NoSuchBus
    );

    assert_eq!(f.broker.revoke(ROOT, &BusSelector::Number(2)), Ok(1));
    assert_eq!(f.journal.open_handles(), 0, "revoke lets rmmod proceed");
    assert_eq!(recorder.losses(), vec![LossReason::Revoked]);
    assert_eq!(f.broker.transfer(id, &[Message::Read(1)]).unwrap_err().code, ErrorCode::BusGone);
    assert_eq!(
        f.broker.revoke(ROOT, &BusSelector::Number(2)),
        Ok(0),
        "zombies are not revoked twice"
    );

    let (fresh, _) = f.open(APP, &request("2", 0x50)).unwrap();
    assert_eq!(f.write_read(fresh, 1, &[4]).unwrap(), vec![4]);
    f.broker.close_session(id);
    assert_eq!(f.journal.open_handles(), 1, "closing a zombie does not close the new session's fd");
}

#[test]
fn each_removal_counts_its_losses_and_reports_its_own_last_callback() {
    let f = fixture();
    let counter = |name: &str| {
        let counters = f.broker.stats().counters();
        counters.iter().find(|(n, _)| n == name).map(|(_, v)| *v).unwrap()
    };
    f.broker.adapter_added(module(3, "slot-a"));
    let (_, first) = f.open(APP, &request("3", 0x50)).unwrap();
    let (_, second) = f.open(OTHER_APP, &request("3", 0x51)).unwrap();
    f.broker.adapter_removed(3, "/devices/platform/sim/slot-a/i2c-3").unwrap();
    assert_eq!(
        (first.losses(), second.losses()),
        (vec![LossReason::Removed], vec![LossReason::Removed])
    );
    assert_eq!(counter("sessions.lost"), 2);

    // A removal nobody was told of has no callback time, and does not take the first one's.
    f.broker.adapter_added(module(4, "slot-b"));
    f.broker.adapter_removed(4, "/devices/platform/sim/slot-b/i2c-4").unwrap();
    let recent = f.broker.stats().recent_removals();
    assert_eq!(recent.len(), 2);
    let told = recent[0].last_callback.expect("the sink stamped the first removal's callbacks");
    assert!(told >= recent[0].latency, "told after the fd closed: {told:?} {recent:?}");
    assert_eq!(recent[1].last_callback, None);
    assert_eq!(counter("sessions.lost"), 2);
}

#[test]
fn listeners_hear_adds_and_removes_until_unregistered() {
    let f = fixture();
    let log = Arc::new(BusLog::default());
    let id = f.broker.add_listener(APP, log.clone()).unwrap();
    f.broker.adapter_added(module(1, "slot-a"));
    f.broker.adapter_added(module(1, "slot-a")); // duplicate report: ignored
    f.broker.adapter_removed(1, "/devices/platform/sim/slot-a/i2c-1");
    assert!(f.broker.remove_listener(id));
    assert!(!f.broker.remove_listener(id));
    f.broker.adapter_added(module(1, "slot-a"));
    assert_eq!(*log.events.lock().unwrap(), vec!["added 1 g1", "removed 1 g1"]);
}

#[test]
fn a_different_adapter_reported_under_a_live_number_replaces_it() {
    let f = fixture();
    f.broker.adapter_added(module(4, "slot-a"));
    let (id, recorder) = f.open(APP, &request("4", 0x50)).unwrap();
    let newcomer = f.broker.adapter_added(module(4, "slot-b")).unwrap();
    assert_eq!(recorder.losses(), vec![LossReason::Removed]);
    assert_eq!(f.broker.transfer(id, &[Message::Read(1)]).unwrap_err().code, ErrorCode::BusGone);
    assert_eq!(f.broker.list_buses(), vec![newcomer]);
    assert_eq!(f.journal.open_handles(), 0);
}

#[test]
fn reconcile_applies_a_rescan() {
    let f = fixture();
    f.broker.adapter_added(module(0, "slot-a"));
    f.broker.adapter_added(module(1, "slot-b"));
    let (on_a, lost_a) = f.open(APP, &request("0", 0x50)).unwrap();
    let (on_b, lost_b) = f.open(APP, &request("1", 0x50)).unwrap();
    // Events were lost: slot-a left, slot-c arrived under number 2; slot-b stayed.
    f.broker.reconcile(vec![module(1, "slot-b"), module(2, "slot-c")]);
    let numbers: Vec<u32> = f.broker.list_buses().iter().map(|b| b.bus_number).collect();
    assert_eq!(numbers, vec![1, 2]);
    assert_eq!(lost_a.losses(), vec![LossReason::Removed]);
    assert!(lost_b.losses().is_empty(), "an unchanged adapter keeps its sessions");
    assert_eq!(f.broker.transfer(on_a, &[Message::Read(1)]).unwrap_err().code, ErrorCode::BusGone);
    assert!(f.write_read(on_b, 0, &[1]).is_ok());
}

#[test]
fn shutdown_tells_everyone_and_closes_everything() {
    let f = fixture();
    f.broker.adapter_added(module(0, "slot-a"));
    f.broker.adapter_added(module(1, "slot-b"));
    let (_, a) = f.open(APP, &request("0", 0x50)).unwrap();
    let (_, b) = f.open(OTHER_APP, &request("1", 0x50)).unwrap();
    f.broker.shutdown();
    assert_eq!(a.losses(), vec![LossReason::Shutdown]);
    assert_eq!(b.losses(), vec![LossReason::Shutdown]);
    assert_eq!(f.journal.open_handles(), 0);
    assert!(f.broker.list_buses().is_empty());
}

#[test]
fn shutdown_is_final_no_bus_is_added_and_no_session_opened_after_it() {
    let f = fixture();
    f.broker.adapter_added(module(0, "slot-a"));
    let (held, a) = f.open(APP, &request("0", 0x50)).unwrap();
    f.broker.shutdown();
    // A module plugged in the drain window is not served...
    assert_eq!(f.broker.adapter_added(module(1, "slot-b")), None);
    assert!(f.broker.list_buses().is_empty());
    // ...and nobody can open a session that shutdown would never tell.
    let refused = f.open(OTHER_APP, &request("1", 0x50)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::BusGone);
    assert!(refused.message.contains("shutting down"), "{}", refused.message);
    // A second shutdown tells nobody twice.
    f.broker.shutdown();
    assert_eq!(a.losses(), vec![LossReason::Shutdown]);
    assert_eq!(f.broker.transfer(held, &[Message::Read(1)]).unwrap_err().code, ErrorCode::BusGone);
    assert_eq!(f.journal.open_handles(), 0);
}

/// The open policy with other exclusive limits.
struct ExclusiveLimited(crate::policy::ExclusiveLimits);

impl Policy for ExclusiveLimited {
    fn check_open(&self, _: &Caller, _: &BusInfo, _: Target, _: bool) -> Result<()> {
        Ok(())
    }
    fn check_operation(
        &self,
        _: &Caller,
        _: &BusInfo,
        _: Target,
        _: crate::request::OperationClass,
    ) -> Result<()> {
        Ok(())
    }
    fn allowed_operations(
        &self,
        caller: &Caller,
        bus: &BusInfo,
        target: Target,
    ) -> crate::request::OperationSet {
        OpenPolicy.allowed_operations(caller, bus, target)
    }
    fn exclusive_limits(&self) -> crate::policy::ExclusiveLimits {
        self.0
    }
}

#[test]
fn exclusive_sessions_are_bounded_per_caller_and_per_bus() {
    let f = fixture();
    f.broker.adapter_added(module(0, "slot-a"));
    let exclusive = |address| OpenRequest { exclusive: true, ..request("0", address) };
    // The default limits: 2 per caller, 4 per caller and bus.
    f.open(APP, &exclusive(0x50)).unwrap();
    f.open(APP, &exclusive(0x51)).unwrap();
    let squatting = f.open(APP, &exclusive(0x52)).unwrap_err();
    assert_eq!(squatting.code, ErrorCode::QuotaExceeded, "{}", squatting.message);
    // Another caller still gets its own, and shared sessions are not counted at all.
    f.open(OTHER_APP, &exclusive(0x52)).unwrap();
    f.open(APP, &request("0", 0x53)).unwrap();
    f.open(OTHER_APP, &exclusive(0x54)).unwrap();
    // Two callers at their limits on the bus lock nobody else out of a free address.
    let third = Caller { uid: 10_003, pid: 1 };
    f.open(third, &exclusive(0x55)).expect("a free address for a caller with quota left");
}

#[test]
fn the_per_bus_exclusive_limit_counts_the_callers_own_sessions_on_that_bus() {
    let limits = crate::policy::ExclusiveLimits { per_caller: 10, per_bus: 2 };
    let f = fixture_with_policy(FULL_I2C, Limits::default(), Arc::new(ExclusiveLimited(limits)));
    f.broker.adapter_added(module(0, "slot-a"));
    f.broker.adapter_added(module(1, "slot-b"));
    let exclusive = |bus, address| OpenRequest { exclusive: true, ..request(bus, address) };
    f.open(APP, &exclusive("0", 0x50)).unwrap();
    f.open(APP, &exclusive("0", 0x51)).unwrap();
    let full = f.open(APP, &exclusive("0", 0x52)).unwrap_err();
    assert_eq!(full.code, ErrorCode::QuotaExceeded);
    assert!(full.message.contains("on bus 0"), "{}", full.message);
    f.open(APP, &exclusive("1", 0x52)).expect("another bus has its own limit");
    f.open(OTHER_APP, &exclusive("0", 0x52)).expect("another caller on the same bus");
    f.open(OTHER_APP, &exclusive("0", 0x53)).expect("another caller on the same bus");
}

#[test]
fn a_policy_reload_ends_exactly_the_sessions_it_no_longer_allows_once() {
    use crate::policy::engine::{PolicyEngine, PolicyLoader};
    let rule = |uids: &str| {
        format!(
            r#"{{"rule": [{{"name": "r", "uids": [{uids}], "buses": ["platform/sim/*"],
             "addresses": ["0x50-0x57"], "allow": ["raw", "read", "write"]}}]}}"#
        )
    };
    let file = Arc::new(Mutex::new(rule("10001, 10002")));
    let reader = file.clone();
    let loader: PolicyLoader = Box::new(move || Ok(reader.lock().unwrap().clone()));
    let engine = Arc::new(PolicyEngine::load(policy_source(loader)).unwrap());
    let f = fixture_with_policy(FULL_I2C, Limits::default(), engine);
    f.broker.adapter_added(module(0, "slot-a"));
    let (kept, kept_losses) = f.open(APP, &request("0", 0x50)).unwrap();
    let (ended, ended_losses) = f.open(OTHER_APP, &request("0", 0x51)).unwrap();
    let refused = f.open(Caller { uid: 10_003, pid: 1 }, &request("0", 0x52)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::PermissionDenied);

    // An invalid file changes nothing.
    *file.lock().unwrap() = r#"{"rule": [{"name": "x"}]}"#.into();
    let invalid = f.broker.reload_policy(ROOT).unwrap_err();
    assert_eq!(invalid.code, ErrorCode::InvalidArgument);
    assert!(kept_losses.losses().is_empty() && ended_losses.losses().is_empty());

    // Only root or system may reload.
    assert_eq!(f.broker.reload_policy(APP).unwrap_err().code, ErrorCode::PermissionDenied);

    *file.lock().unwrap() = rule("10001");
    assert_eq!(f.broker.reload_policy(ROOT), Ok(1));
    assert_eq!(ended_losses.losses(), vec![LossReason::PolicyChanged]);
    assert!(kept_losses.losses().is_empty(), "a session still allowed is untouched");
    let gone = f.broker.transfer(ended, &[Message::Read(1)]).unwrap_err();
    assert_eq!(gone.code, ErrorCode::BusGone);
    assert!(f.broker.transfer(kept, &[Message::Read(1)]).is_ok());
    // A second reload of the same file ends nobody, and tells nobody twice.
    assert_eq!(f.broker.reload_policy(ROOT), Ok(0));
    assert_eq!(ended_losses.losses(), vec![LossReason::PolicyChanged]);
}

#[test]
fn dump_shows_buses_sessions_and_counters() {
    let f = fixture();
    f.broker.adapter_added(module(3, "slot-a"));
    let (id, _) = f.open(APP, &request("3", 0x50)).unwrap();
    f.write_read(id, 0, &[1]).unwrap();
    let _ = f.broker.transfer::<Message>(id, &[]);
    let dump = f.broker.dump();
    assert!(dump.contains("i2c-3 generation=1 fd=open"), "{dump}");
    assert!(dump.contains("uid=10001 pid=4242 bus=3 generation=1 address=0x50 Live"), "{dump}");
    assert!(dump.contains("transfers=2"), "{dump}");
    assert!(dump.contains("INVALID_ARGUMENT=1"), "{dump}");
}

/// A policy that admits exactly the uids in its set, which a test changes and then "reloads".
struct UidPolicy {
    allowed: Mutex<Vec<u32>>,
}

impl Policy for UidPolicy {
    fn check_open(&self, caller: &Caller, _: &BusInfo, _: Target, _: bool) -> Result<()> {
        if self.allowed.lock().unwrap().contains(&caller.uid) {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::PermissionDenied, "not in the test's set"))
        }
    }

    fn check_operation(&self, _: &Caller, _: &BusInfo, _: Target, _: OperationClass) -> Result<()> {
        Ok(())
    }

    fn allowed_operations(&self, _: &Caller, _: &BusInfo, _: Target) -> OperationSet {
        OperationClass::ALL.into_iter().fold(OperationSet::default(), OperationSet::with)
    }

    fn reload(&self) -> Result<()> {
        Ok(())
    }
}

/// xorshift64: a fixed seed gives the same sequence on every run and every machine.
struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What an open must answer, by a plain scan over a status snapshot: the decision the indexes
/// make in a few lookups.
fn predicted_open(
    broker: &Broker,
    allowed: &[u32],
    caller: Caller,
    req: &OpenRequest,
) -> std::result::Result<(), ErrorCode> {
    let status = broker.snapshot();
    let BusSelector::Number(number) = req.bus else { unreachable!("tests ask by number") };
    let Some(bus) = status.buses.iter().find(|b| b.bus_number == number) else {
        return Err(ErrorCode::NoSuchBus);
    };
    if !allowed.contains(&caller.uid) {
        return Err(ErrorCode::PermissionDenied);
    }
    let mine = status.sessions.iter().filter(|s| s.caller.uid == caller.uid).count();
    if mine >= broker.limits.max_sessions_per_uid {
        return Err(ErrorCode::QuotaExceeded);
    }
    let holding: Vec<&SessionSnapshot> =
        status.sessions.iter().filter(|s| !matches!(s.state, SessionPhase::Dead(_))).collect();
    let busy = holding.iter().any(|s| {
        s.bus.generation == bus.generation
            && s.target.address == req.address as u16
            && s.target.ten_bit == req.ten_bit
            && (s.exclusive || req.exclusive)
    });
    if busy {
        return Err(ErrorCode::AddressBusy);
    }
    if req.exclusive {
        let limits = broker.policy.exclusive_limits();
        let exclusive = holding.iter().filter(|s| s.exclusive);
        if exclusive.clone().filter(|s| s.caller.uid == caller.uid).count() >= limits.per_caller
            || exclusive
                .filter(|s| s.bus.generation == bus.generation && s.caller.uid == caller.uid)
                .count()
                >= limits.per_bus
        {
            return Err(ErrorCode::QuotaExceeded);
        }
    }
    Ok(())
}

#[test]
fn the_session_indexes_agree_with_a_scan_after_random_operations() {
    let uids = [10_001, 10_002, 10_003, 10_004];
    let policy = Arc::new(UidPolicy { allowed: Mutex::new(uids.to_vec()) });
    let limits = Limits { max_sessions_per_uid: 6, max_listeners_per_uid: 1 };
    let f = fixture_with_policy(FULL_I2C | func::I2C_FUNC_10BIT_ADDR, limits, policy.clone());
    let mut rng = Xorshift(0x1d2c_4a1e_5eed_0001);
    let mut ids: Vec<SessionId> = Vec::new();
    let mut plugs = 0;
    let mut outcomes = std::collections::HashMap::<String, usize>::new();
    for step in 0..4000 {
        let bus = rng.below(3) as u32;
        let what = match rng.below(100) {
            0..=54 => {
                let caller = Caller { uid: uids[rng.below(4) as usize], pid: 1 };
                let req = OpenRequest {
                    exclusive: rng.below(4) == 0,
                    ten_bit: rng.below(5) == 0,
                    ..request(&bus.to_string(), 0x50 + rng.below(4) as i64)
                };
                let allowed = policy.allowed.lock().unwrap().clone();
                let expected = predicted_open(&f.broker, &allowed, caller, &req);
                let got = f.open(caller, &req).map(|(id, _)| id);
                assert_eq!(got.as_ref().map(|_| ()).map_err(|e| e.code), expected, "step {step}");
                if let Ok(id) = got {
                    ids.push(id);
                }
                format!("open {expected:?}")
            }
            55..=74 if !ids.is_empty() => {
                let id = ids.swap_remove(rng.below(ids.len() as u64) as usize);
                f.broker.close_session(id);
                "close".into()
            }
            75..=82 => {
                plugs += 1;
                f.broker.adapter_added(module(bus, &format!("slot-{}", plugs % 2)));
                "add".into()
            }
            83..=89 => {
                f.broker.adapter_removed(bus, "");
                "remove".into()
            }
            90..=94 => {
                let _ = f.broker.revoke(ROOT, &BusSelector::Number(bus));
                "revoke".into()
            }
            _ => {
                let keep = rng.below(4) as usize;
                *policy.allowed.lock().unwrap() =
                    uids.iter().copied().filter(|u| *u != uids[keep]).collect();
                f.broker.reload_policy(ROOT).unwrap();
                "reload".into()
            }
        };
        *outcomes.entry(what).or_default() += 1;
        let state = f.broker.lock_state();
        state.sessions.verify();
        // The fd is open exactly when some session of a live adapter holds the device.
        let holding = state.adapters.keys().filter(|g| state.sessions.has_device_holders(**g));
        assert_eq!(f.journal.open_handles(), holding.count(), "step {step}");
    }
    // The sequence reached every decision the indexes make, not just the easy ones.
    for outcome in [
        "open Ok(())",
        "open Err(AddressBusy)",
        "open Err(QuotaExceeded)",
        "open Err(PermissionDenied)",
        "open Err(NoSuchBus)",
        "remove",
        "revoke",
        "reload",
    ] {
        assert!(outcomes.get(outcome).copied().unwrap_or(0) > 0, "{outcome}: {outcomes:?}");
    }
    f.broker.shutdown();
    f.broker.lock_state().sessions.verify();
    assert_eq!(f.journal.open_handles(), 0);
}

#[test]
fn a_reload_that_narrows_a_session_refuses_what_it_took_away_at_the_next_call() {
    use crate::policy::engine::{PolicyEngine, PolicyLoader};
    // The broker keeps each session's allowed operations from its open; a reload that keeps
    // the session but takes a class away must be felt at once, not when the cache expires.
    let rule = |allow: &str| {
        format!(
            r#"{{"rule": [{{"name": "r", "uids": [10001], "buses": ["platform/sim/*"],
             "addresses": ["0x50"], "allow": [{allow}]}}]}}"#
        )
    };
    let file = Arc::new(Mutex::new(rule("\"raw\", \"read\", \"write\"")));
    let reader = file.clone();
    let loader: PolicyLoader = Box::new(move || Ok(reader.lock().unwrap().clone()));
    let engine = Arc::new(PolicyEngine::load(policy_source(loader)).unwrap());
    let f = fixture_with_policy(FULL_I2C, Limits::default(), engine);
    f.broker.adapter_added(module(0, "slot-a"));
    let (id, losses) = f.open(APP, &request("0", 0x50)).unwrap();
    let raw = [Message::Write(vec![0]), Message::Read(1)];
    assert!(f.broker.transfer(id, &raw).is_ok());
    assert!(f.broker.transfer(id, &raw).is_ok(), "and again, from the session's grant");

    *file.lock().unwrap() = rule("\"read\", \"write\"");
    assert_eq!(f.broker.reload_policy(ROOT), Ok(0), "the session is still allowed to exist");
    let refused = f.broker.transfer(id, &raw).unwrap_err();
    assert_eq!(refused.code, ErrorCode::PermissionDenied, "{}", refused.message);
    assert!(f.broker.transfer(id, &[Message::Read(1)]).is_ok(), "what it kept still works");
    assert!(losses.losses().is_empty());

    // Given back by another reload, it works again.
    *file.lock().unwrap() = rule("\"raw\", \"read\"");
    f.broker.reload_policy(ROOT).unwrap();
    assert!(f.broker.transfer(id, &raw).is_ok());
}
