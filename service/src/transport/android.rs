//! RPC binder is a host transport: on Android every client reaches the service through
//! servicemanager, so a `--socket` start is refused with a clear error rather than served
//! half-built.

use super::frames::FrameLimits;
use i2c_hal_binder::BinderRef;
use std::io;
use std::os::unix::net::UnixListener;

/// Same signature as the host's `serve`; always `Unsupported`.
pub fn serve<T: Send + Sync + 'static>(
    _listener: UnixListener,
    _services: Vec<(&str, BinderRef)>,
    _max_threads: u32,
    _frame_limits: FrameLimits,
    _admit: impl Fn(u32) -> Option<T>,
) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "RPC binder is not built on Android: the service registers with servicemanager \
         (start it without --socket)",
    ))
}
