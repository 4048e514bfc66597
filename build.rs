// Host builds generate the AIDL bindings with rsbinder-aidl. Android builds do not run build.rs:
// Soong generates the same module tree in the `vendor.i2c-V1-rust` crate (see src/ipc/compat.rs).
use std::path::PathBuf;

/// The interface version the sources in aidl/ describe. Soong passes `--version` from
/// `versions_with_info` in Android.bp; the host build stamps the same number so that
/// getInterfaceVersion() answers alike on both.
const INTERFACE_VERSION: i32 = 1;
/// What AOSP's aidl reports as getInterfaceHash() for a version that is not frozen yet
/// (system/tools/aidl: the "notfrozen" hash of an unfrozen interface). Once aidl_api/ holds the
/// frozen dump, this becomes the content of its .hash file.
const INTERFACE_HASH: &str = "notfrozen";

fn main() {
    let dir = PathBuf::from("aidl/vendor/i2c");
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
        builder = builder.source(f.clone()).version(INTERFACE_VERSION).hash(INTERFACE_HASH);
    }
    builder.output(PathBuf::from("vendor_i2c_aidl.rs")).generate().expect("AIDL generation");
}
