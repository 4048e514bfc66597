//! Where the service is reached. The service decides where to listen and i2cctl where to
//! connect by the same rule, so both live here, outside the `client` feature that the vendor
//! build leaves out.

use i2c_hal_core::non_empty_var;
use std::path::{Path, PathBuf};

/// Binder devices in the order Android and the Linux test bed provide them.
pub const BINDER_DEVICES: [&str; 2] = ["/dev/binderfs/binder", "/dev/binder"];

/// The first binder device that exists, if any.
pub fn binder_device() -> Option<PathBuf> {
    BINDER_DEVICES.iter().map(PathBuf::from).find(|p| p.exists())
}

/// The environment variable that overrides the default socket path.
pub const SOCKET_ENV: &str = "I2C_HAL_SOCKET";
/// Where a service run by root listens for RPC binder when no path is given and no binder
/// device exists: in a directory of its own that only it may write (`platform::unix_socket`
/// creates it 0755 and refuses one that others could write).
pub const DEFAULT_SOCKET: &str = "/run/i2c-hal/i2c-hal.sock";
/// The file name of the default socket, in the system's directory or a user's.
const SOCKET_FILE: &str = "i2c-hal.sock";

/// `$I2C_HAL_SOCKET`, unless unset or empty.
pub fn socket_from_env() -> Option<PathBuf> {
    non_empty_var(SOCKET_ENV).map(PathBuf::from)
}

/// A user's own default socket: `$XDG_RUNTIME_DIR/i2c-hal/i2c-hal.sock` (a directory that
/// only that user may write, e.g. /run/user/1000); none for root or without the variable.
pub fn user_socket() -> Option<PathBuf> {
    if nix::unistd::geteuid().is_root() {
        return None;
    }
    let runtime = non_empty_var("XDG_RUNTIME_DIR")?;
    Some(Path::new(&runtime).join("i2c-hal").join(SOCKET_FILE))
}

/// Where the service listens by default: root's system socket, or a user's own.
pub fn default_service_socket() -> PathBuf {
    user_socket().unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET))
}

/// Where a client looks by default: the system socket when something is there (a service
/// run by root), else its user's own.
pub fn default_client_socket() -> PathBuf {
    let system = PathBuf::from(DEFAULT_SOCKET);
    match system.exists() {
        true => system,
        false => user_socket().unwrap_or(system),
    }
}
/// The service instance name (VINTF fqname).
pub const SERVICE_NAME: &str = "vendor.i2c.II2cManager/default";
/// The administrative instance (VINTF fqname), apart so that SELinux can grant it apart.
pub const ADMIN_SERVICE_NAME: &str = "vendor.i2c.II2cAdmin/default";

/// How to reach the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// RPC binder over a Unix socket.
    Socket(PathBuf),
    /// Kernel binder through the service manager, on this binder device.
    KernelBinder(PathBuf),
}

impl Endpoint {
    /// Where a client connects: `--socket` wins, then $I2C_HAL_SOCKET, then a kernel binder
    /// device if one exists, then [`default_client_socket`].
    pub fn resolve(socket_arg: Option<PathBuf>) -> Endpoint {
        Endpoint::resolve_with(socket_arg, default_client_socket)
    }

    /// Where the service listens: as for a client, but [`default_service_socket`] last.
    pub fn resolve_for_service(socket_arg: Option<PathBuf>) -> Endpoint {
        Endpoint::resolve_with(socket_arg, default_service_socket)
    }

    fn resolve_with(socket_arg: Option<PathBuf>, default: fn() -> PathBuf) -> Endpoint {
        if let Some(path) = socket_arg.or_else(socket_from_env) {
            return Endpoint::Socket(path);
        }
        match binder_device() {
            Some(device) => Endpoint::KernelBinder(device),
            None => Endpoint::Socket(default()),
        }
    }
}
