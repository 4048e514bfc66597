//! Serving the manager: RPC binder on a Unix socket (hosts, tests) or kernel binder through the
//! service manager (Android, and the QEMU test bed with rsb_hub).

use crate::transport::admission::{Admission, ConnectionLimits};
use i2c_hal_binder::aidl::{II2cAdmin::II2cAdmin, II2cManager::II2cManager};
// rsbinder's `as_binder` is a method of its `Interface` trait; libbinder_rs's `Strong` has its
// own, and the import would be unused (a warning, which Soong denies) on Android.
use crate::transport::frames::FrameLimits;
use i2c_hal_binder::endpoint::{ADMIN_SERVICE_NAME, SERVICE_NAME};
#[cfg(not(target_os = "android"))]
use i2c_hal_binder::Interface;
use i2c_hal_binder::{self as compat, BinderRef, Strong};
use i2c_hal_platform::unix_socket::{self, SocketAccess};
use log::info;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// Binder threads serving calls (and, on kernel binder, receiving death notices).
const MAX_BINDER_THREADS: u32 = 8;

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

/// The RPC socket's doors: who may connect (the socket file's mode and group) and how many
/// connections are admitted (`transport::admission`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcOptions {
    pub access: SocketAccess,
    pub limits: ConnectionLimits,
}

/// Serves RPC binder on `path` until the process ends (hosts only: on Android every client
/// reaches the service through servicemanager). Both instances are published under their names
/// on the one socket, as servicemanager would list them. The socket appears with `access`
/// already applied; each connection is then admitted by its peer's uid (`admission`, which the
/// admin instance may also report) and read under the frame limits (`transport::frames`). On
/// Android `transport::serve` refuses (servicemanager only).
pub fn serve_rpc(
    instances: Instances,
    path: &Path,
    access: SocketAccess,
    admission: Arc<Admission>,
) -> io::Result<()> {
    unix_socket::claim(path)?;
    let listener = unix_socket::bind_listener(path, access)?;
    let limits = admission.limits();
    info!(
        "serving {SERVICE_NAME} and {ADMIN_SERVICE_NAME} over RPC binder on {} (mode {:04o}, group {}; at most {} \
         connections, {} per uid)",
        path.display(),
        access.mode,
        access.gid,
        limits.max_connections,
        limits.max_per_uid
    );
    // A refused connection is closed by the transport at once; its ticket, when admitted, is
    // held by the connection's transport until the socket closes.
    let admit = move |uid| admission.admit(uid).ok();
    crate::transport::serve(
        listener,
        instances.named(),
        MAX_BINDER_THREADS,
        FrameLimits::default(),
        admit,
    )
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
