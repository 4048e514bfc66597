// Host builds generate the AIDL bindings with rsbinder-aidl. Android builds do not run build.rs:
// Soong generates the same module tree in the `vendor.i2c-V1-rust` crate (see src/ipc/compat.rs).
use std::path::PathBuf;

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
        builder = builder.source(f.clone());
    }
    builder.output(PathBuf::from("vendor_i2c_aidl.rs")).generate().expect("AIDL generation");
}
