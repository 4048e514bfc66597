#!/bin/sh
# tests/vm/bench-guest.sh - the benchmark's QEMU part, run inside the VM by tests/vm/run.sh
# (started by tests/vm/bench.sh): kernel binder with rsb_hub, i2c-stub with a chip at 0x50,
# the service on the real bus and the null server beside it, then `i2c-hal-bench vm-read`: a
# register read directly through the i2cdev crate, through the service and on the null server
# (the same AIDL call, empty bodies), all on kernel binder, in one run. Its result is the
# console line "BENCH-JSON: {...}"; the last line is "vm: N passed, M failed" as for guest.sh.
set -u
NPASS=0 NFAIL=0
pass() { NPASS=$((NPASS + 1)); echo "PASS: $*"; }
fail() { NFAIL=$((NFAIL + 1)); echo "FAIL: $*"; }
finish() { echo "vm: $NPASS passed, $NFAIL failed"; [ "$NFAIL" -eq 0 ]; exit $?; }
# poll TRIES INTERVAL COMMAND...: run COMMAND until it succeeds, at most TRIES times
poll() { _n=$1 _i=$2; shift 2; while ! "$@"; do _n=$((_n - 1)); [ $_n -gt 0 ] || return 1; sleep "$_i"; done; }
stub_bus() {
  for _d in /sys/bus/i2c/devices/i2c-*; do
    case $(cat "$_d/name" 2>/dev/null) in "SMBus stub driver"*) echo "${_d##*/i2c-}"; return 0 ;; esac
  done
  return 1
}

# Debian 6.1 has binder_linux without binderfs: rsbinder opens /dev/binderfs/<name>.
modprobe binder_linux devices=binder,hwbinder,vndbinder || { fail "modprobe binder_linux"; finish; }
mkdir -p /dev/binderfs && ln -sf /dev/binder /dev/binderfs/binder
rsb_hub --insecure-allow-all > /tmp/hub.log 2>&1 &
poll 100 0.1 rsb_service list > /dev/null 2>&1 || { fail "rsb_hub not answering"; finish; }
modprobe i2c-dev && modprobe i2c-stub chip_addr=0x50 || { fail "modprobe i2c-stub"; finish; }
poll 100 0.05 stub_bus > /dev/null || { fail "no i2c-stub adapter"; finish; }
STUB=$(stub_bus)
poll 100 0.05 test -c "/dev/i2c-$STUB" || { fail "/dev/i2c-$STUB missing"; finish; }
RUST_LOG=warn i2c-hal-service > /tmp/svc.log 2>&1 &
poll 150 0.2 i2cctl buses > /dev/null 2>&1 || { fail "service not ready: $(tail -3 /tmp/svc.log)"; finish; }
pass "service on kernel binder serves i2c-$STUB"
# The floor: the service's interfaces with empty bodies, on the same kernel binder.
i2c-hal-bench null-server --kernel-binder > /tmp/null.log 2>&1 &
poll 100 0.1 sh -c 'rsb_service list 2>/dev/null | grep -q "II2cManager/null"' \
  || { fail "null server not registered: $(tail -3 /tmp/null.log)"; finish; }
pass "null server on kernel binder"
if i2c-hal-bench vm-read --bus "$STUB" --address 0x50 --calls "${BENCH_VM_CALLS:-5000}"; then
  pass "vm-read"
else
  fail "vm-read"
fi
finish
