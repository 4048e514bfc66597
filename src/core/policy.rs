//! The seam where access decisions are made: once at session open and once per operation.
//! Today's default admits every caller to every bus and keeps administration for root/system;
//! the per-uid, per-bus (by stable id), per-address-range, per-operation-class default-deny policy
//! plugs in here without touching the broker.

use super::bus::BusInfo;
use super::device::Target;
use super::error::{Error, ErrorCode, Result};
use super::request::{OperationClass, OperationSet};

/// Who is calling, as the IPC layer learned it (binder calling uid/pid, or SO_PEERCRED).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Caller {
    pub uid: u32,
    pub pid: i32,
}

/// Android's AID_ROOT and AID_SYSTEM.
pub const AID_ROOT: u32 = 0;
pub const AID_SYSTEM: u32 = 1000;

pub trait Policy: Send + Sync {
    fn check_open(
        &self,
        caller: &Caller,
        bus: &BusInfo,
        target: Target,
        exclusive: bool,
    ) -> Result<()>;
    fn check_operation(
        &self,
        caller: &Caller,
        bus: &BusInfo,
        target: Target,
        class: OperationClass,
    ) -> Result<()>;
    /// The classes check_operation would allow on this session (what the session reports).
    fn allowed_operations(&self, caller: &Caller, bus: &BusInfo, target: Target) -> OperationSet;
    /// Administrative calls such as revokeBus.
    fn check_admin(&self, caller: &Caller) -> Result<()>;
}

/// Admits everyone to every bus; administration only for root and system (uid % 100000 per
/// Android's multi-user scheme).
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenPolicy;

impl Policy for OpenPolicy {
    fn check_open(&self, _: &Caller, _: &BusInfo, _: Target, _: bool) -> Result<()> {
        Ok(())
    }

    fn check_operation(&self, _: &Caller, _: &BusInfo, _: Target, _: OperationClass) -> Result<()> {
        Ok(())
    }

    fn allowed_operations(&self, _: &Caller, _: &BusInfo, _: Target) -> OperationSet {
        OperationClass::ALL.into_iter().fold(OperationSet::default(), OperationSet::with)
    }

    fn check_admin(&self, caller: &Caller) -> Result<()> {
        let app_id = caller.uid % 100_000;
        if app_id == AID_ROOT || app_id == AID_SYSTEM {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::PermissionDenied,
                format!("uid {} may not administer buses (root or system only)", caller.uid),
            ))
        }
    }
}

/// Per-caller ceilings that protect the service from one greedy client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Sessions (live or dead, not yet closed) one uid may hold.
    pub max_sessions_per_uid: usize,
    /// Bus listeners one uid may register.
    pub max_listeners_per_uid: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_sessions_per_uid: 256, max_listeners_per_uid: 16 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_root_and_system_may_administer() {
        let policy = OpenPolicy;
        assert!(policy.check_admin(&Caller { uid: 0, pid: 1 }).is_ok());
        assert!(policy.check_admin(&Caller { uid: 1000, pid: 1 }).is_ok());
        assert!(policy.check_admin(&Caller { uid: 1_001_000, pid: 1 }).is_ok());
        let denied = policy.check_admin(&Caller { uid: 10_123, pid: 1 }).unwrap_err();
        assert_eq!(denied.code, ErrorCode::PermissionDenied);
    }
}
