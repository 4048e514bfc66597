#!/usr/bin/env bash
# Shows that the check is not vacuous: each mutation below breaks the libbinder_rs half of a
# scratch copy of src/ipc/compat.rs against the real libbinder_rs API, and the check must fail
# on every one of them (and pass on the unmodified file). Usage: tests/android-check/self-test.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
compat="$here/../../src/ipc/compat.rs"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

check() {
  ANDROID_CHECK_COMPAT_RS="$1" cargo check --quiet --locked --manifest-path "$here/Cargo.toml" \
    >"$scratch/log" 2>&1
}

check "$compat" || { cat "$scratch/log"; echo "self-test: the unmodified compat.rs fails" >&2; exit 1; }

# name | perl substitutions applied to the android half only (from `mod android {` on)
mutations=(
  'link_to_death takes &mut DeathRecipient|s/link_to_death\(&mut recipient\)/link_to_death(&recipient)/'
  'IBinder must be in scope for link_to_death|s/^    use binder::IBinder;\n//m'
  'the message is an Option<&CStr>, not a String|s/message\.as_deref\(\)/Some(format!("{message:?}"))/'
  'Interface::dump returns Result<(), StatusCode>|s/::std::result::Result<\(\), ::binder::StatusCode>/::binder::Result<()>/'
  'dump args are &[&CStr]|s/args: &\[&::std::ffi::CStr\]/args: &[::std::string::String]/'
  'new_binder takes BinderFeatures|s/\$bn::new_binder\(\$object, ::binder::BinderFeatures::default\(\)\)/\$bn::new_binder(\$object)/'
  'vendor builds have no set_requesting_sid|s/::binder::BinderFeatures::default\(\)/::binder::BinderFeatures { set_requesting_sid: true, ..Default::default() }/'
  'join_thread_pool returns ()|s/binder::ProcessState::join_thread_pool\(\);/binder::ProcessState::join_thread_pool().map_err(|e| io_error("pool", e))?;/'
  'the calling pid is an i32, the uid a u32|s/uid: binder::ThreadState::get_calling_uid\(\)/uid: binder::ThreadState::get_calling_pid()/'
  'ExceptionCode constants are SHOUTY|s/ExceptionCode::SERVICE_SPECIFIC/ExceptionCode::ServiceSpecific/'
  'check_interface needs I: FromIBinder|s/check_service<I: FromIBinder \+ \?Sized>/check_service<I: Interface + ?Sized>/'
  'DeathWatch must stay Send + Sync|s/_binder: BinderRef,/_binder: std::rc::Rc<BinderRef>,/; s/_binder: binder \}/_binder: std::rc::Rc::new(binder) }/'
  'no warnings (unused import)|s/^    use std::io;\n/    use std::io;\n    use std::fmt;\n/m'
  'with_max_level takes a log::LevelFilter, not a &str|s/with_max_level\(max\)/with_max_level(level)/'
  'the rpc refusal keeps the host signature (services by name)|s/_services: Vec<\(&str, BinderRef\)>/_services: Vec<BinderRef>/'
  'the android half must exist|s/^mod android \{/mod droid {/m'
  'a target_os cfg build.rs cannot flip|s/^    pub fn describe/    #[cfg(all(target_os = "android"))]\n    pub fn describe/m'
)

failures=0
for entry in "${mutations[@]}"; do
  name=${entry%%|*}
  expr=${entry#*|}
  mutant="$scratch/compat.rs"
  perl -0pe 'BEGIN { $e = shift } my $i = index($_, "mod android {"); die "no mod android" if $i < 0;
             my $head = substr($_, 0, $i); my $tail = substr($_, $i);
             eval "for (\$tail) { $e } 1" or die $@; $_ = $head . $tail;' "$expr" "$compat" >"$mutant"
  if cmp -s "$mutant" "$compat"; then
    echo "self-test: mutation did not apply: $name" >&2; failures=$((failures + 1)); continue
  fi
  if check "$mutant"; then
    echo "self-test: NOT caught: $name" >&2; failures=$((failures + 1))
  else
    echo "caught: $name: $(grep -m1 -o 'android-check: .*' "$scratch/log" || grep -m1 '^error' "$scratch/log")"
  fi
done
# Leave the build state matching the real compat.rs.
check "$compat"
[ "$failures" = 0 ] || { echo "self-test: $failures mutation(s) not caught" >&2; exit 1; }
