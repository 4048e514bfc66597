//! Mirrors android-binder 0.2.2 `src/binder.rs`. In that file `Result<T>` is
//! `error::Result<T>`, i.e. `Result<T, StatusCode>`, not the crate-level `binder::Result`.

use crate::error::StatusCode;
use crate::proxy::{DeathRecipient, SpIBinder};
use core::any::Any;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::ffi::CStr;
use core::fmt;
use core::ops::Deref;
use std::io::{Read, Write};

/// Super-trait of every binder interface.
///
/// Mirrors `trait Interface: Send + Sync + DowncastSync` in android-binder 0.2.2
/// `src/binder.rs`. `downcast_rs::DowncastSync` is implemented for every `Any + Send + Sync`
/// type, so `Any` stands in for it here (implementers must be `'static`, as with the real one).
/// `shell_command` exists because the Soong build does not set `android_ndk`.
pub trait Interface: Send + Sync + Any {
    /// Mirrors `Interface::as_binder` (provided; the real default panics).
    fn as_binder(&self) -> SpIBinder {
        panic!("This object was not a Binder object and cannot be converted into an SpIBinder.")
    }

    /// Mirrors `Interface::dump` (provided; cfg `std`): `Result<(), StatusCode>`.
    fn dump(&self, _writer: &mut dyn Write, _args: &[&CStr]) -> Result<(), StatusCode> {
        Ok(())
    }

    /// Mirrors `Interface::shell_command` (provided; cfg `std`, not `android_ndk`).
    fn shell_command(
        &self,
        _stdin: &mut dyn Read,
        _stdout: &mut dyn Write,
        _stderr: &mut dyn Write,
        _args: &[&CStr],
    ) -> Result<(), StatusCode> {
        Ok(())
    }
}

/// Interprets a generic binder as a typed interface; AIDL implements it for `dyn IFoo`.
///
/// Mirrors `trait FromIBinder: Interface` in android-binder 0.2.2 `src/binder.rs`.
pub trait FromIBinder: Interface {
    /// Mirrors `FromIBinder::try_from(SpIBinder) -> Result<Strong<Self>, StatusCode>`.
    fn try_from(ibinder: SpIBinder) -> Result<Strong<Self>, StatusCode>;
}

/// The public part of the C++ `IBinder` interface.
///
/// Mirrors `trait IBinder` in android-binder 0.2.2 `src/binder.rs`. The real crate implements
/// it for every `T: AsNative<sys::AIBinder>` (`SpIBinder` and every generated proxy) in
/// `src/proxy.rs`; the stub implements it for `SpIBinder` only.
pub trait IBinder {
    /// Mirrors `IBinder::link_to_death(&mut self, &mut DeathRecipient) -> Result<(), StatusCode>`.
    /// The link holds the recipient weakly: dropping the `DeathRecipient` unlinks it.
    fn link_to_death(&mut self, recipient: &mut DeathRecipient) -> Result<(), StatusCode>;

    /// Mirrors `IBinder::unlink_to_death(&mut self, &mut DeathRecipient) -> Result<(), StatusCode>`.
    fn unlink_to_death(&mut self, recipient: &mut DeathRecipient) -> Result<(), StatusCode>;

    /// Mirrors `IBinder::ping_binder(&mut self) -> Result<(), StatusCode>`.
    fn ping_binder(&mut self) -> Result<(), StatusCode>;
}

/// Strong reference to a binder object.
///
/// Mirrors `pub struct Strong<I: FromIBinder + ?Sized>(Box<I>)` in android-binder 0.2.2
/// `src/binder.rs`, with its `Clone`, `Borrow`, `AsRef`, `Deref`, `Debug`, `Ord`, `PartialOrd`,
/// `PartialEq` and `Eq` impls (not `into_async`/`into_sync`/`downgrade`).
pub struct Strong<I: FromIBinder + ?Sized>(Box<I>);

impl<I: FromIBinder + ?Sized> Strong<I> {
    /// Mirrors `Strong::new(Box<I>) -> Self`.
    pub fn new(binder: Box<I>) -> Self {
        Self(binder)
    }
}

/// Mirrors `impl Clone for Strong<I>` (the real one re-derives the interface from its binder).
impl<I: FromIBinder + ?Sized> Clone for Strong<I> {
    fn clone(&self) -> Self {
        unimplemented!("binder stub")
    }
}

/// Mirrors `impl Borrow<I> for Strong<I>`.
impl<I: FromIBinder + ?Sized> Borrow<I> for Strong<I> {
    fn borrow(&self) -> &I {
        &self.0
    }
}

/// Mirrors `impl AsRef<I> for Strong<I>`.
impl<I: FromIBinder + ?Sized> AsRef<I> for Strong<I> {
    fn as_ref(&self) -> &I {
        &self.0
    }
}

/// Mirrors `impl Deref for Strong<I>` (`Target = I`).
impl<I: FromIBinder + ?Sized> Deref for Strong<I> {
    type Target = I;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Mirrors `impl Debug for Strong<I> where I: Debug`.
impl<I: FromIBinder + fmt::Debug + ?Sized> fmt::Debug for Strong<I> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Mirrors `impl Ord for Strong<I>` (by binder identity).
impl<I: FromIBinder + ?Sized> Ord for Strong<I> {
    fn cmp(&self, _other: &Self) -> Ordering {
        unimplemented!("binder stub")
    }
}

/// Mirrors `impl PartialOrd for Strong<I>`.
impl<I: FromIBinder + ?Sized> PartialOrd for Strong<I> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Mirrors `impl PartialEq for Strong<I>` (by binder identity).
impl<I: FromIBinder + ?Sized> PartialEq for Strong<I> {
    fn eq(&self, _other: &Self) -> bool {
        unimplemented!("binder stub")
    }
}

/// Mirrors `impl Eq for Strong<I>`.
impl<I: FromIBinder + ?Sized> Eq for Strong<I> {}

/// The features to enable when creating a native binder; build it with `..Default::default()`.
///
/// Mirrors `pub struct BinderFeatures` (`#[derive(Clone, Debug, Default, Eq, PartialEq)]`) in
/// android-binder 0.2.2 `src/binder.rs` as a vendor module sees it: `set_requesting_sid` is
/// cfg'd out under `android_vndk`, `set_inherit_rt` is present (not `android_ndk`).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct BinderFeatures {
    /// Mirrors `BinderFeatures::set_inherit_rt`.
    pub set_inherit_rt: bool,
    /// Mirrors the hidden `BinderFeatures::_non_exhaustive`.
    #[doc(hidden)]
    pub _non_exhaustive: (),
}
