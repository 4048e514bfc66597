//! Access control: who may do what on which bus.
//!
//! - Here, the seam the broker consults ([`Policy`]): once at session open and once per
//!   operation, about a [`Caller`], getting back among others its [`ExclusiveLimits`]; and
//!   the broker's own per-uid [`Limits`]. Who administers depends on what a uid means where the service runs
//!   ([`UidScheme`]). [`OpenPolicy`] admits everyone, for tests and cost measurements; the
//!   service never runs it.
//! - [`rules`]: a policy as the service holds it ([`rules::AccessPolicy`]) and how its rules
//!   answer: default deny.
//! - [`file`](mod@file): the policy file people write (TOML) and devices read (JSON), its checks, and
//!   why a file is refused ([`file::PolicyFileError`]).
//! - [`engine`]: the policy in force ([`engine::PolicyEngine`]), with its reload, audit log
//!   and call rates. The service always runs one: over the policy file, or (`--sim` without
//!   `--policy`) over the built-in development policy.

pub mod engine;
pub mod file;
#[cfg(test)]
mod fixtures;
pub mod rules;

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
/// Android's AID_USER_OFFSET: uid = user id * 100000 + app id.
pub const AID_USER_OFFSET: u32 = 100_000;

/// What a uid means where the service runs: it decides who administers without being named,
/// and whether a policy's `app_ids` mean anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UidScheme {
    /// Android: uid = user id * 100000 + app id; root (0) and system (1000) administer, in
    /// every user (system/core libcutils android_filesystem_config.h, multiuser.h).
    Android,
    /// A Linux host: a uid is an account. 1000 is usually the first person's and 100000 and
    /// up are container ranges, so only root administers unless the policy names more.
    Host,
}

impl UidScheme {
    /// The scheme of the platform this build runs on.
    pub const fn of_this_build() -> UidScheme {
        if cfg!(target_os = "android") {
            UidScheme::Android
        } else {
            UidScheme::Host
        }
    }

    /// The app id a uid carries, where uids carry one (Android).
    pub fn app_id(self, uid: u32) -> Option<u32> {
        match self {
            UidScheme::Android => Some(uid % AID_USER_OFFSET),
            UidScheme::Host => None,
        }
    }

    /// Whether `uid` administers without a policy naming it.
    pub fn is_builtin_administrator(self, uid: u32) -> bool {
        match self {
            UidScheme::Android => matches!(uid % AID_USER_OFFSET, AID_ROOT | AID_SYSTEM),
            UidScheme::Host => uid == AID_ROOT,
        }
    }

    /// Who that is, for messages.
    pub fn builtin_administrators(self) -> &'static str {
        match self {
            UidScheme::Android => "root or system",
            UidScheme::Host => "root",
        }
    }
}

impl Default for UidScheme {
    fn default() -> Self {
        UidScheme::of_this_build()
    }
}

/// Answers the broker's access questions. The service's is [`engine::PolicyEngine`].
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
    /// Whether `uid` administers (what check_admin decides, without a pid or a log line): the
    /// RPC transport keeps room for administrators in its connection table.
    fn is_administrator(&self, uid: u32) -> bool {
        UidScheme::of_this_build().is_builtin_administrator(uid)
    }
    /// Whether `caller` may hold a session so opened, without logging a denial: a reload's
    /// sweep over existing sessions asks this, and what it ends is no caller's request.
    fn permits_open(
        &self,
        caller: &Caller,
        bus: &BusInfo,
        target: Target,
        exclusive: bool,
    ) -> bool {
        self.check_open(caller, bus, target, exclusive).is_ok()
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
/// can take a whole bus one address at a time. The policy file's `[limits]` sets them
/// (docs/limits.md lists every limit).
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

/// Administration is for the platform's built-in administrators (root and system on
/// Android, root on a host) and for `named` uids.
pub fn administrators_only(scheme: UidScheme, caller: &Caller, named: bool) -> Result<()> {
    if named || scheme.is_builtin_administrator(caller.uid) {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::PermissionDenied,
        format!(
            "uid {} may not administer buses ({} only, or who the policy names)",
            caller.uid,
            scheme.builtin_administrators()
        ),
    ))
}

/// Administration for the built-in administrators of this build's platform only.
pub fn admin_only(caller: &Caller) -> Result<()> {
    administrators_only(UidScheme::of_this_build(), caller, false)
}

/// Admits everyone to every bus; administration only for the platform's built-in
/// administrators.
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

/// Per-caller ceilings that protect the service from one greedy client (docs/limits.md lists
/// every limit and who sets it).
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

    fn admits(scheme: UidScheme, uid: u32) -> bool {
        administrators_only(scheme, &Caller { uid, pid: 1 }, false).is_ok()
    }

    #[test]
    fn on_android_root_and_system_administer_in_every_user() {
        for uid in [0, 1000, 100_000, 1_001_000] {
            assert!(admits(UidScheme::Android, uid), "uid {uid}");
        }
        for uid in [10_123, 1_010_123, 2000, 9999] {
            assert!(!admits(UidScheme::Android, uid), "uid {uid}");
        }
    }

    #[test]
    fn on_a_host_only_root_administers_unless_named() {
        assert!(admits(UidScheme::Host, 0));
        // The first person's account and the usual rootless-container ranges.
        for uid in [1000, 100_000, 101_000, 65534] {
            assert!(!admits(UidScheme::Host, uid), "uid {uid}");
            let caller = Caller { uid, pid: 1 };
            assert!(administrators_only(UidScheme::Host, &caller, true).is_ok(), "named {uid}");
        }
        let denied = administrators_only(UidScheme::Host, &Caller { uid: 1000, pid: 1 }, false);
        let denied = denied.unwrap_err();
        assert_eq!(denied.code, ErrorCode::PermissionDenied);
        assert!(denied.message.contains("uid 1000") && denied.message.contains("root only"));
        assert_eq!(UidScheme::Host.app_id(10_057), None, "no app ids on a host");
        assert_eq!(UidScheme::Android.app_id(1_010_057), Some(10_057));
    }
}
