//! What a caller can make the service write to its log is bounded. The transport library logs
//! a line for each malformed transaction a peer sends, and a peer can send them as fast as it
//! writes (docs/perf.md, 'Log lines a peer can cause'); so its lines (the log target the logger
//! is given: compat's `BINDER_LOG_TARGET`) pass through a budget: at most
//! `PER_UID` lines per uid and `OVERALL` in all per `WINDOW`, the rest counted and summed up
//! in one line per uid when its window ends (a thread looks every window, so the count
//! comes even if the peer goes quiet). The uid is the peer whose bytes the logging thread was
//! handling: the RPC transport names it for its thread before each read and send
//! ([`handling`]); lines from any other thread count against the overall budget only.
//!
//! The service's own lines about callers are bounded where they are written (audit denials in
//! `core::policy::engine`, connection refusals in `admission`, closed connections in `frames`).

use log::{Log, Metadata, Record};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines one uid may cause in a window.
pub const PER_UID: u32 = 10;
/// Lines all callers together may cause in a window.
pub const OVERALL: u32 = 100;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(10);

thread_local! {
    static PEER: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Names the peer whose bytes this thread is handling now (the RPC transport calls it).
pub fn handling(uid: u32) {
    PEER.with(|peer| peer.set(Some(uid)));
}

fn peer_of_this_thread() -> Option<u32> {
    PEER.with(Cell::get)
}

#[derive(Default)]
struct Window {
    started: Option<Instant>,
    written: u32,
    suppressed: u64,
}

impl Window {
    /// Starts a new window at `now` when there is none or the last one is over (its count
    /// was summed up by `LineBudget::flush` first).
    fn roll(&mut self, now: Instant) {
        let current = self.started.is_some_and(|s| now.saturating_duration_since(s) < WINDOW);
        if !current {
            *self = Window { started: Some(now), ..Window::default() };
        }
    }
}

/// The budget: pure, with the time given, so that it is tested without waiting.
#[derive(Default)]
pub struct LineBudget {
    per_uid: HashMap<Option<u32>, Window>,
    overall: Window,
}

/// A summary line owed: `suppressed` lines of `uid` (None: of no known peer) went unwritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub uid: Option<u32>,
    pub suppressed: u64,
}

impl LineBudget {
    /// Whether a line caused by `uid` may be written at `now`, and the summaries now due.
    pub fn admit(&mut self, uid: Option<u32>, now: Instant) -> (bool, Vec<Suppressed>) {
        let due = self.flush(now);
        self.overall.roll(now);
        let window = self.per_uid.entry(uid).or_default();
        window.roll(now);
        let written = window.written < PER_UID && self.overall.written < OVERALL;
        if written {
            window.written += 1;
            self.overall.written += 1;
        } else {
            window.suppressed += 1;
        }
        (written, due)
    }

    /// The summaries of windows that are over, whose counts are then forgotten.
    pub fn flush(&mut self, now: Instant) -> Vec<Suppressed> {
        let mut due = Vec::new();
        self.per_uid.retain(|uid, window| {
            let over = window.started.is_some_and(|s| now.saturating_duration_since(s) >= WINDOW);
            if over && window.suppressed > 0 {
                due.push(Suppressed { uid: *uid, suppressed: window.suppressed });
            }
            !over
        });
        due.sort_by_key(|s| s.uid);
        due
    }
}

/// Wraps the process's logger: lines under one log target (the transport library's) go
/// through the budget.
pub struct Budgeted<L> {
    inner: L,
    /// The target (a module path prefix) whose lines callers cause.
    target: &'static str,
    budget: Arc<Mutex<LineBudget>>,
}

impl<L: Log> Budgeted<L> {
    pub fn new(inner: L, target: &'static str) -> Budgeted<L> {
        Budgeted { inner, target, budget: Arc::default() }
    }

    /// Writes the summaries of windows that ended, every window, from a thread of its own.
    pub fn start_summaries(&self) -> std::io::Result<()>
    where
        L: 'static,
    {
        let budget = Arc::clone(&self.budget);
        std::thread::Builder::new().name("log-budget".into()).spawn(move || loop {
            std::thread::sleep(WINDOW);
            let due = i2c_hal_core::sync::lock(&budget).flush(Instant::now());
            due.into_iter().for_each(summarize);
        })?;
        Ok(())
    }
}

fn summarize(owed: Suppressed) {
    let who = match owed.uid {
        Some(uid) => format!("uid {uid}'s connections"),
        None => "connections of no known peer".to_string(),
    };
    log::warn!(
        "log: {} line(s) of the transport library about {who} were not written (at most \
         {PER_UID} per uid and {OVERALL} in all per {}s)",
        owed.suppressed,
        WINDOW.as_secs()
    );
}

impl<L: Log> Log for Budgeted<L> {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        let caller_caused = record.target().starts_with(self.target);
        if !caller_caused || !self.inner.enabled(record.metadata()) {
            return self.inner.log(record);
        }
        let (write, due) =
            i2c_hal_core::sync::lock(&self.budget).admit(peer_of_this_thread(), Instant::now());
        due.into_iter().for_each(summarize);
        if write {
            self.inner.log(record);
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_uid_gets_its_share_the_rest_is_counted_and_summed_up_once() {
        let mut budget = LineBudget::default();
        let t0 = Instant::now();
        let written = (0..50).filter(|_| budget.admit(Some(7), t0).0).count();
        assert_eq!(written, PER_UID as usize);
        // Another uid is not held back by the first one's flood.
        assert!(budget.admit(Some(8), t0).0);
        // The window ends: the next line is written, and the summary of 40 is due, once.
        let (write, due) = budget.admit(Some(7), t0 + WINDOW);
        assert!(write);
        assert!(due.contains(&Suppressed { uid: Some(7), suppressed: 40 }), "{due:?}");
        assert!(budget
            .flush(t0 + WINDOW * 2)
            .iter()
            .all(|s| s.uid != Some(7) || s.suppressed == 0));
    }

    #[test]
    fn all_callers_together_get_the_overall_share() {
        let mut budget = LineBudget::default();
        let t0 = Instant::now();
        let written = (0..1000u32).filter(|uid| budget.admit(Some(*uid), t0).0).count();
        assert_eq!(written, OVERALL as usize);
        let due = budget.flush(t0 + WINDOW);
        let total: u64 = due.iter().map(|s| s.suppressed).sum();
        assert_eq!(total, 1000 - u64::from(OVERALL));
    }

    /// Counts what reaches it.
    #[derive(Default)]
    struct Counting(std::sync::atomic::AtomicUsize);

    impl Log for Counting {
        fn enabled(&self, _: &Metadata) -> bool {
            true
        }
        fn log(&self, _: &Record) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        fn flush(&self) {}
    }

    fn line(target: &str, logger: &dyn Log) {
        let args = format_args!("a malformed transaction");
        logger.log(&Record::builder().target(target).level(log::Level::Error).args(args).build());
    }

    #[test]
    fn a_flood_of_transport_lines_from_one_peer_writes_its_share_and_the_rest_goes_through() {
        let budgeted = Budgeted::new(Counting::default(), "transport");
        let written = || budgeted.inner.0.load(std::sync::atomic::Ordering::Relaxed);
        // On a transport thread handling uid 4242's bytes, as the RPC transport marks it.
        std::thread::scope(|s| {
            s.spawn(|| {
                handling(4242);
                (0..20_000).for_each(|_| line("transport::session", &budgeted));
            });
        });
        assert_eq!(written(), PER_UID as usize, "20,000 lines of one peer");
        // The service's own lines are not the transport library's: never held back here.
        (0..50).for_each(|_| line("i2c_hal_core::broker", &budgeted));
        assert_eq!(written(), PER_UID as usize + 50);
        let owed = i2c_hal_core::sync::lock(&budgeted.budget).flush(Instant::now() + WINDOW);
        assert_eq!(owed, [Suppressed { uid: Some(4242), suppressed: 20_000 - u64::from(PER_UID) }]);
    }

    #[test]
    fn a_summary_comes_from_the_flush_even_when_the_peer_goes_quiet() {
        let mut budget = LineBudget::default();
        let t0 = Instant::now();
        (0..PER_UID + 3).for_each(|_| drop(budget.admit(None, t0)));
        assert!(budget.flush(t0 + WINDOW / 2).is_empty(), "not before the window ends");
        assert_eq!(budget.flush(t0 + WINDOW), [Suppressed { uid: None, suppressed: 3 }]);
    }
}
