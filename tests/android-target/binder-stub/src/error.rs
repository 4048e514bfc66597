//! Mirrors android-binder 0.2.2 `src/error.rs` (and, for the two enums, the bindgen output of
//! android-binder-ndk-sys 0.2.3 that it re-exports).

use crate::Opaque;
use core::ffi::CStr;
use core::fmt;
use core::ptr::NonNull;

/// Low-level status codes from libutils.
///
/// Mirrors `binder::StatusCode`, which android-binder 0.2.2 `src/error.rs` re-exports from
/// `sys::android_c_interface_StatusCode`: bindgen output (flags in
/// `libbinder_ndk_bindgen_flags.txt`: `--default-enum-style=rust_non_exhaustive`) for the
/// `StatusCode` enum of android-binder-ndk-sys's `BinderBindings.hpp`, so a `#[repr(i32)]`,
/// `#[non_exhaustive]` enum deriving `Debug, Copy, Clone, Hash, PartialEq, Eq`. Values are the
/// NDK's `STATUS_*` from `android/binder_status.h`, with Linux errno numbers.
#[repr(i32)]
#[non_exhaustive]
#[derive(Debug, Copy, Clone, Hash, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum StatusCode {
    OK = 0,
    UNKNOWN_ERROR = i32::MIN,
    NO_MEMORY = -12,
    INVALID_OPERATION = -38,
    BAD_VALUE = -22,
    BAD_TYPE = i32::MIN + 1,
    NAME_NOT_FOUND = -2,
    PERMISSION_DENIED = -1,
    NO_INIT = -19,
    ALREADY_EXISTS = -17,
    DEAD_OBJECT = -32,
    FAILED_TRANSACTION = i32::MIN + 2,
    BAD_INDEX = -75,
    NOT_ENOUGH_DATA = -61,
    WOULD_BLOCK = -11,
    TIMED_OUT = -110,
    UNKNOWN_TRANSACTION = -74,
    FDS_NOT_ALLOWED = i32::MIN + 7,
    UNEXPECTED_NULL = i32::MIN + 8,
}

/// Mirrors `impl Error for android_c_interface_StatusCode` in android-binder-ndk-sys's `lib.rs`.
impl std::error::Error for StatusCode {}

/// Mirrors `impl Display for android_c_interface_StatusCode` in android-binder-ndk-sys's
/// `lib.rs` (`StatusCode::<Debug>`).
impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "StatusCode::{:?}", self)
    }
}

/// Binder exception codes.
///
/// Mirrors `binder::ExceptionCode`, re-exported by android-binder 0.2.2 `src/error.rs` from
/// `sys::android_c_interface_ExceptionCode` (bindgen, as for [`StatusCode`]). Values are the
/// NDK's `EX_*` from `android/binder_status.h`.
#[repr(i32)]
#[non_exhaustive]
#[derive(Debug, Copy, Clone, Hash, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum ExceptionCode {
    NONE = 0,
    SECURITY = -1,
    BAD_PARCELABLE = -2,
    ILLEGAL_ARGUMENT = -3,
    NULL_POINTER = -4,
    ILLEGAL_STATE = -5,
    NETWORK_MAIN_THREAD = -6,
    UNSUPPORTED_OPERATION = -7,
    SERVICE_SPECIFIC = -8,
    PARCELABLE = -9,
    TRANSACTION_FAILED = -129,
}

/// High-level binder status: a transaction failure, an exception, or a service-specific error.
///
/// Mirrors `pub struct Status(ptr::NonNull<sys::AStatus>)` in android-binder 0.2.2
/// `src/error.rs`: not `Clone`, `Send` and `Sync` by `unsafe impl`, with `Debug` and `Display`
/// (both its description), `Error`, `PartialEq`, `Eq` and `Drop`.
pub struct Status {
    _native: NonNull<Opaque>,
}

/// Mirrors `unsafe impl Sync for Status`.
unsafe impl Sync for Status {}

/// Mirrors `unsafe impl Send for Status`.
unsafe impl Send for Status {}

impl Status {
    /// Mirrors `Status::ok() -> Self`.
    pub fn ok() -> Self {
        unimplemented!("binder stub")
    }

    /// Mirrors `Status::new_service_specific_error(i32, Option<&CStr>) -> Status`.
    pub fn new_service_specific_error(_err: i32, _message: Option<&CStr>) -> Status {
        unimplemented!("binder stub")
    }

    /// Mirrors `Status::new_exception(ExceptionCode, Option<&CStr>) -> Status`.
    pub fn new_exception(_exception: ExceptionCode, _message: Option<&CStr>) -> Status {
        unimplemented!("binder stub")
    }

    /// Mirrors `Status::is_ok(&self) -> bool`.
    pub fn is_ok(&self) -> bool {
        unimplemented!("binder stub")
    }

    /// Mirrors `Status::get_description(&self) -> String` (libbinder's `Status::toString8`,
    /// e.g. `Status(-8, EX_SERVICE_SPECIFIC): '-42: message'`).
    pub fn get_description(&self) -> String {
        unimplemented!("binder stub")
    }

    /// Mirrors `Status::exception_code(&self) -> ExceptionCode`.
    pub fn exception_code(&self) -> ExceptionCode {
        unimplemented!("binder stub")
    }

    /// Mirrors `Status::transaction_error(&self) -> StatusCode`.
    pub fn transaction_error(&self) -> StatusCode {
        unimplemented!("binder stub")
    }

    /// Mirrors `Status::service_specific_error(&self) -> i32`.
    pub fn service_specific_error(&self) -> i32 {
        unimplemented!("binder stub")
    }
}

/// Mirrors `impl error::Error for Status` (cfg `std`).
impl std::error::Error for Status {}

/// Mirrors `impl Display for Status` (writes the description).
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.get_description())
    }
}

/// Mirrors `impl Debug for Status` (writes the description).
impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.get_description())
    }
}

/// Mirrors `impl PartialEq for Status`.
impl PartialEq for Status {
    fn eq(&self, _other: &Status) -> bool {
        unimplemented!("binder stub")
    }
}

/// Mirrors `impl Eq for Status`.
impl Eq for Status {}

/// Mirrors `impl Drop for Status` (frees the `AStatus`).
impl Drop for Status {
    fn drop(&mut self) {}
}
