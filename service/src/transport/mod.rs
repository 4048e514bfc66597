//! The service's end of RPC binder over a Unix socket, and everything that hardens it against
//! its peers: admission by uid (`admission`), the frame rules rsbinder lacks (`frames`), and the
//! accept loop that applies both (`host`; Android has no RPC transport and refuses, `android`).
//!
//! RPC binder over a Unix socket is how hosts without a binder device reach the service.
//!
//! rsbinder's own accept loop (`RpcServer::run`) can neither tell uids apart (its
//! `set_max_connections` caps connections in all, and queues the excess in the listen
//! backlog) nor wrap the transports it makes. So the service accepts on its own listener,
//! admits or refuses each connection by its peer's uid, and hands the admitted ones to
//! `RpcServer::serve_connection` inside a `Door`, which adds what rsbinder lacks on the
//! bytes a peer sends (see `frames`).

pub mod admission;
pub mod frames;

#[cfg(not(target_os = "android"))]
mod host;
#[cfg(not(target_os = "android"))]
pub use self::host::*;

#[cfg(target_os = "android")]
mod android;
#[cfg(target_os = "android")]
pub use self::android::*;
