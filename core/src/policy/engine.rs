//! The policy in force: read from its source at start and at every reload (a refused file
//! leaves the policy in force as it was), with an audit log of denials and a call-rate bucket
//! per uid. The core does no I/O of its own: the daemon gives it closures that read the file
//! and look up groups.

use super::file::PolicyFileError;
use super::rules::AccessPolicy;
use super::{administrators_only, Caller, ExclusiveLimits, Policy};
use crate::bus::BusInfo;
use crate::device::Target;
use crate::error::{Error, ErrorCode, Result};
use crate::request::{OperationClass, OperationSet};
use crate::sync::{lock, read, write};
use log::{info, warn};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Reads the policy file's text, or says why it cannot (the daemon gives a closure over the
/// file, so that the core does no I/O of its own).
pub type PolicyLoader = Box<dyn Fn() -> std::result::Result<String, String> + Send + Sync>;

/// The uids of a group's members, or why they cannot be had (the daemon looks them up in the
/// host's group database).
pub type GroupMembers = Box<dyn Fn(&str) -> std::result::Result<Vec<u32>, String> + Send + Sync>;

/// Where a reloadable policy comes from and how to read it.
pub struct PolicySource {
    /// Where it came from, for log lines and refusals (the file's path).
    pub origin: String,
    pub loader: PolicyLoader,
    /// What uids mean on this platform.
    pub scheme: super::UidScheme,
    /// How the `[administrators]` groups are resolved; None refuses a policy that names any.
    pub groups: Option<GroupMembers>,
}

/// Why a policy could not be loaded from its source: where it came from, and what went wrong.
/// It prints as `ORIGIN: WHAT`, e.g. `/etc/i2c-hal/policy.toml: line 5: rule "x": unknown
/// grant "fly" (known: ...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLoadError {
    /// `PolicySource::origin`: the file's path.
    pub origin: String,
    pub kind: PolicyLoadErrorKind,
}

/// What went wrong loading a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyLoadErrorKind {
    /// The loader could not read the file: its words.
    Unreadable(String),
    /// The file was read and refused.
    Invalid(PolicyFileError),
    /// The policy names an administrators group, and this service resolves no groups.
    GroupsNotResolved { group: String },
    /// A group's members could not be looked up: the group, and the lookup's words.
    GroupUnresolved { group: String, reason: String },
}

impl PolicyLoadError {
    /// Why the file was refused, when it was read and refused.
    pub fn file_error(&self) -> Option<&PolicyFileError> {
        match &self.kind {
            PolicyLoadErrorKind::Invalid(error) => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for PolicyLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.kind)
    }
}

impl fmt::Display for PolicyLoadErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyLoadErrorKind::Unreadable(reason) => f.write_str(reason),
            PolicyLoadErrorKind::Invalid(error) => write!(f, "{error}"),
            PolicyLoadErrorKind::GroupsNotResolved { group } => {
                write!(f, "administrators group \"{group}\": this service resolves no groups")
            }
            PolicyLoadErrorKind::GroupUnresolved { group, reason } => {
                write!(f, "administrators group \"{group}\": {reason}")
            }
        }
    }
}

impl std::error::Error for PolicyLoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.file_error().map(|error| error as _)
    }
}

/// Denials logged per uid in one window; the rest are counted and summed up in one line.
const AUDIT_LINES_PER_WINDOW: u32 = 5;
const AUDIT_WINDOW: Duration = Duration::from_secs(10);

#[derive(Default)]
struct AuditWindow {
    started: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

struct RateBucket {
    tokens: f64,
    refilled: Instant,
}

/// The policy in force, reloadable, with its audit log and call-rate buckets.
pub struct PolicyEngine {
    current: RwLock<Arc<AccessPolicy>>,
    /// Grows after every successful reload (Policy::epoch).
    reloads: AtomicU64,
    source: Option<PolicySource>,
    /// Where the policy came from, for log lines.
    origin: String,
    audit: Mutex<HashMap<u32, AuditWindow>>,
    rates: Mutex<HashMap<u32, RateBucket>>,
}

impl PolicyEngine {
    /// A fixed policy (no reload), e.g. the built-in development policy.
    pub fn fixed(policy: AccessPolicy, origin: &str) -> PolicyEngine {
        PolicyEngine::with_source(policy, origin, None)
    }

    /// Loads the policy once now (a bad file is refused: the service must not start on it)
    /// and again at every reload.
    pub fn load(source: PolicySource) -> std::result::Result<PolicyEngine, PolicyLoadError> {
        let policy = read_policy(&source)?;
        let origin = source.origin.clone();
        Ok(PolicyEngine::with_source(policy, &origin, Some(source)))
    }

    fn with_source(policy: AccessPolicy, origin: &str, source: Option<PolicySource>) -> Self {
        PolicyEngine {
            current: RwLock::new(Arc::new(policy)),
            reloads: AtomicU64::new(0),
            source,
            origin: origin.to_string(),
            audit: Mutex::default(),
            rates: Mutex::default(),
        }
    }

    pub fn current(&self) -> Arc<AccessPolicy> {
        read(&self.current).clone()
    }

    /// One audit line per denial, at most AUDIT_LINES_PER_WINDOW per uid per AUDIT_WINDOW,
    /// so that a hostile client cannot flood the log; the rest are counted. Returns whether
    /// this denial was logged.
    fn audit(&self, caller: &Caller, error: &Error) -> bool {
        let now = Instant::now();
        let mut windows = lock(&self.audit);
        let window = windows.entry(caller.uid).or_default();
        if !window.started.is_some_and(|started| now.duration_since(started) < AUDIT_WINDOW) {
            if window.suppressed > 0 {
                warn!(
                    "audit: {} more denial(s) of uid {} were not logged",
                    window.suppressed, caller.uid
                );
            }
            *window = AuditWindow { started: Some(now), logged: 0, suppressed: 0 };
        }
        if window.logged < AUDIT_LINES_PER_WINDOW {
            window.logged += 1;
            warn!("audit: denied uid {} pid {}: {}", caller.uid, caller.pid, error.message);
            true
        } else {
            window.suppressed += 1;
            false
        }
    }

    fn audited(&self, caller: &Caller, result: Result<()>) -> Result<()> {
        if let Err(error) = &result {
            self.audit(caller, error);
        }
        result
    }
}

/// Reads, parses and resolves the policy `source` names.
fn read_policy(source: &PolicySource) -> std::result::Result<AccessPolicy, PolicyLoadError> {
    let refused = |kind| PolicyLoadError { origin: source.origin.clone(), kind };
    let text =
        (source.loader)().map_err(|reason| refused(PolicyLoadErrorKind::Unreadable(reason)))?;
    let mut policy = AccessPolicy::parse_for(&text, source.scheme)
        .map_err(|error| refused(PolicyLoadErrorKind::Invalid(error)))?;
    for group in &policy.administrators.groups {
        let Some(members) = &source.groups else {
            return Err(refused(PolicyLoadErrorKind::GroupsNotResolved { group: group.clone() }));
        };
        let uids = members(group).map_err(|reason| {
            refused(PolicyLoadErrorKind::GroupUnresolved { group: group.clone(), reason })
        })?;
        policy.administrators.group_members.extend(uids);
    }
    Ok(policy)
}

impl Policy for PolicyEngine {
    fn check_open(
        &self,
        caller: &Caller,
        bus: &BusInfo,
        target: Target,
        exclusive: bool,
    ) -> Result<()> {
        self.audited(caller, self.current().check_open(caller, bus, target, exclusive))
    }

    fn check_operation(
        &self,
        caller: &Caller,
        bus: &BusInfo,
        target: Target,
        class: OperationClass,
    ) -> Result<()> {
        self.audited(caller, self.current().check_operation(caller, bus, target, class))
    }

    fn allowed_operations(&self, caller: &Caller, bus: &BusInfo, target: Target) -> OperationSet {
        self.current().operations(caller, bus, target)
    }

    fn check_admin(&self, caller: &Caller) -> Result<()> {
        let policy = self.current();
        administrators_only(policy.scheme, caller, policy.administrators.names(caller.uid))
    }

    fn is_administrator(&self, uid: u32) -> bool {
        let policy = self.current();
        policy.scheme.is_builtin_administrator(uid) || policy.administrators.names(uid)
    }

    fn permits_open(
        &self,
        caller: &Caller,
        bus: &BusInfo,
        target: Target,
        exclusive: bool,
    ) -> bool {
        self.current().check_open(caller, bus, target, exclusive).is_ok()
    }

    fn epoch(&self) -> u64 {
        self.reloads.load(Ordering::SeqCst)
    }

    fn exclusive_limits(&self) -> ExclusiveLimits {
        self.current().limits.exclusive
    }

    /// A token bucket per uid: max_calls_per_second, with a burst of as many.
    fn check_rate(&self, caller: &Caller) -> Result<()> {
        let rate = self.current().limits.max_calls_per_second;
        if rate == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = lock(&self.rates);
        let bucket = buckets
            .entry(caller.uid)
            .or_insert(RateBucket { tokens: f64::from(rate), refilled: now });
        let earned = now.duration_since(bucket.refilled).as_secs_f64() * f64::from(rate);
        bucket.tokens = (bucket.tokens + earned).min(f64::from(rate));
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        drop(buckets);
        let error = Error::new(
            ErrorCode::QuotaExceeded,
            format!("uid {} calls more than {rate} times a second", caller.uid),
        );
        self.audit(caller, &error);
        Err(error)
    }

    /// A refused policy becomes INVALID_ARGUMENT here, the edge between the engine and the
    /// caller of reloadPolicy (or SIGHUP).
    fn reload(&self) -> Result<()> {
        let Some(source) = &self.source else {
            return Err(Error::new(
                ErrorCode::NotSupported,
                format!("the policy ({}) is built in: there is no file to reload", self.origin),
            ));
        };
        match read_policy(source) {
            Ok(policy) => {
                info!("policy reloaded from {}: {} rule(s)", self.origin, policy.rules.len());
                *write(&self.current) = Arc::new(policy);
                // After the swap: an epoch read before it still names the old policy.
                self.reloads.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            Err(refused) => {
                warn!(
                    "policy {} refused, the policy in force stays: {}",
                    self.origin, refused.kind
                );
                Err(Error::new(ErrorCode::InvalidArgument, refused.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::file::PolicyFileErrorKind;
    use super::super::fixtures::{
        bus, json_rule, ANDROID, APP, EMPTY_POLICY, OTHER, SENSOR_POLICY,
    };
    use super::super::UidScheme;
    use super::*;

    /// An Android policy source over `loader`, resolving no groups.
    fn source(origin: &str, loader: PolicyLoader) -> PolicySource {
        PolicySource { origin: origin.to_string(), loader, scheme: ANDROID, groups: None }
    }

    /// A loader whose file the test rewrites.
    fn file(text: &str) -> (Arc<Mutex<String>>, PolicyLoader) {
        let contents = Arc::new(Mutex::new(text.to_string()));
        let reader = contents.clone();
        (contents, Box::new(move || Ok(reader.lock().unwrap().clone())))
    }

    /// A policy whose rule "broken" (on line 3) grants what no grant is.
    fn broken() -> String {
        json_rule(
            "broken",
            r#""uids": [1], "buses": ["*"], "addresses": ["0x48"], "allow": ["fly"]"#,
        )
    }

    #[test]
    fn a_reload_takes_a_valid_file_and_keeps_the_old_policy_on_an_invalid_one() {
        let (contents, loader) = file(SENSOR_POLICY);
        let engine = PolicyEngine::load(source("test.json", loader)).unwrap();
        let board = bus("pci0000:00/0000:00:1f.3");
        let sensor = Target::seven_bit(0x48);
        assert!(engine.check_open(&APP, &board, sensor, false).is_ok());

        *contents.lock().unwrap() = broken();
        let refused = engine.reload().unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidArgument);
        // What the caller of reloadPolicy reads: the file and the line.
        assert!(refused.message.starts_with("test.json: line 3: "), "{refused}");
        assert!(engine.check_open(&APP, &board, sensor, false).is_ok(), "the old policy stays");

        *contents.lock().unwrap() = EMPTY_POLICY.to_string();
        engine.reload().unwrap();
        let denied = engine.check_open(&APP, &board, sensor, false).unwrap_err();
        assert_eq!(denied.code, ErrorCode::PermissionDenied, "the new, empty policy denies");

        let fixed = PolicyEngine::fixed(AccessPolicy::default(), "built-in");
        assert_eq!(fixed.reload().unwrap_err().code, ErrorCode::NotSupported);
    }

    #[test]
    fn a_policy_that_cannot_be_loaded_says_where_it_came_from_and_why() {
        let unreadable: PolicyLoader = Box::new(|| Err("no such file".to_string()));
        let Err(error) = PolicyEngine::load(source("missing.toml", unreadable)) else {
            panic!("an unreadable policy must refuse to start");
        };
        assert_eq!(error.origin, "missing.toml");
        assert_eq!(error.kind, PolicyLoadErrorKind::Unreadable("no such file".into()));
        assert_eq!(error.to_string(), "missing.toml: no such file");

        let (_, loader) = file(&broken());
        let Err(error) = PolicyEngine::load(source("test.json", loader)) else {
            panic!("an invalid policy must refuse to start");
        };
        let invalid = error.file_error().expect("refused as a file");
        assert_eq!((invalid.line, invalid.rule.as_deref()), (Some(3), Some("broken")));
        assert_eq!(invalid.kind, PolicyFileErrorKind::UnknownGrant { grant: "fly".into() });
    }

    #[test]
    fn denials_are_audited_at_most_five_times_a_window_per_uid() {
        let engine = PolicyEngine::fixed(AccessPolicy::default(), "test");
        let error = Error::new(ErrorCode::PermissionDenied, "no");
        let logged: Vec<bool> = (0..8).map(|_| engine.audit(&APP, &error)).collect();
        assert_eq!(logged, [true, true, true, true, true, false, false, false]);
        // Another uid has a window of its own: one noisy app cannot hide another's denials.
        assert!(engine.audit(&OTHER, &error));
        assert_eq!(lock(&engine.audit)[&APP.uid].suppressed, 3);
    }

    #[test]
    fn calls_past_the_rate_get_quota_exceeded() {
        let text = r#"{ "limits": { "max_calls_per_second": 1 } }"#;
        let engine = PolicyEngine::fixed(AccessPolicy::parse(text).unwrap(), "test");
        assert!(engine.check_rate(&APP).is_ok());
        // A bucket of one call a second: the next call within that second is refused...
        let refused = engine.check_rate(&APP).unwrap_err();
        assert_eq!(refused.code, ErrorCode::QuotaExceeded);
        // ...for this uid only.
        assert!(engine.check_rate(&OTHER).is_ok());
        let unlimited = r#"{ "limits": { "max_calls_per_second": 0 } }"#;
        let engine = PolicyEngine::fixed(AccessPolicy::parse(unlimited).unwrap(), "test");
        assert!((0..1000).all(|_| engine.check_rate(&APP).is_ok()));
    }

    #[test]
    fn named_administrators_administer_and_groups_resolve_at_each_load() {
        let text = r#"{ "administrators": { "uids": [1001], "groups": ["i2c-admin"] } }"#;
        let members = Arc::new(Mutex::new(vec![1002]));
        let resolver = members.clone();
        let source = PolicySource {
            origin: "admins.json".into(),
            loader: Box::new(move || Ok(text.to_string())),
            scheme: UidScheme::Host,
            groups: Some(Box::new(move |group: &str| {
                assert_eq!(group, "i2c-admin");
                Ok(resolver.lock().unwrap().clone())
            })),
        };
        let engine = PolicyEngine::load(source).unwrap();
        let admin = |uid| engine.check_admin(&Caller { uid, pid: 1 }).is_ok();
        assert!(admin(0) && admin(1001) && admin(1002));
        assert!(!admin(1000) && !admin(1003) && !admin(101_000), "a host's 1000 is nobody special");
        assert!(engine.is_administrator(1002) && !engine.is_administrator(1000));
        // Group membership is read again at a reload.
        *members.lock().unwrap() = vec![1003];
        engine.reload().unwrap();
        assert!(admin(1003) && !admin(1002));

        let unresolved = PolicySource {
            origin: "admins.json".into(),
            loader: Box::new(move || Ok(text.to_string())),
            scheme: UidScheme::Host,
            groups: Some(Box::new(|_: &str| Err("no such group".to_string()))),
        };
        let err = PolicyEngine::load(unresolved).err().expect("an unknown group stops the load");
        let group = "i2c-admin".to_string();
        let reason = "no such group".to_string();
        assert_eq!(err.kind, PolicyLoadErrorKind::GroupUnresolved { group, reason });
        assert_eq!(
            err.to_string(),
            "admins.json: administrators group \"i2c-admin\": no such group"
        );
        let unresolvable = PolicySource {
            origin: "admins.json".into(),
            loader: Box::new(move || Ok(text.to_string())),
            scheme: UidScheme::Host,
            groups: None,
        };
        let err = PolicyEngine::load(unresolvable).err().expect("no resolver stops the load");
        let group = "i2c-admin".to_string();
        assert_eq!(err.kind, PolicyLoadErrorKind::GroupsNotResolved { group });
        assert_eq!(
            err.to_string(),
            "admins.json: administrators group \"i2c-admin\": this service resolves no groups"
        );
    }

    #[test]
    fn the_reload_sweep_asks_without_auditing() {
        let engine = PolicyEngine::fixed(AccessPolicy::default(), "test");
        let b = bus("b");
        assert!(!engine.permits_open(&APP, &b, Target::seven_bit(0x50), false));
        assert!(lock(&engine.audit).is_empty(), "no audit line and no allowance used");
        assert!(engine.check_open(&APP, &b, Target::seven_bit(0x50), false).is_err());
        assert_eq!(lock(&engine.audit)[&APP.uid].logged, 1);
    }
}
