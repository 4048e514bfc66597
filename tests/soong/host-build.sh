#!/usr/bin/env bash
# Builds the workspace's shipped crates on the host the way Soong builds them (issue: a vendor
# tree must build them), so that what only Soong would refuse fails here first:
#   - without Cargo's CARGO_* variables (tests/soong/rustc-wrapper): `env!("CARGO_PKG_...")`
#     and clap's `#[command(version)]` / `about` without a value do not compile;
#   - with exactly the clap features AOSP builds libclap with (Cargo.toml: no `env`, so an
#     `#[arg(env = ...)]` does not compile);
#   - with Soong's vendor lints: warnings are errors (build/soong rust/config/lints.go);
#   - with Android.bp's features per module: none for libi2c_hal_core on a device and `toml`
#     on the host, none for the platform, binder, service, client and testkit libraries and
#     vendor.i2c-service, `toml` for the host tool i2c_hal_policy, and none for the VTS suite
#     (no `sim`: the VTS is built as Soong builds it).
# One crate per Android.bp module (Cargo.toml's workspace); the programs are the i2c-hal
# package's. The Android target itself is type-checked by tests/android-target/check.sh.
# Usage: tests/soong/host-build.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

export CARGO_TARGET_DIR=${SOONG_TARGET_DIR:-target/soong-host}
export RUSTC_WRAPPER=$PWD/tests/soong/rustc-wrapper
export RUSTFLAGS="-D warnings -A deprecated"
export SOONG_BUILD_LOG=$CARGO_TARGET_DIR/soong-crates.log
mkdir -p "$CARGO_TARGET_DIR"
: >"$SOONG_BUILD_LOG"
# Cargo would reuse a crate compiled before without asking the wrapper: recompile ours.
cargo clean --quiet --locked -p i2c-hal -p i2c-hal-core -p i2c-hal-platform -p i2c-hal-binder \
  -p i2c-hal-service -p i2c-hal-client -p i2c-hal-testkit

build() {
  local what=$1
  shift
  echo "soong-host-build: $what: cargo build $*"
  cargo build --quiet --locked "$@"
}
# Each library before the crates that depend on it, so that Cargo compiles it first as the
# selected package (through the wrapper), not as a dependency.
build "core (libi2c_hal_core on a device, i2c_hal_core_test)" -p i2c-hal-core --lib
build "core with toml (libi2c_hal_core on the host)" -p i2c-hal-core --lib --features toml
build "platform (libi2c_hal_platform)" -p i2c-hal-platform --lib
build "binder (libi2c_hal_binder)" -p i2c-hal-binder --lib
build "service (libi2c_hal_service)" -p i2c-hal-service --lib
build "client (libi2c_hal_client)" -p i2c-hal-client --lib
build "testkit (libi2c_hal_testkit)" -p i2c-hal-testkit --lib
build "service binary (vendor.i2c-service)" -p i2c-hal --no-default-features --bin i2c-hal-service
build "policy tool (i2c_hal_policy)" -p i2c-hal --no-default-features --features toml \
  --bin i2c-hal-policy
build "vts (VtsHalI2cTargetTest)" -p i2c-hal --no-default-features --test vts

# The wrapper must have compiled each of them, or this proved nothing. It logs `crate kind`:
# the service's library and its binary are both crate i2c_hal_service, as in Android.bp.
for unit in "i2c_hal_core lib" "i2c_hal_platform lib" "i2c_hal_binder lib" "i2c_hal_service lib" \
  "i2c_hal_client lib" "i2c_hal_testkit lib" "i2c_hal_service bin" "i2c_hal_policy bin" \
  "vts test"; do
  grep -qxF "$unit" "$SOONG_BUILD_LOG" || {
    echo "soong-host-build: $unit was not compiled through the wrapper (see $SOONG_BUILD_LOG)" >&2
    exit 1
  }
done
echo "soong-host-build: ok: $(sort -u "$SOONG_BUILD_LOG" | tr ' ' ':' | tr '\n' ' ')without CARGO_* variables, AOSP's clap features, warnings denied"
