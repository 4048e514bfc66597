//! The one bounded poll every test waits with (the VTS suite, the host harness in tests/common
//! and the crates' unit tests): a condition another process or thread reaches on its own,
//! checked every 10 ms until it holds or the time is up. Test code only; nothing shipped in the
//! vendor image links it.

use std::time::{Duration, Instant};

const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
pub fn poll_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// How long [`wait_until`] waits: long enough for a loaded machine, short enough to fail.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Polls `condition` (a state other threads reach on their own) for up to [`WAIT_TIMEOUT`];
/// panics naming `what` if it never holds.
pub fn wait_until(what: &str, condition: impl FnMut() -> bool) {
    assert!(
        poll_until(WAIT_TIMEOUT, condition),
        "timed out after {WAIT_TIMEOUT:?} waiting until {what}"
    );
}
