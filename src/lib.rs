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

#[cfg(feature = "client")]
pub mod cli;
pub mod core;
pub mod daemon;
pub mod ipc;
pub mod platform;
