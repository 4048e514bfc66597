//! The binder-free core: adapters (stable id + generation), sessions, policy and the removal
//! state machine. No IPC and no syscalls live here; everything is unit-tested with plain values.

#![forbid(unsafe_code)]

pub mod broker;
pub mod bus;
pub mod device;
pub mod error;
pub mod fair;
pub mod policy;
pub mod request;
pub mod stats;
pub mod sync;

/// The version `--version` prints. A literal, since Soong sets no `CARGO_PKG_VERSION`;
/// `cargo xtask check android` checks that it is Cargo.toml's.
pub const VERSION: &str = "0.1.0";

/// An environment variable's value, unless it is unset or empty: an empty one means "not
/// set" for every variable the service and its clients read.
pub fn non_empty_var(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

pub use bus::{AdapterDescriptor, BusInfo, BusSelector, Generation, LossReason};
pub use error::{Error, ErrorCode, Result};
