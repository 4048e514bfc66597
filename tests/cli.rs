//! The i2cctl binary against the real i2c-hal-service in simulator mode: output formats, exit
//! codes and one-line errors, and `hold` driven through a pipe across an unplug.

mod common;

use common::*;
use serde_json::Value;
use std::process::Stdio;

/// Asserts a failed run: exit code, nothing on stdout, exactly one stderr line with the prefix.
#[track_caller]
fn assert_one_line_failure(output: &I2cctlOutput, exit_code: i32, stderr_prefix: &str) {
    assert_eq!(output.exit_code, Some(exit_code), "{output:?}");
    assert_eq!(output.stdout, "", "nothing on stdout on failure: {output:?}");
    let lines: Vec<&str> = output.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one stderr line: {output:?}");
    assert!(
        lines[0].starts_with(stderr_prefix),
        "stderr should start with {stderr_prefix:?}: {output:?}"
    );
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
    assert_eq!(service.i2cctl(&["get", "0", "0x50", "0x00"]).success(), "0x69\n");

    service.i2cctl(&["set", "0", "0x50", "0x80", "0xa5"]).success();
    assert_eq!(service.i2cctl(&["get", "0", "0x50", "0x80"]).success(), "0xa5\n");
    service.i2cctl(&["set", "0", "0x50", "0x90", "0xbeef", "w"]).success();
    assert_eq!(service.i2cctl(&["get", "0", "0x50", "0x90", "w"]).success(), "0xbeef\n");

    let output = service.i2cctl(&["transfer", "0", "w1@0x50", "0x00", "r4"]);
    assert_eq!(output.success(), "0x69 0x32 0x63 0x2d\n");
    let output = service.i2cctl(&["transfer", "0", "w1@0x50", "0x80", "r1", "w1", "0x90", "r2"]);
    assert_eq!(output.stdout_lines(), ["0xa5", "0xef 0xbe"], "{output:?}");

    assert_eq!(service.i2cctl(&["get", "1", "0x48", "0", "w"]).success(), "0x8019\n");
}

#[test]
fn detect_shows_present_and_driver_bound_addresses() {
    let service = Service::start();
    let output = service.i2cctl(&["detect", "1"]);
    let row = output
        .success()
        .lines()
        .find(|line| line.starts_with("40:"))
        .unwrap_or_else(|| panic!("no 40: row in {output:?}"));
    assert!(row.contains("48 UU"), "{row:?}");
    assert_eq!(row.split_whitespace().filter(|cell| *cell != "--").count(), 3, "{row:?}");
}

#[test]
fn failures_are_one_stderr_line_with_an_exit_code_per_kind() {
    let service = Service::start();
    let refused = service.i2cctl(&["get", "9", "0x50", "0"]);
    assert_one_line_failure(&refused, 1, "i2cctl: NO_SUCH_BUS:");

    let busy = service.i2cctl(&["get", "1", "0x49", "0"]);
    assert_one_line_failure(&busy, 1, "i2cctl: ADDRESS_BUSY:");

    for bad_syntax in [
        &["get", "0", "0xzz", "0"][..],
        &["get", "0", "0x50"],
        &["transfer", "0", "w1@0x50"],
        &["frobnicate"],
    ] {
        let output = service.i2cctl(bad_syntax);
        assert_one_line_failure(&output, 2, "i2cctl: INVALID_ARGUMENT:");
    }

    let nowhere = service.dir().join("no-service-here.sock");
    let nowhere = nowhere.to_str().expect("UTF-8 temp path");
    let unreachable = run_i2cctl(None, &["--socket", nowhere, "buses"]);
    assert_one_line_failure(&unreachable, 3, "i2cctl: SERVICE_UNREACHABLE:");

    // The service is unharmed by all of that.
    assert_eq!(service.i2cctl(&["get", "0", "0x50", "0x00"]).success(), "0x69\n");
}

#[test]
fn hold_reports_the_loss_and_answers_bus_gone_after_unplug() {
    let service = Service::start();
    let mut holder = service.spawn_i2cctl(&["hold", "0", "0x50"], Stdio::piped());
    let held = holder.next_line();
    assert!(held.starts_with("held bus=0 address=0x50 generation="), "{held}");

    holder.send_line("get 0x00");
    assert_eq!(holder.next_line(), "0x69");
    holder.send_line("transfer w1 0x00 r2");
    assert_eq!(holder.next_line(), "0x69 0x32");
    assert_eq!(service.fds_on_bus(0), 1, "hold keeps i2c-0 open");

    let unplugged = service.i2cctl(&["sim", "unplug", EEPROM_MODULE]);
    assert!(unplugged.success().starts_with("unplugged eeprom-module in "), "{unplugged:?}");
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
        .find(|line| line.starts_with("eeprom-module\t"))
        .unwrap_or_else(|| panic!("no eeprom-module in {listing:?}"));
    assert!(eeprom_line.contains("\tunplugged\topen-handles=0\t"), "{eeprom_line:?}");
}
