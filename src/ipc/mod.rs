//! Binder glue: the only module that names binder types. `compat` is the single place where
//! libbinder_rs (Android) and rsbinder (Linux hosts) are mapped to one set of names.

pub mod aidl {
    rsbinder::include_aidl!("vendor_i2c_aidl");
}

#[cfg(feature = "client")]
pub mod client;
pub mod compat;
pub mod endpoint;
pub mod notifier;
pub mod server;
pub mod service;
