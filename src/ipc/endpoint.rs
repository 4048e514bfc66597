//! Where the service is reached. The service decides where to listen and i2cctl where to
//! connect by the same rule, so both live here, outside the `client` feature that the vendor
//! build leaves out.

use std::path::PathBuf;

/// The environment variable that overrides the default socket path.
pub const SOCKET_ENV: &str = "I2C_HAL_SOCKET";
/// Where the service listens for RPC binder when no path is given and no binder device exists.
pub const DEFAULT_SOCKET: &str = "/tmp/i2c-hal.sock";
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
    /// `--socket` wins, then $I2C_HAL_SOCKET, then a kernel binder device if one exists,
    /// then DEFAULT_SOCKET.
    pub fn resolve(socket_arg: Option<PathBuf>) -> Endpoint {
        let from_env = || std::env::var_os(SOCKET_ENV).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(path) = socket_arg.or_else(from_env) {
            return Endpoint::Socket(path);
        }
        match super::server::binder_device() {
            Some(device) => Endpoint::KernelBinder(device),
            None => Endpoint::Socket(PathBuf::from(DEFAULT_SOCKET)),
        }
    }
}
