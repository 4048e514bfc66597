//! Serving the manager: RPC binder on a Unix socket (hosts, tests) or kernel binder through the
//! service manager (Android, and the QEMU test bed with rsb_hub).

use super::compat::aidl::II2cManager::II2cManager;
use super::compat::{Interface, Strong};
use super::endpoint::SERVICE_NAME;
use crate::platform::unix_socket;
use log::info;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Binder devices in the order Android and the Linux test bed provide them.
pub const BINDER_DEVICES: [&str; 2] = ["/dev/binderfs/binder", "/dev/binder"];

/// The first binder device that exists, if any.
pub fn binder_device() -> Option<PathBuf> {
    BINDER_DEVICES.iter().map(PathBuf::from).find(|p| p.exists())
}

/// Serves RPC binder on `path` until the process ends. Clients speak the android13+ wire
/// profile, which is the one that carries oneway callbacks and death notifications.
pub fn serve_rpc(manager: Strong<dyn II2cManager>, path: &Path) -> io::Result<()> {
    unix_socket::claim(path)?;
    let server = rsbinder::rpc::RpcServer::setup_unix_server(path).map_err(binder_io)?;
    // Access control is the broker's job (per-uid policy from SO_PEERCRED); the socket itself is
    // open to every local user, as /dev/binder is.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    server.set_android13plus(2);
    server.set_max_threads(8);
    server.set_root(manager.as_binder()).map_err(binder_io)?;
    info!("serving {SERVICE_NAME} over RPC binder on {}", path.display());
    server.run().map_err(binder_io)
}

/// Registers with the service manager on `device` and serves until the process ends.
pub fn serve_kernel(manager: Strong<dyn II2cManager>, device: &Path) -> io::Result<()> {
    let device_name = device.to_string_lossy().into_owned();
    rsbinder::ProcessState::init(&device_name, 8)
        .map_err(|e| io::Error::other(format!("binder init on {device_name}: {e}")))?;
    rsbinder::ProcessState::start_thread_pool();
    rsbinder::hub::add_service(SERVICE_NAME, manager.as_binder())
        .map_err(|e| io::Error::other(format!("add_service({SERVICE_NAME}): {e:?}")))?;
    info!("registered {SERVICE_NAME} with the service manager on {device_name}");
    rsbinder::ProcessState::join_thread_pool().map_err(binder_io)
}

fn binder_io(e: impl std::fmt::Debug) -> io::Error {
    io::Error::other(format!("binder: {e:?}"))
}
