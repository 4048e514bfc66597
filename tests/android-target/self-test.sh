#!/usr/bin/env bash
# Shows that check.sh is not vacuous: each mutation below breaks one thing an Android build
# would refuse (an API of libbinder_rs or android_logger used the wrong way, a crate a module's
# rustlibs do not name, a warning in our code, a feature name drifting), in a scratch copy of
# the sources, and check.sh must fail on every one of them; it must pass on the unmodified copy
# and on a warning inside a stand-in. Slow (a cold run builds std once, about two minutes; then
# a few seconds per mutation), so run-tests does not run it.
# Usage: tests/android-target/self-test.sh
#   ANDROID_TARGET_SELF_TEST_DIR=<dir>   its own target directory (default target/android-target-self-test)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The sources check.sh reads, copied with fresh mtimes: Cargo names a build by the package's
# place in its workspace, not by its absolute path, so an output of an earlier build, here or
# in the tree, would otherwise pass for this copy's. For the same reason it has a target
# directory of its own, never check.sh's. xtask/aidl-model is the model of AIDL the vendor_i2c
# stand-in's build script reads aidl/ with; Cargo parses the root manifest as that package's
# workspace, so the targets it names (examples/, tests/*.rs) are copied too.
copy=$scratch/tree
mkdir -p "$copy/tests/android-target" "$copy/xtask"
for path in Cargo.toml aidl aidl_api core platform binder service client testkit src vts xtask/aidl-model examples; do
  cp -R "$root/$path" "$copy/$path"
done
cp "$root"/tests/*.rs "$copy/tests/"
for path in "$here"/*; do
  [ "$(basename "$path")" = target ] || cp -R "$path" "$copy/tests/android-target/"
done
export ANDROID_TARGET_DIR=${ANDROID_TARGET_SELF_TEST_DIR:-$root/target/android-target-self-test}

check() {
  "$copy/tests/android-target/check.sh" >"$scratch/log" 2>&1
}

check || { cat "$scratch/log"; echo "self-test: check.sh fails on the unmodified sources" >&2; exit 1; }

# name | file (in the copy) | perl substitution (-0: the whole file)
mutations=(
  'link_to_death takes &mut DeathRecipient|binder/src/android.rs|s/link_to_death\(&mut recipient\)/link_to_death(&recipient)/'
  'IBinder must be in scope for link_to_death|binder/src/android.rs|s/^use binder::IBinder;\n//m'
  'the message is an Option<&CStr>, not a String|binder/src/android.rs|s/message\.as_deref\(\)/Some(format!("{message:?}"))/'
  'Interface::dump returns Result<(), StatusCode>|binder/src/android.rs|s/::std::result::Result<\(\), \$crate::backend::StatusCode>/\$crate::backend::Result<()>/'
  'dump args are &[&CStr]|binder/src/android.rs|s/args: &\[&::std::ffi::CStr\]/args: &[::std::string::String]/'
  'new_binder takes BinderFeatures|binder/src/android.rs|s/\$bn::new_binder\(\$object, \$crate::backend::BinderFeatures::default\(\)\)/\$bn::new_binder(\$object)/'
  'vendor builds have no set_requesting_sid|binder/src/android.rs|s/\$crate::backend::BinderFeatures::default\(\)/\$crate::backend::BinderFeatures { set_requesting_sid: true, ..Default::default() }/'
  'join_thread_pool returns ()|binder/src/android.rs|s/binder::ProcessState::join_thread_pool\(\);/binder::ProcessState::join_thread_pool().map_err(|e| io_error("pool", e))?;/'
  'the calling pid is an i32, the uid a u32|binder/src/android.rs|s/uid: binder::ThreadState::get_calling_uid\(\)/uid: binder::ThreadState::get_calling_pid()/'
  'ExceptionCode constants are SHOUTY|binder/src/android.rs|s/ExceptionCode::SERVICE_SPECIFIC/ExceptionCode::ServiceSpecific/'
  'check_interface needs I: FromIBinder|binder/src/android.rs|s/check_service<I: FromIBinder \+ \?Sized>/check_service<I: Interface + ?Sized>/'
  'DeathWatch must stay Send + Sync|binder/src/android.rs|s/_binder: BinderRef,/_binder: std::rc::Rc<BinderRef>,/; s/_binder: binder \}/_binder: std::rc::Rc::new(binder) }/'
  'no warnings in the Android half (unused import)|binder/src/android.rs|s/^use std::io;\n/use std::io;\nuse std::fmt;\n/m'
  'the Android half is the one compiled|binder/src/lib.rs|s/#\[cfg\(target_os = "android"\)\]\nmod android;/#[cfg(any())]\nmod android;/'
  'with_max_level takes a log::LevelFilter, not a &str|service/src/logging.rs|s/with_max_level\(max\)/with_max_level(level)/'
  'the RPC refusal keeps the host signature|service/src/transport/android.rs|s/_services: Vec<\(&str, BinderRef\)>/_services: Vec<BinderRef>/'
  'no rsbinder on Android|service/src/service.rs|s/^use /use rsbinder as _;\nuse /m'
  'no crate libi2c_hal_service does not link (libc)|service/src/service.rs|s/^use /use libc as _;\nuse /m'
  'no crate vendor.i2c-service does not link (libi2c_hal_binder)|src/bin/i2c-hal-service.rs|s/^use clap::Parser;/use clap::Parser;\nuse i2c_hal_binder as _;/m'
  'no rustlibs entry the module never uses (log)|src/bin/i2c-hal-service.rs|s/log::error!\(/eprintln!(/'
  'no toml in the device core|core/src/lib.rs|s/^(pub mod )/pub fn _toml() { let _ = toml::from_str::<toml::Table>(""); }\n$1/m'
  "AOSP's clap has no env|src/bin/i2c-hal-service.rs|s/#\[arg\(long, value_name = \"PATH\"\)\]/#[arg(long, value_name = \"PATH\", env = \"I2C_HAL_X\")]/"
  'no warnings in vts/ (unused variable)|vts/i2c_hal_vts.rs|s/^mod target;/mod target;\nfn _f() { let x = 1; }/m'
  'aidl/ and the frozen dump describe one API|aidl/vendor/i2c/II2cManager.aidl|s/\}\s*\z/    void extra();\n}\n/'
  'no warnings in the AIDL model the stand-in is generated with|xtask/aidl-model/src/lib.rs|s/\z/\nfn unused_in_the_model() {}\n/'
  "the service mirror declares service/Cargo.toml's features|service/Cargo.toml|s/^toml = /extra = []\ntoml = /m"
  "the program mirrors declare Cargo.toml's features|Cargo.toml|s/^sim = /extra = []\nsim = /m"
)

failures=0
for entry in "${mutations[@]}"; do
  name=${entry%%|*}
  rest=${entry#*|}
  file=${rest%%|*}
  expr=${rest#*|}
  cp "$copy/$file" "$scratch/original"
  perl -0pi -e "$expr" "$copy/$file"
  if cmp -s "$copy/$file" "$scratch/original"; then
    echo "self-test: mutation did not apply: $name" >&2
    failures=$((failures + 1))
  elif check; then
    echo "self-test: NOT caught: $name" >&2
    failures=$((failures + 1))
  else
    echo "caught: $name: $(grep -E '^  [^ (-]|^== features' "$scratch/log" | head -n 1 | sed 's/^ *//')"
  fi
  # Restored by writing (a fresh mtime), so the next check recompiles it.
  cat "$scratch/original" >"$copy/$file"
done

# A warning inside a stand-in is listed and allowed.
stub=$copy/tests/android-target/binder-stub/src/lib.rs
cp "$stub" "$scratch/original"
printf '\nfn unused_in_the_stub() {}\n' >>"$stub"
if ! check || ! grep -q 'in the stand-ins, allowed' "$scratch/log"; then
  cat "$scratch/log"
  echo "self-test: a warning in a stand-in was not listed and allowed" >&2
  failures=$((failures + 1))
else
  echo "allowed: a warning in binder-stub"
fi
cat "$scratch/original" >"$stub"

[ "$failures" = 0 ] || { echo "self-test: $failures mutation(s) not caught" >&2; exit 1; }
echo "self-test: ok (${#mutations[@]} mutations caught)"
