//! Access control through the real service: a policy file, squatting tried as a hostile app
//! would, denials audited, and a reload (SIGHUP) that ends exactly the sessions it no longer
//! allows, once each. Needs root (the hostile app runs as another uid).

mod common;

use common::*;
use i2c_hal_sim::catalog::{self, EEPROM_MODULE};
use nix::sys::signal::Signal;
use std::fs;
use std::path::Path;
use std::process::Stdio;

/// Root may do everything; `app` may do everything but raw transfers on the EEPROM module.
fn policy(app: Option<u32>) -> String {
    let eeprom = catalog::stable_id(EEPROM_MODULE);
    let mut text = String::from(
        "[limits]\nmax_exclusive_per_caller = 2\nmax_exclusive_per_bus = 3\n\n\
         [[rule]]\nname = \"root\"\nuids = [0]\nbuses = [\"*\"]\naddresses = [\"0x00-0x7f\", \"ten_bit:0x000-0x3ff\"]\n\
         allow = [\"read\", \"write\", \"register\", \"raw\", \"exclusive\"]\n",
    );
    if let Some(uid) = app {
        text += &format!(
            "\n[[rule]]\nname = \"the app\"\nuids = [{uid}]\nbuses = [\"{eeprom}\"]\n\
             addresses = [\"0x08-0x77\"]\nallow = [\"read\", \"write\", \"register\", \"exclusive\"]\n"
        );
    }
    text
}

fn write_policy(path: &Path, text: &str) {
    fs::write(path, text).expect("write the policy file");
}

#[test]
fn squatting_fails_denials_are_audited_and_a_reload_ends_exactly_the_sessions_it_disallows() {
    if !is_root() {
        eprintln!("skipped: acting as another uid needs root");
        return;
    }
    let (app_uid, app_gid) = NOBODY;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("policy.toml");
    write_policy(&file, &policy(Some(app_uid)));
    let group = app_gid.to_string();
    let file_arg = file.to_str().expect("utf-8 path");
    let service = Service::start_with_args(&["--policy", file_arg, "--socket-group", &group]);
    service.let_other_users_in();

    // Squatting: the app takes the exclusive sessions it is allowed, then no more.
    let mut held = Vec::new();
    for address in ["0x50", "0x51"] {
        let mut hold =
            service.spawn_i2cctl_as(NOBODY, &["hold", "0", address, "--exclusive"], Stdio::piped());
        hold.expect_line("held line", |line| line.starts_with("held "));
        held.push(hold);
    }
    // A shared session is still fine: the policy lets it through (no device answers at 0x52).
    let allowed = |out: &I2cctlOutput| out.stderr.starts_with("i2cctl: ADDRESS_NACK:");
    let third = service.i2cctl_as(NOBODY, &["get", "0", "0x52", "0"]);
    assert!(allowed(&third), "{third:?}");
    let squat = service.i2cctl_as(NOBODY, &["hold", "0", "0x53", "--exclusive"]);
    assert_eq!(squat.exit_code, Some(1), "{squat:?}");
    assert!(squat.stderr.starts_with("i2cctl: QUOTA_EXCEEDED:"), "{squat:?}");
    // Everyone else, root included, still gets the bus.
    let client = service.client();
    let (on_lost, root_losses) = loss_channel();
    let root_session =
        client.open("0", 0, 0x54, true, on_lost).expect("root opens exclusively meanwhile");

    // What the policy does not grant is refused, and audited.
    let raw = service.i2cctl_as(NOBODY, &["transfer", "0", "w1@0x52", "0x00", "r1"]);
    assert!(raw.stderr.starts_with("i2cctl: PERMISSION_DENIED:"), "{raw:?}");
    let other_bus = service.i2cctl_as(NOBODY, &["get", "1", "0x48", "0"]);
    assert!(other_bus.stderr.starts_with("i2cctl: PERMISSION_DENIED:"), "{other_bus:?}");
    service.wait_until("the denial is audited", || {
        service.stderr().contains(&format!("audit: denied uid {app_uid} "))
    });

    // An invalid policy is refused with its line, and nothing changes.
    write_policy(&file, "[[rule]]\nname = \"x\"\nbuses = [\"3\"]\n");
    service.signal(Signal::SIGHUP);
    service.wait_until("the invalid policy is refused", || {
        service.stderr().contains("refused, the policy in force stays")
            && service.stderr().contains("line")
    });
    assert!(
        allowed(&service.i2cctl_as(NOBODY, &["get", "0", "0x52", "0"])),
        "the old policy stays"
    );

    // A policy without the app: its sessions end with POLICY_CHANGED, once; root's stay.
    write_policy(&file, &policy(None));
    service.signal(Signal::SIGHUP);
    for hold in &mut held {
        let lost = hold.expect_line("lost line", |line| line.starts_with("lost "));
        assert!(lost.starts_with("lost reason=POLICY_CHANGED "), "{lost}");
    }
    let refused = service.i2cctl_as(NOBODY, &["get", "0", "0x52", "0"]);
    assert!(refused.stderr.starts_with("i2cctl: PERMISSION_DENIED:"), "{refused:?}");
    // Root's session lives on: the wire answers it (nobody at 0x54), not BUS_GONE.
    let alive = root_session.write_read(&[0], 1).unwrap_err();
    assert_eq!(alive.code(), Some(i2c_hal_core::ErrorCode::AddressNack), "{alive}");
    // The same policy again ends nobody, and tells nobody twice.
    let reloaded = service.i2cctl(&["reload-policy"]);
    assert_eq!(reloaded.success().trim(), "reloaded; 0 session(s) ended");
    assert!(root_losses.try_recv().is_err(), "root's session was not told anything");
    for hold in &mut held {
        assert!(hold.line_within(std::time::Duration::from_millis(200)).is_none(), "told twice");
    }
}
