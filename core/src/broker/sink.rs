//! How the broker tells clients what happened: every event hands its whole batch of callbacks
//! to the one [`LossSink`] the broker was built with, after the fds are closed and with no lock
//! held. The sink decides how they go out (the service's notifier queues them per client and
//! wakes its delivery threads once per batch; [`DirectSink`] calls them in place), and stamps
//! when each session-lost callback is dispatched.

use super::super::bus::{BusInfo, LossReason};
use super::super::policy::Caller;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A client's session-lost callback. Called once, on the sink's thread: it may block on the
/// client (a oneway write to a full socket), so the broker never calls it itself.
pub trait SessionObserver: Send + Sync {
    fn session_lost(&self, reason: LossReason, message: &str);
}

/// A client's hot-plug listener, called as [`SessionObserver`] is.
pub trait BusObserver: Send + Sync {
    fn bus_added(&self, bus: &BusInfo);
    fn bus_removed(&self, bus: &BusInfo);
}

/// One callback to make, and whose it is: callbacks to one client process keep their order.
pub struct Addressed<O: ?Sized> {
    pub caller: Caller,
    pub observer: Arc<O>,
}

/// Everything one event (a removal, a revoke, a policy reload, a shutdown) tells.
pub struct LossBatch {
    pub reason: LossReason,
    /// What each session-lost callback says (`loss_message`), shared by all of them.
    pub message: Arc<str>,
    /// The sessions that died, in the order they were opened.
    pub sessions: Vec<Addressed<dyn SessionObserver>>,
    /// For a removal: the bus that left, and the listeners to tell.
    pub removed: Option<(BusInfo, Vec<Addressed<dyn BusObserver>>)>,
    /// For a removal: where the sink stamps each session-lost dispatch, so that the status
    /// reports when the last one went out.
    pub dispatches: Option<Arc<DispatchClock>>,
}

impl LossBatch {
    /// Sessions that died with their bus still there (a revoke, a policy reload).
    pub fn sessions(
        reason: LossReason,
        message: impl Into<Arc<str>>,
        sessions: Vec<Addressed<dyn SessionObserver>>,
    ) -> LossBatch {
        LossBatch { reason, message: message.into(), sessions, removed: None, dispatches: None }
    }
}

/// Where the broker hands its callbacks. Implementations must not block: queue, or call
/// observers that do not block.
pub trait LossSink: Send + Sync {
    /// Every callback of one event, at once.
    fn losses(&self, batch: LossBatch);
    /// A bus appeared: tell `listeners`.
    fn bus_added(&self, bus: BusInfo, listeners: Vec<Addressed<dyn BusObserver>>);
}

/// Calls every observer in place, in the broker's thread: for tests and tools whose
/// observers do not block.
pub struct DirectSink;

impl LossSink for DirectSink {
    fn losses(&self, batch: LossBatch) {
        for told in &batch.sessions {
            if let Some(clock) = &batch.dispatches {
                clock.stamp();
            }
            told.observer.session_lost(batch.reason, &batch.message);
        }
        if let Some((bus, listeners)) = &batch.removed {
            for told in listeners {
                told.observer.bus_removed(bus);
            }
        }
    }

    fn bus_added(&self, bus: BusInfo, listeners: Vec<Addressed<dyn BusObserver>>) {
        for told in listeners {
            told.observer.bus_added(&bus);
        }
    }
}

/// When the last callback of one removal began to be dispatched, counted from the removal
/// event. Stamped by every dispatch, from any thread, without a lock.
#[derive(Debug)]
pub struct DispatchClock {
    since: Instant,
    /// Nanoseconds since `since` of the latest stamp, plus one; 0 before the first.
    latest: AtomicU64,
}

impl DispatchClock {
    pub fn new(since: Instant) -> DispatchClock {
        DispatchClock { since, latest: AtomicU64::new(0) }
    }

    /// A callback is being handed to the transport now. Delivery threads finish in any
    /// order; the latest moment is the one that counts.
    pub fn stamp(&self) {
        let nanos = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.latest.fetch_max(nanos.saturating_add(1), Ordering::Relaxed);
    }

    /// From the event to the latest stamp; None before any.
    pub fn latest(&self) -> Option<Duration> {
        match self.latest.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n - 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_keeps_the_latest_stamp_whatever_order_they_come_in() {
        let since = Instant::now();
        let clock = DispatchClock::new(since);
        assert_eq!(clock.latest(), None);
        clock.stamp();
        let first = clock.latest().unwrap();
        // A stamp taken earlier but recorded later (a slower thread) cannot move it back.
        clock.latest.fetch_max(1, Ordering::Relaxed);
        assert_eq!(clock.latest(), Some(first));
        clock.stamp();
        assert!(clock.latest().unwrap() >= first);
        assert!(clock.latest().unwrap() <= since.elapsed());
    }
}
