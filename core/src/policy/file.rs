//! The policy file. People write it in TOML; a device reads it as JSON
//! (`/vendor/etc/i2c-hal/policy.json`), since AOSP builds its `toml` crate for hosts only:
//! Soong runs `i2c-hal-policy json` on the TOML at build time, so a bad policy fails the build
//! with its line number. Both forms hold the same fields and go through the same checks; a
//! text whose first non-blank character is `{` is JSON. Builds without the `toml` feature (the
//! vendor build) read JSON only. Reading is pure (no file access), so the checks are
//! unit-tested and fuzzed as text; what a refused file gets back is a [`PolicyFileError`].
//!
//! ```toml
//! [limits]                       # all optional (docs/limits.md)
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

use super::rules::{
    AccessPolicy, AddressRange, Administrators, BusPattern, Grant, PolicyLimits, Rule,
};
use super::{ExclusiveLimits, UidScheme, AID_USER_OFFSET};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use std::fmt;

/// The largest policy file read: far more rules than any device needs, and a bound on what a
/// reload can make the service allocate.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;

/// Why a policy file was refused: what, on which line (1-based, where known) and in which
/// rule (its name, where the problem is in one). It prints as people read it, e.g.
/// `line 5: rule "x": unknown grant "fly" (known: read, ...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyFileError {
    pub line: Option<usize>,
    /// The rule's name, for a problem in a rule (or in its name).
    pub rule: Option<String>,
    pub kind: PolicyFileErrorKind,
}

/// What is wrong with a policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyFileErrorKind {
    /// Larger than MAX_POLICY_BYTES.
    TooLarge { bytes: usize },
    /// Not TOML or JSON of a policy's shape (bad syntax, an unknown or missing field, a wrong
    /// type): the parser's words, without the position (which is `line`).
    Syntax(String),
    /// TOML, in a build that reads JSON only.
    TomlNotRead,
    /// The JSON form could not be written: serde_json's words.
    JsonForm(String),
    /// A second rule with a name already used.
    RuleNamedTwice { name: String },
    /// A rule's or an administrators group's name is empty or blank.
    EmptyName(NameOf),
    /// A name that would print otherwise than it reads: a control or bidirectional-text
    /// character in it.
    ControlCharacterInName { of: NameOf, name: String, character: char },
    /// A rule names no uids, no app_ids and not any_caller.
    NoCaller,
    /// app_ids, in a policy for a Linux host.
    AppIdsOnHost,
    /// An app id of AID_USER_OFFSET or more, which no uid % 100000 can be.
    AppIdNeverMatches { app_id: u32 },
    /// A rule without buses, addresses or allow, or with one of them empty.
    IncompleteRule,
    /// A bus pattern "".
    EmptyBusPattern,
    /// A bus pattern of digits only: a bus number, which other adapters reuse.
    BusNumber { pattern: String },
    /// An `allow` entry that is no grant.
    UnknownGrant { grant: String },
    /// A 7-bit entry with an address that takes 10 bits.
    AboveSevenBits { entry: String, address: u16 },
    /// An `addresses` entry that is no address or range of its kind.
    NotAnAddress { entry: String, ten_bit: bool },
    /// A range whose first address is above its last.
    BackwardsRange { entry: String },
}

/// Whose name is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameOf {
    Rule,
    AdministratorsGroup,
}

impl fmt::Display for NameOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameOf::Rule => "rule",
            NameOf::AdministratorsGroup => "administrators group",
        })
    }
}

impl PolicyFileErrorKind {
    /// Whether this is a problem in a rule's contents, which a message introduces with the
    /// rule's name.
    fn in_a_rule(&self) -> bool {
        use PolicyFileErrorKind::*;
        matches!(
            self,
            NoCaller
                | AppIdsOnHost
                | AppIdNeverMatches { .. }
                | IncompleteRule
                | EmptyBusPattern
                | BusNumber { .. }
                | UnknownGrant { .. }
                | AboveSevenBits { .. }
                | NotAnAddress { .. }
                | BackwardsRange { .. }
        )
    }
}

impl fmt::Display for PolicyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let (Some(rule), true) = (&self.rule, self.kind.in_a_rule()) {
            write!(f, "rule \"{rule}\": ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl fmt::Display for PolicyFileErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PolicyFileErrorKind::*;
        match self {
            TooLarge { bytes } => write!(f, "{bytes} bytes (at most {MAX_POLICY_BYTES})"),
            Syntax(message) | JsonForm(message) => f.write_str(message),
            TomlNotRead => f.write_str(
                "not a JSON policy: this build reads JSON policies only (convert a TOML one \
                 with `i2c-hal-policy json FILE`)",
            ),
            RuleNamedTwice { name } => {
                write!(f, "rule \"{name}\" is named twice: each rule needs a name of its own")
            }
            EmptyName(of) => write!(f, "{of} has an empty name"),
            ControlCharacterInName { of, name, character } => write!(
                f,
                "{of} {name:?} has the control character U+{:04X} in its name",
                u32::from(*character)
            ),
            NoCaller => f.write_str("names no caller (uids, app_ids or any_caller)"),
            AppIdsOnHost => f.write_str(
                "app_ids are Android's (an app id is uid % 100000, in every user); on a Linux \
                 host name uids",
            ),
            AppIdNeverMatches { app_id } => write!(
                f,
                "app id {app_id} can never match: an app id is uid % 100000 (name the uid in \
                 uids)"
            ),
            IncompleteRule => f.write_str("needs buses, addresses and allow, none of them empty"),
            EmptyBusPattern => f.write_str("an empty bus pattern"),
            BusNumber { pattern } => write!(
                f,
                "bus pattern \"{pattern}\" is a bus number: numbers are reused by other \
                 adapters, name the bus by its stable id"
            ),
            UnknownGrant { grant } => {
                let known: Vec<&str> = Grant::NAMES.iter().map(|(n, _)| *n).collect();
                write!(f, "unknown grant \"{grant}\" (known: {})", known.join(", "))
            }
            AboveSevenBits { entry, address } => write!(
                f,
                "\"{entry}\": {address:#x} is above 7 bits; a 10-bit address is written \
                 \"{TEN_BIT_PREFIX}{address:#05x}\""
            ),
            NotAnAddress { entry, ten_bit } => write!(
                f,
                "\"{entry}\" is not an address or range of {} (0x00..0x7f, or \
                 {TEN_BIT_PREFIX}0x000..0x3ff)",
                if *ten_bit { "10-bit addresses" } else { "7-bit addresses" }
            ),
            BackwardsRange { entry } => write!(f, "address range \"{entry}\" is backwards"),
        }
    }
}

impl std::error::Error for PolicyFileError {}

impl PolicyFileError {
    fn at(line: Option<usize>, kind: PolicyFileErrorKind) -> PolicyFileError {
        PolicyFileError { line, rule: None, kind }
    }
}

/// A check of one part of a rule or a name: the caller knows the line and the rule.
type Checked<T> = Result<T, PolicyFileErrorKind>;

// The file's own shape, field for field: serde reads and writes these; `from_file` checks
// them into the rules::AccessPolicy the service holds.

/// `[limits]` as written, a key left out being `None`; `from_file` fills in the defaults of
/// `PolicyLimits` (docs/limits.md lists every limit).
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
    fn read(text: &str) -> Result<PolicyFile, PolicyFileError> {
        if text.len() > MAX_POLICY_BYTES {
            let kind = PolicyFileErrorKind::TooLarge { bytes: text.len() };
            return Err(PolicyFileError::at(None, kind));
        }
        match PolicyFormat::of(text) {
            PolicyFormat::Json => PolicyFile::from_json(text),
            PolicyFormat::Toml => PolicyFile::from_toml(text),
        }
    }

    fn from_json(text: &str) -> Result<PolicyFile, PolicyFileError> {
        serde_json::from_str(text).map_err(|e| {
            // serde_json's Display adds the position, which the error carries on its own.
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = e.to_string();
            let message = message.strip_suffix(&position).unwrap_or(&message).to_string();
            PolicyFileError::at(
                (e.line() > 0).then_some(e.line()),
                PolicyFileErrorKind::Syntax(message),
            )
        })
    }

    #[cfg(feature = "toml")]
    fn from_toml(text: &str) -> Result<PolicyFile, PolicyFileError> {
        toml::from_str(text).map_err(|e| {
            // The toml crate leaves some syntax errors without a message (found by fuzzing).
            let message = match e.message().trim() {
                "" => "not valid TOML".to_string(),
                message => message.to_string(),
            };
            let line = e.span().map(|span| line_of(text, span.start));
            PolicyFileError::at(line, PolicyFileErrorKind::Syntax(message))
        })
    }

    #[cfg(not(feature = "toml"))]
    fn from_toml(_: &str) -> Result<PolicyFile, PolicyFileError> {
        Err(PolicyFileError::at(Some(1), PolicyFileErrorKind::TomlNotRead))
    }
}

impl AccessPolicy {
    /// Parses a policy file's text for this build's platform. A refusal names the line where
    /// the problem is, wherever the problem has one.
    pub fn parse(text: &str) -> Result<AccessPolicy, PolicyFileError> {
        AccessPolicy::parse_for(text, UidScheme::of_this_build())
    }

    /// Parses a policy file's text for a platform whose uids mean what `scheme` says.
    pub fn parse_for(text: &str, scheme: UidScheme) -> Result<AccessPolicy, PolicyFileError> {
        AccessPolicy::from_file(PolicyFile::read(text)?, text, scheme)
    }

    /// The JSON form of a policy file's text (TOML or JSON), once the text has passed every
    /// check `parse` makes: what Soong installs on a device. One field per line, so that a
    /// refusal's line number still points at the rule.
    pub fn to_json(text: &str, scheme: UidScheme) -> Result<String, PolicyFileError> {
        let file = PolicyFile::read(text)?;
        let json = serde_json::to_string_pretty(&file)
            .map_err(|e| PolicyFileError::at(None, PolicyFileErrorKind::JsonForm(e.to_string())))?;
        AccessPolicy::from_file(file, text, scheme)?;
        Ok(json + "\n")
    }

    /// Checks a file read from `text` (which the refusals' line numbers point into).
    fn from_file(
        file: PolicyFile,
        text: &str,
        scheme: UidScheme,
    ) -> Result<AccessPolicy, PolicyFileError> {
        let defaults = PolicyLimits::default();
        let limits = match file.limits {
            None => defaults,
            Some(l) => PolicyLimits {
                exclusive: ExclusiveLimits {
                    per_caller: l.max_exclusive_per_caller.unwrap_or(defaults.exclusive.per_caller),
                    per_bus: l.max_exclusive_per_bus.unwrap_or(defaults.exclusive.per_bus),
                },
                max_calls_per_second: l
                    .max_calls_per_second
                    .unwrap_or(defaults.max_calls_per_second),
            },
        };
        let mut names = HashSet::new();
        let mut rules = Vec::new();
        for rule in file.rule {
            let twice = !names.insert(rule.name.clone());
            // The second rule of a name is where the refusal points.
            let line = rule_line(text, &rule.name, usize::from(twice));
            let refused = |kind| PolicyFileError { line, rule: Some(rule.name.clone()), kind };
            if twice {
                return Err(refused(PolicyFileErrorKind::RuleNamedTwice {
                    name: rule.name.clone(),
                }));
            }
            rules.push(check_rule(&rule, scheme).map_err(refused)?);
        }
        let administrators = check_administrators(file.administrators, text)?;
        Ok(AccessPolicy { limits, rules, administrators, scheme })
    }
}

/// Bidirectional-text controls, which make a name display other than it reads (the
/// "Trojan Source" characters): U+061C, U+200E/F, U+202A..E, U+2066..9.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A name as log lines and refusals will print it: not empty, no control or bidi characters.
fn check_name(of: NameOf, name: &str) -> Checked<()> {
    if name.trim().is_empty() {
        return Err(PolicyFileErrorKind::EmptyName(of));
    }
    match name.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
        Some(character) => Err(PolicyFileErrorKind::ControlCharacterInName {
            of,
            name: name.to_string(),
            character,
        }),
        None => Ok(()),
    }
}

fn check_callers(rule: &FileRule, scheme: UidScheme) -> Checked<()> {
    if rule.uids.is_empty() && rule.app_ids.is_empty() && !rule.any_caller {
        return Err(PolicyFileErrorKind::NoCaller);
    }
    if rule.app_ids.is_empty() {
        return Ok(());
    }
    if scheme == UidScheme::Host {
        return Err(PolicyFileErrorKind::AppIdsOnHost);
    }
    match rule.app_ids.iter().find(|id| **id >= AID_USER_OFFSET) {
        Some(&app_id) => Err(PolicyFileErrorKind::AppIdNeverMatches { app_id }),
        None => Ok(()),
    }
}

fn check_rule(rule: &FileRule, scheme: UidScheme) -> Checked<Rule> {
    check_name(NameOf::Rule, &rule.name)?;
    check_callers(rule, scheme)?;
    if rule.buses.is_empty() || rule.addresses.is_empty() || rule.allow.is_empty() {
        return Err(PolicyFileErrorKind::IncompleteRule);
    }
    Ok(Rule {
        name: rule.name.clone(),
        any_caller: rule.any_caller,
        uids: rule.uids.clone(),
        app_ids: rule.app_ids.clone(),
        buses: rule.buses.iter().map(|b| BusPattern::parse(b)).collect::<Checked<_>>()?,
        addresses: rule.addresses.iter().map(|a| parse_address_range(a)).collect::<Checked<_>>()?,
        grants: rule.allow.iter().map(|g| Grant::parse(g)).collect::<Checked<_>>()?,
    })
}

/// The administrators a policy names; group names are checked here, resolved by the engine.
fn check_administrators(
    file: Option<FileAdministrators>,
    text: &str,
) -> Result<Administrators, PolicyFileError> {
    let Some(file) = file else {
        return Ok(Administrators::default());
    };
    for group in &file.groups {
        check_name(NameOf::AdministratorsGroup, group)
            .map_err(|kind| PolicyFileError::at(quoted_line(text, group), kind))?;
    }
    Ok(Administrators { uids: file.uids, groups: file.groups, group_members: BTreeSet::new() })
}

impl Grant {
    /// A grant by the name the policy file uses.
    fn parse(name: &str) -> Checked<Grant> {
        let grant = Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, g)| *g);
        grant.ok_or_else(|| PolicyFileErrorKind::UnknownGrant { grant: name.to_string() })
    }
}

impl BusPattern {
    /// A pattern as a rule's `buses` gives it; never a bus number.
    pub fn parse(text: &str) -> Checked<BusPattern> {
        if text.is_empty() {
            return Err(PolicyFileErrorKind::EmptyBusPattern);
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PolicyFileErrorKind::BusNumber { pattern: text.to_string() });
        }
        Ok(BusPattern(text.to_string()))
    }
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
fn parse_address_range(text: &str) -> Checked<AddressRange> {
    let (ten_bit, body) = match text.trim().strip_prefix(TEN_BIT_PREFIX) {
        Some(body) => (true, body),
        None => (false, text.trim()),
    };
    let max = if ten_bit { 0x3ff } else { 0x7f };
    let entry = || text.to_string();
    let number = |s: &str| match address_number(s.trim()) {
        Some(v) if v <= max => Ok(v),
        Some(address) if !ten_bit && address <= 0x3ff => {
            Err(PolicyFileErrorKind::AboveSevenBits { entry: entry(), address })
        }
        _ => Err(PolicyFileErrorKind::NotAnAddress { entry: entry(), ten_bit }),
    };
    let (first, last) = match body.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => {
            let a = number(body)?;
            (a, a)
        }
    };
    if first > last {
        return Err(PolicyFileErrorKind::BackwardsRange { entry: entry() });
    }
    Ok(AddressRange { ten_bit, range: first..=last })
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
    use super::super::fixtures::{json_rule, ANDROID};
    #[cfg(feature = "toml")]
    use super::super::fixtures::{SENSOR_POLICY, SENSOR_POLICY_TOML};
    use super::PolicyFileErrorKind::*;
    use super::*;

    /// Why `text` is refused on Android.
    fn refusal(text: &str) -> PolicyFileError {
        AccessPolicy::parse_for(text, ANDROID).unwrap_err()
    }

    fn rule(name: &str, kind: PolicyFileErrorKind) -> (Option<String>, PolicyFileErrorKind) {
        (Some(name.to_string()), kind)
    }

    /// A JSON rule "a" with these addresses, on line 3.
    fn addresses(entry: &str) -> String {
        let fields =
            format!(r#""uids": [1], "buses": ["*"], "addresses": ["{entry}"], "allow": ["read"]"#);
        json_rule("a", &fields)
    }

    /// Every message, as people read it (the parser's own aside): one check per message.
    #[test]
    fn refusals_print_as_people_read_them() {
        let known = "read, write, register, raw, exclusive, ten_bit, pec";
        let in_rule = |kind| PolicyFileError { line: Some(3), rule: Some("r".into()), kind };
        let at = |kind| PolicyFileError::at(Some(2), kind);
        let cases = [
            (
                PolicyFileError::at(None, TooLarge { bytes: 300_000 }),
                "300000 bytes (at most 262144)",
            ),
            (at(Syntax("unknown field `x`".into())), "line 2: unknown field `x`"),
            (
                PolicyFileError::at(Some(1), TomlNotRead),
                "line 1: not a JSON policy: this build reads JSON policies only (convert a TOML \
                 one with `i2c-hal-policy json FILE`)",
            ),
            (
                in_rule(RuleNamedTwice { name: "r".into() }),
                "line 3: rule \"r\" is named twice: each rule needs a name of its own",
            ),
            (in_rule(EmptyName(NameOf::Rule)), "line 3: rule has an empty name"),
            (
                at(ControlCharacterInName {
                    of: NameOf::AdministratorsGroup,
                    name: "a\u{202e}b".into(),
                    character: '\u{202e}',
                }),
                "line 2: administrators group \"a\\u{202e}b\" has the control character U+202E \
                 in its name",
            ),
            (
                in_rule(NoCaller),
                "line 3: rule \"r\": names no caller (uids, app_ids or any_caller)",
            ),
            (
                in_rule(AppIdsOnHost),
                "line 3: rule \"r\": app_ids are Android's (an app id is uid % 100000, in every \
                 user); on a Linux host name uids",
            ),
            (
                in_rule(AppIdNeverMatches { app_id: 100_000 }),
                "line 3: rule \"r\": app id 100000 can never match: an app id is uid % 100000 \
                 (name the uid in uids)",
            ),
            (
                in_rule(IncompleteRule),
                "line 3: rule \"r\": needs buses, addresses and allow, none of them empty",
            ),
            (in_rule(EmptyBusPattern), "line 3: rule \"r\": an empty bus pattern"),
            (
                in_rule(BusNumber { pattern: "3".into() }),
                "line 3: rule \"r\": bus pattern \"3\" is a bus number: numbers are reused by \
                 other adapters, name the bus by its stable id",
            ),
            (
                in_rule(UnknownGrant { grant: "fly".into() }),
                &format!("line 3: rule \"r\": unknown grant \"fly\" (known: {known})"),
            ),
            (
                in_rule(AboveSevenBits { entry: "0x150".into(), address: 0x150 }),
                "line 3: rule \"r\": \"0x150\": 0x150 is above 7 bits; a 10-bit address is \
                 written \"ten_bit:0x150\"",
            ),
            (
                in_rule(NotAnAddress { entry: "ten_bit:".into(), ten_bit: true }),
                "line 3: rule \"r\": \"ten_bit:\" is not an address or range of 10-bit \
                 addresses (0x00..0x7f, or ten_bit:0x000..0x3ff)",
            ),
            (
                in_rule(BackwardsRange { entry: "0x57-0x50".into() }),
                "line 3: rule \"r\": address range \"0x57-0x50\" is backwards",
            ),
        ];
        for (error, reads) in cases {
            assert_eq!(error.to_string(), reads, "{error:?}");
        }
    }

    #[cfg(feature = "toml")]
    #[test]
    fn the_toml_and_json_forms_are_one_policy() {
        let from_toml = AccessPolicy::parse_for(SENSOR_POLICY_TOML, ANDROID).unwrap();
        assert_eq!(from_toml, AccessPolicy::parse_for(SENSOR_POLICY, ANDROID).unwrap());
        let json = AccessPolicy::to_json(SENSOR_POLICY_TOML, ANDROID).unwrap();
        assert_eq!(PolicyFormat::of(&json), PolicyFormat::Json);
        assert_eq!(AccessPolicy::parse_for(&json, ANDROID).unwrap(), from_toml, "{json}");
        assert_eq!(AccessPolicy::parse("").unwrap(), AccessPolicy::parse("{}").unwrap());
        // What fails the check fails the conversion, with the line in the TOML.
        let toml = "\n[[rule]]\nname = \"b\"\nuids = [1]\nbuses = [\"x\"]\naddresses = [\"0x50\"]\nallow = [\"fly\"]\n";
        let err = AccessPolicy::to_json(toml, ANDROID).unwrap_err();
        assert_eq!((err.line, err.rule.as_deref()), (Some(3), Some("b")), "{err}");
        assert_eq!(err.kind, UnknownGrant { grant: "fly".into() });
    }

    #[cfg(not(feature = "toml"))]
    #[test]
    fn a_build_without_toml_says_how_to_convert_a_toml_policy() {
        let err = AccessPolicy::parse("[[rule]]\nname = \"a\"\n").unwrap_err();
        assert_eq!((err.line, err.kind), (Some(1), TomlNotRead));
    }

    #[test]
    fn invalid_json_files_are_refused_with_the_line() {
        let fields = |buses: &str, addresses: &str, allow: &str| {
            format!(
                r#""uids": [1], "buses": ["{buses}"], "addresses": ["{addresses}"], "allow": ["{allow}"]"#
            )
        };
        let cases = [
            (
                json_rule("a", &fields("3", "0x50", "read")),
                rule("a", BusNumber { pattern: "3".into() }),
            ),
            (
                json_rule("b", &fields("x", "0x50", "fly")),
                rule("b", UnknownGrant { grant: "fly".into() }),
            ),
            (
                json_rule("c", &fields("x", "0x57-0x50", "read")),
                rule("c", BackwardsRange { entry: "0x57-0x50".into() }),
            ),
            (
                json_rule("d", r#""buses": ["x"], "addresses": ["0x50"], "allow": ["read"]"#),
                rule("d", NoCaller),
            ),
            (
                json_rule(
                    "e",
                    r#""uids": [1], "buses": [], "addresses": ["0x50"], "allow": ["read"]"#,
                ),
                rule("e", IncompleteRule),
            ),
            (json_rule("f", &fields("", "0x50", "read")), rule("f", EmptyBusPattern)),
        ];
        for (text, (rule, kind)) in cases {
            let err = refusal(&text);
            assert_eq!((err.line, err.rule, err.kind), (Some(3), rule, kind), "{text}");
        }
        // The parser's refusals: the line is the error's, not the message's.
        for text in [
            "{\n\n  \"limits\": { \"max_sesions\": 3 }\n}",
            "{\n  \"rule\": [\n    {\"name\": \"e\",,}\n  ]\n}",
        ] {
            let err = refusal(text);
            assert_eq!((err.line, &err.rule), (Some(3), &None), "{err} for {text}");
            let Syntax(message) = &err.kind else { panic!("{err:?}") };
            assert!(!message.contains(" column "), "the position is the line's job: {err}");
        }
        let huge = format!("{{{}}}", " ".repeat(MAX_POLICY_BYTES));
        let err = refusal(&huge);
        assert_eq!((err.line, err.kind), (None, TooLarge { bytes: MAX_POLICY_BYTES + 2 }));
    }

    #[cfg(feature = "toml")]
    #[test]
    fn invalid_toml_files_are_refused_with_the_line() {
        let cases = [
            ("[[rule]]\nname = \"a\"\nuids = [1]\nbuses = [\"3\"]\naddresses = [\"0x50\"]\nallow = [\"read\"]\n", rule("a", BusNumber { pattern: "3".into() })),
            ("[[rule]]\nname = \"b\"\nuids = [1]\nbuses = [\"x\"]\naddresses = [\"0x50\"]\nallow = [\"fly\"]\n", rule("b", UnknownGrant { grant: "fly".into() })),
            ("[[rule]]\nname = \"c\"\nuids = [1]\nbuses = [\"x\"]\naddresses = [\"0x57-0x50\"]\nallow = [\"read\"]\n", rule("c", BackwardsRange { entry: "0x57-0x50".into() })),
            ("[[rule]]\nname = \"d\"\nbuses = [\"x\"]\naddresses = [\"0x50\"]\nallow = [\"read\"]\n", rule("d", NoCaller)),
            ("[[rule]]\nname = \"e\"\nuids = [1]\nbuses = [\"x\"]\naddresses = [\"0x400\"]\nallow = [\"read\"]\n", rule("e", NotAnAddress { entry: "0x400".into(), ten_bit: false })),
        ];
        for (text, (rule, kind)) in cases {
            let err = refusal(text);
            assert_eq!((err.line, err.rule, err.kind), (Some(2), rule, kind), "{text:?}");
        }
        let err = refusal("\n\n[limits]\nmax_sesions = 3\n");
        assert!(matches!((err.line, &err.kind), (Some(4), Syntax(_))), "{err:?}");
        let huge = "#".repeat(MAX_POLICY_BYTES + 1);
        assert_eq!(refusal(&huge).kind, TooLarge { bytes: MAX_POLICY_BYTES + 1 });
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
        let err = refusal(text);
        assert!(matches!(&err.kind, Syntax(message) if !message.is_empty()), "{err:?}");
        assert!(err.line.is_some(), "{err}");
    }

    #[test]
    fn app_ids_mean_something_only_on_android() {
        let app = json_rule(
            "app",
            r#""app_ids": [10057], "buses": ["*"], "addresses": ["0x48"], "allow": ["read"]"#,
        );
        let on_host = AccessPolicy::parse_for(&app, UidScheme::Host).unwrap_err();
        assert_eq!((on_host.line, on_host.kind), (Some(3), AppIdsOnHost));
        assert!(AccessPolicy::parse_for(&app, ANDROID).is_ok());
        // An app id is uid % 100000: a larger one can never match.
        let never = json_rule(
            "never",
            r#""app_ids": [100000], "buses": ["*"], "addresses": ["0x48"], "allow": ["read"]"#,
        );
        assert_eq!(refusal(&never).kind, AppIdNeverMatches { app_id: 100_000 });
    }

    #[test]
    fn a_rule_name_is_used_once_and_prints_as_it_reads() {
        let twice = "{\n\"rule\": [\n{\"name\": \"r\", \"uids\": [1], \"buses\": [\"*\"], \"addresses\": [\"0x48\"], \"allow\": [\"read\"]},\n{\"name\": \"r\", \"uids\": [2], \"buses\": [\"*\"], \"addresses\": [\"0x49\"], \"allow\": [\"read\"]}\n]}";
        let err = refusal(twice);
        assert_eq!(err.line, Some(4), "the second one's line: {err}");
        assert_eq!(err.kind, RuleNamedTwice { name: "r".into() });
        for (name, character) in [
            ("", None),
            ("  ", None),
            ("tab\\there", Some('\t')),
            ("bell\\u0007", Some('\u{7}')),
            ("rtl\\u202eevil", Some('\u{202e}')),
            ("iso\\u2066x", Some('\u{2066}')),
        ] {
            let text = json_rule(
                name,
                r#""uids": [1], "buses": ["*"], "addresses": ["0x48"], "allow": ["read"]"#,
            );
            let err = refusal(&text);
            match (character, err.kind) {
                (None, EmptyName(NameOf::Rule)) => {}
                (Some(c), ControlCharacterInName { of: NameOf::Rule, character, .. }) => {
                    assert_eq!(character, c, "{name:?}")
                }
                (_, kind) => panic!("{name:?}: {kind:?}"),
            }
        }
        let group = "{\n  \"administrators\": {\n    \"groups\": [\"ok\", \"\"]\n  }\n}";
        let err = refusal(group);
        assert_eq!((err.line, err.kind), (Some(3), EmptyName(NameOf::AdministratorsGroup)));
    }

    #[test]
    fn an_address_entry_names_one_kind_of_address() {
        for (entry, kind) in [
            ("0x150", AboveSevenBits { entry: "0x150".into(), address: 0x150 }),
            ("+80", NotAnAddress { entry: "+80".into(), ten_bit: false }),
            ("0x 50", NotAnAddress { entry: "0x 50".into(), ten_bit: false }),
            ("-1", NotAnAddress { entry: "-1".into(), ten_bit: false }),
            ("ten_bit:0x400", NotAnAddress { entry: "ten_bit:0x400".into(), ten_bit: true }),
            ("ten_bit:", NotAnAddress { entry: "ten_bit:".into(), ten_bit: true }),
        ] {
            let err = refusal(&addresses(entry));
            assert_eq!(
                (err.line, err.rule, err.kind),
                (Some(3), Some("a".into()), kind),
                "{entry}"
            );
        }
        let both = AccessPolicy::parse_for(&addresses("ten_bit:0x000-0x3ff"), ANDROID).unwrap();
        let range = &both.rules[0].addresses[0];
        assert_eq!((range.ten_bit, range.range.clone()), (true, 0..=0x3ff));
    }
}
