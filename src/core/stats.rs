//! Counters a dump shows: what the service did, what failed and how fast removal was.

use super::error::ErrorCode;
use super::sync::lock;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

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

    pub fn record_removal(&self, latency: Duration) {
        let mut removal = lock(&self.removal);
        removal.count += 1;
        removal.last = latency;
        removal.max = removal.max.max(latency);
        removal.total += latency;
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
