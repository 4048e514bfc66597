//! Serving the manager: RPC binder on a Unix socket (hosts, tests) or kernel binder through the
//! service manager (Android, and the QEMU test bed with rsb_hub).

use super::compat::aidl::{II2cAdmin::II2cAdmin, II2cManager::II2cManager};
use super::compat::{self, BinderRef, Interface, Strong};
use super::endpoint::{ADMIN_SERVICE_NAME, SERVICE_NAME};
use crate::platform::unix_socket;
use log::info;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Binder devices in the order Android and the Linux test bed provide them.
pub const BINDER_DEVICES: [&str; 2] = ["/dev/binderfs/binder", "/dev/binder"];

/// Binder threads serving calls (and, on kernel binder, receiving death notices).
const MAX_BINDER_THREADS: u32 = 8;

/// The first binder device that exists, if any.
pub fn binder_device() -> Option<PathBuf> {
    BINDER_DEVICES.iter().map(PathBuf::from).find(|p| p.exists())
}

/// The service's instances: the app-facing manager and the administrative interface.
pub struct Instances {
    pub manager: Strong<dyn II2cManager>,
    pub admin: Strong<dyn II2cAdmin>,
}

impl Instances {
    fn named(&self) -> Vec<(&'static str, BinderRef)> {
        vec![(SERVICE_NAME, self.manager.as_binder()), (ADMIN_SERVICE_NAME, self.admin.as_binder())]
    }
}

/// Serves RPC binder on `path` until the process ends (hosts only: on Android every client
/// reaches the service through servicemanager). Both instances are published under their
/// names on the one socket, as servicemanager would list them.
#[cfg(not(target_os = "android"))]
pub fn serve_rpc(instances: Instances, path: &Path) -> io::Result<()> {
    unix_socket::claim(path)?;
    compat::rpc::serve(path, instances.named(), MAX_BINDER_THREADS, || {
        // Access control is the broker's job (per-uid policy from SO_PEERCRED); the socket
        // itself is open to every local user, as /dev/binder is.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
        info!(
            "serving {SERVICE_NAME} and {ADMIN_SERVICE_NAME} over RPC binder on {}",
            path.display()
        );
        Ok(())
    })
}

/// Registers both instances with the service manager on `device` and serves until the
/// process ends.
pub fn serve_kernel(instances: Instances, device: &Path) -> io::Result<()> {
    compat::init_process(device, MAX_BINDER_THREADS)?;
    for (name, binder) in instances.named() {
        compat::add_service(name, binder)?;
        info!("registered {name} with the service manager on {}", device.display());
    }
    compat::join_thread_pool()
}
