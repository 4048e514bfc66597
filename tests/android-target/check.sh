#!/bin/sh
# Type-checks every Android.bp Rust module that builds for a device, for aarch64-linux-android
# (see README.md): libi2c_hal_core with its tests (i2c_hal_core_test), libi2c_hal_platform,
# libi2c_hal_binder, libi2c_hal_service, libi2c_hal_client, libi2c_hal_testkit, the
# vendor.i2c-service binary and the VTS suite (VtsHalI2cTargetTest), each with the crates its
# rustlibs name: the libbinder_rs and android_logger stubs, the generated vendor_i2c stand-in
# and AOSP's versions of the rest. Fails on any error, and on any warning in our own code
# (core/src, platform/src, binder/src, service/src, client/src, testkit/src, src/, vts/, the
# code generated from aidl/, or xtask/aidl-model, the model of AIDL it is generated with).
# Warnings inside the stand-ins are listed but allowed.
#
# Needs (installs nothing): Debian's rustc-web, cargo-web and rust-web-src (a rustc with the
# standard library's source, for -Zbuild-std), and the crates in Cargo.lock from crates.io (or
# already in ~/.cargo/registry). No NDK: `cargo check` links nothing.
#
#   tests/android-target/check.sh            # every module
#   CARGO=... RUSTC=... RUST_SRC=... check.sh  # another toolchain with its rust-src
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here" || exit 2

CARGO=${CARGO:-/usr/bin/cargo}
RUSTC=${RUSTC:-/usr/bin/rustc}
RUST_SRC=${RUST_SRC:-$("$RUSTC" --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library}
TARGET=aarch64-linux-android

missing=""
[ -x "$CARGO" ] || missing="$missing $CARGO (cargo-web)"
[ -x "$RUSTC" ] || missing="$missing $RUSTC (rustc-web)"
[ -f "$RUST_SRC/std/Cargo.toml" ] || missing="$missing $RUST_SRC (rust-web-src)"
if [ -n "$missing" ]; then
    echo "android-target: missing:$missing" >&2
    echo "android-target: FAILED (toolchain not installed: apt-get install rustc-web cargo-web rust-web-src)"
    exit 2
fi

export RUSTC RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${ANDROID_TARGET_DIR:-$root/target/android-target}"
# The sources' own cfg checks and lints only: nothing from the environment.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0

# The mirrors declare the real manifests' features themselves (those name rsbinder, sim, ...):
# the names must stay the real ones, or a cfg(feature) would be checked wrongly. Each pair is
# `real mirror`, relative to the project root: the crates' own manifests, and the i2c-hal
# package's (the programs) for the two program mirrors.
features() {
    awk '/^\[/ { on = ($0 == "[features]"); next } on && /^[A-Za-z0-9_-]+ *=/ { print $1 }' "$1" | sort
}
for pair in \
    "core/Cargo.toml tests/android-target/core/Cargo.toml" \
    "platform/Cargo.toml tests/android-target/platform/Cargo.toml" \
    "binder/Cargo.toml tests/android-target/binder/Cargo.toml" \
    "service/Cargo.toml tests/android-target/service/Cargo.toml" \
    "client/Cargo.toml tests/android-target/client/Cargo.toml" \
    "testkit/Cargo.toml tests/android-target/testkit/Cargo.toml" \
    "Cargo.toml tests/android-target/vendor.i2c-service/Cargo.toml" \
    "Cargo.toml tests/android-target/VtsHalI2cTargetTest/Cargo.toml"; do
    real=${pair% *}
    mirror=${pair#* }
    if [ "$(features "$root/$real")" != "$(features "$root/$mirror")" ]; then
        echo "== features: $real has [$(features "$root/$real" | tr '\n' ' ')]," \
            "$mirror [$(features "$root/$mirror" | tr '\n' ' ')]"
        echo "  -> FAILED (update $mirror's [features])"
        failed=1
    fi
done

# Every diagnostic in our code, once (a later check replays those of the crates it depends on).
seen=$(mktemp)
trap 'rm -f "$log" "$seen"' EXIT

# run NAME CARGO-ARGS...: one `cargo check`; prints its diagnostics, sorted into ours and the
# stand-ins'.
run() {
    name=$1
    shift
    "$CARGO" check --locked -Zbuild-std=std,panic_abort --target "$TARGET" \
        --message-format=short "$@" >"$log" 2>&1
    status=$?
    # Diagnostics are `path:line:col: warning|error[...]: message`. A mirror's sources are
    # outside this workspace, so their paths are `<mirror>/../../../core/src/...` (or absolute);
    # the stand-ins' are relative to this directory; generated and registry code is absolute.
    # All become relative to the project root.
    diags=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error)' "$log" |
        sed -E "s|^[A-Za-z0-9._-]+/\.\./\.\./\.\./||; s|^$root/||;
            s#^(binder-stub|android-logger-stub|vendor-i2c-aidl)/#tests/android-target/\1/#" |
        sort -u)
    # A crate the module's rustlibs name but its sources never use (the workspace's lint
    # unused_crate_dependencies) has no location: it names the crate instead.
    unused=$(grep -E '^warning: extern crate `[^`]+` is unused in crate `[^`]+`' "$log" | sort -u)
    own=$(printf '%s\n' "$diags" |
        grep -E '^((core|platform|binder|service|client|testkit)/src|src|vts|xtask/aidl-model)/|/out/vendor_i2c\.rs:' || true)
    own_unused=$(printf '%s\n' "$unused" | grep -E 'in crate `(i2c_hal_[a-z_]+|vts)`$' || true)
    [ -n "$own_unused" ] && own=$(printf '%s\n%s\n' "$own" "$own_unused" | sed '/^$/d')
    stubs=$(printf '%s\n' "$diags" | grep -E '^tests/android-target/' || true)
    # Errors with no location (unresolved dependencies, a failed build script, ...).
    bare=$(grep -E '^error(\[E[0-9]+\])?: ' "$log" | grep -v '^error: could not compile' || true)
    # The generator's own refusal (a build-script panic), e.g. aidl/ and the dump disagreeing.
    generator=$(grep -E 'vendor_i2c stand-in: ' "$log" | sort -u || true)
    [ -n "$generator" ] && bare="$bare
$generator"
    n_own=0
    [ -n "$own" ] && n_own=$(printf '%s\n' "$own" | wc -l)
    echo "== $name: cargo check $*"
    if [ -n "$own" ]; then
        printf '%s\n' "$own" | sed 's|^.*/out/vendor_i2c\.rs:|<generated vendor_i2c.rs>:|' |
            while IFS= read -r line; do
                if grep -qxF "$line" "$seen"; then
                    echo "  (again) $line"
                else
                    echo "$line" >>"$seen"
                    echo "  $line"
                fi
            done
    fi
    if [ -n "$stubs" ]; then
        echo "  (in the stand-ins, allowed:)"
        printf '%s\n' "$stubs" | sed 's|^|    |'
    fi
    if [ -n "$bare" ]; then
        printf '%s\n' "$bare" | sed 's|^|  |'
    fi
    if [ "$status" -ne 0 ]; then
        if [ -z "$own$bare" ]; then
            # Something else failed: show the end of the log.
            tail -n 30 "$log" | sed 's|^|  |'
        fi
        echo "  -> FAILED (cargo exit $status, $n_own diagnostics in our code)"
        failed=1
    elif [ "$n_own" -gt 0 ]; then
        echo "  -> FAILED ($n_own warnings in our code)"
        failed=1
    else
        echo "  -> ok"
    fi
}

# One check per Android.bp module (the mirror of the same name in Cargo.toml).
run "core (libi2c_hal_core, i2c_hal_core_test)" -p i2c-hal-core --lib --tests
run "platform (libi2c_hal_platform)" -p i2c-hal-platform --lib
run "binder (libi2c_hal_binder)" -p i2c-hal-binder --lib
run "service (libi2c_hal_service)" -p i2c-hal-service --lib
run "client (libi2c_hal_client)" -p i2c-hal-client --lib
run "testkit (libi2c_hal_testkit)" -p i2c-hal-testkit --lib
run "service binary (vendor.i2c-service)" -p i2c-hal --bin i2c-hal-service
run "vts (VtsHalI2cTargetTest)" -p i2c-hal-vts --test vts

own_total=$(wc -l <"$seen")
if [ "$failed" -eq 0 ]; then
    echo "android-target: OK (every device module type-checks for $TARGET, no warnings in our code)"
else
    echo "android-target: FAILED ($own_total errors/warnings in our code; see above)"
fi
exit "$failed"
