//! The access-control policy: who may do what on which bus. People write it in TOML; a device
//! reads it as JSON (`/vendor/etc/i2c-hal/policy.json`), since AOSP builds its `toml` crate for
//! hosts only: Soong runs `i2c-hal-policy json` on the TOML at build time, so a bad policy
//! fails the build with its line number. Both forms hold the same fields and go through the
//! same checks; a text whose first non-blank character is `{` is JSON. Builds without the
//! `toml` feature (the vendor build) read JSON only. Default deny: a request is allowed only where a rule
//! matches the caller, the bus and the address, and grants the operation class. The parser and
//! the evaluator are pure (no file access), so the policy is unit-tested and fuzzed as text.
//!
//! ```toml
//! [limits]                       # all optional
//! max_exclusive_per_caller = 2   # exclusive sessions one uid may hold
//! max_exclusive_per_bus = 4      # of those, on one bus (others' never count against it)
//! max_calls_per_second = 2000    # per uid, QUOTA_EXCEEDED past it (0: no limit)
//!
//! [administrators]               # optional: who administers besides root (and system, on
//! uids = [1001]                  # Android); a group's members as the host's group database
//! groups = ["i2c-admin"]         # says at each (re)load
//!
//! [[rule]]
//! name = "thermal app reads the board sensor"
//! app_ids = [10057]              # Android only: uid % 100000, in any user; or `uids = [...]`
//! buses = ["pci0000:00/0000:00:1f.3", "usb1/1-1/*"]   # stable-id patterns (* and ?)
//! addresses = ["0x48", "0x50-0x57", "ten_bit:0x150"]  # 7-bit, unless written ten_bit:
//! allow = ["read", "register"]   # read, write, register, raw, exclusive, ten_bit, pec
//! ```
//!
//! Buses are matched by stable id only, never by bus number: numbers are reused by other
//! adapters, so a rule naming "3" would follow whatever adapter gets number 3 next. A 7-bit
//! and a 10-bit address are different devices even where their numbers agree (0x50 and the
//! 10-bit 0x050), so an address entry names one kind only.

use super::bus::{BusInfo, MUX_CHANNEL};
use super::device::Target;
use super::error::{Error, ErrorCode, Result};
use super::policy::{administrators_only, Caller, ExclusiveLimits, Policy, UidScheme};
use super::request::{OperationClass, OperationSet};
use super::sync::{lock, read, write};
use log::{info, warn};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

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

    fn parse(name: &str) -> Option<Grant> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, g)| *g)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, g)| *g == self).map(|(n, _)| *n).unwrap_or("?")
    }

    /// A bit of its own for each grant (its place in NAMES), for sets of grants.
    fn bit(self) -> u8 {
        1 << Self::NAMES.iter().position(|(_, g)| *g == self).unwrap_or(0)
    }
}

/// Ceilings from the policy file. (Sessions and listeners per uid are the service's own
/// `--max-sessions-per-uid` and limits, one home for each.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyLimits {
    pub max_exclusive_per_caller: usize,
    pub max_exclusive_per_bus: usize,
    /// Calls one uid may make per second (a burst of as many); 0: no limit.
    pub max_calls_per_second: u32,
}

impl Default for PolicyLimits {
    fn default() -> Self {
        PolicyLimits {
            max_exclusive_per_caller: 2,
            max_exclusive_per_bus: 4,
            // Far above what one well-behaved client needs, far below what a flood can send.
            max_calls_per_second: 50_000,
        }
    }
}

/// A stable-id pattern: `*` matches any run of characters (slashes included), `?` one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusPattern(String);

impl BusPattern {
    fn parse(text: &str) -> std::result::Result<BusPattern, String> {
        if text.is_empty() {
            return Err("an empty bus pattern".into());
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "bus pattern \"{text}\" is a bus number: numbers are reused by other adapters, \
                 name the bus by its stable id"
            ));
        }
        Ok(BusPattern(text.to_string()))
    }

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
    fn name(&self, uid: u32) -> bool {
        self.uids.contains(&uid) || self.group_members.contains(&uid)
    }
}

/// A parsed policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    pub limits: PolicyLimits,
    pub rules: Vec<Rule>,
    pub administrators: Administrators,
    /// What the uids in it mean (app ids exist on Android only).
    pub scheme: UidScheme,
}

/// Why a policy file was refused: what and where (1-based line, when known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for PolicyError {}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    #[serde(skip_serializing_if = "Option::is_none")]
    max_exclusive_per_caller: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_exclusive_per_bus: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_calls_per_second: Option<u32>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    name: String,
    /// Every caller; meant for development policies only.
    #[serde(default, skip_serializing_if = "is_false")]
    any_caller: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    uids: Vec<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    app_ids: Vec<u32>,
    buses: Vec<String>,
    addresses: Vec<String>,
    allow: Vec<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileAdministrators {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    uids: Vec<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    groups: Vec<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    limits: Option<FileLimits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    administrators: Option<FileAdministrators>,
    #[serde(default)]
    rule: Vec<FileRule>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The two forms of a policy file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyFormat {
    Toml,
    Json,
}

impl PolicyFormat {
    /// JSON when the first non-blank character opens an object (a TOML file cannot start so).
    pub fn of(text: &str) -> PolicyFormat {
        match text.trim_start().starts_with('{') {
            true => PolicyFormat::Json,
            false => PolicyFormat::Toml,
        }
    }
}

impl PolicyFile {
    /// A policy file's text in either form, refused past MAX_POLICY_BYTES.
    fn read(text: &str) -> std::result::Result<PolicyFile, PolicyError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(PolicyError {
                line: None,
                message: format!("{} bytes (at most {MAX_POLICY_BYTES})", text.len()),
            });
        }
        match PolicyFormat::of(text) {
            PolicyFormat::Json => PolicyFile::from_json(text),
            PolicyFormat::Toml => PolicyFile::from_toml(text),
        }
    }

    fn from_json(text: &str) -> std::result::Result<PolicyFile, PolicyError> {
        serde_json::from_str(text).map_err(|e| {
            // serde_json's Display adds the position, which PolicyError carries on its own.
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = e.to_string();
            PolicyError {
                line: (e.line() > 0).then_some(e.line()),
                message: message.strip_suffix(&position).unwrap_or(&message).to_string(),
            }
        })
    }

    #[cfg(feature = "toml")]
    fn from_toml(text: &str) -> std::result::Result<PolicyFile, PolicyError> {
        toml::from_str(text).map_err(|e| PolicyError {
            line: e.span().map(|span| line_of(text, span.start)),
            // The toml crate leaves some syntax errors without a message (found by fuzzing).
            message: match e.message().trim() {
                "" => "not valid TOML".to_string(),
                message => message.to_string(),
            },
        })
    }

    #[cfg(not(feature = "toml"))]
    fn from_toml(_: &str) -> std::result::Result<PolicyFile, PolicyError> {
        Err(PolicyError {
            line: Some(1),
            message: "not a JSON policy: this build reads JSON policies only (convert a TOML \
                      one with `i2c-hal-policy json FILE`)"
                .to_string(),
        })
    }
}

/// The largest policy file read: far more rules than any device needs, and a bound on what a
/// reload can make the service allocate.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;

impl AccessPolicy {
    /// Parses a policy file's text for this build's platform. Every refusal names the line
    /// where the problem is.
    pub fn parse(text: &str) -> std::result::Result<AccessPolicy, PolicyError> {
        AccessPolicy::parse_for(text, UidScheme::of_this_build())
    }

    /// Parses a policy file's text for a platform whose uids mean what `scheme` says.
    pub fn parse_for(
        text: &str,
        scheme: UidScheme,
    ) -> std::result::Result<AccessPolicy, PolicyError> {
        AccessPolicy::from_file(PolicyFile::read(text)?, text, scheme)
    }

    /// Checks a file read from `text` (which the refusals' line numbers point into).
    fn from_file(
        file: PolicyFile,
        text: &str,
        scheme: UidScheme,
    ) -> std::result::Result<AccessPolicy, PolicyError> {
        let defaults = PolicyLimits::default();
        let limits = match file.limits {
            None => defaults,
            Some(l) => PolicyLimits {
                max_exclusive_per_caller: l
                    .max_exclusive_per_caller
                    .unwrap_or(defaults.max_exclusive_per_caller),
                max_exclusive_per_bus: l
                    .max_exclusive_per_bus
                    .unwrap_or(defaults.max_exclusive_per_bus),
                max_calls_per_second: l
                    .max_calls_per_second
                    .unwrap_or(defaults.max_calls_per_second),
            },
        };
        let mut names = std::collections::HashSet::new();
        let mut rules = Vec::new();
        for rule in file.rule {
            let twice = !names.insert(rule.name.clone());
            // The second rule of a name is where the refusal points.
            let line = rule_line(text, &rule.name, usize::from(twice));
            if twice {
                let message = format!(
                    "rule \"{}\" is named twice: each rule needs a name of its own",
                    rule.name
                );
                return Err(PolicyError { line, message });
            }
            rules.push(check_rule(rule, scheme).map_err(|message| PolicyError { line, message })?);
        }
        let administrators = check_administrators(file.administrators, text)?;
        Ok(AccessPolicy { limits, rules, administrators, scheme })
    }

    /// The JSON form of a policy file's text (TOML or JSON), once the text has passed every
    /// check `parse` makes: what Soong installs on a device. One field per line, so that a
    /// refusal's line number still points at the rule.
    pub fn to_json(text: &str, scheme: UidScheme) -> std::result::Result<String, PolicyError> {
        let file = PolicyFile::read(text)?;
        let json = serde_json::to_string_pretty(&file)
            .map_err(|e| PolicyError { line: None, message: e.to_string() })?;
        AccessPolicy::from_file(file, text, scheme)?;
        Ok(json + "\n")
    }

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

/// Bidirectional-text controls, which make a name display other than it reads (the
/// "Trojan Source" characters): U+061C, U+200E/F, U+202A..E, U+2066..9.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A name as log lines and refusals will print it: not empty, no control or bidi characters.
fn check_name(what: &str, name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err(format!("{what} has an empty name"));
    }
    match name.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
        Some(c) => Err(format!(
            "{what} {name:?} has the control character U+{:04X} in its name",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

fn check_callers(rule: &FileRule, scheme: UidScheme) -> std::result::Result<(), String> {
    if rule.uids.is_empty() && rule.app_ids.is_empty() && !rule.any_caller {
        return Err("names no caller (uids, app_ids or any_caller)".to_string());
    }
    if rule.app_ids.is_empty() {
        return Ok(());
    }
    if scheme == UidScheme::Host {
        return Err("app_ids are Android's (an app id is uid % 100000, in every user); on a \
                    Linux host name uids"
            .to_string());
    }
    match rule.app_ids.iter().find(|id| **id >= super::policy::AID_USER_OFFSET) {
        Some(id) => Err(format!(
            "app id {id} can never match: an app id is uid % 100000 (name the uid in uids)"
        )),
        None => Ok(()),
    }
}

fn check_rule(rule: FileRule, scheme: UidScheme) -> std::result::Result<Rule, String> {
    check_name("rule", &rule.name)?;
    let named = |what: &str| format!("rule \"{}\": {what}", rule.name);
    check_callers(&rule, scheme).map_err(|e| named(&e))?;
    if rule.buses.is_empty() || rule.addresses.is_empty() || rule.allow.is_empty() {
        return Err(named("needs buses, addresses and allow, none of them empty"));
    }
    let buses = rule
        .buses
        .iter()
        .map(|b| BusPattern::parse(b))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| named(&e))?;
    let addresses = rule
        .addresses
        .iter()
        .map(|a| parse_address_range(a))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| named(&e))?;
    let grants = rule
        .allow
        .iter()
        .map(|name| {
            Grant::parse(name).ok_or_else(|| {
                let known: Vec<&str> = Grant::NAMES.iter().map(|(n, _)| *n).collect();
                format!("unknown grant \"{name}\" (known: {})", known.join(", "))
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| named(&e))?;
    Ok(Rule {
        name: rule.name,
        any_caller: rule.any_caller,
        uids: rule.uids,
        app_ids: rule.app_ids,
        buses,
        addresses,
        grants,
    })
}

/// The administrators a policy names; group names are checked here, resolved by the engine.
fn check_administrators(
    file: Option<FileAdministrators>,
    text: &str,
) -> std::result::Result<Administrators, PolicyError> {
    let Some(file) = file else {
        return Ok(Administrators::default());
    };
    for group in &file.groups {
        check_name("administrators group", group)
            .map_err(|message| PolicyError { line: quoted_line(text, group), message })?;
    }
    Ok(Administrators { uids: file.uids, groups: file.groups, group_members: BTreeSet::new() })
}

/// The prefix of a 10-bit address entry.
const TEN_BIT_PREFIX: &str = "ten_bit:";

/// One address number: `0x` and one to three hex digits, or decimal digits; nothing else
/// (no sign, no blanks inside).
fn address_number(text: &str) -> Option<u16> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    let all_digits = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    all_digits.then(|| u16::from_str_radix(digits, radix).ok()).flatten()
}

/// "0x48", "72" or "0x50-0x57" (7-bit, up to 0x7f); "ten_bit:0x150" or "ten_bit:0x000-0x3ff"
/// (10-bit, up to 0x3ff).
fn parse_address_range(text: &str) -> std::result::Result<AddressRange, String> {
    let (ten_bit, body) = match text.trim().strip_prefix(TEN_BIT_PREFIX) {
        Some(body) => (true, body),
        None => (false, text.trim()),
    };
    let max = if ten_bit { 0x3ff } else { 0x7f };
    let number = |s: &str| {
        match address_number(s.trim()) {
        Some(v) if v <= max => Ok(v),
        Some(v) if !ten_bit && v <= 0x3ff => Err(format!(
            "\"{text}\": {v:#x} is above 7 bits; a 10-bit address is written \"{TEN_BIT_PREFIX}{v:#05x}\""
        )),
        _ => Err(format!(
            "\"{text}\" is not an address or range of {} (0x00..0x7f, or {TEN_BIT_PREFIX}0x000..0x3ff)",
            if ten_bit { "10-bit addresses" } else { "7-bit addresses" }
        )),
    }
    };
    let (first, last) = match body.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => {
            let a = number(body)?;
            (a, a)
        }
    };
    if first > last {
        return Err(format!("address range \"{text}\" is backwards"));
    }
    Ok(AddressRange { ten_bit, range: first..=last })
}

// ------------------------------------------------------------------------------ engine ----

/// Reads the policy file's text (the daemon gives a closure over the file, so that the core
/// does no I/O of its own).
pub type PolicyLoader = Box<dyn Fn() -> std::result::Result<String, String> + Send + Sync>;

/// The uids of a group's members (the daemon looks them up in the host's group database).
pub type GroupMembers = Box<dyn Fn(&str) -> std::result::Result<Vec<u32>, String> + Send + Sync>;

/// Where a reloadable policy comes from and how to read it.
pub struct PolicySource {
    /// Where it came from, for log lines and refusals (the file's path).
    pub origin: String,
    pub loader: PolicyLoader,
    /// What uids mean on this platform.
    pub scheme: UidScheme,
    /// How the `[administrators]` groups are resolved; None refuses a policy that names any.
    pub groups: Option<GroupMembers>,
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
    pub fn load(source: PolicySource) -> std::result::Result<PolicyEngine, String> {
        let policy = read_policy(&source).map_err(|e| format!("{}: {e}", source.origin))?;
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
fn read_policy(source: &PolicySource) -> std::result::Result<AccessPolicy, String> {
    let text = (source.loader)()?;
    let mut policy = AccessPolicy::parse_for(&text, source.scheme).map_err(|e| e.to_string())?;
    for group in &policy.administrators.groups {
        let Some(members) = &source.groups else {
            return Err(format!(
                "administrators group \"{group}\": this service resolves no groups"
            ));
        };
        let uids = members(group).map_err(|e| format!("administrators group \"{group}\": {e}"))?;
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
        administrators_only(policy.scheme, caller, policy.administrators.name(caller.uid))
    }

    fn is_administrator(&self, uid: u32) -> bool {
        let policy = self.current();
        policy.scheme.is_builtin_administrator(uid) || policy.administrators.name(uid)
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
        let limits = self.current().limits;
        ExclusiveLimits {
            per_caller: limits.max_exclusive_per_caller,
            per_bus: limits.max_exclusive_per_bus,
        }
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
            Err(e) => {
                warn!("policy {} refused, the policy in force stays: {e}", self.origin);
                Err(Error::new(ErrorCode::InvalidArgument, format!("{}: {e}", self.origin)))
            }
        }
    }
}

/// The 1-based line of a byte offset.
#[cfg(feature = "toml")]
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// The line that names a rule (the `nth` such line, from 0, for a name used twice), so a
/// semantic refusal points at it: `name = "..."` in TOML, `"name": "..."` in JSON.
fn rule_line(text: &str, name: &str, nth: usize) -> Option<usize> {
    let quoted = format!("\"{name}\"");
    let naming = |l: &&str| {
        let key = l.trim_start_matches(|c: char| c.is_whitespace() || c == '{' || c == '"');
        key.starts_with("name") && l.contains(&quoted)
    };
    let lines = text.lines().enumerate().filter(|(_, l)| naming(l));
    lines.map(|(i, _)| i + 1).nth(nth)
}

/// The first line that holds `value` as a quoted string.
fn quoted_line(text: &str, value: &str) -> Option<usize> {
    let quoted = format!("\"{value}\"");
    text.lines().position(|l| l.contains(&quoted)).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Generation;

    const ANDROID: UidScheme = UidScheme::Android;
    const APP: Caller = Caller { uid: 10_057, pid: 1 };
    const SECOND_USER_APP: Caller = Caller { uid: 1_010_057, pid: 1 };
    const OTHER: Caller = Caller { uid: 10_058, pid: 1 };

    fn bus(stable_id: &str) -> BusInfo {
        BusInfo {
            bus_number: 3,
            name: "adapter".into(),
            stable_id: stable_id.into(),
            generation: Generation(1),
            functionality: 0,
        }
    }

    // In JSON, the form every build reads (a device's has no TOML), so that these tests run on
    // a device too; `the_toml_and_json_forms_are_one_policy` ties it to its TOML form.
    const SENSOR_POLICY: &str = r#"{
  "limits": { "max_exclusive_per_caller": 1 },
  "rule": [
    {
      "name": "thermal app reads the board sensor",
      "app_ids": [10057],
      "buses": ["pci0000:00/0000:00:1f.3"],
      "addresses": ["0x48"],
      "allow": ["read", "register"]
    },
    {
      "name": "factory tool on any USB module",
      "uids": [2000],
      "buses": ["usb*"],
      "addresses": ["0x08-0x77", "ten_bit:0x150"],
      "allow": ["raw", "read", "write", "register", "exclusive", "ten_bit"]
    }
  ]
}"#;

    #[cfg(feature = "toml")]
    const SENSOR_POLICY_TOML: &str = r#"
[limits]
max_exclusive_per_caller = 1

[[rule]]
name = "thermal app reads the board sensor"
app_ids = [10057]
buses = ["pci0000:00/0000:00:1f.3"]
addresses = ["0x48"]
allow = ["read", "register"]

[[rule]]
name = "factory tool on any USB module"
uids = [2000]
buses = ["usb*"]
addresses = ["0x08-0x77", "ten_bit:0x150"]
allow = ["raw", "read", "write", "register", "exclusive", "ten_bit"]
"#;

    /// The empty policy, in the form every build reads.
    const EMPTY_POLICY: &str = "{}";

    #[cfg(feature = "toml")]
    #[test]
    fn the_toml_and_json_forms_are_one_policy() {
        let from_toml = AccessPolicy::parse_for(SENSOR_POLICY_TOML, ANDROID).unwrap();
        assert_eq!(from_toml, AccessPolicy::parse_for(SENSOR_POLICY, ANDROID).unwrap());
        let json = AccessPolicy::to_json(SENSOR_POLICY_TOML, ANDROID).unwrap();
        assert_eq!(PolicyFormat::of(&json), PolicyFormat::Json);
        assert_eq!(AccessPolicy::parse_for(&json, ANDROID).unwrap(), from_toml, "{json}");
        assert_eq!(AccessPolicy::parse("").unwrap(), AccessPolicy::parse(EMPTY_POLICY).unwrap());
        // What fails the check fails the conversion, with the line in the TOML.
        let toml = "\n[[rule]]\nname = \"b\"\nuids = [1]\nbuses = [\"x\"]\naddresses = [\"0x50\"]\nallow = [\"fly\"]\n";
        let err = AccessPolicy::to_json(toml, ANDROID).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
    }

    #[cfg(not(feature = "toml"))]
    #[test]
    fn a_build_without_toml_says_how_to_convert_a_toml_policy() {
        let err = AccessPolicy::parse("[[rule]]\nname = \"a\"\n").unwrap_err();
        assert!(err.message.contains("i2c-hal-policy json"), "{err}");
    }

    #[test]
    fn rules_grant_by_app_id_stable_id_and_address_and_deny_everything_else() {
        let policy = AccessPolicy::parse_for(SENSOR_POLICY, ANDROID).unwrap();
        assert_eq!(policy.limits.max_exclusive_per_caller, 1);
        let defaults = PolicyLimits::default();
        assert_eq!(policy.limits.max_exclusive_per_bus, defaults.max_exclusive_per_bus);
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

    /// A one-rule JSON policy whose rule has `fields` (besides its name), the rule's name on
    /// line 3.
    fn json_rule(name: &str, fields: &str) -> String {
        format!("{{\n  \"rule\": [{{\n    \"name\": \"{name}\",\n    {fields}\n  }}]\n}}\n")
    }

    #[test]
    fn invalid_json_files_are_refused_with_the_line() {
        let cases: [(String, usize, &str); 6] = [
            (
                json_rule(
                    "a",
                    r#""uids": [1], "buses": ["3"], "addresses": ["0x50"], "allow": ["read"]"#,
                ),
                3,
                "bus number",
            ),
            (
                json_rule(
                    "b",
                    r#""uids": [1], "buses": ["x"], "addresses": ["0x50"], "allow": ["fly"]"#,
                ),
                3,
                "unknown grant",
            ),
            (
                json_rule(
                    "c",
                    r#""uids": [1], "buses": ["x"], "addresses": ["0x57-0x50"], "allow": ["read"]"#,
                ),
                3,
                "backwards",
            ),
            (
                json_rule("d", r#""buses": ["x"], "addresses": ["0x50"], "allow": ["read"]"#),
                3,
                "names no caller",
            ),
            ("{\n\n  \"limits\": { \"max_sesions\": 3 }\n}".to_string(), 3, "unknown field"),
            (
                "{\n  \"rule\": [\n    {\"name\": \"e\",,}\n  ]\n}".to_string(),
                3,
                "key must be a string",
            ),
        ];
        for (text, line, what) in cases {
            let err = AccessPolicy::parse(&text).unwrap_err();
            assert_eq!(err.line, Some(line), "{err} for {text}");
            assert!(err.to_string().contains(what), "{err} should say {what}");
            assert!(!err.message.contains(" column "), "the position is the line's job: {err}");
        }
        let huge = format!("{{{}}}", " ".repeat(MAX_POLICY_BYTES));
        assert!(AccessPolicy::parse(&huge).unwrap_err().to_string().contains("at most"));
    }

    #[cfg(feature = "toml")]
    #[test]
    fn invalid_files_are_refused_with_the_line() {
        let cases: [(&str, usize, &str); 6] = [
            ("[[rule]]\nname = \"a\"\nuids = [1]\nbuses = [\"3\"]\naddresses = [\"0x50\"]\nallow = [\"read\"]\n", 2, "bus number"),
            ("[[rule]]\nname = \"b\"\nuids = [1]\nbuses = [\"x\"]\naddresses = [\"0x50\"]\nallow = [\"fly\"]\n", 2, "unknown grant"),
            ("[[rule]]\nname = \"c\"\nuids = [1]\nbuses = [\"x\"]\naddresses = [\"0x57-0x50\"]\nallow = [\"read\"]\n", 2, "backwards"),
            ("[[rule]]\nname = \"d\"\nbuses = [\"x\"]\naddresses = [\"0x50\"]\nallow = [\"read\"]\n", 2, "names no caller"),
            ("\n\n[limits]\nmax_sesions = 3\n", 4, "unknown field"),
            ("[[rule]]\nname = \"e\"\nuids = [1]\nbuses = [\"x\"]\naddresses = [\"0x400\"]\nallow = [\"read\"]\n", 2, "0x00..0x7f"),
        ];
        for (text, line, what) in cases {
            let err = AccessPolicy::parse(text).unwrap_err();
            assert_eq!(err.line, Some(line), "{err} for {text:?}");
            assert!(err.to_string().contains(what), "{err} should say {what}");
        }
        let huge = "#".repeat(MAX_POLICY_BYTES + 1);
        assert!(AccessPolicy::parse(&huge).unwrap_err().to_string().contains("at most"));
    }

    #[cfg(feature = "toml")]
    #[test]
    fn a_syntax_error_the_toml_crate_leaves_unexplained_still_gets_a_message() {
        // Found by the policy fuzz target: an unterminated array with a comment in it.
        let text = r##"[limits]
max_exer = 1

[[rule]]
name = "thermal200 app reads the board sensor"
app_ids = [10057]
buses = ["pci0000:00/0000:00:1f.3"]
addresses = [#0x mod, "read", &"write", "regregister", "exclusive", "ten_bst", "##;
        let err = AccessPolicy::parse(text).unwrap_err();
        assert!(!err.message.is_empty());
        assert!(err.line.is_some(), "{err}");
    }

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

    #[test]
    fn a_reload_takes_a_valid_file_and_keeps_the_old_policy_on_an_invalid_one() {
        let (contents, loader) = file(SENSOR_POLICY);
        let engine = PolicyEngine::load(source("test.json", loader)).unwrap();
        let board = bus("pci0000:00/0000:00:1f.3");
        let sensor = Target::seven_bit(0x48);
        assert!(engine.check_open(&APP, &board, sensor, false).is_ok());

        *contents.lock().unwrap() = json_rule("broken", r#""allow": ["fly"]"#);
        let refused = engine.reload().unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidArgument);
        assert!(
            refused.message.contains("test.json") && refused.message.contains("line"),
            "{refused}"
        );
        assert!(engine.check_open(&APP, &board, sensor, false).is_ok(), "the old policy stays");

        *contents.lock().unwrap() = EMPTY_POLICY.to_string();
        engine.reload().unwrap();
        let denied = engine.check_open(&APP, &board, sensor, false).unwrap_err();
        assert_eq!(denied.code, ErrorCode::PermissionDenied, "the new, empty policy denies");

        let fixed = PolicyEngine::fixed(AccessPolicy::default(), "built-in");
        assert_eq!(fixed.reload().unwrap_err().code, ErrorCode::NotSupported);
        let unreadable: PolicyLoader = Box::new(|| Err("no such file".to_string()));
        match PolicyEngine::load(source("missing.toml", unreadable)) {
            Err(e) => assert!(e.contains("missing.toml") && e.contains("no such file"), "{e}"),
            Ok(_) => panic!("an unreadable policy must refuse to start"),
        }
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

    fn refusal(text: &str, scheme: UidScheme) -> PolicyError {
        AccessPolicy::parse_for(text, scheme).unwrap_err()
    }

    #[test]
    fn app_ids_mean_something_only_on_android() {
        let rule = json_rule(
            "app",
            r#""app_ids": [10057], "buses": ["*"], "addresses": ["0x48"], "allow": ["read"]"#,
        );
        let on_host = refusal(&rule, UidScheme::Host);
        assert_eq!(on_host.line, Some(3));
        assert!(on_host.message.contains("app_ids are Android's"), "{on_host}");
        let policy = AccessPolicy::parse_for(&rule, ANDROID).unwrap();
        let board = bus("b");
        assert!(policy
            .check_open(&SECOND_USER_APP, &board, Target::seven_bit(0x48), false)
            .is_ok());
        // An app id is uid % 100000: a larger one can never match.
        let never = json_rule(
            "never",
            r#""app_ids": [100000], "buses": ["*"], "addresses": ["0x48"], "allow": ["read"]"#,
        );
        let err = refusal(&never, ANDROID);
        assert!(err.message.contains("app id 100000 can never match"), "{err}");
    }

    #[test]
    fn a_rule_name_is_used_once_and_prints_as_it_reads() {
        let twice = "{\n\"rule\": [\n{\"name\": \"r\", \"uids\": [1], \"buses\": [\"*\"], \"addresses\": [\"0x48\"], \"allow\": [\"read\"]},\n{\"name\": \"r\", \"uids\": [2], \"buses\": [\"*\"], \"addresses\": [\"0x49\"], \"allow\": [\"read\"]}\n]}";
        let err = refusal(twice, ANDROID);
        assert_eq!(err.line, Some(4), "the second one's line: {err}");
        assert!(err.message.contains("named twice"), "{err}");
        for name in ["", "  ", "tab\\there", "bell\\u0007", "rtl\\u202eevil", "iso\\u2066x"] {
            let text = json_rule(
                name,
                r#""uids": [1], "buses": ["*"], "addresses": ["0x48"], "allow": ["read"]"#,
            );
            let err = refusal(&text, ANDROID);
            assert!(err.message.contains("name"), "{name:?}: {err}");
        }
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
        for (entry, says) in [
            ("0x150", "ten_bit:0x150"),
            ("+80", "not an address"),
            ("0x 50", "not an address"),
            ("-1", "not an address"),
            ("ten_bit:0x400", "10-bit addresses"),
            ("ten_bit:", "not an address"),
        ] {
            let text = json_rule(
                "a",
                &format!(
                    r#""uids": [1], "buses": ["*"], "addresses": ["{entry}"], "allow": ["read"]"#
                ),
            );
            let err = refusal(&text, ANDROID);
            assert!(err.message.contains(says), "{entry}: {err}");
            assert_eq!(err.line, Some(3), "{entry}");
        }
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
        assert!(err.contains("i2c-admin") && err.contains("no such group"), "{err}");
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

    #[test]
    fn a_pattern_for_a_module_covers_the_channels_of_its_muxes() {
        let p = |s: &str| BusPattern::parse(s).unwrap();
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
        let p = |s: &str| BusPattern::parse(s).unwrap();
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
