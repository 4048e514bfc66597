//! Counters a dump shows: what the service did, what failed and how fast removal was.

use super::broker::DispatchClock;
use super::bus::Generation;
use super::error::ErrorCode;
use super::sync::lock;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many removals the status keeps.
pub const RECENT_REMOVALS: usize = 16;

/// One adapter removal as the broker handled it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovalEvent {
    pub bus_number: u32,
    pub stable_id: String,
    pub generation: Generation,
    /// From the removal event to the fd being closed.
    pub latency: Duration,
    pub sessions_lost: usize,
    pub at: Instant,
    /// When the removal event reached the broker: what `latency` and `last_callback` count from.
    pub started: Instant,
    /// From the removal event to the last of its session-lost callbacks handed to the
    /// transport so far (read from the notifier's stamps when a status is taken).
    pub last_callback: Option<Duration>,
    /// The event's CLOCK_MONOTONIC time as a status report carries it (None inside the
    /// service, which has `started`): how a client on the same host lines its clock up.
    pub event_clock_nanos: Option<u64>,
}

#[derive(Default)]
pub struct Stats {
    pub sessions_opened: AtomicU64,
    pub sessions_closed: AtomicU64,
    pub sessions_lost: AtomicU64,
    pub transfers: AtomicU64,
    pub smbus_operations: AtomicU64,
    pub bytes_read: AtomicU64,
    pub bytes_written: AtomicU64,
    pub adapters_added: AtomicU64,
    pub adapters_removed: AtomicU64,
    pub revocations: AtomicU64,
    errors: Mutex<BTreeMap<ErrorCode, u64>>,
    removal: Mutex<RemovalLatency>,
    /// Each with the clock its callbacks' dispatches are stamped on.
    recent_removals: Mutex<VecDeque<(RemovalEvent, Arc<DispatchClock>)>>,
}

/// Time from the removal event to the fds being closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RemovalLatency {
    pub count: u64,
    pub last: Duration,
    pub max: Duration,
    pub total: Duration,
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64, amount: u64) {
        counter.fetch_add(amount, Ordering::Relaxed);
    }

    pub fn record_error(&self, code: ErrorCode) {
        let mut errors = lock(&self.errors);
        *errors.entry(code).or_default() += 1;
    }

    pub fn record_removal(&self, event: RemovalEvent, dispatches: Arc<DispatchClock>) {
        {
            let mut removal = lock(&self.removal);
            removal.count += 1;
            removal.last = event.latency;
            removal.max = removal.max.max(event.latency);
            removal.total += event.latency;
        }
        let mut recent = lock(&self.recent_removals);
        if recent.len() == RECENT_REMOVALS {
            recent.pop_front();
        }
        recent.push_back((event, dispatches));
    }

    /// The last RECENT_REMOVALS removals, oldest first, each with the time to the last of
    /// its own session-lost callbacks dispatched so far.
    pub fn recent_removals(&self) -> Vec<RemovalEvent> {
        let recent = lock(&self.recent_removals);
        let with_last_callback = |(event, dispatches): &(RemovalEvent, Arc<DispatchClock>)| {
            RemovalEvent { last_callback: dispatches.latest(), ..event.clone() }
        };
        recent.iter().map(with_last_callback).collect()
    }

    /// Every counter by a stable name (errors as "errors.<CODE>"), for status reports.
    pub fn counters(&self) -> Vec<(String, u64)> {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut counters: Vec<(String, u64)> = [
            ("sessions.opened", &self.sessions_opened),
            ("sessions.closed", &self.sessions_closed),
            ("sessions.lost", &self.sessions_lost),
            ("transfers", &self.transfers),
            ("smbus.operations", &self.smbus_operations),
            ("bytes.read", &self.bytes_read),
            ("bytes.written", &self.bytes_written),
            ("adapters.added", &self.adapters_added),
            ("adapters.removed", &self.adapters_removed),
            ("revocations", &self.revocations),
        ]
        .into_iter()
        .map(|(name, counter)| (name.to_string(), load(counter)))
        .collect();
        counters.extend(self.errors().into_iter().map(|(code, n)| (format!("errors.{code}"), n)));
        counters
    }

    pub fn errors(&self) -> BTreeMap<ErrorCode, u64> {
        lock(&self.errors).clone()
    }

    pub fn removal_latency(&self) -> RemovalLatency {
        *lock(&self.removal)
    }

    pub fn render(&self, out: &mut String) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "sessions: opened={} closed={} lost={}",
            load(&self.sessions_opened),
            load(&self.sessions_closed),
            load(&self.sessions_lost)
        );
        let _ = writeln!(
            out,
            "operations: transfers={} smbus={} bytes_read={} bytes_written={}",
            load(&self.transfers),
            load(&self.smbus_operations),
            load(&self.bytes_read),
            load(&self.bytes_written)
        );
        let _ = writeln!(
            out,
            "adapters: added={} removed={} revocations={}",
            load(&self.adapters_added),
            load(&self.adapters_removed),
            load(&self.revocations)
        );
        let removal = self.removal_latency();
        let mean = removal.total.checked_div(removal.count.max(1) as u32).unwrap_or_default();
        let _ = writeln!(
            out,
            "removal latency (event to fds closed): count={} last={:?} max={:?} mean={:?}",
            removal.count, removal.last, removal.max, mean
        );
        let errors = self.errors();
        let listed: Vec<String> = errors.iter().map(|(c, n)| format!("{c}={n}")).collect();
        let _ = writeln!(
            out,
            "errors: {}",
            if listed.is_empty() { "none".into() } else { listed.join(" ") }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removal(started: Instant) -> RemovalEvent {
        RemovalEvent {
            bus_number: 0,
            stable_id: "x".into(),
            generation: Generation(1),
            latency: Duration::from_micros(5),
            sessions_lost: 1,
            at: started,
            started,
            last_callback: None,
            event_clock_nanos: None,
        }
    }

    #[test]
    fn each_removal_reports_the_last_dispatch_of_its_own_callbacks() {
        let stats = Stats::default();
        let first = Arc::new(DispatchClock::new(Instant::now()));
        let second = Arc::new(DispatchClock::new(Instant::now()));
        stats.record_removal(removal(Instant::now()), first.clone());
        stats.record_removal(removal(Instant::now()), second.clone());
        assert_eq!(stats.recent_removals()[0].last_callback, None, "nothing dispatched yet");
        first.stamp();
        let recent = stats.recent_removals();
        assert_eq!(recent[0].last_callback, first.latest());
        assert!(recent[0].last_callback.is_some());
        assert_eq!(
            recent[1].last_callback, None,
            "the first removal's callbacks are not the second's"
        );
        second.stamp();
        assert_eq!(stats.recent_removals()[1].last_callback, second.latest());
    }
}
