//! build.rs stamps the frozen version and the recorded hash into the host build, so the
//! service's getInterfaceVersion() and getInterfaceHash() answer what Soong's build would.

use vendor_i2c::aidl::vendor::i2c::II2cManager;

#[test]
fn the_host_build_stamps_the_recorded_hash_and_version() {
    let hash_file = concat!(env!("CARGO_MANIFEST_DIR"), "/../aidl_api/vendor.i2c/1/.hash");
    let text = std::fs::read_to_string(hash_file).expect("the frozen v1 .hash");
    let recorded = text.lines().last().expect("a hash line").trim();
    assert_eq!(II2cManager::HASH, recorded);
    assert_eq!(II2cManager::VERSION, 1);
}
