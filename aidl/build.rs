// Generates the vendor.i2c AIDL code for rsbinder (hosts). Android builds do not run build.rs:
// Soong generates the same module tree in the `vendor.i2c-V1-rust` crate (Android.bp).
use std::path::PathBuf;

/// The interface version the sources in aidl/ describe. Soong passes `--version` from
/// `versions_with_info` in Android.bp; the host build stamps the same number so that
/// getInterfaceVersion() answers alike on both.
const INTERFACE_VERSION: i32 = 1;
/// The frozen dump of that version. Soong passes `--hash` with the last line of its .hash file
/// (system/tools/aidl/build/aidl_interface.go), which AOSP's generated code then answers as
/// getInterfaceHash(); the host build stamps the same line (`cargo xtask check aidl` checks the file).
const FROZEN_HASH_FILE: &str = "../aidl_api/vendor.i2c/1/.hash";

/// The hash Soong would stamp: the last line of the .hash file (a file may list older hashes
/// above it; only the last one is checked and used).
fn interface_hash() -> String {
    println!("cargo:rerun-if-changed={FROZEN_HASH_FILE}");
    let text = std::fs::read_to_string(FROZEN_HASH_FILE).unwrap_or_else(|e| {
        panic!("{FROZEN_HASH_FILE}: {e} (the frozen v1 dump is part of the source)")
    });
    let hash = text.lines().last().map(str::trim).unwrap_or_default().to_string();
    assert!(
        hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{FROZEN_HASH_FILE}: last line {hash:?} is not a SHA-1"
    );
    hash
}

fn main() {
    let hash = interface_hash();
    let dir = PathBuf::from("vendor/i2c");
    let mut builder = rsbinder_aidl::Builder::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("aidl/vendor/i2c exists")
        .map(|e| e.expect("readable aidl dir").path())
        .filter(|p| p.extension().is_some_and(|e| e == "aidl"))
        .collect();
    files.sort();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        // Every file is stamped: the generator emits the meta methods only for the interfaces
        // declared in a stamped source, and parcelables ignore it.
        builder = builder.source(f.clone()).version(INTERFACE_VERSION).hash(&hash);
    }
    builder.output(PathBuf::from("vendor_i2c_aidl.rs")).generate().expect("AIDL generation");
}
