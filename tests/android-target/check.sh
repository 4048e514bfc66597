#!/bin/sh
# Type-checks the whole crate for aarch64-linux-android (see README.md): the vendor build (no
# default features: the core crate with its tests, the library and the i2c-hal-service binary) and the
# VTS/client build (feature client: the library and the vts test), against the libbinder_rs and
# android_logger stubs and the generated vendor_i2c stand-in. Fails on any error, and on any
# warning in our own code (core/, src/, vts/, or the code generated from aidl/).
# Warnings inside the stubs are listed but allowed.
#
# Needs (installs nothing): Debian's rustc-web, cargo-web and rust-web-src (a rustc with the
# standard library's source, for -Zbuild-std), and the crates in Cargo.lock from crates.io (or
# already in ~/.cargo/registry). No NDK: `cargo check` links nothing.
#
#   tests/android-target/check.sh            # both builds
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
own_total=0

# This package declares the crate's features itself (the real manifest names rsbinder): the
# names must stay those of ../../Cargo.toml, or a cfg(feature) would be checked wrongly.
features() {
    awk '/^\[/ { on = ($0 == "[features]"); next } on && /^[A-Za-z0-9_-]+ *=/ { print $1 }' "$1" | sort
}
if [ "$(features "$root/Cargo.toml")" != "$(features "$here/Cargo.toml")" ]; then
    echo "== features: ../../Cargo.toml has [$(features "$root/Cargo.toml" | tr '\n' ' ')]," \
        "tests/android-target/Cargo.toml [$(features "$here/Cargo.toml" | tr '\n' ' ')]"
    echo "  -> FAILED (update tests/android-target/Cargo.toml's [features])"
    failed=1
fi

# run NAME CARGO-ARGS...: one `cargo check`; prints its diagnostics, sorted into ours and the
# stubs'.
run() {
    name=$1
    shift
    "$CARGO" check --locked -Zbuild-std=std,panic_abort --target "$TARGET" \
        --message-format=short "$@" >"$log" 2>&1
    status=$?
    # Diagnostics are `path:line:col: warning|error[...]: message`, paths relative to this
    # directory (../../src/...), absolute for generated and registry code.
    diags=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error)' "$log" | sort -u)
    own=$(printf '%s\n' "$diags" | grep -E "^(\.\./\.\./|$root/)(src|vts|core/src)/?|/out/vendor_i2c\.rs:" || true)
    stubs=$(printf '%s\n' "$diags" | grep -E "^(\.\./android-check|android-logger-stub|$root/tests/android-check|$here/android-logger-stub)" || true)
    # Errors with no location (unresolved dependencies, a failed build script, ...).
    bare=$(grep -E '^error(\[E[0-9]+\])?: ' "$log" | grep -v '^error: could not compile' || true)
    # The generator's own refusal (a build-script panic), e.g. aidl/ and the dump disagreeing.
    generator=$(grep -E 'vendor_i2c stand-in: ' "$log" | sort -u || true)
    [ -n "$generator" ] && bare="$bare
$generator"
    n_own=0
    [ -n "$own" ] && n_own=$(printf '%s\n' "$own" | wc -l)
    own_total=$((own_total + n_own))
    echo "== $name: cargo check $*"
    if [ -n "$own" ]; then
        printf '%s\n' "$own" | sed "s|^\.\./\.\./||; s|^$root/||; s|^.*/out/vendor_i2c\.rs:|<generated vendor_i2c.rs>:|; s|^|  |"
    fi
    if [ -n "$stubs" ]; then
        echo "  (in the stubs, allowed:)"
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

# Android.bp's libi2c_hal_core and i2c_hal_core_test (the core's unit tests, on a device too).
run core -p i2c-hal-core --lib --tests
# Vendor build: Android.bp's libi2c_hal and vendor.i2c-service.
run vendor --no-default-features --lib --bin i2c-hal-service
# VTS/client build: libi2c_hal_client and VtsHalI2cTargetTest.
run vts --no-default-features --features client --lib --test vts

if [ "$failed" -eq 0 ]; then
    echo "android-target: OK (vendor and VTS builds type-check for $TARGET, no warnings in our code)"
else
    echo "android-target: FAILED ($own_total errors/warnings in our code; see above)"
fi
exit "$failed"
