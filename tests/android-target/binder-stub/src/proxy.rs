//! Mirrors android-binder 0.2.2 `src/proxy.rs`.

use crate::binder::{FromIBinder, IBinder, Interface, Strong};
use crate::error::StatusCode;
use crate::Opaque;
use core::cmp::Ordering;
use core::fmt;
use core::ptr::NonNull;

/// A strong reference to a binder object, local or remote (C++ `sp<IBinder>`).
///
/// Mirrors `pub struct SpIBinder(ptr::NonNull<sys::AIBinder>)` in android-binder 0.2.2
/// `src/proxy.rs`: `Send` and `Sync` by `unsafe impl`, with `Debug`, `Clone`, `Ord`,
/// `PartialOrd`, `PartialEq`, `Eq` and `Drop` (no `Hash`, no `Default`).
pub struct SpIBinder {
    _native: NonNull<Opaque>,
}

/// Mirrors `impl fmt::Debug for SpIBinder`.
impl fmt::Debug for SpIBinder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("SpIBinder")
    }
}

/// Mirrors `unsafe impl Send for SpIBinder`.
unsafe impl Send for SpIBinder {}

/// Mirrors `unsafe impl Sync for SpIBinder`.
unsafe impl Sync for SpIBinder {}

impl SpIBinder {
    /// Mirrors `SpIBinder::is_remote(&self) -> bool`.
    pub fn is_remote(&self) -> bool {
        unimplemented!("binder stub")
    }

    /// Mirrors `SpIBinder::into_interface<I: FromIBinder + Interface + ?Sized>(self)
    /// -> Result<Strong<I>, StatusCode>`.
    pub fn into_interface<I: FromIBinder + Interface + ?Sized>(
        self,
    ) -> Result<Strong<I>, StatusCode> {
        FromIBinder::try_from(self)
    }
}

/// Mirrors `impl Ord for SpIBinder` (by `AIBinder` identity).
impl Ord for SpIBinder {
    fn cmp(&self, _other: &Self) -> Ordering {
        unimplemented!("binder stub")
    }
}

/// Mirrors `impl PartialOrd for SpIBinder`.
impl PartialOrd for SpIBinder {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Mirrors `impl PartialEq for SpIBinder` (same `AIBinder`).
impl PartialEq for SpIBinder {
    fn eq(&self, _other: &Self) -> bool {
        unimplemented!("binder stub")
    }
}

/// Mirrors `impl Eq for SpIBinder`.
impl Eq for SpIBinder {}

/// Mirrors `impl Clone for SpIBinder` (takes another strong reference).
impl Clone for SpIBinder {
    fn clone(&self) -> Self {
        unimplemented!("binder stub")
    }
}

/// Mirrors `impl Drop for SpIBinder` (drops the strong reference).
impl Drop for SpIBinder {
    fn drop(&mut self) {}
}

/// Mirrors `impl<T: AsNative<sys::AIBinder>> IBinder for T` in android-binder 0.2.2
/// `src/proxy.rs`, for `T = SpIBinder`.
impl IBinder for SpIBinder {
    fn link_to_death(&mut self, _recipient: &mut DeathRecipient) -> Result<(), StatusCode> {
        unimplemented!("binder stub")
    }

    fn unlink_to_death(&mut self, _recipient: &mut DeathRecipient) -> Result<(), StatusCode> {
        unimplemented!("binder stub")
    }

    fn ping_binder(&mut self) -> Result<(), StatusCode> {
        unimplemented!("binder stub")
    }
}

/// A death notification callback. Links hold it weakly; dropping it unlinks every binder it is
/// linked to.
///
/// Mirrors `pub struct DeathRecipient` (`#[repr(C)]`, raw-pointer fields) in android-binder
/// 0.2.2 `src/proxy.rs`: `Send` and `Sync` by `unsafe impl`, with `Drop`; not `Clone`, not
/// `Debug`.
pub struct DeathRecipient {
    _native: NonNull<Opaque>,
}

/// Mirrors `unsafe impl Send for DeathRecipient`.
unsafe impl Send for DeathRecipient {}

/// Mirrors `unsafe impl Sync for DeathRecipient`.
unsafe impl Sync for DeathRecipient {}

impl DeathRecipient {
    /// Mirrors `DeathRecipient::new<F>(callback: F) -> DeathRecipient
    /// where F: Fn() + Send + Sync + 'static`.
    pub fn new<F>(_callback: F) -> DeathRecipient
    where
        F: Fn() + Send + Sync + 'static,
    {
        unimplemented!("binder stub")
    }
}

/// Mirrors `impl Drop for DeathRecipient` (deletes the recipient, which unlinks it).
impl Drop for DeathRecipient {
    fn drop(&mut self) {}
}
