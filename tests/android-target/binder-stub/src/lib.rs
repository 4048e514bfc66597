//! A stub of AOSP's libbinder_rs (crate `binder`): the part of its public API that
//! i2c-hal-binder's Android half (`binder/src/android.rs`) and the generated `vendor_i2c` use,
//! with signatures transcribed from the `android-binder` 0.2.2 crate on crates.io (which
//! publishes libbinder_rs's source). Every body is `unimplemented!()` or trivial: this crate
//! exists to be type-checked against, never run.
//!
//! It mirrors the crate as Soong builds it for a vendor module (`vendor: true`): features `std`
//! and `kernel_ipc`, cfgs `android_vndk` and `android_vendor`, not `android_ndk`. That decides
//! which cfg-gated items exist (e.g. `ProcessState` and `add_service` do, and
//! `BinderFeatures::set_requesting_sid` does not).
//!
//! Each module is named after the android-binder source file it mirrors. Auto traits and
//! trait impls follow the real types: handles that wrap raw NDK pointers are neither `Send` nor
//! `Sync` by themselves and get them from the same `unsafe impl`s the real crate has.

mod binder;
mod error;
mod proxy;
mod service;
mod state;

pub use crate::binder::{BinderFeatures, FromIBinder, IBinder, Interface, Strong};
pub use crate::error::{ExceptionCode, Status, StatusCode};
pub use crate::proxy::{DeathRecipient, SpIBinder};
pub use crate::service::{add_service, check_interface, get_declared_instances};
pub use crate::state::{ProcessState, ThreadState};

/// Binder result containing a [`Status`] on error.
///
/// Mirrors `binder::Result` in android-binder 0.2.2 `src/lib.rs` (not `error::Result`, which
/// carries a [`StatusCode`] and is what the lower-level functions return).
pub type Result<T> = core::result::Result<T, Status>;

/// The `libc` types libbinder_rs's signatures name, as the `libc` crate defines them for
/// `target_os = "android"` (bionic: `uid_t` is `u32`, `pid_t` is `i32`).
#[allow(non_camel_case_types)]
mod libc {
    /// `libc::uid_t` on Android.
    pub type uid_t = u32;
    /// `libc::pid_t` on Android.
    pub type pid_t = i32;
}

/// An opaque NDK object (`AIBinder`, `AStatus`, `AIBinder_DeathRecipient`): what the real
/// handles point to.
pub(crate) enum Opaque {}
