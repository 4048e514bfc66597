//! `i2c-hal-policy`, the host tool Android.bp runs on android/policy.toml to make the JSON a
//! device reads: what it writes is the same policy, and a mistake fails it (and so the build)
//! with the file and line.

use std::path::Path;
use std::process::{Command, Output};

const TOOL: &str = env!("CARGO_BIN_EXE_i2c-hal-policy");

fn run(args: &[&str]) -> Output {
    Command::new(TOOL).args(args).output().expect("run i2c-hal-policy")
}

fn repo(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel).display().to_string()
}

#[test]
fn the_json_it_writes_is_the_policy_it_read() {
    let toml = repo("android/policy.toml");
    let out = run(&["json", &toml]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json = String::from_utf8(out.stdout).expect("UTF-8");
    let dir = tempfile::tempdir().unwrap();
    let written = dir.path().join("policy.json");
    std::fs::write(&written, &json).unwrap();
    // The JSON reads back as the same policy, with the same rule count `check` reports.
    let parsed = i2c_hal_core::policy::rules::AccessPolicy::parse(&json).expect("the JSON parses");
    let original = std::fs::read_to_string(&toml).unwrap();
    assert_eq!(parsed, i2c_hal_core::policy::rules::AccessPolicy::parse(&original).unwrap());
    let checked = run(&["check", &toml, written.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{report}");
    let rules = format!("{} rule(s)", parsed.rules.len());
    assert_eq!(report.matches(&rules).count(), 2, "{report}");
}

#[test]
fn a_bad_policy_fails_with_its_file_and_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = "[limits]\nmax_calls_per_second = 10\n\n[[rule]]\nname = \"x\"\nuids = [1]\n\
                buses = [\"*\"]\naddresses = [\"0x50\"]\nallow = [\"fly\"]\n";
    std::fs::write(&bad, text).unwrap();
    let out = run(&["json", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no JSON for a bad policy");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!("{}: line 5: rule \"x\": unknown grant \"fly\"", bad.display());
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn a_missing_file_or_a_wrong_call_is_a_usage_failure() {
    let missing = run(&["check", "/nonexistent/policy.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/policy.toml"));
    for args in [&[][..], &["json"][..], &["json", "a", "b"][..], &["frobnicate"][..]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage"), "{args:?}");
    }
}
