//! The binder-free core: adapters (stable id + generation), sessions, policy and the removal
//! state machine. No IPC and no syscalls live here; everything is unit-tested with plain values.

#![forbid(unsafe_code)]

pub mod access;
pub mod broker;
pub mod bus;
pub mod device;
pub mod error;
pub mod fair;
pub mod policy;
pub mod request;
pub mod stats;
pub mod sync;

pub use bus::{AdapterDescriptor, BusInfo, BusSelector, Generation, LossReason};
pub use error::{Error, ErrorCode, Result};
