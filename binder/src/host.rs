use super::{io_error, Caller};
use std::io;
use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use rsbinder::{BinderResult, FromIBinder, Interface, Status, Strong};

/// A reference to any binder object, local or remote.
pub type BinderRef = rsbinder::SIBinder;

/// The `log` target the binder crate logs under.
pub const BINDER_LOG_TARGET: &str = "rsbinder";

/// The binder crate itself, for the macros below.
#[doc(hidden)]
pub use rsbinder as backend;

/// A typed service-specific error with its message, as every failed call returns.
pub fn service_error(code: i32, message: &str) -> Status {
    Status::new_service_specific_error(code, Some(message.to_string()))
}

/// The code and message of a service-specific error; None for any other failure.
pub fn service_specific(status: &Status) -> Option<(i32, String)> {
    (status.exception_code() == rsbinder::ExceptionCode::ServiceSpecific).then(|| {
        (status.service_specific_error(), status.message().unwrap_or_default().to_string())
    })
}

/// A readable account of a failure that is not service-specific (a transport failure).
/// People read it (i2cctl prints it), so it names no binder type.
pub fn describe(status: &Status) -> String {
    match status.exception_code() {
        rsbinder::ExceptionCode::TransactionFailed => failure_text(status.transaction_error()),
        _ => format!("the call failed: {status}"),
    }
}

/// True when a call failed because the process behind the proxy is gone (or its RPC
/// connection ended): the one transport failure a client reacts to by reconnecting.
pub fn is_dead(status: &Status) -> bool {
    status.exception_code() == rsbinder::ExceptionCode::TransactionFailed
        && status.transaction_error() == rsbinder::StatusCode::DeadObject
}

/// Words for a binder status code, as `describe` needs them: the errno's own text for an
/// OS error (so "connection refused", not its number), a phrase for the codes a client
/// meets when the service is missing or dies, and the number for the rest.
fn failure_text(code: rsbinder::StatusCode) -> String {
    use rsbinder::StatusCode;
    match code {
        StatusCode::DeadObject => {
            "the service is gone (its process died or ended the connection)".to_string()
        }
        StatusCode::NameNotFound => "not found".to_string(),
        StatusCode::PermissionDenied => "permission denied".to_string(),
        StatusCode::TimedOut => "timed out".to_string(),
        StatusCode::Errno(errno) => errno_text(errno.saturating_abs()),
        other => format!("binder transport failure (status {})", i32::from(other)),
    }
}

/// The errno's own description ("connection refused"), for people.
fn errno_text(errno: i32) -> String {
    nix::errno::Errno::from_raw(errno).desc().to_lowercase()
}

/// Who is calling on this binder thread.
pub fn calling_identity() -> Caller {
    Caller { uid: rsbinder::get_calling_uid(), pid: rsbinder::get_calling_pid() }
}

struct OnDeath<F>(F);

impl<F: Fn() + Send + Sync> rsbinder::DeathRecipient for OnDeath<F> {
    fn binder_died(&self, _who: &rsbinder::WIBinder) {
        (self.0)()
    }
}

/// Keeps a death notification armed; dropping it unlinks (as libbinder_rs's recipient does).
pub struct DeathWatch {
    binder: BinderRef,
    recipient: Arc<dyn rsbinder::DeathRecipient>,
}

impl Drop for DeathWatch {
    fn drop(&mut self) {
        // Unlinking a binder whose process already died fails harmlessly.
        let _ = self.binder.unlink_to_death(Arc::downgrade(&self.recipient));
    }
}

/// Runs `on_death` (on a binder thread) once the process behind `binder` dies. Fails for a
/// local binder or one whose process is already gone: there is nobody to watch.
pub fn watch_death(
    binder: &BinderRef,
    on_death: impl Fn() + Send + Sync + 'static,
) -> Result<DeathWatch, String> {
    let recipient: Arc<dyn rsbinder::DeathRecipient> = Arc::new(OnDeath(on_death));
    // rsbinder keeps only a weak reference: the guard owns the recipient.
    binder.link_to_death(Arc::downgrade(&recipient)).map_err(|e| format!("{e:?}"))?;
    Ok(DeathWatch { binder: binder.clone(), recipient })
}

/// Makes a local binder object serving `$object` through the generated `$bn` stub.
#[macro_export]
macro_rules! binder_object {
    ($bn:ident, $object:expr) => {
        $bn::new_binder($object)
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
                args: &[::std::string::String],
            ) -> $crate::backend::Result<()> {
                let text = $crate::DumpText::dump_text(self, args);
                // A reader that went away mid-dump is not the service's failure.
                let _ = writer.write_all(text.as_bytes());
                Ok(())
            }
        }
    };
}

/// Opens the kernel binder `device` for this process and starts its thread pool (which
/// receives death notices and oneway callbacks). Once per process; later calls return the
/// first outcome.
pub fn init_process(device: &Path, max_threads: u32) -> io::Result<()> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| {
        rsbinder::ProcessState::init(&device.to_string_lossy(), max_threads)
            .map_err(|e| format!("binder init on {}: {e}", device.display()))?;
        rsbinder::ProcessState::start_thread_pool();
        Ok(())
    })
    .clone()
    .map_err(io::Error::other)
}

/// Adds the calling thread to the binder thread pool until the process ends.
pub fn join_thread_pool() -> io::Result<()> {
    rsbinder::ProcessState::join_thread_pool().map_err(|e| io_error("binder thread pool", e))
}

/// Registers `binder` with the service manager as `name`.
pub fn add_service(name: &str, binder: BinderRef) -> io::Result<()> {
    rsbinder::hub::add_service(name, binder).map_err(|e| io_error(&format!("add {name}"), e))
}

/// Looks `name` up without waiting; Err says why it is not there.
pub fn check_service<I: FromIBinder + ?Sized>(name: &str) -> Result<Strong<I>, String> {
    rsbinder::hub::check_interface::<I>(name).map_err(failure_text)
}

/// The instance names the service manager declares for `interface` (`default` for
/// `vendor.i2c.II2cManager/default`); Err says why it could not be asked.
pub fn declared_instances(interface: &str) -> Result<Vec<String>, String> {
    rsbinder::hub::try_get_declared_instances(interface).map_err(|e| format!("{e:?}"))
}

/// The client end of RPC binder over a Unix socket: how hosts without a binder device reach
/// the service (the service end is `i2c_hal_service::transport`).
pub mod rpc {
    use super::BinderRef;
    use rsbinder::rpc::{RpcClientConfig, RpcSession};
    use std::os::unix::net::UnixStream;
    use std::path::Path;

    /// The android13+ wire profile, the one that carries oneway callbacks and death
    /// notifications both ways; 2 is its newest version (android 16).
    pub const WIRE_VERSION: u32 = 2;

    /// A client's RPC session. Closing is explicit because its incoming (callback) threads
    /// would otherwise keep the session alive after every proxy is dropped.
    pub struct Connection {
        session: RpcSession,
    }

    impl Connection {
        /// A session founded on `stream`, a connection the caller made (and checked the
        /// server of), with the connection for callbacks attached by `path`.
        pub fn adopt(stream: UnixStream, path: &Path) -> Result<Connection, String> {
            let session = RpcSession::from_preconnected_fd(stream.into(), WIRE_VERSION)
                .map_err(super::failure_text)?;
            // An attached connection names the session the server minted for the first.
            let id = session.get_session_id().map_err(super::failure_text)?;
            let incoming = RpcClientConfig::unix(path, WIRE_VERSION).session_id(&id);
            session.add_incoming_connection_with_config(incoming).map_err(super::failure_text)?;
            Ok(Connection { session })
        }

        /// The service published under `name` (an instance name such as
        /// "vendor.i2c.II2cManager/default").
        pub fn service(&self, name: &str) -> Result<BinderRef, String> {
            self.session.get_service(name).map_err(super::failure_text)
        }
    }

    impl Drop for Connection {
        fn drop(&mut self) {
            self.session.close_session();
        }
    }
}
