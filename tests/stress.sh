#!/usr/bin/env bash
# The host test suites (`cargo test --all-targets`, as ./run-tests runs them) N times in a row
# while busy loops hold every CPU, to show that no test depends on the machine being idle.
# Reports each run, and the failing tests of a run that failed; exits non-zero if any did.
# Usage: tests/stress.sh [RUNS] [HOGS]   (defaults: 5 runs, one busy loop per CPU)
# The full logs stay in $STRESS_LOGS (default: target/stress), one file per run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=${1:-5}
hogs=${2:-$(nproc)}
logs=${STRESS_LOGS:-target/stress}
case $runs$hogs in *[!0-9]*) echo "usage: tests/stress.sh [RUNS] [HOGS]" >&2; exit 2 ;; esac
mkdir -p "$logs"

echo "stress: building the test binaries first (not under load)"
cargo test --workspace --all-targets --locked --no-run --quiet

hog_pids=()
stop_hogs() {
  if [ "${#hog_pids[@]}" -gt 0 ]; then
    kill "${hog_pids[@]}" 2>/dev/null || true
    wait "${hog_pids[@]}" 2>/dev/null || true
  fi
  hog_pids=()
}
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
  # A pure busy loop: it never sleeps, so the tests get only what the scheduler shares out.
  bash -c 'while :; do :; done' &
  hog_pids+=("$!")
done
echo "stress: $hogs busy loop(s) running on $(nproc) CPU(s); $runs run(s) of cargo test --workspace --all-targets"

failed=0
for run in $(seq "$runs"); do
  log="$logs/run-$run.log"
  started=$SECONDS
  # --no-fail-fast: a failing suite must not hide how the others fare under the same load.
  if cargo test --workspace --all-targets --locked --no-fail-fast >"$log" 2>&1; then
    outcome=passed
  else
    outcome=FAILED
    failed=$((failed + 1))
  fi
  # libtest's closing lines, summed: "test result: ok. 12 passed; 0 failed; ..."
  totals=$(awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed", p, f }' "$log")
  echo "stress: run $run/$runs $outcome in $((SECONDS - started)) s ($totals; log $log)"
  if [ "$outcome" = FAILED ]; then
    grep -E '^(test .* FAILED|---- .* stdout ----|error(\[|:))' "$log" | sed 's/^/    /' || true
  fi
done
stop_hogs
echo "stress: $((runs - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
