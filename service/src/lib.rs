//! The service: the binder objects apps and administrators call (`service`), the notifier that
//! tells sessions and listeners of a removal (`notifier`), the AIDL <-> core conversions of the
//! service side (`convert`, strict: a malformed request is refused), how it is reached
//! (`server`, with RPC binder's hardening in `transport`), and the daemon that wires the
//! platform to the broker (`daemon`). Binder names come from `i2c_hal_binder` only.

#![forbid(unsafe_code)]

pub mod convert;
pub mod daemon;
pub mod log_budget;
pub mod logging;
pub mod notifier;
pub mod server;
pub mod service;
pub mod transport;
