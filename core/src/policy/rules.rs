//! A policy as the service holds it, once its file has passed every check (`super::file`), and
//! how it answers. Default deny: a request is allowed only where a rule matches the caller, the
//! bus and the address, and grants the operation class. Pure (no file access), so it is
//! unit-tested and fuzzed with plain values.
//!
//! Buses are matched by stable id only, never by bus number: numbers are reused by other
//! adapters, so a rule naming "3" would follow whatever adapter gets number 3 next. A 7-bit
//! and a 10-bit address are different devices even where their numbers agree (0x50 and the
//! 10-bit 0x050), so an address entry names one kind only.

use super::{Caller, ExclusiveLimits, UidScheme};
use crate::bus::{BusInfo, MUX_CHANNEL};
use crate::device::Target;
use crate::error::{Error, ErrorCode, Result};
use crate::request::{OperationClass, OperationSet};
use std::collections::BTreeSet;
use std::ops::RangeInclusive;

/// A grant a rule can give: the operation classes, plus what a session may be opened with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grant {
    Operation(OperationClass),
    /// Opening with FLAG_EXCLUSIVE.
    Exclusive,
    /// Opening with FLAG_TEN_BIT.
    TenBit,
    /// Opening with FLAG_PEC.
    Pec,
}

impl Grant {
    /// The names the policy file uses.
    pub const NAMES: [(&'static str, Grant); 7] = [
        ("read", Grant::Operation(OperationClass::Read)),
        ("write", Grant::Operation(OperationClass::Write)),
        ("register", Grant::Operation(OperationClass::Register)),
        ("raw", Grant::Operation(OperationClass::RawTransfer)),
        ("exclusive", Grant::Exclusive),
        ("ten_bit", Grant::TenBit),
        ("pec", Grant::Pec),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, g)| *g == self).map(|(n, _)| *n).unwrap_or("?")
    }

    /// A bit of its own for each grant (its place in NAMES), for sets of grants.
    fn bit(self) -> u8 {
        1 << Self::NAMES.iter().position(|(_, g)| *g == self).unwrap_or(0)
    }
}

/// The ceilings the policy file's `[limits]` sets; docs/limits.md lists every limit, and who
/// sets it. (Sessions and listeners per uid are the service's own: `super::Limits`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyLimits {
    /// `max_exclusive_per_caller` and `max_exclusive_per_bus`.
    pub exclusive: ExclusiveLimits,
    /// Calls one uid may make per second (a burst of as many); 0: no limit.
    pub max_calls_per_second: u32,
}

impl Default for PolicyLimits {
    fn default() -> Self {
        PolicyLimits {
            exclusive: ExclusiveLimits::default(),
            // Far above what one well-behaved client needs, far below what a flood can send.
            max_calls_per_second: 50_000,
        }
    }
}

/// A stable-id pattern: `*` matches any run of characters (slashes included), `?` one.
/// `super::file` makes them, refusing bus numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusPattern(pub(super) String);

impl BusPattern {
    /// Whether the pattern names this bus, or the bus is a channel of a mux on a bus it
    /// names: a channel's id is its parent's id and `/mux-<address>/chan-<n>`, so a rule for a
    /// module (`*/serial-CAL0001`) covers the channels of the muxes on it too.
    pub fn matches(&self, stable_id: &str) -> bool {
        let names = |id: &str| glob_matches(self.0.as_bytes(), id.as_bytes());
        names(stable_id)
            || stable_id.match_indices(MUX_CHANNEL).any(|(at, _)| names(&stable_id[..at]))
    }
}

/// Iterative wildcard matching with one backtrack point: linear in practice, and never
/// exponential, whatever a hostile pattern looks like.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// Addresses of one kind: 7-bit (`0x50-0x57`) or 10-bit (`ten_bit:0x150`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressRange {
    pub ten_bit: bool,
    pub range: RangeInclusive<u16>,
}

impl AddressRange {
    fn contains(&self, target: Target) -> bool {
        self.ten_bit == target.ten_bit && self.range.contains(&target.address)
    }
}

/// One rule of the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub any_caller: bool,
    pub uids: Vec<u32>,
    pub app_ids: Vec<u32>,
    pub buses: Vec<BusPattern>,
    pub addresses: Vec<AddressRange>,
    pub grants: Vec<Grant>,
}

impl Rule {
    fn matches(&self, scheme: UidScheme, caller: &Caller, bus: &BusInfo, target: Target) -> bool {
        let app_id = scheme.app_id(caller.uid);
        (self.any_caller
            || self.uids.contains(&caller.uid)
            || app_id.is_some_and(|id| self.app_ids.contains(&id)))
            && self.buses.iter().any(|p| p.matches(&bus.stable_id))
            && self.addresses.iter().any(|r| r.contains(target))
    }
}

/// Who administers besides the platform's built-in administrators.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Administrators {
    pub uids: Vec<u32>,
    /// Group names, as the policy gives them.
    pub groups: Vec<String>,
    /// The groups' members, as the engine resolved them when it (re)loaded the policy.
    pub group_members: BTreeSet<u32>,
}

impl Administrators {
    /// Whether the policy names `uid`, by itself or through a group.
    pub(super) fn names(&self, uid: u32) -> bool {
        self.uids.contains(&uid) || self.group_members.contains(&uid)
    }
}

/// A parsed policy (`AccessPolicy::parse`, in `super::file`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    pub limits: PolicyLimits,
    pub rules: Vec<Rule>,
    pub administrators: Administrators,
    /// What the uids in it mean (app ids exist on Android only).
    pub scheme: UidScheme,
}

impl AccessPolicy {
    /// What this policy grants `caller` on `address` of `bus`, all rules together.
    pub fn grants(&self, caller: &Caller, bus: &BusInfo, target: Target) -> Vec<Grant> {
        let mut grants: Vec<Grant> = self
            .rules
            .iter()
            .filter(|rule| rule.matches(self.scheme, caller, bus, target))
            .flat_map(|rule| rule.grants.iter().copied())
            .collect();
        grants.sort_by_key(|g| Grant::NAMES.iter().position(|(_, n)| n == g));
        grants.dedup();
        grants
    }

    /// The operation classes granted (what a session reports it may use).
    /// Asked on every call (check_operation): a union over the matching rules' grants, with
    /// no list of grants built, sorted or deduplicated on the way.
    pub fn operations(&self, caller: &Caller, bus: &BusInfo, target: Target) -> OperationSet {
        self.rules
            .iter()
            .filter(|rule| rule.matches(self.scheme, caller, bus, target))
            .flat_map(|rule| rule.grants.iter())
            .filter_map(|g| match g {
                Grant::Operation(class) => Some(*class),
                _ => None,
            })
            .fold(OperationSet::default(), OperationSet::with)
    }

    /// May `caller` open a session on `target` of `bus` with these modes? A session needs at
    /// least one operation class, and every mode it asks for.
    pub fn check_open(
        &self,
        caller: &Caller,
        bus: &BusInfo,
        target: Target,
        exclusive: bool,
    ) -> Result<()> {
        // A bit per grant, folded over the matching rules: no list is built on the way to yes.
        let granted = self
            .rules
            .iter()
            .filter(|rule| rule.matches(self.scheme, caller, bus, target))
            .flat_map(|rule| rule.grants.iter())
            .fold(0u8, |bits, grant| bits | grant.bit());
        let wanted = [
            (exclusive, Grant::Exclusive),
            (target.ten_bit, Grant::TenBit),
            (target.pec, Grant::Pec),
        ];
        let lacking = |(asked, grant): &(bool, Grant)| *asked && granted & grant.bit() == 0;
        let any_operation = OperationClass::ALL
            .into_iter()
            .any(|class| granted & Grant::Operation(class).bit() != 0);
        if !any_operation || wanted.iter().any(lacking) {
            let missing: Vec<&str> =
                wanted.iter().filter(|w| lacking(w)).map(|(_, grant)| grant.name()).collect();
            let what = if any_operation {
                format!("a session with {}", missing.join(", "))
            } else {
                "any session".to_string()
            };
            return Err(denied(caller, bus, target, &what));
        }
        Ok(())
    }

    pub fn check_operation(
        &self,
        caller: &Caller,
        bus: &BusInfo,
        target: Target,
        class: OperationClass,
    ) -> Result<()> {
        if self.operations(caller, bus, target).contains(class) {
            return Ok(());
        }
        let name = Grant::Operation(class).name();
        Err(denied(caller, bus, target, &format!("{name} operations")))
    }
}

fn denied(caller: &Caller, bus: &BusInfo, target: Target, what: &str) -> Error {
    Error::new(
        ErrorCode::PermissionDenied,
        format!(
            "the policy allows uid {} no {what} at {target} on '{}'",
            caller.uid, bus.stable_id
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{
        bus, json_rule, ANDROID, APP, EMPTY_POLICY, OTHER, SECOND_USER_APP, SENSOR_POLICY,
    };
    use super::*;

    #[test]
    fn rules_grant_by_app_id_stable_id_and_address_and_deny_everything_else() {
        let policy = AccessPolicy::parse_for(SENSOR_POLICY, ANDROID).unwrap();
        assert_eq!(policy.limits.exclusive.per_caller, 1);
        let defaults = PolicyLimits::default();
        assert_eq!(policy.limits.exclusive.per_bus, defaults.exclusive.per_bus);
        let board = bus("pci0000:00/0000:00:1f.3");
        let sensor = Target::seven_bit(0x48);
        for caller in [APP, SECOND_USER_APP] {
            assert!(policy.check_open(&caller, &board, sensor, false).is_ok());
            let ops = policy.operations(&caller, &board, sensor);
            assert!(ops.contains(OperationClass::Read) && ops.contains(OperationClass::Register));
            assert!(!ops.contains(OperationClass::RawTransfer));
        }
        let refused = policy.check_operation(&APP, &board, sensor, OperationClass::RawTransfer);
        assert_eq!(refused.unwrap_err().code, ErrorCode::PermissionDenied);
        // Another app, another address, another bus, or exclusivity: denied.
        for (caller, bus, target, exclusive) in [
            (OTHER, &board, sensor, false),
            (APP, &board, Target::seven_bit(0x49), false),
            (APP, &bus("pci0000:00/0000:00:1f.4"), sensor, false),
            (APP, &board, sensor, true),
        ] {
            let err = policy.check_open(&caller, bus, target, exclusive).unwrap_err();
            assert_eq!(err.code, ErrorCode::PermissionDenied, "{err}");
        }
        let factory = Caller { uid: 2000, pid: 9 };
        let module = bus("usb1/1-1/1-1:1.0/serial-ABC");
        let ten_bit = Target { address: 0x150, ten_bit: true, pec: false };
        assert!(policy.check_open(&factory, &module, ten_bit, true).is_ok());
        let pec = Target { address: 0x50, ten_bit: false, pec: true };
        let err = policy.check_open(&factory, &module, pec, false).unwrap_err();
        assert!(err.message.contains("pec"), "{err}");
    }

    #[test]
    fn an_empty_policy_denies_everyone() {
        let policy = AccessPolicy::parse(EMPTY_POLICY).unwrap();
        let err = policy.check_open(&APP, &bus("x"), Target::seven_bit(0x50), false).unwrap_err();
        assert_eq!(err.code, ErrorCode::PermissionDenied);
        assert_eq!(
            policy.operations(&APP, &bus("x"), Target::seven_bit(0x50)),
            OperationSet::default()
        );
    }

    #[test]
    fn any_caller_rules_match_everyone() {
        let text = json_rule(
            "dev",
            r#""any_caller": true, "buses": ["*"], "addresses": ["0x00-0x7f"], "allow": ["read"]"#,
        );
        let policy = AccessPolicy::parse(&text).unwrap();
        for caller in [APP, OTHER, Caller { uid: 0, pid: 1 }] {
            assert!(policy.check_open(&caller, &bus("x"), Target::seven_bit(0x50), false).is_ok());
        }
    }

    #[test]
    fn an_app_id_matches_the_app_in_every_user() {
        let rule = json_rule(
            "app",
            r#""app_ids": [10057], "buses": ["*"], "addresses": ["0x48"], "allow": ["read"]"#,
        );
        let policy = AccessPolicy::parse_for(&rule, ANDROID).unwrap();
        let board = bus("b");
        for caller in [APP, SECOND_USER_APP] {
            assert!(policy.check_open(&caller, &board, Target::seven_bit(0x48), false).is_ok());
        }
        assert!(policy.check_open(&OTHER, &board, Target::seven_bit(0x48), false).is_err());
    }

    #[test]
    fn a_7_bit_entry_never_covers_a_10_bit_address_nor_the_other_way() {
        let text = json_rule(
            "both",
            r#""uids": [1], "buses": ["*"], "addresses": ["0x50", "ten_bit:0x151"], "allow": ["read", "ten_bit"]"#,
        );
        let policy = AccessPolicy::parse_for(&text, ANDROID).unwrap();
        let caller = Caller { uid: 1, pid: 1 };
        let ten = |address| Target { address, ten_bit: true, pec: false };
        let b = bus("b");
        assert!(policy.check_open(&caller, &b, Target::seven_bit(0x50), false).is_ok());
        assert!(policy.check_open(&caller, &b, ten(0x151), false).is_ok());
        assert!(policy.check_open(&caller, &b, ten(0x050), false).is_err(), "10-bit 0x050");
        assert!(policy.check_open(&caller, &b, Target::seven_bit(0x51), false).is_err());
    }

    fn pattern(text: &str) -> BusPattern {
        BusPattern::parse(text).unwrap()
    }

    #[test]
    fn a_pattern_for_a_module_covers_the_channels_of_its_muxes() {
        let p = pattern;
        let module = "usb1/1-1/1-1:1.0/serial-CAL0001";
        let channel = format!("{module}/mux-0x70/chan-3");
        let nested = format!("{channel}/mux-0x68/chan-0");
        for id in [module, channel.as_str(), nested.as_str()] {
            assert!(p("*/serial-CAL0001").matches(id), "{id}");
        }
        assert!(p("*/serial-CAL0001/mux-0x70/chan-3").matches(&nested));
        assert!(
            !p("*/serial-CAL0001/mux-0x70/chan-3").matches(&format!("{module}/mux-0x70/chan-2"))
        );
        assert!(!p("*/serial-CAL0002").matches(&channel), "another module's channels");
        // A rule for the module's channels alone, not the module's own bus.
        assert!(!p("*/serial-CAL0001/mux-*").matches(module));
        assert!(p("*/serial-CAL0001/mux-*").matches(&channel));
    }

    #[test]
    fn bus_patterns_match_whole_stable_ids() {
        let p = pattern;
        assert!(p("usb1/*").matches("usb1/1-1/1-1:1.0"));
        assert!(p("*/serial-ABC").matches("usb1/1-1/1-1:1.0/serial-ABC"));
        assert!(p("pci0000:00/0000:00:1f.?").matches("pci0000:00/0000:00:1f.3"));
        assert!(!p("pci0000:00/0000:00:1f.?").matches("pci0000:00/0000:00:1f.33"));
        assert!(!p("usb1").matches("usb1/1-1"));
        assert!(p("*").matches(""));
        // A hostile pattern is still linear.
        let hostile = format!("{}b", "*a".repeat(200));
        assert!(!p(&hostile).matches(&"a".repeat(5000)));
    }
}
