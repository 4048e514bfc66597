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
    fn check_admin(&self, caller: &Caller) -> Result<()> {
        admin_only(caller)
    }
    /// How many exclusive sessions one caller, and one bus, may have at once.
    fn exclusive_limits(&self) -> ExclusiveLimits {
        ExclusiveLimits::default()
    }
    /// A call the caller may make now, by its call rate (QUOTA_EXCEEDED past it).
    fn check_rate(&self, _caller: &Caller) -> Result<()> {
        Ok(())
    }
    /// Changes whenever what `check_operation` and `allowed_operations` answer may change (a
    /// reload), and must change after the new answers are in force. The broker keeps each
    /// session's `allowed_operations` under the epoch it read before asking, and asks
    /// `check_operation` again only when the epoch moved or the class is not in the set.
    fn epoch(&self) -> u64 {
        0
    }
    /// Re-reads the policy from where it came from; on any error the policy in force stays.
    fn reload(&self) -> Result<()> {
        Err(Error::new(
            ErrorCode::NotSupported,
            "the service runs without a policy file: there is nothing to reload",
        ))
    }
}

/// Exclusive opens are a class of their own: granted sparingly and bounded, so that no caller
/// can take a whole bus one address at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExclusiveLimits {
    pub per_caller: usize,
    pub per_bus: usize,
}

impl Default for ExclusiveLimits {
    fn default() -> Self {
        ExclusiveLimits { per_caller: 2, per_bus: 4 }
    }
}

/// Administration is for root and system only (uid % 100000, Android's multi-user scheme).
pub fn admin_only(caller: &Caller) -> Result<()> {
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
