//! i2c-hal: an Android vendor HAL that is the only holder of /dev/i2c-N and gives apps binder
//! sessions instead, so that unplugging a module never waits for an app.
//!
//! Layout (dependencies point inward, towards `core`):
//! - [`core`]: adapters, generations, sessions, policy and the removal state machine; no IPC.
//! - [`platform`]: i2c-dev, netlink uevents, sysfs, and the simulator (feature `sim`).
//! - [`ipc`]: the only code that knows binder (service objects, callbacks, the client).
//! - `cli`: i2cctl's parsing and printing (feature `client`).
//!
//! The vendor build is `--no-default-features`: neither the simulator nor the client is in it.

/// The version `--version` prints. A literal, since Soong sets no `CARGO_PKG_VERSION`;
/// tests/android_files.rs checks that it is Cargo.toml's.
pub const VERSION: &str = "0.1.0";

#[cfg(feature = "client")]
pub mod cli;
/// The binder-free core, a crate of its own (core/, Android.bp's libi2c_hal_core).
pub use i2c_hal_core as core;
pub mod daemon;
pub mod ipc;
pub mod platform;

/// The one bounded poll every test waits with, the VTS suite's and the host harness's too.
#[cfg(test)]
#[path = "../vts/poll.rs"]
mod poll;

/// Polls `condition` (a state other threads reach on their own) for up to 10 s; panics naming
/// `what` if it never holds.
#[cfg(test)]
pub(crate) fn wait_until(what: &str, condition: impl FnMut() -> bool) {
    let timeout = std::time::Duration::from_secs(10);
    assert!(
        poll::poll_until(timeout, condition),
        "timed out after {timeout:?} waiting until {what}"
    );
}
