//! Copies the repository's src/ipc/compat.rs into OUT_DIR with its two target cfgs flipped, so
//! that the libbinder_rs (`target_os = "android"`) half is the one compiled here and the rsbinder
//! half is cfg'd out. Fails loudly if the file no longer has the shape this relies on, so the
//! check cannot pass vacuously (e.g. by compiling nothing) after a refactor.
//!
//! `ANDROID_CHECK_COMPAT_RS=<path>` checks another copy of compat.rs instead (used to confirm
//! that a broken android half fails the check).

use std::env;
use std::fs;
use std::path::PathBuf;

/// The attribute on the rsbinder half; becomes `#[cfg(any())]`, which is false.
const HOST_CFG: &str = r#"#[cfg(not(target_os = "android"))]"#;
/// The attribute on the libbinder_rs half; becomes `#[cfg(all())]`, which is true.
const ANDROID_CFG: &str = r#"#[cfg(target_os = "android")]"#;
/// The libbinder_rs half itself.
const ANDROID_MOD: &str = "#[cfg(target_os = \"android\")]\nmod android {";
/// What lib.rs's `i2c_hal_core::policy::Caller` stand-in assumes the real one is.
const CALLER: &str = "pub struct Caller { pub uid: u32, pub pid: i32, }";

fn fail(message: String) -> ! {
    eprintln!("android-check: {message}");
    std::process::exit(1)
}

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let repo = manifest.join("../..");
    println!("cargo:rerun-if-env-changed=ANDROID_CHECK_COMPAT_RS");
    let compat = match env::var_os("ANDROID_CHECK_COMPAT_RS") {
        Some(path) => PathBuf::from(path),
        None => repo.join("src/ipc/compat.rs"),
    };
    let policy = repo.join("core/src/policy.rs");
    println!("cargo:rerun-if-changed={}", compat.display());
    println!("cargo:rerun-if-changed={}", policy.display());

    let source = fs::read_to_string(&compat)
        .unwrap_or_else(|e| fail(format!("cannot read {}: {e}", compat.display())));
    for (what, needle) in [("rsbinder half", HOST_CFG), ("libbinder_rs half", ANDROID_CFG)] {
        if !source.contains(needle) {
            fail(format!("{} has no `{needle}` ({what}): update build.rs", compat.display()));
        }
    }
    if !source.contains(ANDROID_MOD) {
        fail(format!(
            "{} has no `mod android` under `{ANDROID_CFG}`: update build.rs",
            compat.display()
        ));
    }
    let flipped = source.replace(HOST_CFG, "#[cfg(any())]").replace(ANDROID_CFG, "#[cfg(all())]");
    // Any other spelling of the target cfg (cfg!, cfg_attr, all(..), other spacing) would be left
    // unflipped, and whatever it guards would be checked the wrong way round.
    for (number, line) in flipped.lines().enumerate() {
        if line.contains("target_os") && !line.trim_start().starts_with("//") {
            fail(format!(
                "{}:{}: a target_os cfg build.rs does not know how to flip: {}",
                compat.display(),
                number + 1,
                line.trim()
            ));
        }
    }

    let policy_source = fs::read_to_string(&policy)
        .unwrap_or_else(|e| fail(format!("cannot read {}: {e}", policy.display())));
    let normalized = policy_source.split_whitespace().collect::<Vec<_>>().join(" ");
    if !normalized.contains(CALLER) {
        fail(format!(
            "{} no longer declares `{CALLER}`: update the stand-in in src/lib.rs",
            policy.display()
        ));
    }

    // `pub mod compat {` shares the first line, so line numbers in errors are compat.rs's own.
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap()).join("compat.rs");
    fs::write(&out, format!("pub mod compat {{ {flipped}\n}}\n"))
        .unwrap_or_else(|e| fail(format!("cannot write {}: {e}", out.display())));
}
