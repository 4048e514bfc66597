//! Written against AOSP's libbinder_rs (frameworks/native/libs/binder/rust), whose source the
//! `android-binder` crate on crates.io publishes. Only Soong builds this half.

use super::{io_error, Caller};
use binder::IBinder;
use std::ffi::CString;
use std::io;
use std::path::Path;
use std::sync::Once;

pub use binder::{FromIBinder, Interface, Status, Strong};

pub type BinderResult<T> = binder::Result<T>;
pub type BinderRef = binder::SpIBinder;

/// The `log` target the binder crate logs under.
pub const BINDER_LOG_TARGET: &str = "binder";

/// The binder crate itself, for the macros below.
#[doc(hidden)]
pub use binder as backend;

/// A typed service-specific error with its message, as every failed call returns.
pub fn service_error(code: i32, message: &str) -> Status {
    // A C string cannot hold NUL; a message never needs one.
    let message = CString::new(message.replace('\0', " ")).ok();
    Status::new_service_specific_error(code, message.as_deref())
}

/// The code and message of a service-specific error; None for any other failure.
///
/// libbinder_rs gives no getter for the message alone: `get_description()` is libbinder's
/// `Status::toString8`, which wraps it (`Status(-8, EX_SERVICE_SPECIFIC): '<code>: <message>'`).
/// The text is passed on whole, for people; what a program acts on is the code.
pub fn service_specific(status: &Status) -> Option<(i32, String)> {
    (status.exception_code() == binder::ExceptionCode::SERVICE_SPECIFIC)
        .then(|| (status.service_specific_error(), status.get_description()))
}

/// A readable account of a failure that is not service-specific (a transport failure).
pub fn describe(status: &Status) -> String {
    status.get_description()
}

/// True when a call failed because the process behind the proxy is gone.
pub fn is_dead(status: &Status) -> bool {
    status.transaction_error() == binder::StatusCode::DEAD_OBJECT
}

/// Who is calling on this binder thread.
pub fn calling_identity() -> Caller {
    Caller {
        uid: binder::ThreadState::get_calling_uid(),
        pid: binder::ThreadState::get_calling_pid(),
    }
}

/// Keeps a death notification armed; dropping the recipient unlinks it.
pub struct DeathWatch {
    _recipient: binder::DeathRecipient,
    _binder: BinderRef,
}

/// Runs `on_death` (on a binder thread) once the process behind `binder` dies. Fails for a
/// local binder (INVALID_OPERATION) or one whose process is already gone (DEAD_OBJECT).
pub fn watch_death(
    binder: &BinderRef,
    on_death: impl Fn() + Send + Sync + 'static,
) -> Result<DeathWatch, String> {
    let mut recipient = binder::DeathRecipient::new(on_death);
    let mut binder = binder.clone();
    binder.link_to_death(&mut recipient).map_err(|e| format!("{e:?}"))?;
    Ok(DeathWatch { _recipient: recipient, _binder: binder })
}

/// Makes a local binder object serving `$object` through the generated `$bn` stub.
#[macro_export]
macro_rules! binder_object {
    ($bn:ident, $object:expr) => {
        $bn::new_binder($object, $crate::backend::BinderFeatures::default())
    };
}

/// Implements `Interface` for a service type whose dump is its `DumpText`.
#[macro_export]
macro_rules! impl_dump {
    ($type:ty) => {
        impl $crate::Interface for $type {
            fn dump(
                &self,
                writer: &mut dyn ::std::io::Write,
                args: &[&::std::ffi::CStr],
            ) -> ::std::result::Result<(), $crate::backend::StatusCode> {
                let args: ::std::vec::Vec<::std::string::String> =
                    args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
                let text = $crate::DumpText::dump_text(self, &args);
                // A reader that went away mid-dump is not the service's failure.
                let _ = writer.write_all(text.as_bytes());
                Ok(())
            }
        }
    };
}

/// Starts libbinder's thread pool (death notices and oneway callbacks arrive on it).
/// libbinder opens its own device (/dev/binder for a vendor process with VINTF stability).
/// Once per process, as on hosts: libbinder aborts the process if the pool is shrunk after
/// it started (`ProcessState::setThreadPoolMaxThreadCount`), so a later call (a client in
/// the service's own process, say, with fewer threads) must change nothing.
pub fn init_process(_device: &Path, max_threads: u32) -> io::Result<()> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        binder::ProcessState::set_thread_pool_max_thread_count(max_threads);
        binder::ProcessState::start_thread_pool();
    });
    Ok(())
}

/// Adds the calling thread to the binder thread pool; it never returns in practice.
pub fn join_thread_pool() -> io::Result<()> {
    binder::ProcessState::join_thread_pool();
    Err(io::Error::other("binder thread pool returned"))
}

/// Registers `binder` with servicemanager as `name` (which must be declared in VINTF).
pub fn add_service(name: &str, binder: BinderRef) -> io::Result<()> {
    binder::add_service(name, binder).map_err(|e| io_error(&format!("add {name}"), e))
}

/// Looks `name` up without waiting; Err says why it is not there.
pub fn check_service<I: FromIBinder + ?Sized>(name: &str) -> Result<Strong<I>, String> {
    binder::check_interface::<I>(name).map_err(|e| format!("{e:?}"))
}

/// The instance names the device's VINTF manifests declare for `interface`.
pub fn declared_instances(interface: &str) -> Result<Vec<String>, String> {
    binder::get_declared_instances(interface).map_err(|e| format!("{e:?}"))
}
