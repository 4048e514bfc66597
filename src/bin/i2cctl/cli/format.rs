//! Text lines and JSON objects for buses, sessions and events. Text is `key=value` after a
//! leading word so that shell scripts can grep and cut it; JSON keys use snake_case.

use i2c_hal_client::{
    BusEvent, OperationClass, OperationSet, SessionReport, SessionState, StatusReport,
};
use i2c_hal_core::bus::mux_parent_id;
use i2c_hal_core::request::func::I2C_FUNC_I2C;
use i2c_hal_core::{BusInfo, BusSelector, LossReason};
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

/// The bus a mux channel hangs from, among `buses`: the one whose stable id is the channel's
/// without its last `/mux-<address>/chan-<n>` (see `platform::sysfs`). None for a bus that is
/// no channel, or whose parent is not listed.
pub fn parent_of(info: &BusInfo, buses: &[BusInfo]) -> Option<u32> {
    let parent_id = mux_parent_id(&info.stable_id)?;
    buses.iter().find(|bus| bus.stable_id == parent_id).map(|bus| bus.bus_number)
}

/// `bus_line`, and for a mux channel the bus it hangs from (`parent=i2c-5`).
pub fn bus_line_among(info: &BusInfo, buses: &[BusInfo]) -> String {
    match parent_of(info, buses) {
        Some(parent) => format!("{}\tparent=i2c-{parent}", bus_line(info)),
        None => bus_line(info),
    }
}

/// `bus_json`, with `"parent"`: the bus number a mux channel hangs from, else null.
pub fn bus_json_among(info: &BusInfo, buses: &[BusInfo]) -> Value {
    let mut value = bus_json(info);
    if let Value::Object(fields) = &mut value {
        fields.insert("parent".into(), json!(parent_of(info, buses)));
    }
    value
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

/// How a session was opened: its address and the openSession flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionMode {
    pub address: u16,
    pub exclusive: bool,
    pub ten_bit: bool,
    pub pec: bool,
}

impl SessionMode {
    /// The flags that are set, by name, comma-separated; empty if none.
    fn flags(&self) -> String {
        [(self.exclusive, "exclusive"), (self.ten_bit, "ten-bit"), (self.pec, "pec")]
            .iter()
            .filter(|(set, _)| *set)
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// An address as i2c-tools print it (`0x50`), and a 10-bit one with three digits (`0x150`).
pub fn address_text(address: u16, ten_bit: bool) -> String {
    if ten_bit {
        format!("0x{address:03x}")
    } else {
        format!("0x{address:02x}")
    }
}

/// `hold`'s first line (and the answer to its `info` command); `flags=` only when any is set.
pub fn held_line(info: &BusInfo, mode: &SessionMode) -> String {
    let flags = mode.flags();
    format!(
        "held bus={} address={} generation={} stable-id={}{}",
        info.bus_number,
        address_text(mode.address, mode.ten_bit),
        info.generation,
        info.stable_id,
        if flags.is_empty() { String::new() } else { format!(" flags={flags}") }
    )
}

/// The session fields of `held_line` as JSON, under the given event name.
pub fn session_json(event: &str, info: &BusInfo, mode: &SessionMode) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("event".into(), json!(event));
    object.insert("bus".into(), json!(info.bus_number));
    object.insert("address".into(), json!(mode.address));
    object.insert("generation".into(), json!(info.generation.0));
    object.insert("stable_id".into(), json!(info.stable_id));
    object.insert("name".into(), json!(info.name));
    object.insert("exclusive".into(), json!(mode.exclusive));
    object.insert("ten_bit".into(), json!(mode.ten_bit));
    object.insert("pec".into(), json!(mode.pec));
    object
}

/// The name of an operation class (II2cSession.OP_*), as `allowed` prints it.
pub fn operation_name(class: OperationClass) -> &'static str {
    match class {
        OperationClass::Read => "read",
        OperationClass::Write => "write",
        OperationClass::Register => "register",
        OperationClass::RawTransfer => "raw-transfer",
    }
}

pub fn operation_names(set: OperationSet) -> Vec<&'static str> {
    set.classes().map(operation_name).collect()
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

/// `status`: a `service` line, the buses as `buses` prints them, then one line per session,
/// counter and recent removal.
pub fn status_lines(status: &StatusReport) -> Vec<String> {
    let mut lines = vec![format!(
        "service uptime-ms={} buses={} sessions={} listeners={}",
        status.uptime.as_millis(),
        status.buses.len(),
        status.sessions.len(),
        status.listeners
    )];
    lines.extend(status.buses.iter().map(bus_line));
    lines.extend(status.sessions.iter().map(session_status_line));
    lines.extend(status.counters.iter().map(|(name, value)| format!("counter {name}={value}")));
    lines.extend(status.recent_removals.iter().map(|removal| {
        format!(
            "removal bus={} generation={} stable-id={} latency-us={} sessions-lost={} age-ms={}",
            removal.bus_number,
            removal.generation,
            removal.stable_id,
            removal.latency.as_micros(),
            removal.sessions_lost,
            removal.age.as_millis()
        )
    }));
    lines
}

fn session_mode(session: &SessionReport) -> SessionMode {
    SessionMode {
        address: session.target.address,
        exclusive: session.exclusive,
        ten_bit: session.target.ten_bit,
        pec: session.target.pec,
    }
}

fn state_text(state: SessionState) -> String {
    match state {
        SessionState::Opening => "opening".to_string(),
        SessionState::Live => "live".to_string(),
        SessionState::Dead(reason) => format!("dead reason={}", reason.name()),
    }
}

/// One session of `status`.
pub fn session_status_line(session: &SessionReport) -> String {
    let mode = session_mode(session);
    let flags = mode.flags();
    format!(
        "session id={} uid={} pid={} bus={} generation={} address={} age-ms={} state={}{}",
        session.id,
        session.caller.uid,
        session.caller.pid,
        session.bus_number,
        session.generation,
        address_text(mode.address, mode.ten_bit),
        session.age.as_millis(),
        state_text(session.state),
        if flags.is_empty() { String::new() } else { format!(" flags={flags}") }
    )
}

pub fn status_json(status: &StatusReport) -> Value {
    let sessions: Vec<Value> = status
        .sessions
        .iter()
        .map(|session| {
            let (state, reason) = match session.state {
                SessionState::Opening => ("opening", None),
                SessionState::Live => ("live", None),
                SessionState::Dead(reason) => ("dead", Some(reason.name())),
            };
            json!({
                "id": session.id,
                "uid": session.caller.uid,
                "pid": session.caller.pid,
                "bus": session.bus_number,
                "stable_id": session.stable_id,
                "generation": session.generation.0,
                "address": session.target.address,
                "exclusive": session.exclusive,
                "ten_bit": session.target.ten_bit,
                "pec": session.target.pec,
                "age_ms": session.age.as_millis() as u64,
                "state": state,
                "loss_reason": reason,
            })
        })
        .collect();
    let counters: Map<String, Value> =
        status.counters.iter().map(|(name, value)| (name.clone(), json!(value))).collect();
    let removals: Vec<Value> = status
        .recent_removals
        .iter()
        .map(|removal| {
            json!({
                "bus": removal.bus_number,
                "stable_id": removal.stable_id,
                "generation": removal.generation.0,
                "latency_us": removal.latency.as_micros() as u64,
                "sessions_lost": removal.sessions_lost,
                "age_ms": removal.age.as_millis() as u64,
            })
        })
        .collect();
    json!({
        "uptime_ms": status.uptime.as_millis() as u64,
        "buses": status.buses.iter().map(bus_json).collect::<Vec<_>>(),
        "sessions": sessions,
        "listeners": status.listeners,
        "counters": counters,
        "recent_removals": removals,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use i2c_hal_core::Generation;

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
    fn a_mux_channel_names_the_bus_it_hangs_from() {
        let bus = |number, id: &str| BusInfo {
            stable_id: id.to_string(),
            bus_number: number,
            ..sample_bus(1)
        };
        let module = "usb1/1-1/1-1:1.0/serial-CAL0001";
        let buses = [
            bus(5, module),
            bus(6, &format!("{module}/mux-0x70/chan-0")),
            bus(12, &format!("{module}/mux-0x70/chan-0/mux-0x68/chan-0")),
            bus(9, "usb1/1-2/1-2:1.0/mux-0x71/chan-1"),
        ];
        let parents: Vec<Option<u32>> = buses.iter().map(|b| parent_of(b, &buses)).collect();
        assert_eq!(parents, [None, Some(5), Some(6), None], "the last one's parent is not listed");
        assert!(bus_line_among(&buses[1], &buses).ends_with("\tparent=i2c-5"));
        assert_eq!(bus_line_among(&buses[0], &buses), bus_line(&buses[0]));
        assert_eq!(bus_json_among(&buses[2], &buses)["parent"], json!(6));
        assert_eq!(bus_json_among(&buses[0], &buses)["parent"], Value::Null);
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

    pub(crate) fn seven_bit(address: u16) -> SessionMode {
        SessionMode { address, ..SessionMode::default() }
    }

    #[test]
    fn held_and_lost_lines() {
        assert_eq!(
            held_line(&sample_bus(1), &seven_bit(0x08)),
            "held bus=3 address=0x08 generation=2 stable-id=pci0000:00/0000:00:1f.3/i801"
        );
        let ten_bit_pec = SessionMode { address: 0x50, ten_bit: true, pec: true, exclusive: false };
        assert_eq!(
            held_line(&sample_bus(1), &ten_bit_pec),
            "held bus=3 address=0x050 generation=2 stable-id=pci0000:00/0000:00:1f.3/i801 \
             flags=ten-bit,pec"
        );
        let held = Value::Object(session_json("held", &sample_bus(1), &seven_bit(0x50)));
        assert_eq!(held["event"], "held");
        assert_eq!(held["address"], 0x50);
        assert_eq!(held["generation"], 2);
        assert_eq!((held["ten_bit"].clone(), held["pec"].clone()), (json!(false), json!(false)));
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
    fn status_lines_show_each_session_with_its_owner() {
        use i2c_hal_client::RemovalReport;
        use i2c_hal_core::device::Target;
        use i2c_hal_core::policy::Caller;
        use std::time::Duration;
        let bus = sample_bus(1);
        let live = SessionReport {
            id: 4,
            caller: Caller { uid: 10_123, pid: 77 },
            bus_number: bus.bus_number,
            stable_id: bus.stable_id.clone(),
            generation: bus.generation,
            target: Target { address: 0x150, ten_bit: true, pec: false },
            exclusive: true,
            age: Duration::from_millis(1500),
            state: SessionState::Live,
        };
        let dead = SessionReport {
            id: 5,
            target: Target::seven_bit(0x50),
            exclusive: false,
            state: SessionState::Dead(LossReason::Revoked),
            ..live.clone()
        };
        let status = StatusReport {
            uptime: Duration::from_secs(2),
            buses: vec![sample_bus(1)],
            sessions: vec![live, dead],
            listeners: 1,
            counters: vec![("transfers".into(), 9)],
            recent_removals: vec![RemovalReport {
                bus_number: 3,
                stable_id: "x".into(),
                generation: i2c_hal_core::Generation(1),
                latency: Duration::from_micros(250),
                sessions_lost: 2,
                age: Duration::from_millis(40),
                last_callback: None,
                event_clock_nanos: None,
            }],
        };
        let lines = status_lines(&status);
        assert_eq!(lines[0], "service uptime-ms=2000 buses=1 sessions=2 listeners=1");
        assert_eq!(lines[1], bus_line(&sample_bus(1)));
        assert_eq!(
            lines[2],
            "session id=4 uid=10123 pid=77 bus=3 generation=2 address=0x150 age-ms=1500 \
             state=live flags=exclusive,ten-bit"
        );
        assert_eq!(
            lines[3],
            "session id=5 uid=10123 pid=77 bus=3 generation=2 address=0x50 age-ms=1500 \
             state=dead reason=REVOKED"
        );
        assert_eq!(lines[4], "counter transfers=9");
        assert_eq!(
            lines[5],
            "removal bus=3 generation=1 stable-id=x latency-us=250 sessions-lost=2 age-ms=40"
        );
        let object = status_json(&status);
        assert_eq!(object["sessions"][0]["uid"], 10_123);
        assert_eq!(object["sessions"][0]["ten_bit"], true);
        assert_eq!(object["sessions"][1]["loss_reason"], "REVOKED");
        assert_eq!(object["counters"]["transfers"], 9);
        assert_eq!(object["recent_removals"][0]["latency_us"], 250);
    }

    #[test]
    fn operations_by_name() {
        let all = OperationClass::ALL.into_iter().fold(OperationSet::default(), OperationSet::with);
        assert_eq!(operation_names(all), ["read", "write", "register", "raw-transfer"]);
        assert!(operation_names(OperationSet::default()).is_empty());
    }

    #[test]
    fn selectors_keep_numbers_numeric() {
        assert_eq!(selector_json("4"), json!(4));
        assert_eq!(selector_json("pci/x"), json!("pci/x"));
    }
}
