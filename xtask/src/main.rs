//! The repository's build checks, as a tool rather than as tests: `./run-tests` runs
//! `cargo xtask check`, and whoever edits aidl/, Android.bp or a Cargo.toml runs it (or one
//! check by name) to learn what Soong or the contract would refuse, and why.
//!
//!   cargo xtask check [aidl|android|layering]...   every check, or the ones named
//!   cargo xtask freeze-api                         write aidl_api/vendor.i2c/1 (once)

mod aidl;
mod android;
mod layering;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A check: its name, what it reads, and what to do when it fails.
struct Check {
    name: &'static str,
    what: &'static str,
    run: fn(&Path) -> Vec<String>,
    hint: &'static str,
}

const CHECKS: &[Check] = &[
    Check {
        name: "aidl",
        what: "aidl/ against the frozen aidl_api/vendor.i2c/1 (dump, hash, compatibility)",
        run: aidl::check,
        hint: aidl::HINT,
    },
    Check {
        name: "android",
        what: "Android.bp, init, VINTF, ueventd, sepolicy contexts, tests/android-target",
        run: android::check,
        hint: "Each line names the file and the rule (docs/android.md says why each holds; \
               android/*.tsv hold AOSP's crates and Soong's properties at android15-release).",
    },
    Check {
        name: "layering",
        what: "the workspace's dependencies point inward (cargo metadata)",
        run: layering::check,
        hint: "Move the code to the crate that may use what it needs, or the dependency to \
               a crate further out; docs/architecture.md shows the layers.",
    },
];

/// The repository: xtask's own directory's parent.
fn repo() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => check(&args[1..]),
        Some("freeze-api") => match aidl::freeze(&repo()) {
            Ok(()) => {
                println!("xtask: wrote {}", aidl::V1);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("xtask: freeze-api: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo xtask check [{}]... | cargo xtask freeze-api", names());
            ExitCode::from(2)
        }
    }
}

fn names() -> String {
    CHECKS.iter().map(|c| c.name).collect::<Vec<_>>().join("|")
}

fn check(wanted: &[String]) -> ExitCode {
    if let Some(unknown) = wanted.iter().find(|w| !CHECKS.iter().any(|c| c.name == *w)) {
        eprintln!("xtask: no check named {unknown:?} (checks: {})", names());
        return ExitCode::from(2);
    }
    let repo = repo();
    let mut failed = 0;
    for check in CHECKS.iter().filter(|c| wanted.is_empty() || wanted.iter().any(|w| w == c.name)) {
        let problems = (check.run)(&repo);
        if problems.is_empty() {
            println!("xtask: {}: ok ({})", check.name, check.what);
            continue;
        }
        failed += 1;
        println!("xtask: {}: FAILED ({})", check.name, check.what);
        for problem in &problems {
            println!("  - {problem}");
        }
        println!("  {}", check.hint);
    }
    match failed {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
