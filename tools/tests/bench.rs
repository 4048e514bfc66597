//! The benchmark runs end to end with tiny counts and writes its JSON in the agreed shape. No
//! figure is judged here: speed is the benchmark's business (`./run-bench`), never a test's.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The service under test: the i2c-hal package's binary, which `cargo test --workspace` builds
/// into the same target directory as this test (target/<profile>/, above deps/).
fn service_binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let profile_dir = test.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let service = profile_dir.join("i2c-hal-service");
    assert!(
        service.exists(),
        "{} is missing: run the suite as `cargo test --workspace` (or `cargo build --bin \
         i2c-hal-service` first)",
        service.display()
    );
    service
}

#[test]
fn a_tiny_run_writes_every_figure_and_the_targets_list() {
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new(env!("CARGO_BIN_EXE_i2c-hal-bench"))
        .arg("run")
        .arg("--service")
        .arg(service_binary())
        .arg("--out")
        .arg(out.path())
        .arg("--vm-results")
        .arg(out.path().join("absent.json"))
        .args(["--calls", "40", "--block", "10", "--open-levels", "2,6", "--open-calls", "10"])
        .args(["--holders", "3", "--sessions-per-holder", "2", "--removals", "2"])
        .args(["--connections", "3", "--threads", "1,2"])
        .env_remove("RUST_LOG")
        .status()
        .expect("run i2c-hal-bench");
    assert!(status.success(), "i2c-hal-bench run failed: {status}");

    let text = std::fs::read_to_string(out.path().join("bench.json")).expect("bench.json");
    let json: Value = serde_json::from_str(&text).expect("bench.json is JSON");
    let svg = std::fs::read_to_string(out.path().join("latency.svg")).expect("latency.svg");
    assert!(svg.starts_with("<svg") && svg.contains("null server"), "not the histogram: {svg:.80}");

    let targets = json["targets"].as_array().expect("a targets list");
    let names: Vec<&str> = targets.iter().map(|t| t["name"].as_str().expect("name")).collect();
    for expected in [
        "rss idle",
        "get_address median / null server",
        "read_register median / null server",
        "write_read median / null server",
        "transfer_42 median / null server",
        "session open at 6 / at 2",
        "memory per session",
        "removal all running: fds closed p99",
        "removal all running: last callback dispatched p99",
        "removal one client stopped: fds closed p99",
        "removal one client stopped: last callback dispatched p99",
        "victim p99 hammered / solo",
    ] {
        assert!(names.contains(&expected), "no target {expected:?} in {names:?}");
    }
    for target in targets {
        assert!(target["unit"].is_string(), "{target}");
        assert!(target["limit"].is_f64(), "{target}");
        let met = target["met"].as_bool().expect("met is a boolean");
        // `met` must follow from the figure: a bench that printed "met" regardless would pass
        // the schema and lie.
        match target["value"].as_f64() {
            Some(value) => assert_eq!(met, value <= target["limit"].as_f64().unwrap(), "{target}"),
            None => assert!(!met, "an unmeasured figure cannot be met: {target}"),
        }
    }

    // The raw figures sit beside the targets, each measured (not null).
    for call in ["get_address", "read_register", "write_read", "transfer_42"] {
        for side in ["service", "null"] {
            let figure = &json["calls"][call][side];
            assert_eq!(figure["count"], 40, "{call} {side}: {figure}");
            assert!(figure["p50_us"].as_f64().is_some_and(|v| v > 0.0), "{call} {side}: {figure}");
        }
    }
    for variant in ["all_clients_running", "one_client_stopped"] {
        let removal = &json["removal"][variant];
        assert_eq!(removal["failures"], Value::Array(vec![]), "{variant}: {removal}");
        for milestone in ["fd_closed", "last_callback_dispatched", "last_callback_received"] {
            assert_eq!(removal[milestone]["count"], 2, "{variant} {milestone}: {removal}");
        }
    }
    // The transport's floor for the same fan-out: the null server's plain loop, as often.
    let floor = &json["removal"]["floor"];
    assert_eq!(floor["failures"], Value::Array(vec![]), "floor: {floor}");
    for milestone in ["last_callback_dispatched", "last_callback_received"] {
        assert_eq!(floor[milestone]["count"], 2, "floor {milestone}: {floor}");
    }
    assert!(floor["service_dispatched_p99_ratio"].as_f64().is_some_and(|r| r > 0.0), "{floor}");
    assert_eq!(json["throughput"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["session_open"]["levels"].as_array().map(Vec::len), Some(2));
    assert!(json["memory_idle"]["rss_bytes"].as_u64().is_some_and(|b| b > 0));
    assert_eq!(json["connections"]["count"], 3);
    assert_eq!(json["vm"], Value::Null, "no QEMU results were given");
}
