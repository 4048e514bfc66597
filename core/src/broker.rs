//! The broker owns the truth: which adapters are live (stable id + generation), which sessions
//! exist, and when /dev/i2c-N is open. It is the only place that opens and drops devices.
//!
//! Locking (the rule that keeps a slow device or client from stalling anyone else):
//! - `state` is held only for short bookkeeping; never across device I/O or client callbacks.
//! - each adapter's `device` mutex serialises its I/O (as the kernel does per adapter). It may be
//!   held while briefly taking `state`; `state` is never held while taking a device mutex. It
//!   is a `FairMutex`: callers get the bus in the order they asked for it, so a client calling
//!   in a loop delays another client's call by at most the calls queued ahead of it.
//! - lock order, outermost first: `device` (of one adapter; never two at once), then `state`.
//!   The `Sessions` indexes live inside `state` and change only under it.
//! - client callbacks are handed to the `LossSink` (sink.rs) with no lock held, one batch per
//!   event; the sink queues them, so nothing here waits for a client.
//!
//! Removal: mark the sessions dead under `state` (no new work is admitted from then on), take the
//! device mutex (waits for at most the one in-flight transfer), drop the device (closes the fd,
//! which lets the kernel finish `i2c_del_adapter()`), then notify.

use super::bus::{AdapterDescriptor, BusInfo, BusSelector, Generation, LossReason};
use super::device::{BusDevice, DeviceFault, DeviceOpener, FaultKind, Target, Transferred};
use super::error::{Error, ErrorCode, Result};
use super::fair::{FairGuard, FairMutex};
use super::policy::{Caller, Limits, Policy};
use super::request::{
    func, require_functionality, validate_address, validate_transfer, AsMessage, OperationClass,
    OperationSet, SmbusOp, SmbusValue,
};
use super::stats::{RemovalEvent, Stats};
use super::sync::lock;
use log::{debug, info, warn};
use sessions::Sessions;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use sink::{
    Addressed, BusObserver, DirectSink, DispatchClock, LossBatch, LossSink, SessionObserver,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(pub u64);

/// Where a session stands, as a status report shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionPhase {
    Opening,
    Live,
    Dead(LossReason),
}

/// One session in a status report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSnapshot {
    pub id: SessionId,
    pub caller: Caller,
    pub bus: BusInfo,
    pub target: Target,
    pub exclusive: bool,
    pub age: Duration,
    pub state: SessionPhase,
}

/// What II2cAdmin.getStatus reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSnapshot {
    pub uptime: Duration,
    pub buses: Vec<BusInfo>,
    pub sessions: Vec<SessionSnapshot>,
    pub listeners: usize,
    pub counters: Vec<(String, u64)>,
    pub recent_removals: Vec<RemovalEvent>,
}

/// What a client asks for when opening a session.
#[derive(Clone, Debug)]
pub struct OpenRequest {
    pub bus: BusSelector,
    /// None: the bus's current generation.
    pub generation: Option<Generation>,
    pub address: i64,
    pub exclusive: bool,
    /// `address` is a 10-bit address (the adapter must have I2C_FUNC_10BIT_ADDR).
    pub ten_bit: bool,
    /// SMBus packet error checking (the adapter must have I2C_FUNC_SMBUS_PEC).
    pub pec: bool,
}

/// The open fd of one adapter, or why there is none.
enum Slot {
    /// No live session: the service does not hold /dev/i2c-N.
    Idle,
    Open(Box<dyn BusDevice>),
    /// The adapter is gone; this generation never opens again.
    Retired,
}

struct Adapter {
    descriptor: AdapterDescriptor,
    generation: Generation,
    /// Built once at add time, so the hot path (policy, selectors) never clones strings. Its
    /// `functionality` is what was known then; `functionality` below is the current value.
    identity: BusInfo,
    /// May be learned late (the node can appear after the uevent on Android's ueventd).
    functionality: AtomicU64,
    /// FIFO-fair (see `fair`): a client calling in a loop cannot keep others off the bus.
    device: FairMutex<Slot>,
}

impl Adapter {
    fn new(descriptor: AdapterDescriptor, generation: Generation) -> Adapter {
        let identity = BusInfo {
            bus_number: descriptor.bus_number,
            name: descriptor.name.clone(),
            stable_id: descriptor.stable_id.clone(),
            generation,
            functionality: descriptor.functionality,
        };
        Adapter {
            functionality: AtomicU64::new(descriptor.functionality),
            descriptor,
            generation,
            identity,
            device: FairMutex::new(Slot::Idle),
        }
    }

    fn info(&self) -> BusInfo {
        BusInfo { functionality: self.functionality(), ..self.identity.clone() }
    }

    fn functionality(&self) -> u64 {
        self.functionality.load(Ordering::Relaxed)
    }

    fn lock_device(&self) -> FairGuard<'_, Slot> {
        self.device.lock()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SessionState {
    /// Admitted, waiting to open the device and claim the address.
    Opening,
    Live,
    Dead(LossReason),
}

/// A session's operation classes as the policy answered at open, and the policy epoch read
/// before asking: while the epoch stands, an operation of a class in the set needs no policy
/// evaluation (which stood out in the profile of a register read; docs/perf.md, 'Cost of the
/// service's own code').
#[derive(Clone, Copy, Debug)]
struct Granted {
    epoch: u64,
    operations: OperationSet,
}

struct SessionEntry {
    caller: Caller,
    adapter: Arc<Adapter>,
    target: Target,
    granted: Granted,
    exclusive: bool,
    opened_at: Instant,
    state: SessionState,
    observer: Arc<dyn SessionObserver>,
}

impl SessionEntry {
    fn holds_device(&self) -> bool {
        matches!(self.state, SessionState::Opening | SessionState::Live)
    }

    fn addressed(&self) -> Victim {
        Addressed { caller: self.caller, observer: self.observer.clone() }
    }
}

/// A session to tell of its death.
type Victim = Addressed<dyn SessionObserver>;

struct ListenerEntry {
    caller: Caller,
    observer: Arc<dyn BusObserver>,
}

#[derive(Default)]
struct State {
    next_generation: u64,
    next_session: u64,
    next_listener: u64,
    /// Live adapters by generation (unique for all time).
    adapters: BTreeMap<Generation, Arc<Adapter>>,
    sessions: Sessions,
    listeners: BTreeMap<ListenerId, ListenerEntry>,
    /// Set once by shutdown(): from then on no adapter is added and no session opened, so
    /// every session that exists is one shutdown() tells.
    shutting_down: bool,
}

impl State {
    fn find_adapter(&self, selector: &BusSelector) -> Option<&Arc<Adapter>> {
        self.adapters.values().find(|a| selector.matches(&a.identity))
    }

    fn adapter_by_number(&self, bus_number: u32) -> Option<Arc<Adapter>> {
        self.adapters.values().find(|a| a.descriptor.bus_number == bus_number).cloned()
    }

    fn has_device_holders(&self, generation: Generation) -> bool {
        self.sessions.has_device_holders(generation)
    }

    /// Marks every session of an adapter dead; returns whom to tell. A session still opening
    /// dies too, but is not told: its openSession call fails with BUS_GONE instead.
    fn kill_sessions(&mut self, generation: Generation, reason: LossReason) -> Vec<Victim> {
        let mut victims = Vec::new();
        // In the order they were opened (ids only grow), so one client hears in that order.
        let mut ids = self.sessions.ids_on(generation);
        ids.sort_unstable();
        for id in ids {
            if self.sessions.kill(&id, reason) == Some(SessionState::Live) {
                if let Some(session) = self.sessions.get(&id) {
                    victims.push(session.addressed());
                }
            }
        }
        victims
    }

    fn bus_observers(&self) -> Vec<Addressed<dyn BusObserver>> {
        let told = |l: &ListenerEntry| Addressed { caller: l.caller, observer: l.observer.clone() };
        self.listeners.values().map(told).collect()
    }
}

pub struct Broker {
    opener: Arc<dyn DeviceOpener>,
    policy: Arc<dyn Policy>,
    limits: Limits,
    state: Mutex<State>,
    stats: Stats,
    started: Instant,
    /// Where every callback goes, one batch per event.
    sink: Arc<dyn LossSink>,
}

/// What a session-lost callback says: the bus and generation, then what happened.
///
/// Kept short on purpose: a removal sends it once per session, and rsbinder writes a string
/// into a parcel a character at a time (UTF-16, a copy per unit), so each character is paid
/// for in every delivery; the stable id (which the client had from listBuses) was a large share
/// of a delivery's instructions (docs/perf.md, 'Session-lost callbacks after a removal'). The
/// service's log line for the removal carries the stable id.
pub fn loss_message(bus_number: u32, generation: Generation, what: &str) -> String {
    format!("bus {bus_number} generation {generation}: {what}")
}

impl Broker {
    /// A broker that tells clients through `sink` (the service's notifier; `DirectSink` where
    /// observers do not block).
    pub fn new(
        opener: Arc<dyn DeviceOpener>,
        policy: Arc<dyn Policy>,
        limits: Limits,
        sink: Arc<dyn LossSink>,
    ) -> Broker {
        Broker {
            opener,
            policy,
            limits,
            state: Mutex::new(State { next_generation: 1, ..State::default() }),
            stats: Stats::default(),
            started: Instant::now(),
            sink,
        }
    }

    /// Hands one event's losses to the sink, counted; nothing when nobody is to be told.
    fn tell(&self, batch: LossBatch) {
        Stats::add(&self.stats.sessions_lost, batch.sessions.len() as u64);
        let listeners = batch.removed.as_ref().is_some_and(|(_, listeners)| !listeners.is_empty());
        if !batch.sessions.is_empty() || listeners {
            self.sink.losses(batch);
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Counts an error for the dump and passes it on.
    fn counted<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            self.stats.record_error(e.code);
        }
        result
    }

    // ----------------------------------------------------------------- platform events ----

    /// An adapter appeared. A duplicate report (the kernel sends an i2c-dev and an i2c event) is
    /// ignored; a different adapter under a live number means we missed its removal.
    pub fn adapter_added(&self, descriptor: AdapterDescriptor) -> Option<BusInfo> {
        let existing = self.lock_state().adapter_by_number(descriptor.bus_number);
        if let Some(existing) = existing {
            if existing.descriptor.devpath == descriptor.devpath
                && existing.descriptor.name == descriptor.name
            {
                debug!("bus {} already known, add ignored", descriptor.bus_number);
                return None;
            }
            warn!(
                "bus {} reappeared as a different adapter ({} -> {}): removing the old one",
                descriptor.bus_number, existing.descriptor.devpath, descriptor.devpath
            );
            self.retire(existing.generation, LossReason::Removed, "replaced by another adapter");
        }
        let generation = {
            let mut state = self.lock_state();
            state.next_generation += 1;
            Generation(state.next_generation - 1)
        };
        let adapter = Arc::new(Adapter::new(descriptor, generation));
        // Asked once per new adapter, outside the state lock (it opens the node briefly).
        self.learn_functionality(&adapter);
        let (info, observers) = {
            let mut state = self.lock_state();
            if state.shutting_down {
                info!("bus {} appeared during shutdown: not served", adapter.identity.bus_number);
                return None;
            }
            let info = adapter.info();
            state.adapters.insert(generation, adapter);
            (info, state.bus_observers())
        };
        Stats::bump(&self.stats.adapters_added);
        info!(
            "bus {} added: '{}' stable-id={} generation={} functionality={:#x}",
            info.bus_number, info.name, info.stable_id, info.generation, info.functionality
        );
        if !observers.is_empty() {
            self.sink.bus_added(info.clone(), observers);
        }
        Some(info)
    }

    /// An adapter went away (remove uevent). `devpath` is checked only for the log: the kernel
    /// cannot have two adapters with one number, so the live one with that number is the one.
    pub fn adapter_removed(&self, bus_number: u32, devpath: &str) -> Option<BusInfo> {
        let adapter = self.lock_state().adapter_by_number(bus_number)?;
        if adapter.descriptor.devpath != devpath {
            warn!(
                "remove of bus {bus_number} names {devpath}, known as {}",
                adapter.descriptor.devpath
            );
        }
        self.retire(adapter.generation, LossReason::Removed, "removed")
    }

    /// Makes the live set equal to a fresh sysfs scan (after lost uevents).
    pub fn reconcile(&self, scanned: Vec<AdapterDescriptor>) {
        let live: Vec<Arc<Adapter>> = self.lock_state().adapters.values().cloned().collect();
        for adapter in &live {
            let still_there = scanned.iter().any(|d| {
                d.bus_number == adapter.descriptor.bus_number
                    && d.devpath == adapter.descriptor.devpath
                    && d.name == adapter.descriptor.name
            });
            if !still_there {
                info!("rescan: bus {} is gone", adapter.descriptor.bus_number);
                self.retire(adapter.generation, LossReason::Removed, "removed");
            }
        }
        for descriptor in scanned {
            self.adapter_added(descriptor);
        }
    }

    /// Removes a live adapter: sessions die, the fd closes (after at most one in-flight
    /// operation), then everyone is told.
    fn retire(&self, generation: Generation, reason: LossReason, why: &str) -> Option<BusInfo> {
        let started = Instant::now();
        let (adapter, victims, listeners) = {
            let mut state = self.lock_state();
            let adapter = state.adapters.remove(&generation)?;
            let victims = state.kill_sessions(generation, reason);
            (adapter, victims, state.bus_observers())
        };
        let fd_was_open = {
            let mut slot = adapter.lock_device();
            matches!(std::mem::replace(&mut *slot, Slot::Retired), Slot::Open(_))
        };
        let latency = started.elapsed();
        let info = adapter.info();
        let dispatches = Arc::new(DispatchClock::new(started));
        let event = RemovalEvent {
            bus_number: info.bus_number,
            stable_id: info.stable_id.clone(),
            generation: info.generation,
            latency,
            sessions_lost: victims.len(),
            at: Instant::now(),
            started,
            last_callback: None,
            event_clock_nanos: None,
        };
        self.stats.record_removal(event, dispatches.clone());
        Stats::bump(&self.stats.adapters_removed);
        info!(
            "bus {} generation {} ('{}'): {why}; {} session(s) lost, fd {} after {:?}",
            info.bus_number,
            info.generation,
            info.stable_id,
            victims.len(),
            if fd_was_open { "closed" } else { "was not open" },
            latency
        );
        self.tell(LossBatch {
            reason,
            message: loss_message(info.bus_number, info.generation, why).into(),
            sessions: victims,
            removed: Some((info.clone(), listeners)),
            dispatches: Some(dispatches),
        });
        Some(info)
    }

    /// The service is going away: every session dies with SHUTDOWN and every fd closes.
    /// Final: adapters that appear later are ignored and opens are refused.
    pub fn shutdown(&self) {
        let generations: Vec<Generation> = {
            let mut state = self.lock_state();
            state.shutting_down = true;
            state.adapters.keys().copied().collect()
        };
        for generation in generations {
            self.retire(generation, LossReason::Shutdown, "the service is shutting down");
        }
    }

    // ------------------------------------------------------------------- client calls ----

    pub fn list_buses(&self) -> Vec<BusInfo> {
        let mut buses: Vec<BusInfo> =
            self.lock_state().adapters.values().map(|a| a.info()).collect();
        buses.sort_by_key(|b| b.bus_number);
        buses
    }

    pub fn open_session(
        &self,
        caller: Caller,
        request: &OpenRequest,
        observer: Arc<dyn SessionObserver>,
    ) -> Result<(SessionId, BusInfo)> {
        let result = self.open_session_inner(caller, request, observer);
        self.counted(result)
    }

    fn open_session_inner(
        &self,
        caller: Caller,
        request: &OpenRequest,
        observer: Arc<dyn SessionObserver>,
    ) -> Result<(SessionId, BusInfo)> {
        let address = validate_address(request.address, request.ten_bit)?;
        let target = Target { address, ten_bit: request.ten_bit, pec: request.pec };
        let (id, adapter) = self.admit(caller, request, target, observer)?;
        match self.attach_device(id, &adapter, target) {
            Ok(()) => {
                Stats::bump(&self.stats.sessions_opened);
                debug!(
                    "session {} opened by uid {} on bus {} address {target}",
                    id.0, caller.uid, adapter.descriptor.bus_number
                );
                Ok((id, adapter.info()))
            }
            Err(e) => {
                self.lock_state().sessions.remove(&id);
                self.release_device_if_unused(&adapter);
                Err(e)
            }
        }
    }

    /// Step 1 of open, under `state` only: find the bus, apply policy, quota and exclusivity,
    /// and record the session as Opening so a concurrent removal sees (and kills) it.
    fn admit(
        &self,
        caller: Caller,
        request: &OpenRequest,
        target: Target,
        observer: Arc<dyn SessionObserver>,
    ) -> Result<(SessionId, Arc<Adapter>)> {
        let mut state = self.lock_state();
        if state.shutting_down {
            return Err(Error::new(ErrorCode::BusGone, "the service is shutting down"));
        }
        let adapter = state.find_adapter(&request.bus).cloned().ok_or_else(|| {
            Error::new(ErrorCode::NoSuchBus, format!("no live {} (see listBuses)", request.bus))
        })?;
        if let Some(wanted) = request.generation {
            if wanted != adapter.generation {
                return Err(Error::new(
                    ErrorCode::NoSuchBus,
                    format!(
                        "{} is at generation {}, not {wanted}: the adapter you saw is gone",
                        request.bus, adapter.generation
                    ),
                ));
            }
        }
        self.policy.check_open(&caller, &adapter.identity, target, request.exclusive)?;
        if state.sessions.of_uid(caller.uid) >= self.limits.max_sessions_per_uid {
            return Err(Error::new(
                ErrorCode::QuotaExceeded,
                format!(
                    "uid {} already holds {} sessions (close some first)",
                    caller.uid, self.limits.max_sessions_per_uid
                ),
            ));
        }
        let holders = state.sessions.holders_at(adapter.generation, target);
        let conflict = if request.exclusive { holders.all } else { holders.exclusive };
        if conflict > 0 {
            return Err(Error::new(
                ErrorCode::AddressBusy,
                format!(
                    "address {target} on bus {} is held exclusively",
                    adapter.descriptor.bus_number
                ),
            ));
        }
        if request.exclusive {
            check_exclusive_limits(&state, self.policy.exclusive_limits(), caller, &adapter)?;
        }
        // The epoch first: a reload between the two leaves an epoch that no longer matches.
        let epoch = self.policy.epoch();
        let operations = self.policy.allowed_operations(&caller, &adapter.identity, target);
        let id = SessionId(state.next_session);
        state.next_session += 1;
        state.sessions.insert(
            id,
            SessionEntry {
                caller,
                adapter: adapter.clone(),
                target,
                granted: Granted { epoch, operations },
                exclusive: request.exclusive,
                opened_at: Instant::now(),
                state: SessionState::Opening,
                observer,
            },
        );
        Ok((id, adapter))
    }

    /// Step 2 of open, under the device mutex: open /dev/i2c-N if idle, check that no kernel
    /// driver owns the address, and make the session Live unless it was killed meanwhile.
    fn attach_device(&self, id: SessionId, adapter: &Adapter, target: Target) -> Result<()> {
        let mut slot = adapter.lock_device();
        if matches!(*slot, Slot::Retired) {
            return Err(bus_gone(adapter));
        }
        if matches!(*slot, Slot::Idle) {
            // A node that vanished under us is FaultKind::Gone, so the client sees BUS_GONE.
            let device = self.opener.open(adapter.descriptor.bus_number)?;
            // The open read I2C_FUNCS; asking the opener instead would open the node again.
            adapter.functionality.store(device.functionality(), Ordering::Relaxed);
            *slot = Slot::Open(device);
        }
        // Known for sure only now that the node is open: the modes the session asks for.
        let wanted = if target.ten_bit { func::I2C_FUNC_10BIT_ADDR } else { 0 }
            | if target.pec { func::I2C_FUNC_SMBUS_PEC } else { 0 };
        require_functionality(adapter.functionality(), wanted)
            .map_err(|e| adapter_cannot(adapter, e))?;
        if let Slot::Open(device) = &mut *slot {
            device.claim(target).map_err(|fault| match fault.kind {
                FaultKind::Busy => Error::new(
                    ErrorCode::AddressBusy,
                    format!(
                        "a kernel driver is bound to {target} on bus {}",
                        adapter.descriptor.bus_number
                    ),
                ),
                _ => Error::from(fault),
            })?;
        }
        if self.lock_state().sessions.make_live(&id) {
            Ok(())
        } else {
            Err(bus_gone(adapter))
        }
    }

    fn learn_functionality(&self, adapter: &Adapter) {
        if adapter.functionality() != 0 {
            return;
        }
        match self.opener.functionality(adapter.descriptor.bus_number) {
            Ok(funcs) => adapter.functionality.store(funcs, Ordering::Relaxed),
            // On Android ueventd may not have made the node yet: learned at the first open.
            Err(e) => {
                warn!("I2C_FUNCS of bus {} not readable yet: {e}", adapter.descriptor.bus_number)
            }
        }
    }

    /// Closes /dev/i2c-N once no session needs it (the service holds fds only for live sessions).
    fn release_device_if_unused(&self, adapter: &Adapter) {
        let mut slot = adapter.lock_device();
        if matches!(*slot, Slot::Open(_))
            && !self.lock_state().has_device_holders(adapter.generation)
        {
            *slot = Slot::Idle;
            debug!("bus {}: last session gone, fd closed", adapter.descriptor.bus_number);
        }
    }

    /// Ends a session (close(), the client letting go, or the client dying). Idempotent.
    pub fn close_session(&self, id: SessionId) {
        let Some(entry) = self.lock_state().sessions.remove(&id) else {
            return;
        };
        Stats::bump(&self.stats.sessions_closed);
        debug!("session {} closed ({:?})", id.0, entry.state);
        if entry.holds_device() {
            self.release_device_if_unused(&entry.adapter);
        }
    }

    /// Revokes every session on a live bus (admin release before rmmod). The adapter stays; the
    /// revoked sessions are dead for good.
    pub fn revoke(&self, caller: Caller, bus: &BusSelector) -> Result<usize> {
        let result = self.revoke_inner(caller, bus);
        self.counted(result)
    }

    fn revoke_inner(&self, caller: Caller, bus: &BusSelector) -> Result<usize> {
        self.policy.check_admin(&caller)?;
        let (adapter, victims) = {
            let mut state = self.lock_state();
            let adapter = state
                .find_adapter(bus)
                .cloned()
                .ok_or_else(|| Error::new(ErrorCode::NoSuchBus, format!("no live {bus}")))?;
            let victims = state.kill_sessions(adapter.generation, LossReason::Revoked);
            (adapter, victims)
        };
        self.release_device_if_unused(&adapter);
        Stats::bump(&self.stats.revocations);
        let count = victims.len();
        info!(
            "bus {} revoked by uid {}: {count} session(s) killed, fd closed",
            adapter.descriptor.bus_number, caller.uid
        );
        let message = loss_message(
            adapter.descriptor.bus_number,
            adapter.generation,
            "revoked by an administrator",
        );
        self.tell(LossBatch::sessions(LossReason::Revoked, message, victims));
        Ok(count)
    }

    // ------------------------------------------------------------------- session calls ----

    pub fn session_info(&self, id: SessionId) -> Result<(BusInfo, Target)> {
        let result = self.live_session(id).map(|(_, adapter, target, _)| (adapter.info(), target));
        self.counted(result)
    }

    /// The session's address alone (getAddress): no bus strings are copied for it.
    pub fn session_target(&self, id: SessionId) -> Result<Target> {
        let result = self.live_session(id).map(|(_, _, target, _)| target);
        self.counted(result)
    }

    /// The operation classes a session may use: what its adapter can do, narrowed by policy.
    pub fn allowed_operations(&self, id: SessionId) -> Result<OperationSet> {
        let result = self.live_session(id).map(|(caller, adapter, target, _)| {
            let supported = OperationSet::supported_by(adapter.functionality());
            let granted = self.policy.allowed_operations(&caller, &adapter.identity, target);
            supported.intersection(granted)
        });
        self.counted(result)
    }

    /// Looks up a session that may still do work.
    fn live_session(&self, id: SessionId) -> Result<(Caller, Arc<Adapter>, Target, Granted)> {
        let state = self.lock_state();
        let entry = state.sessions.get(&id).ok_or_else(|| {
            Error::new(ErrorCode::SessionClosed, "the session was closed; open a new one")
        })?;
        match entry.state {
            SessionState::Live | SessionState::Opening => {
                Ok((entry.caller, entry.adapter.clone(), entry.target, entry.granted))
            }
            SessionState::Dead(reason) => Err(Error::new(
                ErrorCode::BusGone,
                format!(
                    "bus {} generation {} is gone ({reason}); this session is dead for good",
                    entry.adapter.descriptor.bus_number, entry.adapter.generation
                ),
            )),
        }
    }

    /// One combined transfer. The service passes borrowed messages (`MessageRef`), which reach
    /// the device as they are; owned ones are viewed once, without copying their data.
    pub fn transfer<M: AsMessage>(&self, id: SessionId, messages: &[M]) -> Result<Transferred> {
        let class = OperationClass::of_transfer(messages);
        let mut written_in_full = 0;
        let result = validate_transfer(messages).and_then(|shape| {
            written_in_full = shape.written;
            self.with_device(id, class, func::I2C_FUNC_I2C, |dev, target| {
                dev.transfer(target, &M::views(messages))
            })
        });
        if let Ok(done) = &result {
            Stats::bump(&self.stats.transfers);
            Stats::add(&self.stats.bytes_read, done.reads.iter().map(|r| r.len() as u64).sum());
            // Validation counted the bytes of every write; a short transfer counts its own.
            let written = if done.completed >= messages.len() {
                written_in_full as u64
            } else {
                messages[..done.completed]
                    .iter()
                    .map(AsMessage::view)
                    .filter(|m| !m.is_read())
                    .map(|m| m.len() as u64)
                    .sum()
            };
            Stats::add(&self.stats.bytes_written, written);
        }
        self.counted(result)
    }

    pub fn smbus(&self, id: SessionId, op: &SmbusOp) -> Result<SmbusValue> {
        let result = op.validate().and_then(|()| {
            self.with_device(id, op.class(), op.required_functionality(), |dev, target| {
                dev.smbus(target, op)
            })
        });
        if result.is_ok() {
            Stats::bump(&self.stats.smbus_operations);
        }
        self.counted(result)
    }

    /// Runs one operation on the session's device: policy, functionality (checked here only, so
    /// a refused operation never reaches a device), then the device mutex, under which the
    /// session must still be live (so removal and revoke win every race).
    fn with_device<T>(
        &self,
        id: SessionId,
        class: OperationClass,
        required: u64,
        operation: impl FnOnce(&mut dyn BusDevice, Target) -> std::result::Result<T, DeviceFault>,
    ) -> Result<T> {
        let (caller, adapter, target, granted) = self.live_session(id)?;
        self.policy.check_rate(&caller)?;
        let cached = granted.epoch == self.policy.epoch() && granted.operations.contains(class);
        if !cached {
            // The policy decides (and audits a refusal) whenever the cache cannot say yes.
            self.policy.check_operation(&caller, &adapter.identity, target, class)?;
        }
        require_functionality(adapter.functionality(), required)
            .map_err(|e| adapter_cannot(&adapter, e))?;
        let mut slot = adapter.lock_device();
        self.live_session(id)?;
        match &mut *slot {
            Slot::Open(device) => operation(device.as_mut(), target).map_err(|fault| {
                // Removal marks sessions dead before it waits for this very operation: a
                // failure now is most likely the hardware going away under it, which the
                // client should hear as the bus being gone, not as a retryable I/O error.
                match self.live_session(id) {
                    Err(gone) if gone.code == ErrorCode::BusGone => {
                        Error::new(ErrorCode::BusGone, format!("{} ({fault})", gone.message))
                    }
                    _ => Error::from(fault),
                }
            }),
            Slot::Retired => Err(bus_gone(&adapter)),
            Slot::Idle => Err(Error::new(ErrorCode::SessionClosed, "the session was closed")),
        }
    }

    // ---------------------------------------------------------------------- listeners ----

    pub fn add_listener(
        &self,
        caller: Caller,
        observer: Arc<dyn BusObserver>,
    ) -> Result<ListenerId> {
        let result = {
            let mut state = self.lock_state();
            let held = state.listeners.values().filter(|l| l.caller.uid == caller.uid).count();
            if held >= self.limits.max_listeners_per_uid {
                Err(Error::new(
                    ErrorCode::QuotaExceeded,
                    format!("uid {} already has {held} bus listeners", caller.uid),
                ))
            } else {
                let id = ListenerId(state.next_listener);
                state.next_listener += 1;
                state.listeners.insert(id, ListenerEntry { caller, observer });
                Ok(id)
            }
        };
        self.counted(result)
    }

    pub fn remove_listener(&self, id: ListenerId) -> bool {
        self.lock_state().listeners.remove(&id).is_some()
    }

    // ------------------------------------------------------------------ administration ----

    /// A snapshot for administrators: buses, every session with its owner, counters and the
    /// recent removals.
    pub fn status(&self, caller: Caller) -> Result<StatusSnapshot> {
        let result = self.policy.check_admin(&caller).map(|()| self.snapshot());
        self.counted(result)
    }

    fn snapshot(&self) -> StatusSnapshot {
        let now = Instant::now();
        let (mut sessions, listeners) = {
            let state = self.lock_state();
            let sessions: Vec<SessionSnapshot> = state
                .sessions
                .iter()
                .map(|(id, entry)| SessionSnapshot {
                    id: *id,
                    caller: entry.caller,
                    bus: entry.adapter.info(),
                    target: entry.target,
                    exclusive: entry.exclusive,
                    age: now.duration_since(entry.opened_at),
                    state: match entry.state {
                        SessionState::Opening => SessionPhase::Opening,
                        SessionState::Live => SessionPhase::Live,
                        SessionState::Dead(reason) => SessionPhase::Dead(reason),
                    },
                })
                .collect();
            (sessions, state.listeners.len())
        };
        sessions.sort_by_key(|s| s.id);
        StatusSnapshot {
            uptime: now.duration_since(self.started),
            buses: self.list_buses(),
            sessions,
            listeners,
            counters: self.stats.counters(),
            recent_removals: self.stats.recent_removals(),
        }
    }

    /// Re-reads the access-control policy (SIGHUP, II2cAdmin.reloadPolicy). An invalid file
    /// leaves the policy in force and changes nothing; a valid one ends, once each, exactly the
    /// sessions it no longer allows (POLICY_CHANGED). Returns how many ended.
    pub fn reload_policy(&self, caller: Caller) -> Result<usize> {
        let result = self
            .policy
            .check_admin(&caller)
            .and_then(|()| self.policy.reload())
            .map(|()| self.end_disallowed_sessions());
        self.counted(result)
    }

    fn end_disallowed_sessions(&self) -> usize {
        let (victims, adapters) = {
            let mut state = self.lock_state();
            let mut victims = Vec::new();
            let mut adapters: Vec<Arc<Adapter>> = Vec::new();
            // Every session is asked (a policy can change anything), but only the ones it ends
            // change the indexes.
            let mut disallowed: Vec<SessionId> = state
                .sessions
                .iter()
                .filter(|(_, entry)| {
                    entry.holds_device()
                        && !self.policy.permits_open(
                            &entry.caller,
                            &entry.adapter.identity,
                            entry.target,
                            entry.exclusive,
                        )
                })
                .map(|(id, _)| *id)
                .collect();
            disallowed.sort_unstable();
            for id in disallowed {
                let was = state.sessions.kill(&id, LossReason::PolicyChanged);
                let Some(entry) = state.sessions.get(&id) else { continue };
                if was == Some(SessionState::Live) {
                    victims.push(entry.addressed());
                }
                if !adapters.iter().any(|a| a.generation == entry.adapter.generation) {
                    adapters.push(entry.adapter.clone());
                }
            }
            (victims, adapters)
        };
        for adapter in &adapters {
            self.release_device_if_unused(adapter);
        }
        let count = victims.len();
        if count > 0 {
            info!("policy reload ended {count} session(s) it no longer allows");
        }
        let message = "the access policy no longer allows this session";
        self.tell(LossBatch::sessions(LossReason::PolicyChanged, message, victims));
        count
    }

    // --------------------------------------------------------------------------- dump ----

    /// A human-readable picture of buses, sessions and counters (dumpsys).
    pub fn dump(&self) -> String {
        let mut out = String::new();
        {
            let state = self.lock_state();
            let _ = writeln!(out, "buses ({}):", state.adapters.len());
            for adapter in state.adapters.values() {
                let info = adapter.info();
                let fd = match adapter.device.try_lock().as_deref() {
                    Some(Slot::Open(_)) => "open",
                    Some(Slot::Idle) => "closed",
                    Some(Slot::Retired) => "retired",
                    None => "busy",
                };
                let _ = writeln!(
                    out,
                    "  i2c-{} generation={} fd={fd} functionality={:#x} stable-id={} name='{}'",
                    info.bus_number, info.generation, info.functionality, info.stable_id, info.name
                );
            }
            let mut sessions: Vec<_> = state.sessions.iter().collect();
            sessions.sort_by_key(|(id, _)| **id);
            let _ = writeln!(out, "sessions ({}):", sessions.len());
            for (id, s) in sessions {
                let _ = writeln!(
                    out,
                    "  #{} uid={} pid={} bus={} generation={} address={} {}{:?}",
                    id.0,
                    s.caller.uid,
                    s.caller.pid,
                    s.adapter.descriptor.bus_number,
                    s.adapter.generation,
                    s.target,
                    if s.exclusive { "exclusive " } else { "" },
                    s.state
                );
            }
            let _ = writeln!(out, "bus listeners: {}", state.listeners.len());
        }
        self.stats.render(&mut out);
        out
    }
}

mod sessions;
mod sink;
#[cfg(test)]
mod tests;

/// Exclusive sessions are bounded per caller, in all and on each bus, so that no caller takes
/// a whole bus one address at a time (QUOTA_EXCEEDED past either limit). Both count only the
/// caller's own sessions: what others hold can never keep a caller with quota left from a
/// free address (a cap over everyone's sessions on a bus could be filled by two uids to
/// lock out a third). Which uids may open exclusively at all is the policy's grant.
fn check_exclusive_limits(
    state: &State,
    limits: super::policy::ExclusiveLimits,
    caller: Caller,
    adapter: &Adapter,
) -> Result<()> {
    let mine = state.sessions.exclusive_of_uid(caller.uid);
    let on_bus = state.sessions.exclusive_of_uid_on(caller.uid, adapter.generation);
    if mine >= limits.per_caller {
        return Err(Error::new(
            ErrorCode::QuotaExceeded,
            format!(
                "uid {} already holds {mine} exclusive sessions (at most {})",
                caller.uid, limits.per_caller
            ),
        ));
    }
    if on_bus >= limits.per_bus {
        return Err(Error::new(
            ErrorCode::QuotaExceeded,
            format!(
                "uid {} already holds {on_bus} exclusive sessions on bus {} (at most {} per bus)",
                caller.uid, adapter.descriptor.bus_number, limits.per_bus
            ),
        ));
    }
    Ok(())
}

/// A functionality refusal that names the bus.
fn adapter_cannot(adapter: &Adapter, error: Error) -> Error {
    let identity = &adapter.identity;
    let message = format!(
        "bus {} ('{}') cannot do this: {}",
        identity.bus_number, identity.name, error.message
    );
    Error::new(error.code, message)
}

fn bus_gone(adapter: &Adapter) -> Error {
    Error::new(
        ErrorCode::BusGone,
        format!(
            "bus {} generation {} is gone; this session is dead for good",
            adapter.descriptor.bus_number, adapter.generation
        ),
    )
}
