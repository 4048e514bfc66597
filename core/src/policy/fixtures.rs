//! What the policy's tests share: callers, a bus, and policies in both forms.

use super::{Caller, UidScheme};
use crate::bus::{BusInfo, Generation};

pub const ANDROID: UidScheme = UidScheme::Android;
pub const APP: Caller = Caller { uid: 10_057, pid: 1 };
pub const SECOND_USER_APP: Caller = Caller { uid: 1_010_057, pid: 1 };
pub const OTHER: Caller = Caller { uid: 10_058, pid: 1 };

pub fn bus(stable_id: &str) -> BusInfo {
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
pub const SENSOR_POLICY: &str = r#"{
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
pub const SENSOR_POLICY_TOML: &str = r#"
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
pub const EMPTY_POLICY: &str = "{}";

/// A one-rule JSON policy whose rule has `fields` (besides its name), the rule's name on
/// line 3.
pub fn json_rule(name: &str, fields: &str) -> String {
    format!("{{\n  \"rule\": [{{\n    \"name\": \"{name}\",\n    {fields}\n  }}]\n}}\n")
}
