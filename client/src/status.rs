//! What II2cAdmin.getStatus reports, as a client reads it: plain values owned by this crate,
//! holding exactly what the wire carries (a session's bus is its number, stable id and
//! generation; a removal's time is its age when the report was taken).

use i2c_hal_core::device::Target;
use i2c_hal_core::policy::Caller;
use i2c_hal_core::{BusInfo, Generation, LossReason};
use std::time::Duration;

/// The service's state at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    pub uptime: Duration,
    pub buses: Vec<BusInfo>,
    pub sessions: Vec<SessionReport>,
    /// Bus listeners registered, from every client.
    pub listeners: usize,
    /// Every counter by its stable name (errors as "errors.<CODE>").
    pub counters: Vec<(String, u64)>,
    /// The last removals, oldest first.
    pub recent_removals: Vec<RemovalReport>,
}

/// One session, whoever holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionReport {
    pub id: u64,
    /// Who opened it.
    pub caller: Caller,
    pub bus_number: u32,
    pub stable_id: String,
    pub generation: Generation,
    pub target: Target,
    pub exclusive: bool,
    pub age: Duration,
    pub state: SessionState,
}

/// Where a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    Opening,
    Live,
    /// Ended by the service; every call on it answers an error until it is closed.
    Dead(LossReason),
}

/// One adapter removal as the service handled it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovalReport {
    pub bus_number: u32,
    pub stable_id: String,
    pub generation: Generation,
    /// From the removal event to the adapter's fd being closed.
    pub latency: Duration,
    pub sessions_lost: usize,
    /// How long before the report the removal happened.
    pub age: Duration,
    /// From the removal event to the last of its session-lost callbacks handed to the
    /// transport so far; None before the first.
    pub last_callback: Option<Duration>,
    /// The event's CLOCK_MONOTONIC time in nanoseconds, for a client on the same host to line
    /// its own clock up with; None from a service that does not say.
    pub event_clock_nanos: Option<u64>,
}
