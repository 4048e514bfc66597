//! Text lines and JSON objects for buses, sessions and events. Text is `key=value` after a
//! leading word so that shell scripts can grep and cut it; JSON keys use snake_case.

use crate::core::request::func::I2C_FUNC_I2C;
use crate::core::{BusInfo, BusSelector, LossReason};
use crate::ipc::client::BusEvent;
use serde_json::{json, Map, Value};

/// `i2cdetect -l`'s adapter type column: plain I2C transfers, or SMBus only.
fn adapter_kind(info: &BusInfo) -> &'static str {
    if supports_i2c(info) {
        "i2c"
    } else {
        "smbus"
    }
}

fn supports_i2c(info: &BusInfo) -> bool {
    info.functionality & I2C_FUNC_I2C != 0
}

/// One `buses` line, shaped like `i2cdetect -l` with the generation and stable id appended.
pub fn bus_line(info: &BusInfo) -> String {
    format!(
        "i2c-{}\t{}\t{}\tgeneration={}\tstable-id={}",
        info.bus_number,
        adapter_kind(info),
        info.name,
        info.generation,
        info.stable_id
    )
}

pub fn bus_json(info: &BusInfo) -> Value {
    json!({
        "bus": info.bus_number,
        "name": info.name,
        "stable_id": info.stable_id,
        "generation": info.generation.0,
        "functionality": info.functionality,
        "i2c": supports_i2c(info),
    })
}

/// The BUS argument as the user gave it: a number stays a number in JSON.
pub fn selector_json(bus: &str) -> Value {
    match BusSelector::parse(bus) {
        BusSelector::Number(number) => json!(number),
        BusSelector::StableId(id) => json!(id),
    }
}

/// `hold`'s first line (and the answer to its `info` command).
pub fn held_line(info: &BusInfo, address: u16) -> String {
    format!(
        "held bus={} address=0x{address:02x} generation={} stable-id={}",
        info.bus_number, info.generation, info.stable_id
    )
}

/// The session fields of `held_line` as JSON, under the given event name.
pub fn session_json(event: &str, info: &BusInfo, address: u16) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("event".into(), json!(event));
    object.insert("bus".into(), json!(info.bus_number));
    object.insert("address".into(), json!(address));
    object.insert("generation".into(), json!(info.generation.0));
    object.insert("stable_id".into(), json!(info.stable_id));
    object.insert("name".into(), json!(info.name));
    object
}

pub fn lost_line(reason: LossReason, message: &str) -> String {
    if message.is_empty() {
        format!("lost reason={}", reason.name())
    } else {
        format!("lost reason={} {message}", reason.name())
    }
}

pub fn lost_json(reason: LossReason, message: &str) -> Value {
    json!({ "event": "lost", "reason": reason.name(), "message": message })
}

fn event_parts(event: &BusEvent) -> (&'static str, &BusInfo) {
    match event {
        BusEvent::Added(info) => ("added", info),
        BusEvent::Removed(info) => ("removed", info),
    }
}

/// One `watch` line.
pub fn event_line(event: &BusEvent) -> String {
    let (kind, info) = event_parts(event);
    format!(
        "{kind} bus={} generation={} stable-id={} name={}",
        info.bus_number, info.generation, info.stable_id, info.name
    )
}

pub fn event_json(event: &BusEvent) -> Value {
    let (kind, info) = event_parts(event);
    let mut object = json!({ "event": kind });
    if let (Value::Object(target), Value::Object(fields)) = (&mut object, bus_json(info)) {
        target.extend(fields);
    }
    object
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::Generation;

    pub(crate) fn sample_bus(functionality: u64) -> BusInfo {
        BusInfo {
            bus_number: 3,
            name: "SMBus I801 adapter".into(),
            stable_id: "pci0000:00/0000:00:1f.3/i801".into(),
            generation: Generation(2),
            functionality,
        }
    }

    #[test]
    fn bus_lines_look_like_i2cdetect_l() {
        assert_eq!(
            bus_line(&sample_bus(0x0eff_0008)),
            "i2c-3\tsmbus\tSMBus I801 adapter\tgeneration=2\tstable-id=pci0000:00/0000:00:1f.3/i801"
        );
        assert!(bus_line(&sample_bus(0x0eff_0009)).starts_with("i2c-3\ti2c\t"));
    }

    #[test]
    fn bus_json_has_all_fields() {
        assert_eq!(
            bus_json(&sample_bus(1)),
            json!({
                "bus": 3, "name": "SMBus I801 adapter", "stable_id": "pci0000:00/0000:00:1f.3/i801",
                "generation": 2, "functionality": 1, "i2c": true
            })
        );
    }

    #[test]
    fn held_and_lost_lines() {
        assert_eq!(
            held_line(&sample_bus(1), 0x08),
            "held bus=3 address=0x08 generation=2 stable-id=pci0000:00/0000:00:1f.3/i801"
        );
        let held = Value::Object(session_json("held", &sample_bus(1), 0x50));
        assert_eq!(held["event"], "held");
        assert_eq!(held["address"], 0x50);
        assert_eq!(held["generation"], 2);
        assert_eq!(
            lost_line(LossReason::Removed, "bus 3 was unplugged"),
            "lost reason=REMOVED bus 3 was unplugged"
        );
        assert_eq!(lost_line(LossReason::Revoked, ""), "lost reason=REVOKED");
        assert_eq!(
            lost_json(LossReason::Shutdown, "bye"),
            json!({"event": "lost", "reason": "SHUTDOWN", "message": "bye"})
        );
    }

    #[test]
    fn watch_events() {
        let added = BusEvent::Added(sample_bus(1));
        assert_eq!(
            event_line(&added),
            "added bus=3 generation=2 stable-id=pci0000:00/0000:00:1f.3/i801 name=SMBus I801 adapter"
        );
        assert!(event_line(&BusEvent::Removed(sample_bus(1))).starts_with("removed bus=3 "));
        let object = event_json(&added);
        assert_eq!(object["event"], "added");
        assert_eq!(object["bus"], 3);
        assert_eq!(object["stable_id"], "pci0000:00/0000:00:1f.3/i801");
    }

    #[test]
    fn selectors_keep_numbers_numeric() {
        assert_eq!(selector_json("4"), json!(4));
        assert_eq!(selector_json("pci/x"), json!("pci/x"));
    }
}
