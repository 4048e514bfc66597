#!/usr/bin/env bash
# tests/vm/bench.sh OUT.json - the benchmark's QEMU part (run by ./run-bench): boots the real-kernel
# test bed (tests/vm/run.sh, with i2c-hal-bench built into it) on tests/vm/bench-guest.sh and
# writes the guest's result (a register read on i2c-stub directly through i2cdev against the
# same read through the service on kernel binder) to OUT.json. QVM_DIR as for run.sh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: tests/vm/bench.sh OUT.json}
mkdir -p "$(dirname "$OUT")"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
status=0
QVM_EXTRA_BINS=i2c-hal-bench "$HERE/run.sh" --guest "$HERE/bench-guest.sh" --timeout 600 \
  | tee "$LOG" || status=$?
# Console lines carry a host-time prefix; the JSON follows the marker.
line=$(grep -o 'BENCH-JSON: .*' "$LOG" | tail -1 | tr -d '\r' || true)
if [ -z "$line" ]; then
  echo "bench.sh: the guest printed no result (status $status)" >&2
  exit 1
fi
printf '%s\n' "${line#BENCH-JSON: }" > "$OUT"
echo "bench.sh: wrote $OUT"
