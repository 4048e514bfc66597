//! Serving the manager: RPC binder on a Unix socket (hosts, tests) or kernel binder through the
//! service manager (Android, and the QEMU test bed with rsb_hub).

use super::compat::aidl::II2cManager::II2cManager;
use super::compat::{Interface, Strong};
use super::endpoint::SERVICE_NAME;
use log::{info, warn};
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
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
    remove_stale_socket(path)?;
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

/// A socket file left by a crashed service is replaced; a live service's socket is not stolen,
/// and a path that is not a socket is never deleted.
fn remove_stale_socket(path: &Path) -> io::Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return Ok(()) };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket; refusing to replace it", path.display()),
        ));
    }
    if UnixStream::connect(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("another service is already listening on {}", path.display()),
        ));
    }
    warn!("removing stale socket {}", path.display());
    std::fs::remove_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_sockets_are_replaced_but_live_ones_and_files_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(remove_stale_socket(&file).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert!(file.exists());

        let live = dir.path().join("live.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&live).unwrap();
        assert_eq!(remove_stale_socket(&live).unwrap_err().kind(), io::ErrorKind::AddrInUse);

        let stale = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        remove_stale_socket(&stale).unwrap();
        assert!(!stale.exists());
        remove_stale_socket(&stale).unwrap(); // nothing there: fine
    }
}
