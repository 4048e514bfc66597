#!/usr/bin/env bash
# The vendor build (the service library without its `sim` feature, and i2c-hal-service with
# --no-default-features) compiles without warnings and contains no simulator code: no symbol
# of the i2c_hal_sim crate and none of the simulated modules' names, neither in the service
# binary nor in the library's objects.
# The library is checked too because code that is compiled in but unreferenced never reaches
# the binary. The same checks must find the simulator in the default build; otherwise a marker
# went stale and the negative check would prove nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Names from i2c_hal_sim::catalog, as string constants in whatever uses them.
markers=(eeprom-module sensor-module)
sim_path='i2c_hal_sim::'

# Builds the library and the service with extra cargo flags; prints the rlib and the binary.
build() {
  local log out
  log=$(mktemp)
  out=$(cargo build --locked -p i2c-hal-service -p i2c-hal --bin i2c-hal-service \
    --message-format=json-render-diagnostics "$@" 2>"$log") || { cat "$log" >&2; return 1; }
  # Cargo replays a fresh unit's warnings, so this holds for cached builds too.
  if grep -q '^warning' "$log"; then
    cat "$log" >&2
    echo "vendor-build: cargo build $* has warnings" >&2
    return 1
  fi
  rm -f "$log"
  printf '%s\n' "$out" | grep '"reason":"compiler-artifact"' |
    grep -o '"filenames":\[[^]]*\]' |
    grep -o '"[^"]*\(/libi2c_hal_service-[^"/]*\.rlib\|/i2c-hal-service\)"' | tr -d '"'
}

# How many simulator symbols and marker strings a file holds.
sim_traces() {
  local file=$1 count
  # nm reads the rlib's objects and complains about its metadata member; only symbols matter.
  count=$( (nm -C "$file" 2>/dev/null || true) | grep -c -F "$sim_path" || true)
  for marker in "${markers[@]}"; do
    count=$((count + $(grep -c -a -F -- "$marker" "$file" || true)))
  done
  echo "$count"
}

mapfile -t vendor < <(build --no-default-features)
[ ${#vendor[@]} = 2 ] || { echo "vendor-build: expected an rlib and a binary, got: ${vendor[*]}" >&2; exit 1; }
for file in "${vendor[@]}"; do
  traces=$(sim_traces "$file")
  if [ "$traces" != 0 ]; then
    echo "vendor-build: simulator code in the vendor build: $file ($traces traces)" >&2
    (nm -C "$file" 2>/dev/null || true) | grep -F "$sim_path" | head -5 >&2 || true
    exit 1
  fi
done

# Run second, so the uplifted target/debug files end as cargo test expects them.
mapfile -t default < <(build)
for file in "${default[@]}"; do
  if [ "$(sim_traces "$file")" = 0 ]; then
    echo "vendor-build: the default build of $file shows no simulator: update the markers" >&2
    exit 1
  fi
done
echo "vendor-build: no simulator in ${vendor[*]}"
