//! Mirrors android-binder 0.2.2 `src/service.rs` (compiled with feature `kernel_ipc`, not
//! `android_ndk`).

use crate::binder::{FromIBinder, Strong};
use crate::error::StatusCode;
use crate::proxy::SpIBinder;

/// Registers `binder` with the default service manager as `identifier` (panics on a NUL).
///
/// Mirrors `pub fn add_service(identifier: &str, mut binder: SpIBinder) -> Result<(), StatusCode>`
/// in android-binder 0.2.2 `src/service.rs`.
pub fn add_service(_identifier: &str, _binder: SpIBinder) -> Result<(), StatusCode> {
    unimplemented!("binder stub")
}

/// Looks a service up without waiting and converts it to the interface `T`.
///
/// Mirrors `pub fn check_interface<T: FromIBinder + ?Sized>(name: &str)
/// -> Result<Strong<T>, StatusCode>` in android-binder 0.2.2 `src/service.rs`.
pub fn check_interface<T: FromIBinder + ?Sized>(_name: &str) -> Result<Strong<T>, StatusCode> {
    unimplemented!("binder stub")
}

/// The instances declared for `interface` (`["foo"]` for `android.foo.IFoo/foo`).
///
/// Mirrors `pub fn get_declared_instances(interface: &str) -> Result<Vec<String>>` (a
/// `StatusCode` error) in android-binder 0.2.2 `src/service.rs`.
pub fn get_declared_instances(_interface: &str) -> Result<Vec<String>, StatusCode> {
    unimplemented!("binder stub")
}
