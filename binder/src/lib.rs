//! The one place that knows which binder this code runs on, and how the service is reached.
//! On Linux hosts that is rsbinder (kernel binder through `rsb_hub`, RPC binder over a Unix
//! socket); on Android it is AOSP's libbinder_rs (crate `binder`). The AIDL code is the
//! `vendor_i2c` crate on both (Soong's `vendor.i2c-V1-rust`; on hosts, aidl/ generates it).
//! The service and its clients speak only the vocabulary below, so nothing outside this crate
//! differs between the two builds. The service's end of RPC binder is
//! `i2c_hal_service::transport`, and its logging `i2c_hal_service::logging`.
//!
//! | compat name                   | rsbinder 0.12 (hosts)                          | libbinder_rs (Android)                                 |
//! |-------------------------------|------------------------------------------------|--------------------------------------------------------|
//! | `aidl`                        | `vendor_i2c::aidl::vendor::i2c` (aidl/build.rs)  | `vendor_i2c::aidl::vendor::i2c` (vendor.i2c-V1-rust)   |
//! | `BinderResult<T>`             | `rsbinder::BinderResult<T>`                    | `binder::Result<T>`                                    |
//! | `BinderRef`                   | `rsbinder::SIBinder`                           | `binder::SpIBinder`                                    |
//! | `Status`, `Strong`, `Interface`, `FromIBinder` | same names                    | same names                                             |
//! | `service_error(code, msg)`    | `Status::new_service_specific_error(i32, Option<String>)` | `Status::new_service_specific_error(i32, Option<&CStr>)` |
//! | `service_specific(&status)`   | `exception_code() == ExceptionCode::ServiceSpecific`, `service_specific_error()`, `message()` | `exception_code() == ExceptionCode::SERVICE_SPECIFIC`, `service_specific_error()`, `get_description()` |
//! | `describe(&status)`           | words for the status code (`failure_text`)     | `get_description()`                                    |
//! | `is_dead(&status)`            | `transaction_error() == StatusCode::DeadObject` | `transaction_error() == StatusCode::DEAD_OBJECT`      |
//! | `calling_identity()`          | `rsbinder::get_calling_uid/pid()` (SO_PEERCRED over RPC) | `ThreadState::get_calling_uid/pid()`         |
//! | `watch_death(binder, f)` → `DeathWatch` | `impl DeathRecipient` + `link_to_death_arc(&Arc<R>)`; the guard unlinks on drop | `DeathRecipient::new(f)` + `link_to_death(&mut dr)`; dropping the recipient unlinks |
//! | `binder_object!(BnX, obj)`    | `BnX::new_binder(obj)`                         | `BnX::new_binder(obj, BinderFeatures::default())`      |
//! | `DumpText` + `impl_dump!(T)`  | `Interface::dump(&self, &mut dyn Write, &[String]) -> Result<(), StatusCode>` | `Interface::dump(&self, &mut dyn Write, &[&CStr]) -> Result<(), StatusCode>` |
//! | `init_process(device, n)`     | `ProcessState::init(device, n)` + `start_thread_pool()` | `set_thread_pool_max_thread_count(n)` + `start_thread_pool()` (the device is libbinder's own) |
//! | `join_thread_pool()`          | `ProcessState::join_thread_pool()` (a `Result`) | `ProcessState::join_thread_pool()` (returns `()`)     |
//! | `add_service(name, binder)`   | `hub::add_service`                             | `binder::add_service`                                  |
//! | `check_service::<I>(name)`    | `hub::check_interface`                         | `binder::check_interface`                              |
//! | `declared_instances(iface)`   | `hub::try_get_declared_instances` (rsb_hub declares none) | `binder::get_declared_instances` (the device's VINTF manifests) |
//! | `BINDER_LOG_TARGET`          | `"rsbinder"`                                   | `"binder"`                                             |
//! | `rpc::Connection`             | `rpc::RpcSession::from_preconnected_fd` on the connection the client checked, an incoming connection for callbacks, `get_service` (android13+ wire profile) | none: on Android clients reach the service through servicemanager |

#![forbid(unsafe_code)]

pub mod endpoint;
pub mod wire;

use i2c_hal_core::policy::Caller;
use std::io;

pub use vendor_i2c::aidl::vendor::i2c as aidl;

/// Bytes of the dump a service writes, whichever binder asked for it.
pub trait DumpText {
    fn dump_text(&self, args: &[String]) -> String;
}

/// Turns a binder-level failure into an `io::Error` with context, for start-up paths.
pub fn io_error(what: &str, error: impl std::fmt::Debug) -> io::Error {
    io::Error::other(format!("{what}: {error:?}"))
}

#[cfg(not(target_os = "android"))]
mod host;
#[cfg(not(target_os = "android"))]
pub use self::host::*;

#[cfg(target_os = "android")]
mod android;
#[cfg(target_os = "android")]
pub use self::android::*;
