//! The i2cctl binary against the real i2c-hal-service in simulator mode: output formats, exit
//! codes and one-line errors, and `hold` driven through a pipe across an unplug.

mod common;

use common::*;
use serde_json::Value;
use std::process::Stdio;

/// Bytes as i2cctl prints them (`0x69 0x32`).
fn hex_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:#04x}")).collect::<Vec<_>>().join(" ")
}

#[test]
fn buses_lists_one_line_per_bus() {
    let service = Service::start();
    let output = service.i2cctl(&["buses"]);
    let lines: Vec<&str> = output.success().lines().collect();
    assert_eq!(lines.len(), 2, "{output:?}");
    let expected_starts = [
        format!("i2c-0\ti2c\t{}\tgeneration=", sim_adapter_name(EEPROM_MODULE)),
        format!("i2c-1\tsmbus\t{}\tgeneration=", sim_adapter_name(SENSOR_MODULE)),
    ];
    for (line, start) in lines.iter().zip(&expected_starts) {
        assert!(line.starts_with(start.as_str()), "{line:?} should start with {start:?}");
        assert!(line.contains("\tstable-id="), "{line:?}");
    }
}

#[test]
fn json_buses_parses_and_agrees_with_the_client_api() {
    let service = Service::start();
    let output = service.i2cctl(&["--json", "buses"]);
    let parsed: Value = serde_json::from_str(output.success().trim()).expect("buses JSON");
    let buses = parsed.as_array().expect("a JSON array");
    let listed = service.client().list_buses().expect("list_buses");
    assert_eq!(buses.len(), listed.len());
    for (json, bus) in buses.iter().zip(&listed) {
        assert_eq!(json["bus"], bus.bus_number, "{json}");
        assert_eq!(json["name"], bus.name.as_str(), "{json}");
        assert_eq!(json["stable_id"], bus.stable_id.as_str(), "{json}");
        assert_eq!(json["generation"], bus.generation.0, "{json}");
        assert_eq!(json["functionality"], bus.functionality, "{json}");
    }
    assert_eq!(buses[0]["i2c"], true);
    assert_eq!(buses[1]["i2c"], false);
}

#[test]
fn get_set_and_transfer_reach_the_eeprom() {
    let service = Service::start();
    let eeprom = address_arg(EEPROM_ADDRESS);
    let first_byte = format!("{}\n", hex_bytes(&EEPROM_SIGNATURE[..1]));
    assert_eq!(service.i2cctl(&["get", "0", &eeprom, "0x00"]).success(), first_byte);

    service.i2cctl(&["set", "0", &eeprom, "0x80", "0xa5"]).success();
    assert_eq!(service.i2cctl(&["get", "0", &eeprom, "0x80"]).success(), "0xa5\n");
    service.i2cctl(&["set", "0", &eeprom, "0x90", "0xbeef", "w"]).success();
    assert_eq!(service.i2cctl(&["get", "0", &eeprom, "0x90", "w"]).success(), "0xbeef\n");

    let write_to_eeprom = format!("w1@{eeprom}");
    let output = service.i2cctl(&["transfer", "0", &write_to_eeprom, "0x00", "r4"]);
    assert_eq!(output.success(), format!("{}\n", hex_bytes(&EEPROM_SIGNATURE[..4])));
    let output =
        service.i2cctl(&["transfer", "0", &write_to_eeprom, "0x80", "r1", "w1", "0x90", "r2"]);
    assert_eq!(output.stdout_lines(), ["0xa5", "0xef 0xbe"], "{output:?}");

    let lm75 = address_arg(LM75_ADDRESS);
    let temperature = format!("{LM75_TEMPERATURE_WORD:#06x}\n");
    assert_eq!(service.i2cctl(&["get", "1", &lm75, "0", "w"]).success(), temperature);
}

#[test]
fn detect_shows_present_and_driver_bound_addresses() {
    let service = Service::start();
    let output = service.i2cctl(&["detect", "1"]);
    let row_label = format!("{:02x}:", LM75_ADDRESS & 0xf0);
    let row = output
        .success()
        .lines()
        .find(|line| line.starts_with(&row_label))
        .unwrap_or_else(|| panic!("no {row_label} row in {output:?}"));
    // The LM75 answers, and the driver-bound chip right after it shows as UU.
    assert_eq!(DRIVER_BOUND_ADDRESS, LM75_ADDRESS + 1, "the row layout this test expects");
    assert!(row.contains(&format!("{LM75_ADDRESS:02x} UU")), "{row:?}");
    assert_eq!(row.split_whitespace().filter(|cell| *cell != "--").count(), 3, "{row:?}");
}

#[test]
fn failures_are_one_stderr_line_with_an_exit_code_per_kind() {
    let service = Service::start();
    let eeprom = address_arg(EEPROM_ADDRESS);
    let refused = service.i2cctl(&["get", "9", &eeprom, "0"]);
    assert_one_line_failure(&refused, 1, "i2cctl: NO_SUCH_BUS:");

    let busy = service.i2cctl(&["get", "1", &address_arg(DRIVER_BOUND_ADDRESS), "0"]);
    assert_one_line_failure(&busy, 1, "i2cctl: ADDRESS_BUSY:");

    let write_to_eeprom = format!("w1@{eeprom}");
    for bad_syntax in [
        &["get", "0", "0xzz", "0"][..],
        &["get", "0", &eeprom],
        &["transfer", "0", &write_to_eeprom],
        &["frobnicate"],
    ] {
        let output = service.i2cctl(bad_syntax);
        assert_one_line_failure(&output, 2, "i2cctl: USAGE:");
    }

    let nowhere = service.dir().join("no-service-here.sock");
    let nowhere = nowhere.to_str().expect("UTF-8 temp path");
    let unreachable = run_i2cctl(None, &["--socket", nowhere, "buses"]);
    assert_one_line_failure(&unreachable, 3, "i2cctl: SERVICE_UNREACHABLE:");

    // The service is unharmed by all of that.
    let first_byte = format!("{}\n", hex_bytes(&EEPROM_SIGNATURE[..1]));
    assert_eq!(service.i2cctl(&["get", "0", &eeprom, "0x00"]).success(), first_byte);
}

#[test]
fn hold_reports_the_loss_and_answers_bus_gone_after_unplug() {
    let service = Service::start();
    let eeprom = address_arg(EEPROM_ADDRESS);
    let mut holder = service.spawn_i2cctl(&["hold", "0", &eeprom], Stdio::piped());
    let held = holder.next_line();
    assert!(held.starts_with(&format!("held bus=0 address={eeprom} generation=")), "{held}");

    holder.send_line("get 0x00");
    assert_eq!(holder.next_line(), hex_bytes(&EEPROM_SIGNATURE[..1]));
    holder.send_line("transfer w1 0x00 r2");
    assert_eq!(holder.next_line(), hex_bytes(&EEPROM_SIGNATURE[..2]));
    assert_eq!(service.fds_on_bus(0), 1, "hold keeps i2c-0 open");

    let unplugged = service.i2cctl(&["sim", "unplug", EEPROM_MODULE]);
    let done = format!("unplugged {EEPROM_MODULE} in ");
    assert!(unplugged.success().starts_with(&done), "{unplugged:?}");
    let lost = holder.next_line();
    assert!(lost.starts_with("lost reason=REMOVED"), "{lost}");
    assert_eq!(service.fds_on_bus(0), 0, "the unplug finished, so the fd is closed");

    holder.send_line("get 0x00");
    let answer = holder.next_line();
    assert!(answer.starts_with("error BUS_GONE: "), "{answer}");
    holder.send_line("info");
    let answer = holder.next_line();
    assert!(answer.starts_with("error BUS_GONE: "), "{answer}");

    let listing = service.i2cctl(&["sim", "list"]);
    let eeprom_line = listing
        .success()
        .lines()
        .find(|line| line.starts_with(&format!("{EEPROM_MODULE}\t")))
        .unwrap_or_else(|| panic!("no {EEPROM_MODULE} in {listing:?}"));
    assert!(eeprom_line.contains("\tunplugged\topen-handles=0\t"), "{eeprom_line:?}");
}

/// Internal type names that must never reach a user's terminal.
const INTERNAL_NAMES: [&str; 5] = ["NameNotFound", "Errno", "DeadObject", "StatusCode", "Status {"];

#[track_caller]
fn assert_no_internal_names(text: &str) {
    for name in INTERNAL_NAMES {
        assert!(!text.contains(name), "{name} in {text:?}");
    }
}

#[test]
fn an_unreachable_service_is_one_readable_line_with_exit_3() {
    let service = Service::start();
    let missing = service.dir().join("missing.sock");
    // A socket file nobody listens on any more: connecting is refused.
    let stale = service.dir().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind a socket to leave behind"));
    for (path, says) in [(&missing, "not found"), (&stale, "connection refused")] {
        let path = path.to_str().expect("UTF-8 temp path");
        let output = run_i2cctl(None, &["--socket", path, "buses"]);
        assert_one_line_failure(&output, 3, "i2cctl: SERVICE_UNREACHABLE: cannot connect to ");
        assert!(output.stderr.contains(says), "{output:?}");
        assert_no_internal_names(&output.stderr);
        // The simulator's control socket next to it is just as unreachable.
        let output = run_i2cctl(None, &["--socket", path, "sim", "list"]);
        assert_one_line_failure(&output, 3, "i2cctl: SIM_UNREACHABLE: ");
        assert_no_internal_names(&output.stderr);
    }
}

#[test]
fn refusals_by_i2cctl_and_by_the_simulator_exit_2() {
    let service = Service::start();
    let eeprom = address_arg(EEPROM_ADDRESS);
    // Values too large to send: TOO_LARGE, the service's name for them, but exit 2.
    let huge = (i64::MAX as u64 + 1).to_string();
    let output = service.i2cctl(&["hold", "0", &eeprom, "--generation", &huge]);
    assert_one_line_failure(&output, 2, "i2cctl: TOO_LARGE: generation 9223372036854775808");
    let output = service.i2cctl(&["get", "0", &eeprom, "0", "i", "33"]);
    assert_one_line_failure(&output, 2, "i2cctl: TOO_LARGE: ");
    let output = service.i2cctl(&["transfer", "0", "r8193@0x50"]);
    assert_one_line_failure(&output, 2, "i2cctl: TOO_LARGE: ");
    // The simulator's refusals are the user's mistake, not an outage.
    let output = service.i2cctl(&["sim", "plug", "toaster-module"]);
    assert_one_line_failure(&output, 2, "i2cctl: SIM_REFUSED: unknown module 'toaster-module'");
    let output = service.i2cctl(&["sim", "plug", EEPROM_MODULE]);
    assert_one_line_failure(&output, 2, "i2cctl: SIM_REFUSED: ");
    assert!(output.stderr.contains("already plugged"), "{output:?}");
    // The service itself refusing stays exit 1 with its ErrorCode's name.
    let output = service.i2cctl(&["hold", "0", &eeprom, "--generation", "999"]);
    assert_one_line_failure(&output, 1, "i2cctl: NO_SUCH_BUS: ");
}

#[test]
fn hold_reports_a_line_that_is_not_text_and_carries_on() {
    let service = Service::start();
    let eeprom = address_arg(EEPROM_ADDRESS);
    let mut holder = service.spawn_i2cctl(&["hold", "0", &eeprom], Stdio::piped());
    assert!(holder.next_line().starts_with("held "));
    holder.send_bytes(b"get \xff\xfe\n");
    let refused = holder.next_line();
    assert_eq!(refused, "error USAGE: line 1 is not UTF-8 text; it was skipped");
    holder.send_line("get 0x00");
    assert_eq!(holder.next_line(), hex_bytes(&EEPROM_SIGNATURE[..1]));
}

#[test]
fn watch_and_hold_exit_3_with_a_line_when_the_service_dies() {
    let mut service = Service::start();
    let eeprom = address_arg(EEPROM_ADDRESS);
    // hold arms its death watch before it prints the held line.
    let mut holder = service.spawn_i2cctl_capturing_stderr(&["hold", "0", &eeprom], Stdio::piped());
    assert!(holder.next_line().starts_with("held "));
    let mut children = vec![("hold", holder)];
    // watch prints nothing until an event; the status's listener count shows it registered
    // (its death watch is armed before that). Status is for root and system only.
    if is_root() {
        let client = service.client();
        let admin = client.admin().expect("admin");
        let watcher = service.spawn_i2cctl_capturing_stderr(&["watch"], Stdio::null());
        service.wait_until("i2cctl watch registered its listener", || {
            admin.status().map(|status| status.listeners >= 1).unwrap_or(false)
        });
        children.push(("watch", watcher));
    } else {
        eprintln!("watch part skipped: telling that it registered needs status (root)");
    }

    service.signal(nix::sys::signal::Signal::SIGKILL);
    service.wait_for_exit("the killed service");
    for (name, child) in &mut children {
        let (status, stderr) = child.wait_for_exit();
        assert_eq!(status.code(), Some(3), "{name}: {status:?} {stderr:?}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines,
            ["i2cctl: SERVICE_DIED: the service died (its process ended or closed the connection)"],
            "{name}"
        );
    }
}

#[test]
fn status_shows_a_held_session_with_its_uid_and_generation_and_the_removal_latency() {
    if !is_root() {
        eprintln!("skipped: status is for root and system, and this test does not run as root");
        return;
    }
    let service = Service::start();
    let client = service.client();
    let bus = client.list_buses().expect("listBuses")[0].clone();
    let eeprom = address_arg(EEPROM_ADDRESS);
    let mut holder = service.spawn_i2cctl(&["hold", "0", &eeprom, "--exclusive"], Stdio::piped());
    assert!(holder.next_line().starts_with("held "));

    let text = service.i2cctl(&["status"]);
    let session =
        format!("uid=0 pid={} bus=0 generation={} address={eeprom} ", holder.pid(), bus.generation);
    let line = text.success().lines().find(|line| line.starts_with("session ")).expect("a session");
    assert!(line.contains(&session), "{line}");
    assert!(line.contains(" state=live") && line.contains("exclusive"), "{line}");

    let json: Value = serde_json::from_str(service.i2cctl(&["--json", "status"]).success())
        .expect("status --json is JSON");
    let held = &json["sessions"][0];
    assert_eq!((held["uid"].as_u64(), held["pid"].as_u64()), (Some(0), Some(holder.pid().into())));
    assert_eq!(held["generation"].as_u64(), Some(bus.generation.0));
    assert_eq!(held["stable_id"].as_str(), Some(bus.stable_id.as_str()));
    assert_eq!(held["exclusive"], Value::Bool(true));

    service.unplug(&client, EEPROM_MODULE);
    assert!(holder.next_line().starts_with("lost reason=REMOVED"));
    let json: Value = serde_json::from_str(service.i2cctl(&["--json", "status"]).success())
        .expect("status --json is JSON");
    let removal = &json["recent_removals"][0];
    assert_eq!(removal["stable_id"].as_str(), Some(bus.stable_id.as_str()), "{json}");
    assert_eq!(removal["sessions_lost"].as_u64(), Some(1), "{json}");
    assert!(removal["latency_us"].is_u64(), "{json}");
    assert_eq!(json["sessions"][0]["state"].as_str(), Some("dead"), "{json}");
}
