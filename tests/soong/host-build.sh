#!/usr/bin/env bash
# Builds this package's shipped crates on the host the way Soong builds them (issue: a vendor
# tree must build it), so that what only Soong would refuse fails here first:
#   - without Cargo's CARGO_* variables (tests/soong/rustc-wrapper): `env!("CARGO_PKG_...")`
#     and clap's `#[command(version)]` / `about` without a value do not compile;
#   - with exactly the clap features AOSP builds libclap with (Cargo.toml: no `env`, so an
#     `#[arg(env = ...)]` does not compile);
#   - with Soong's vendor lints: warnings are errors (build/soong rust/config/lints.go);
#   - with Android.bp's features per module: none for libi2c_hal_core on a device and `toml`
#     on the host, none for libi2c_hal and the service, `client`
#     for libi2c_hal_client and the VTS suite (no `sim`: the VTS is built as Soong builds it).
# The Android target itself is type-checked by tests/android-target/check.sh.
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
cargo clean --quiet --locked -p i2c-hal -p i2c-hal-core

build() {
  local what=$1
  shift
  echo "soong-host-build: $what: cargo build $*"
  cargo build --quiet --locked "$@"
}
build "core (libi2c_hal_core; its host variant with toml)" -p i2c-hal-core --lib
build "core with toml (libi2c_hal_core on the host)" -p i2c-hal-core --lib --features toml
build "vendor (libi2c_hal, vendor.i2c-service)" --no-default-features --lib --bin i2c-hal-service
build "client (libi2c_hal_client, VtsHalI2cTargetTest)" --no-default-features --features client \
  --lib --test vts
build "policy tool (i2c_hal_policy)" --no-default-features --features toml --bin i2c-hal-policy

# The wrapper must have compiled each of them, or this proved nothing.
for crate in i2c_hal_core i2c_hal i2c_hal_service vts i2c_hal_policy; do
  grep -qx "$crate" "$SOONG_BUILD_LOG" || {
    echo "soong-host-build: $crate was not compiled through the wrapper (see $SOONG_BUILD_LOG)" >&2
    exit 1
  }
done
echo "soong-host-build: ok: $(sort -u "$SOONG_BUILD_LOG" | tr '\n' ' ')without CARGO_* variables, AOSP's clap features, warnings denied"
