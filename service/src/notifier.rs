//! Delivers client callbacks away from the broker, so that neither removal nor any other client
//! ever waits for a client.
//!
//! A oneway callback is a write to the client's binder buffer or socket. A client that stops
//! reading (SIGSTOP, a hung process) eventually fills its socket, and the write then blocks for
//! as long as the client stays stopped. So:
//! - each client (a process, by uid and pid) has its own bounded queue, delivered in order by
//!   at most one thread at a time: a stuck client holds at most one thread;
//! - a small pool of workers serves all queues round-robin, a short burst of one client's
//!   deliveries at a time (`BURST`), so a busy client cannot starve the others either;
//! - a supervisor notices when every worker is stuck on a client that stopped reading and adds
//!   a worker (up to a ceiling), so the other clients keep being served; extra workers leave
//!   again once idle;
//! - a queue that is full drops what does not fit, counted and logged once per overflow spell:
//!   a dropped session-lost callback leaves that session dead all the same (every call on it
//!   answers BUS_GONE), and a stopped client is the only kind whose queue fills.
//!
//! Wake-ups are kept off the delivery path: a removal posts hundreds of callbacks at once, and
//! every thread woken per delivery (a supervisor or drain checking progress) costs a context
//! switch and a turn at `state`, which on a small machine made a removal's last callback go
//! out late (docs/perf.md). So a worker signals progress only when a drain waits for it,
//! and the supervisor polls on its own period while there is work and sleeps while there is
//! none. For the same reason the notifier is the broker's `LossSink`: a removal, a revoke or a
//! policy reload hands it all of its callbacks at once, and it queues them all before it wakes
//! any worker, once. It also stamps each session-lost dispatch on the removal's clock, which
//! the status reports.
//!
//! Workers ask for a favoured priority (`CALLBACK_NICE`): during a removal they compete for
//! the CPU with the transport threads that serve the clients' reactions to the callbacks
//! already sent, and the last client to hear should not wait for the first ones' closes.
//!
//! Lock order: `state` is the only lock; no delivery runs while it is held.

use i2c_hal_core::broker::{Addressed, BusObserver, LossBatch, LossSink};
use i2c_hal_core::policy::Caller;
use i2c_hal_core::BusInfo;
use i2c_hal_platform::sched::set_this_thread_nice;
use log::{info, warn};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One callback to make, as a worker runs it.
type Delivery = Box<dyn FnOnce() + Send>;

/// Deliveries one worker makes to one client in a row before the next client's turn.
///
/// One at a time, round-robin, spread each client's callbacks over the whole removal, and over
/// RPC binder every oneway then reached the client on its own: the client woke for each, and
/// answered each with a `DEC_STRONG` for the callback object that woke one of our connection
/// threads in turn, on the CPU the deliveries need. Sent back to back, a client reads them in
/// one drain and answers once. A burst of 32 oneways is over quickly (docs/perf.md,
/// 'Session-lost callbacks after a removal'), so the next client still waits for little. (A
/// burst in a worker's hand no longer counts against the client's `queue_limit`: the limit
/// bounds what waits, and a burst is bounded by itself.)
const BURST: usize = 32;

/// The nice value delivery threads ask for; without CAP_SYS_NICE (or a matching RLIMIT_NICE)
/// they keep the default.
///
/// A removal's callbacks compete for the CPU with what clients do as they hear of it: each
/// close of a dead session, each released reference, wakes one of the transport's threads on
/// the service's CPU. At the default priority the deliveries got the smaller share of that
/// CPU, and on a one-CPU service the last callback went out later than the null server's
/// plain loop over as many (`i2c-hal-bench`, removal floor); at -10, at par with it; at -20,
/// ahead of it (docs/perf.md, 'Session-lost callbacks after a removal'). A delivery is one
/// oneway write, so on a CPU of its own the workers hold the other threads back for as long
/// as the removal's writes take; with more CPUs than busy workers, not at all.
pub const CALLBACK_NICE: i32 = -20;

/// Who a delivery is for: callbacks of one client process share one queue, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey {
    pub uid: u32,
    pub pid: i32,
}

impl From<Caller> for ClientKey {
    fn from(caller: Caller) -> ClientKey {
        ClientKey { uid: caller.uid, pid: caller.pid }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct NotifierConfig {
    /// Workers kept for healthy clients.
    pub workers: usize,
    /// Workers at most, stuck ones included (bounds the threads stopped clients can pin).
    pub max_workers: usize,
    /// Deliveries one client may have waiting.
    pub queue_limit: usize,
    /// A delivery running this long means its client stopped reading.
    pub stall_after: Duration,
    /// The nice value workers ask for (None: the default priority).
    pub worker_nice: Option<i32>,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            workers: 2,
            max_workers: 64,
            queue_limit: 256,
            stall_after: Duration::from_millis(200),
            worker_nice: Some(CALLBACK_NICE),
        }
    }
}

#[derive(Default)]
struct ClientQueue {
    pending: VecDeque<Delivery>,
    /// Waiting in `runnable` (so it is never listed twice).
    scheduled: bool,
    /// A worker is delivering to this client since then.
    running_since: Option<Instant>,
    /// Dropped since the last successful delivery (one log line per spell).
    overflowing: bool,
}

impl ClientQueue {
    fn is_finished(&self) -> bool {
        self.pending.is_empty() && self.running_since.is_none()
    }

    fn is_stuck(&self, now: Instant, stall_after: Duration) -> bool {
        self.running_since.is_some_and(|since| now.duration_since(since) >= stall_after)
    }
}

#[derive(Default)]
struct State {
    clients: HashMap<ClientKey, ClientQueue>,
    runnable: VecDeque<ClientKey>,
    workers: usize,
    idle_workers: usize,
    /// Threads in `drain`, the only ones that need to hear of each delivery.
    drain_waiters: usize,
    /// The supervisor sleeps without a period while nothing is queued or running.
    supervisor_parked: bool,
    stopping: bool,
}

impl State {
    /// Clients whose delivery has run past the stall limit.
    fn stuck_clients(&self, now: Instant, stall_after: Duration) -> usize {
        self.clients.values().filter(|q| q.is_stuck(now, stall_after)).count()
    }

    /// True when nothing is left to deliver but to clients that stopped reading.
    fn drained(&self, now: Instant, stall_after: Duration) -> bool {
        self.clients.values().all(|q| q.is_finished() || q.is_stuck(now, stall_after))
    }
}

/// What the dump shows about delivery.
#[derive(Default)]
pub struct NotifierStats {
    pub delivered: AtomicU64,
    pub dropped: AtomicU64,
    pub stalls: AtomicU64,
}

struct Shared {
    config: NotifierConfig,
    state: Mutex<State>,
    /// Workers wait here for runnable clients.
    work: Condvar,
    /// Drain waits here for progress.
    progress: Condvar,
    /// The supervisor waits here for its next round (or for work, when parked).
    supervisor: Condvar,
    stats: NotifierStats,
    /// Supervisor passes, so tests can wait for it deterministically.
    supervisor_rounds: AtomicU64,
    /// Times workers were woken for new work, so tests can count them.
    work_wakeups: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A delivery never runs under this lock, so a poisoned guard holds consistent data.
        i2c_hal_core::sync::lock(&self.state)
    }

    fn wake_a_worker(&self) {
        self.work_wakeups.fetch_add(1, Ordering::Relaxed);
        self.work.notify_one();
    }

    /// A parked supervisor resumes its rounds once something is queued or running.
    fn unpark_supervisor(&self, state: &mut State) {
        if state.supervisor_parked && !state.clients.is_empty() {
            state.supervisor_parked = false;
            self.supervisor.notify_one();
        }
    }
}

/// Every callback of a removal, a revoke or a policy reload, queued together.
impl LossSink for Notifier {
    fn losses(&self, batch: LossBatch) {
        let LossBatch { reason, message, sessions, removed, dispatches } = batch;
        let listeners = removed.as_ref().map_or(0, |(_, listeners)| listeners.len());
        let mut deliveries: Vec<(ClientKey, Delivery)> =
            Vec::with_capacity(sessions.len() + listeners);
        for Addressed { caller, observer } in sessions {
            let (message, dispatches) = (message.clone(), dispatches.clone());
            let delivery = move || {
                // Stamped as the call starts, so that a client holding the callback always
                // finds its dispatch in the status (a stamp after the call could be pending).
                if let Some(clock) = &dispatches {
                    clock.stamp();
                }
                observer.session_lost(reason, &message);
            };
            deliveries.push((caller.into(), Box::new(delivery)));
        }
        if let Some((bus, listeners)) = removed {
            let bus = Arc::new(bus);
            for Addressed { caller, observer } in listeners {
                let bus = bus.clone();
                deliveries.push((caller.into(), Box::new(move || observer.bus_removed(&bus))));
            }
        }
        self.post_all(deliveries);
    }

    fn bus_added(&self, bus: BusInfo, listeners: Vec<Addressed<dyn BusObserver>>) {
        let bus = Arc::new(bus);
        // Built before post_all takes the lock, which then only queues them.
        let deliveries: Vec<(ClientKey, Delivery)> = listeners
            .into_iter()
            .map(|Addressed { caller, observer }| {
                let bus = bus.clone();
                let delivery: Delivery = Box::new(move || observer.bus_added(&bus));
                (ClientKey::from(caller), delivery)
            })
            .collect();
        self.post_all(deliveries);
    }
}

pub struct Notifier {
    shared: Arc<Shared>,
}

impl Notifier {
    pub fn start() -> std::io::Result<Arc<Notifier>> {
        Self::with_config(NotifierConfig::default())
    }

    pub fn with_config(config: NotifierConfig) -> std::io::Result<Arc<Notifier>> {
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            progress: Condvar::new(),
            supervisor: Condvar::new(),
            stats: NotifierStats::default(),
            supervisor_rounds: AtomicU64::new(0),
            work_wakeups: AtomicU64::new(0),
        });
        for _ in 0..config.workers.max(1) {
            spawn_worker(&shared)?;
        }
        let supervised = shared.clone();
        std::thread::Builder::new()
            .name("callback-supervisor".into())
            .spawn(move || supervise(&supervised))?;
        Ok(Arc::new(Notifier { shared }))
    }

    /// Queues `delivery` for `client`, after everything queued for it before (the tests'
    /// shorthand for a batch of one; the service posts through `LossSink`).
    #[cfg(test)]
    fn post(&self, client: ClientKey, delivery: impl FnOnce() + Send + 'static) {
        self.post_all([(client, Box::new(delivery) as Delivery)]);
    }

    /// Queues every delivery, each after everything queued for its client before, and only
    /// then wakes the workers, once: a removal's 1,000 callbacks are all queued before the
    /// first worker preempts the queueing on a one-CPU service.
    fn post_all(&self, deliveries: impl IntoIterator<Item = (ClientKey, Delivery)>) {
        let shared = &self.shared;
        let mut state = shared.lock();
        let mut newly_runnable = 0;
        for (client, delivery) in deliveries {
            let queue = state.clients.entry(client).or_default();
            if queue.pending.len() >= shared.config.queue_limit {
                shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
                if !queue.overflowing {
                    queue.overflowing = true;
                    warn!(
                        "callbacks for uid {} pid {} are not being read: queue full ({}), \
                         dropping (its sessions stay dead; calls on them answer BUS_GONE)",
                        client.uid, client.pid, shared.config.queue_limit
                    );
                }
                continue;
            }
            queue.pending.push_back(delivery);
            if !queue.scheduled && queue.running_since.is_none() {
                queue.scheduled = true;
                state.runnable.push_back(client);
                newly_runnable += 1;
            }
        }
        match newly_runnable {
            0 => {}
            1 => shared.wake_a_worker(),
            _ => {
                shared.work_wakeups.fetch_add(1, Ordering::Relaxed);
                shared.work.notify_all();
            }
        }
        shared.unpark_supervisor(&mut state);
    }

    /// Waits until every delivery has been made, except to clients that stopped reading, or
    /// until `timeout` passes (the shutdown path). True when nothing but stalled clients is left.
    pub fn drain(&self, timeout: Duration) -> bool {
        let shared = &self.shared;
        let deadline = Instant::now() + timeout;
        let mut state = shared.lock();
        state.drain_waiters += 1;
        let drained = loop {
            let now = Instant::now();
            if state.drained(now, shared.config.stall_after) {
                break true;
            }
            let left = deadline.saturating_duration_since(now);
            if left.is_zero() {
                break false;
            }
            // Woken by progress, or in time to see a running delivery cross the stall limit.
            let wait = left.min(shared.config.stall_after / 4 + Duration::from_millis(1));
            state = shared.progress.wait_timeout(state, wait).unwrap_or_else(|e| e.into_inner()).0;
        };
        state.drain_waiters -= 1;
        drained
    }

    pub fn stats(&self) -> &NotifierStats {
        &self.shared.stats
    }

    /// Lines for the dump.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let (workers, queued, stuck) = {
            let state = self.shared.lock();
            let queued: usize = state.clients.values().map(|q| q.pending.len()).sum();
            (
                state.workers,
                queued,
                state.stuck_clients(Instant::now(), self.shared.config.stall_after),
            )
        };
        let stats = &self.shared.stats;
        let _ = writeln!(
            out,
            "callbacks: delivered={} dropped={} stalls={} queued={queued} stalled-clients={stuck} \
             workers={workers}",
            stats.delivered.load(Ordering::Relaxed),
            stats.dropped.load(Ordering::Relaxed),
            stats.stalls.load(Ordering::Relaxed),
        );
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.work.notify_all();
        self.shared.progress.notify_all();
        self.shared.supervisor.notify_all();
    }
}

fn spawn_worker(shared: &Arc<Shared>) -> std::io::Result<()> {
    shared.lock().workers += 1;
    let worker = shared.clone();
    let spawned = std::thread::Builder::new().name("callbacks".into()).spawn(move || work(&worker));
    if spawned.is_err() {
        shared.lock().workers -= 1;
    }
    spawned.map(|_| ())
}

/// One worker: take the next runnable client, make up to `BURST` of its deliveries in a row,
/// put the client back in line if it has more.
fn work(shared: &Shared) {
    if let Some(nice) = shared.config.worker_nice {
        favour_this_worker(nice);
    }
    let mut burst: Vec<Delivery> = Vec::with_capacity(BURST);
    let mut state = shared.lock();
    loop {
        let Some(client) = state.runnable.pop_front() else {
            let stuck = state.stuck_clients(Instant::now(), shared.config.stall_after);
            if state.stopping || state.workers.saturating_sub(stuck) > shared.config.workers.max(1)
            {
                break; // a worker added for a stall leaves once it is not needed
            }
            state.idle_workers += 1;
            state = shared.work.wait(state).unwrap_or_else(|e| e.into_inner());
            state.idle_workers -= 1;
            continue;
        };
        let Some(queue) = state.clients.get_mut(&client) else { continue };
        queue.scheduled = false;
        let take = queue.pending.len().min(BURST);
        burst.extend(queue.pending.drain(..take));
        if burst.is_empty() {
            continue;
        }
        queue.running_since = Some(Instant::now());
        drop(state);

        let delivered = burst.len() as u64;
        burst.drain(..).for_each(|delivery| delivery());

        state = shared.lock();
        shared.stats.delivered.fetch_add(delivered, Ordering::Relaxed);
        let queue = state.clients.entry(client).or_default();
        queue.running_since = None;
        queue.overflowing = false;
        if !queue.pending.is_empty() {
            queue.scheduled = true;
            state.runnable.push_back(client);
        } else {
            state.clients.remove(&client);
        }
        if state.drain_waiters > 0 {
            shared.progress.notify_all();
        }
    }
    state.workers -= 1;
}

/// Asks for `nice`; a service not allowed to keeps the default and says so once.
fn favour_this_worker(nice: i32) {
    static REFUSED: std::sync::Once = std::sync::Once::new();
    if let Err(e) = set_this_thread_nice(nice) {
        REFUSED.call_once(|| {
            info!("callback threads keep the default priority (nice {nice} refused: {e})")
        });
    }
}

/// Adds a worker whenever clients are waiting while every worker is stuck on a client that
/// stopped reading, so one stopped client never holds up the others.
fn supervise(shared: &Arc<Shared>) {
    let period = shared.config.stall_after / 2 + Duration::from_millis(1);
    let mut state = shared.lock();
    let mut stuck_before = 0;
    while !state.stopping {
        shared.supervisor_rounds.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let stuck = state.stuck_clients(now, shared.config.stall_after);
        if stuck > stuck_before {
            shared.stats.stalls.fetch_add((stuck - stuck_before) as u64, Ordering::Relaxed);
            info!("{stuck} client(s) stopped reading their callbacks; serving the others");
        }
        stuck_before = stuck;
        // The workers that can still make progress: all of them but the stuck ones.
        let healthy = state.workers.saturating_sub(stuck);
        let waiting = !state.runnable.is_empty();
        if waiting && healthy == 0 && state.idle_workers == 0 {
            if state.workers >= shared.config.max_workers {
                warn!(
                    "{stuck} clients stopped reading their callbacks; at the ceiling of {} \
                     callback threads, others wait",
                    shared.config.max_workers
                );
            } else {
                drop(state);
                info!("every callback thread waits on a client that stopped reading: adding one");
                if let Err(e) = spawn_worker(shared) {
                    warn!("cannot add a callback thread: {e}");
                }
                state = shared.lock();
                continue;
            }
        }
        if state.clients.is_empty() {
            // Nothing queued or running: no client can get stuck until `post` wakes us.
            state.supervisor_parked = true;
            state = shared.supervisor.wait(state).unwrap_or_else(|e| e.into_inner());
            state.supervisor_parked = false;
        } else {
            state =
                shared.supervisor.wait_timeout(state, period).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use i2c_hal_testkit::wait_until;
    use std::sync::mpsc;

    const A: ClientKey = ClientKey { uid: 10_001, pid: 100 };
    const B: ClientKey = ClientKey { uid: 10_002, pid: 200 };

    /// For the tests of stalls: a delivery running 20 ms counts as stuck.
    fn fast_config() -> NotifierConfig {
        NotifierConfig {
            workers: 1,
            max_workers: 4,
            queue_limit: 8,
            stall_after: Duration::from_millis(20),
            worker_nice: None,
        }
    }

    /// For every other test: no delivery ever counts as stuck, so `drain` returns only once
    /// everything went out. With a short stall limit a worker that a busy machine preempts
    /// looks stuck, and drain would return with deliveries still queued.
    fn patient_config() -> NotifierConfig {
        NotifierConfig { stall_after: Duration::from_secs(3600), ..fast_config() }
    }

    #[test]
    fn an_idle_supervisor_sleeps_until_work_arrives_and_deliveries_wake_nobody_else() {
        let notifier = Notifier::with_config(fast_config()).unwrap();
        let shared = &notifier.shared;
        wait_until("the supervisor parks while idle", || shared.lock().supervisor_parked);
        let rounds = shared.supervisor_rounds.load(Ordering::Relaxed);
        let (sent, delivered) = mpsc::channel();
        notifier.post(A, move || sent.send(()).unwrap());
        delivered.recv_timeout(Duration::from_secs(10)).expect("delivered");
        wait_until("a post wakes the parked supervisor", || {
            shared.supervisor_rounds.load(Ordering::Relaxed) > rounds
        });
        wait_until("it parks again once the queue is empty", || shared.lock().supervisor_parked);
        assert_eq!(shared.lock().drain_waiters, 0, "no drain waits, so no progress signal");
        assert!(notifier.drain(Duration::from_secs(10)));
        assert_eq!(shared.lock().drain_waiters, 0, "a drain leaves no waiter behind");
    }

    #[test]
    fn deliveries_to_one_client_run_in_order_and_drain_waits_for_them() {
        let config =
            NotifierConfig { stall_after: Duration::from_secs(3600), ..Default::default() };
        let notifier = Notifier::with_config(config).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        for i in 0..100 {
            let seen = seen.clone();
            notifier.post(A, move || seen.lock().unwrap().push(i));
        }
        assert!(notifier.drain(Duration::from_secs(10)));
        assert_eq!(*seen.lock().unwrap(), (0..100).collect::<Vec<_>>());
        assert_eq!(notifier.stats().delivered.load(Ordering::Relaxed), 100);
    }

    #[test]
    fn a_worker_sends_a_client_what_it_has_queued_in_one_burst_before_the_next_client() {
        // One worker, held on C's delivery while A and B queue up, in the order A, B, A, A.
        let notifier = Notifier::with_config(patient_config()).unwrap();
        const C: ClientKey = ClientKey { uid: 10_003, pid: 300 };
        let (release, held) = mpsc::channel::<()>();
        let (entered_tx, entered) = mpsc::channel::<()>();
        notifier.post(C, move || {
            entered_tx.send(()).unwrap();
            let _ = held.recv();
        });
        entered.recv_timeout(Duration::from_secs(10)).expect("C's delivery started");
        let seen = Arc::new(Mutex::new(Vec::new()));
        for (client, label) in [(A, "a1"), (B, "b1"), (A, "a2"), (A, "a3")] {
            let seen = seen.clone();
            notifier.post(client, move || seen.lock().unwrap().push(label));
        }
        release.send(()).unwrap();
        assert!(notifier.drain(Duration::from_secs(10)));
        assert_eq!(*seen.lock().unwrap(), ["a1", "a2", "a3", "b1"], "A's three go out together");
        assert_eq!(notifier.stats().delivered.load(Ordering::Relaxed), 5);
    }

    /// A client's callbacks, each sending its label to the test.
    struct Told(&'static str, Mutex<mpsc::Sender<&'static str>>);

    impl i2c_hal_core::broker::SessionObserver for Told {
        fn session_lost(&self, _: i2c_hal_core::LossReason, _: &str) {
            self.1.lock().unwrap().send(self.0).unwrap();
        }
    }

    impl BusObserver for Told {
        fn bus_added(&self, _: &BusInfo) {}
        fn bus_removed(&self, _: &BusInfo) {
            self.1.lock().unwrap().send(self.0).unwrap();
        }
    }

    #[test]
    fn a_removal_batch_reaches_its_client_in_order_after_one_wake_up_and_stamps_its_clock() {
        use i2c_hal_core::broker::{DispatchClock, SessionObserver};
        let notifier = Notifier::with_config(patient_config()).unwrap();
        let (sent, seen) = mpsc::channel();
        let told = |label| Arc::new(Told(label, Mutex::new(sent.clone())));
        let caller = Caller { uid: A.uid, pid: A.pid };
        let sessions: Vec<Addressed<dyn SessionObserver>> = ["first", "second"]
            .into_iter()
            .map(|label| Addressed { caller, observer: told(label) as Arc<dyn SessionObserver> })
            .collect();
        let listener = Addressed { caller, observer: told("bus removed") as Arc<dyn BusObserver> };
        let bus = BusInfo {
            bus_number: 4,
            name: "test".into(),
            stable_id: "test/i2c-4".into(),
            generation: i2c_hal_core::Generation(1),
            functionality: 0,
        };
        let clock = Arc::new(DispatchClock::new(Instant::now()));
        notifier.losses(LossBatch {
            reason: i2c_hal_core::LossReason::Removed,
            message: "bus 4 generation 1: removed".into(),
            sessions,
            removed: Some((bus, vec![listener])),
            dispatches: Some(clock.clone()),
        });
        let order: Vec<&str> =
            (0..3).map(|_| seen.recv_timeout(Duration::from_secs(10)).expect("told")).collect();
        assert_eq!(order, ["first", "second", "bus removed"], "the sessions first, in order");
        assert_eq!(notifier.shared.work_wakeups.load(Ordering::Relaxed), 1);
        assert!(clock.latest().is_some(), "each session-lost dispatch stamps the removal's clock");
    }

    #[test]
    fn a_batch_wakes_the_workers_once_not_once_per_client() {
        let notifier = Notifier::with_config(patient_config()).unwrap();
        let wakeups = || notifier.shared.work_wakeups.load(Ordering::Relaxed);
        let clients = |n: u32| (0..n).map(|i| ClientKey { uid: 10_000 + i, pid: 1_000 + i as i32 });
        let delivered = Arc::new(AtomicU64::new(0));
        let deliveries = |n| {
            clients(n)
                .map(|client| {
                    let delivered = delivered.clone();
                    let delivery: Delivery = Box::new(move || {
                        delivered.fetch_add(1, Ordering::Relaxed);
                    });
                    (client, delivery)
                })
                .collect::<Vec<_>>()
        };

        notifier.post_all(deliveries(15));
        assert_eq!(wakeups(), 1, "one wake-up for the whole batch");
        assert!(notifier.drain(Duration::from_secs(10)));
        assert_eq!(delivered.load(Ordering::Relaxed), 15, "every delivery of the batch went out");

        // Posted one by one, each client that becomes runnable wakes a worker at once.
        for delivery in deliveries(3) {
            notifier.post_all([delivery]);
        }
        assert!(notifier.drain(Duration::from_secs(10)));
        assert_eq!(wakeups(), 1 + 3);
        assert_eq!(delivered.load(Ordering::Relaxed), 18);
    }

    #[test]
    fn workers_run_at_the_nice_value_they_are_given() {
        // Raising a nice value needs no privilege, so the test runs anywhere.
        let before = i2c_hal_platform::sched::this_thread_nice().unwrap();
        assert!(before < 19, "the suite already runs at nice 19: nothing to raise");
        let wanted = (before + 3).min(19);
        let config = NotifierConfig { worker_nice: Some(wanted), ..patient_config() };
        let notifier = Notifier::with_config(config).unwrap();
        let (sent, seen) = mpsc::channel();
        notifier.post(A, move || sent.send(i2c_hal_platform::sched::this_thread_nice()).unwrap());
        let nice = seen.recv_timeout(Duration::from_secs(10)).expect("delivered").unwrap();
        assert_eq!(nice, wanted);
    }

    #[test]
    fn a_client_that_stops_reading_delays_no_other_client() {
        // One worker only: the supervisor must add one when that worker is stuck.
        let notifier = Notifier::with_config(fast_config()).unwrap();
        let (release, stuck) = mpsc::channel::<()>();
        let (entered_tx, entered) = mpsc::channel::<()>();
        notifier.post(A, move || {
            entered_tx.send(()).unwrap();
            let _ = stuck.recv(); // blocks like a write to a full socket
        });
        entered.recv_timeout(Duration::from_secs(10)).expect("A's delivery started");
        let (done_tx, done) = mpsc::channel();
        for i in 0..5 {
            let done_tx = done_tx.clone();
            notifier.post(B, move || done_tx.send(i).unwrap());
        }
        let got: Vec<i32> =
            (0..5).map(|_| done.recv_timeout(Duration::from_secs(10)).expect("B served")).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4], "B's callbacks arrive, in order");
        assert!(notifier.stats().stalls.load(Ordering::Relaxed) >= 1);
        // Drain counts the stopped client as done: shutdown is not held hostage by it.
        assert!(notifier.drain(Duration::from_secs(10)));
        release.send(()).unwrap();
    }

    #[test]
    fn a_full_queue_drops_and_counts_but_keeps_order_of_what_it_kept() {
        let notifier = Notifier::with_config(patient_config()).unwrap();
        let (release, stuck) = mpsc::channel::<()>();
        let (entered_tx, entered) = mpsc::channel::<()>();
        notifier.post(A, move || {
            entered_tx.send(()).unwrap();
            let _ = stuck.recv();
        });
        entered.recv_timeout(Duration::from_secs(10)).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        for i in 0..20 {
            let seen = seen.clone();
            notifier.post(A, move || seen.lock().unwrap().push(i));
        }
        assert_eq!(notifier.stats().dropped.load(Ordering::Relaxed), 12, "8 fit, 12 dropped");
        release.send(()).unwrap();
        assert!(notifier.drain(Duration::from_secs(10)));
        assert_eq!(*seen.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn drain_gives_up_on_work_that_has_not_yet_stalled_when_time_runs_out() {
        let config = NotifierConfig { stall_after: Duration::from_secs(60), ..fast_config() };
        let notifier = Notifier::with_config(config).unwrap();
        let (release, wait) = mpsc::channel::<()>();
        notifier.post(A, move || {
            let _ = wait.recv();
        });
        assert!(!notifier.drain(Duration::from_millis(50)));
        release.send(()).unwrap();
        assert!(notifier.drain(Duration::from_secs(10)));
    }

    #[test]
    fn stuck_threads_are_bounded_by_the_ceiling() {
        let notifier = Notifier::with_config(fast_config()).unwrap();
        let (release, stuck) = mpsc::channel::<()>();
        let stuck = Arc::new(Mutex::new(stuck));
        let started = Arc::new(AtomicU64::new(0));
        // Ten stopped clients, ceiling of four threads.
        for pid in 0..10 {
            let (stuck, started) = (stuck.clone(), started.clone());
            notifier.post(ClientKey { uid: 1, pid }, move || {
                started.fetch_add(1, Ordering::SeqCst);
                let _ = stuck.lock().unwrap().recv();
            });
        }
        let wait_for = |what: &str, condition: &dyn Fn() -> bool| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !condition() {
                assert!(Instant::now() < deadline, "timed out waiting for {what}");
                std::thread::sleep(Duration::from_millis(2));
            }
        };
        wait_for("four stuck deliveries", &|| started.load(Ordering::SeqCst) == 4);
        // Let the supervisor look again and again: it must add nothing past the ceiling.
        let rounds = notifier.shared.supervisor_rounds.load(Ordering::Relaxed);
        wait_for("five more supervisor passes", &|| {
            notifier.shared.supervisor_rounds.load(Ordering::Relaxed) >= rounds + 5
        });
        assert_eq!(notifier.shared.lock().workers, 4, "exactly the ceiling of threads");
        assert_eq!(started.load(Ordering::SeqCst), 4, "one stuck thread per stopped client");
        for _ in 0..10 {
            let _ = release.send(());
        }
    }

    /// A removal with 1,000 sessions of 100 clients, one of which stopped reading: the fd is
    /// closed before any callback runs, and the other 99 clients get every callback while the
    /// stopped one is still stuck (with the default pool, no stall has to be detected first).
    #[test]
    fn a_removal_closes_the_fd_first_and_a_stopped_client_holds_up_no_other_client() {
        use i2c_hal_core::broker::{Broker, OpenRequest, SessionObserver};
        use i2c_hal_core::device::{BusDevice, DeviceFault, DeviceOpener, Target, Transferred};
        use i2c_hal_core::policy::{Caller, Limits, OpenPolicy};
        use i2c_hal_core::request::{func, MessageRef, SmbusOp, SmbusValue};
        use i2c_hal_core::{AdapterDescriptor, BusSelector, LossReason};
        use std::sync::atomic::AtomicBool;

        /// Its drop is the fd's close.
        struct Device(Arc<AtomicBool>);
        impl Drop for Device {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        impl BusDevice for Device {
            fn claim(&mut self, _: Target) -> Result<(), DeviceFault> {
                Ok(())
            }
            fn transfer(
                &mut self,
                _: Target,
                _: &[MessageRef<'_>],
            ) -> Result<Transferred, DeviceFault> {
                Ok(Transferred::default())
            }
            fn smbus(&mut self, _: Target, _: &SmbusOp) -> Result<SmbusValue, DeviceFault> {
                Ok(SmbusValue::None)
            }
            fn functionality(&self) -> u64 {
                func::I2C_FUNC_I2C
            }
        }
        struct Opener(Arc<AtomicBool>);
        impl DeviceOpener for Opener {
            fn open(&self, _: u32) -> Result<Box<dyn BusDevice>, DeviceFault> {
                Ok(Box::new(Device(self.0.clone())))
            }
            fn functionality(&self, _: u32) -> Result<u64, DeviceFault> {
                Ok(func::I2C_FUNC_I2C)
            }
        }
        /// A client's callback, with a channel for the client: it records whether the fd was
        /// already closed when it ran.
        struct Observer {
            pid: i32,
            closed: Arc<AtomicBool>,
            delivered: Mutex<mpsc::Sender<(i32, bool)>>,
            stopped: Option<Arc<Mutex<mpsc::Receiver<()>>>>,
        }
        impl SessionObserver for Observer {
            fn session_lost(&self, _: LossReason, _: &str) {
                if let Some(stopped) = &self.stopped {
                    let _ = stopped.lock().unwrap().recv(); // a client that never reads
                }
                let closed = self.closed.load(Ordering::SeqCst);
                let _ = self.delivered.lock().unwrap().send((self.pid, closed));
            }
        }

        // The daemon's notifier, at the default priority: -20 is not what this test is about,
        // and would crowd the other tests' stall timing when the suite runs as root.
        let config = NotifierConfig { worker_nice: None, ..NotifierConfig::default() };
        let notifier = Notifier::with_config(config).unwrap();
        let closed = Arc::new(AtomicBool::new(false));
        let limits = Limits { max_sessions_per_uid: 1_000, ..Limits::default() };
        // As the daemon wires them: the removal hands all 1,000 to the notifier at once.
        let opener = Arc::new(Opener(closed.clone()));
        let broker = Broker::new(opener, Arc::new(OpenPolicy), limits, notifier.clone());
        broker.adapter_added(AdapterDescriptor {
            bus_number: 4,
            devpath: "/devices/test/i2c-4".into(),
            name: "test".into(),
            stable_id: "test/i2c-4".into(),
            functionality: 0,
        });
        let (release, stuck) = mpsc::channel::<()>();
        let stuck = Arc::new(Mutex::new(stuck));
        let (delivered, deliveries) = mpsc::channel();
        for n in 0..1_000 {
            let client = ClientKey { uid: 10_000, pid: n / 10 };
            let observer = Arc::new(Observer {
                pid: client.pid,
                closed: closed.clone(),
                delivered: Mutex::new(delivered.clone()),
                stopped: (client.pid == 0).then(|| stuck.clone()),
            });
            let request = OpenRequest {
                bus: BusSelector::Number(4),
                generation: None,
                address: 0x08 + i64::from(n % 0x70),
                exclusive: false,
                ten_bit: false,
                pec: false,
            };
            broker
                .open_session(Caller { uid: 10_000, pid: client.pid }, &request, observer)
                .unwrap();
        }
        broker.adapter_removed(4, "/devices/test/i2c-4");
        assert!(closed.load(Ordering::SeqCst), "the fd is closed when the removal returns");
        let mut per_client = HashMap::new();
        for _ in 0..990 {
            let (pid, fd_was_closed) =
                deliveries.recv_timeout(Duration::from_secs(30)).expect("a callback");
            assert!(fd_was_closed, "no callback runs before the fd is closed");
            *per_client.entry(pid).or_insert(0) += 1;
        }
        assert_eq!(per_client.len(), 99, "every client but the stopped one: {per_client:?}");
        assert!(per_client.values().all(|n| *n == 10), "{per_client:?}");
        assert!(deliveries.try_recv().is_err(), "the stopped client got nothing yet");
        // Once it reads again its ten arrive too.
        for _ in 0..10 {
            release.send(()).unwrap();
        }
        for _ in 0..10 {
            assert_eq!(deliveries.recv_timeout(Duration::from_secs(30)).unwrap().0, 0);
        }
    }
}
