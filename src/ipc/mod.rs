//! Binder glue: the only module that names binder types. `compat` is the single place that
//! knows which binder implementation the build uses (AOSP's on Android, a pure-Rust one on Linux
//! hosts) and maps both to one set of names; `convert` holds every AIDL <-> core conversion.

#![forbid(unsafe_code)]

#[cfg(not(target_os = "android"))]
pub mod aidl {
    rsbinder::include_aidl!("vendor_i2c_aidl");
}

pub mod admission;
#[cfg(feature = "client")]
pub mod client;
pub mod compat;
pub mod convert;
pub mod endpoint;
pub mod frames;
pub mod log_budget;
pub mod notifier;
// The benchmark's null server (hosts only: it serves over the RPC socket).
#[cfg(all(feature = "bench", not(target_os = "android")))]
pub mod null;
pub mod server;
pub mod service;
