#!/bin/bash
# tests/vm/run.sh - real-kernel test of i2c-hal under QEMU.
#
# Boots Debian 12's stock kernel (linux-image-amd64, 6.1) on an emulated q35
# machine (TCG, no KVM needed) with a busybox initramfs that carries the real
# binder, i2c-dev, i2c-i801, i2c-stub, vhci-hcd and i2c-tiny-usb modules,
# rsbinder's service manager (rsb_hub) and this crate's i2c-hal-service, i2cctl
# and usb-i2c-module (an emulated USB I2C bridge), built statically.
# Inside the VM tests/vm/guest.sh exercises the service on the real kernel:
# data path on i2c-stub and the ICH9 SMBus, PCI hot-removal of the SMBus while
# an app holds a session, rescan, client SIGKILL and admin revoke; then
# tests/vm/usb.sh plugs, pulls and replugs emulated USB I2C modules with the
# service on kernel binder and on RPC binder, and without the service.
#
# Usage: tests/vm/run.sh [options]
#   --guest FILE     run FILE inside the VM instead of tests/vm/guest.sh
#   --no-build       do not build the project (guest runs without the
#                    project's binaries; for checking the harness itself)
#   --setup-only     fetch/extract/build everything, do not boot
#   --timeout SECS   wall-clock limit for the VM (default 300)
#   --keep           keep the initramfs staging tree under $QVM_DIR/run
#   -h, --help
# Environment:
#   QVM_DIR    cache directory (default: <repo>/.qvm, gitignored)
#   QVM_MEM    guest memory in MiB (default 512)
#   QVM_SMP    guest vCPUs (default 1)
#   QVM_KPKG   kernel package to use (default: what linux-image-amd64 depends on)
#   QVM_CMDLINE extra kernel command line
#   RUST_LOG   passed to i2c-hal-service inside the guest (default: debug)
#   QVM_EXTRA_BINS more of this crate's binaries to build and install (tests/vm/bench.sh)
#
# Needs: a Debian 12 x86-64 host, root (for apt-get update/download only),
# cargo with the x86_64-unknown-linux-gnu target. Installs nothing into the
# system: qemu-system-x86 and busybox-static are fetched with `apt-get
# download` and unpacked with `dpkg -x` into $QVM_DIR/sysroot (apt-get install
# would remove a newer qemu-utils that such hosts may carry).
#
# Output: the VM console, each line prefixed with host seconds since boot;
# guest checks print "PASS: ..." / "FAIL: ..."; the last line is always
#   vm: N passed, M failed
# Exit status: 0 when the guest script exits 0; otherwise non-zero (the guest
# status, 124 on timeout/crash, 2 on usage, 3 on a host setup/build failure).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
QVM_DIR=${QVM_DIR:-$REPO/.qvm}
GUEST=$HERE/guest.sh
BUILD=1 SETUP_ONLY=0 TIMEOUT=900 KEEP=0
RSB_VERSION=0.12.0
TARGET=x86_64-unknown-linux-gnu
# vhci-hcd + i2c-tiny-usb: the emulated USB I2C module (tests/vm/usb.sh); i2c-mux: the core
# of the switch on a module (tests/vm/mux.sh); virtio_pci + virtio-rng: a seeded CRNG (see
# the -device line below).
MODULES="binder_linux i2c-dev i2c-i801 i2c-smbus i2c-stub at24 vhci-hcd i2c-tiny-usb i2c-mux virtio_pci virtio-rng"
# Debian's kernel has CONFIG_I2C_MUX=m but not CONFIG_I2C_MUX_PCA954x, so that one driver is
# built here from the same release's source, against its headers (build_extra_module).
EXTRA_MODULES="drivers/i2c/muxes/i2c-mux-pca954x"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --guest) GUEST=$(readlink -f "$2"); shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --setup-only) SETUP_ONLY=1; shift ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -f "$GUEST" ] || { echo "run.sh: guest script not found: $GUEST" >&2; exit 2; }

T0=$EPOCHREALTIME
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[vm-host +%ss] %s\n' "$(since "$T0")" "$*" >&2; }
# A host-side failure still ends with the summary line CI looks for.
die() {
  echo "FAIL: host: $*"
  echo "vm: 0 passed, 1 failed"
  exit 3
}

[ "$(uname -m)" = x86_64 ] || die "needs an x86-64 host (got $(uname -m))"
for c in apt-get apt-cache dpkg dpkg-deb gzip find awk ldd timeout; do
  command -v "$c" >/dev/null || die "missing host tool: $c"
done
mkdir -p "$QVM_DIR"/{debs,run}
QVM_DIR=$(cd "$QVM_DIR" && pwd)
SYSROOT=$QVM_DIR/sysroot

APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  log "apt-get update"
  apt-get update -qq || die "apt-get update failed (run as root with network access)"
  APT_UPDATED=1
}
# apt_download PKG... -> .debs in $QVM_DIR/debs (after one apt-get update per run:
# stale lists point at versions a mirror no longer has)
apt_download() {
  apt_update_once
  (cd "$QVM_DIR/debs" && apt-get download -qq -o APT::Sandbox::User=root "$@") || die "apt-get download $* failed"
}
deb_of() { ls -t "$QVM_DIR"/debs/"$1"_*.deb 2>/dev/null | head -1; }

# ------------------------------------------------------------ qemu + busybox
if [ ! -x "$SYSROOT/usr/bin/qemu-system-x86_64" ] || [ ! -x "$SYSROOT/bin/busybox" ]; then
  log "fetching qemu-system-x86 and busybox-static (apt-get download + dpkg -x, nothing installed)"
  # What apt would install (i.e. what this host lacks), plus the packages we
  # unpack even if some version is present on the host.
  apt_update_once
  sim=$(apt-get install -s --no-install-recommends qemu-system-x86 busybox-static 2>/dev/null) ||
    die "apt cannot resolve qemu-system-x86 busybox-static"
  pkgs=$(printf '%s\n' $(awk '/^Inst /{print $2}' <<<"$sim") \
           qemu-system-x86 qemu-system-common qemu-system-data seabios ipxe-qemu busybox-static | sort -u)
  apt_download $pkgs
  rm -rf "$SYSROOT.tmp"; mkdir -p "$SYSROOT.tmp"
  for p in $pkgs; do
    d=$(deb_of "$p"); [ -n "$d" ] || die "no .deb downloaded for $p"
    dpkg -x "$d" "$SYSROOT.tmp"
  done
  rm -rf "$SYSROOT"; mv "$SYSROOT.tmp" "$SYSROOT"
fi
QEMU=$SYSROOT/usr/bin/qemu-system-x86_64
BUSYBOX=$SYSROOT/bin/busybox
QEMU_LIBS=$SYSROOT/usr/lib/x86_64-linux-gnu:$SYSROOT/lib/x86_64-linux-gnu
QEMU_DATA=(-L "$SYSROOT/usr/share/qemu" -L "$SYSROOT/usr/share/seabios" -L "$SYSROOT/usr/lib/ipxe/qemu")
LD_LIBRARY_PATH=$QEMU_LIBS "$QEMU" --version >/dev/null 2>&1 ||
  die "extracted qemu does not run: $(LD_LIBRARY_PATH=$QEMU_LIBS "$QEMU" --version 2>&1 | head -3)"

# -------------------------------------------------------------------- kernel
# The first kernel fetched is remembered in kernel/current and reused (no apt
# access on warm runs); QVM_KPKG overrides, rm -r $QVM_DIR/kernel refreshes.
KPKG=${QVM_KPKG:-$(cat "$QVM_DIR/kernel/current" 2>/dev/null || true)}
if [ -z "$KPKG" ]; then
  apt_update_once
  KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}' || true)
  [ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 to a kernel package"
fi
KDIR=$QVM_DIR/kernel/$KPKG   # compact: boot/vmlinuz-* + the module closure, depmod'ed
# build_extra_module PATH: drivers/.../NAME.c from linux-source-X.Y, built out of tree
# against linux-headers-$KVER (the kernel's own Module.symvers, so its symbol versions
# match), into extra/NAME.ko; the kernel taints itself for an unsigned module and loads it.
# Skipped when the kernel ships the module already.
build_extra_module() {
  local name=${1##*/} src=$QVM_DIR/kernel/.src.$$ majmin pkgs p
  find "$MODROOT/kernel" -name "$name.ko*" | grep -q . && { add_module "$name"; return 0; }
  command -v make >/dev/null && command -v gcc >/dev/null || die "building $name.ko needs make and gcc"
  majmin=$(echo "$KVER" | cut -d. -f1,2)
  apt_update_once
  pkgs="linux-headers-$KVER linux-source-$majmin $(apt-cache depends "linux-headers-$KVER" 2>/dev/null |
    awk '/Depends: linux-(headers|kbuild)-/{print $2}' | sort -u | tr '\n' ' ')"
  log "building $name.ko from linux-source-$majmin against linux-headers-$KVER"
  apt_download $pkgs
  rm -rf "$src"; mkdir -p "$src/root" "$src/module"
  for p in $pkgs; do dpkg -x "$(deb_of "$p")" "$src/root"; done
  tar -xJf "$src/root/usr/src/linux-source-$majmin.tar.xz" -C "$src" "linux-source-$majmin/$1.c" ||
    die "no $1.c in linux-source-$majmin"
  cp "$src/linux-source-$majmin/$1.c" "$src/module/"
  echo "obj-m := $name.o" > "$src/module/Kbuild"
  # linux-headers-$KVER's own Makefile includes the common tree by absolute path; naming
  # both directories works from wherever the packages were unpacked.
  make -s -C "$src/root/usr/src/linux-headers-${KVER%-*}-common" \
       O="$src/root/usr/src/linux-headers-$KVER" M="$src/module" modules > "$src/build.log" 2>&1 ||
    die "building $name.ko failed: $(tail -5 "$src/build.log" | tr '\n' '|')"
  mkdir -p "$KDIR/lib/modules/$KVER/extra"
  cp "$src/module/$name.ko" "$KDIR/lib/modules/$KVER/extra/"
  rm -rf "$src" "$QVM_DIR"/debs/linux-source-*.deb
}
if [ ! -e "$KDIR/.done" ] || [ "$(cat "$KDIR/.done")" != "$MODULES $EXTRA_MODULES" ]; then
  log "fetching $KPKG"
  apt_download "$KPKG"
  FULL=$QVM_DIR/kernel/.unpack.$$
  rm -rf "$FULL" "$KDIR"; mkdir -p "$FULL" "$KDIR/boot"
  dpkg -x "$(deb_of "$KPKG")" "$FULL"
  VMLINUZ=$(ls "$FULL"/boot/vmlinuz-* 2>/dev/null | head -1)
  [ -n "$VMLINUZ" ] || die "no vmlinuz in $KPKG"
  KVER=${VMLINUZ##*/vmlinuz-}
  MODROOT=$FULL/lib/modules/$KVER
  [ -d "$MODROOT" ] || MODROOT=$FULL/usr/lib/modules/$KVER
  [ -d "$MODROOT" ] || die "no modules for $KVER in $KPKG"
  cp "$VMLINUZ" "$KDIR/boot/"
  mkdir -p "$KDIR/lib/modules/$KVER"
  # add_module NAME: copy it (decompressed) and, recursively, its depends=
  declare -A HAVE_MOD=()
  add_module() {
    local name=${1//-/_} f rel dst deps d
    [ -n "${HAVE_MOD[$name]:-}" ] && return 0
    HAVE_MOD[$name]=1
    f=$(find "$MODROOT/kernel" -regextype posix-extended \
          -regex ".*/(${name//_/[-_]})\.ko(\.xz|\.zst|\.gz)?" -print -quit)
    if [ -z "$f" ]; then
      grep -qE "/${name//_/[-_]}\.ko" "$MODROOT/modules.builtin" 2>/dev/null && return 0
      die "kernel module $1 not found in $KPKG"
    fi
    rel=${f#"$MODROOT"/}; rel=${rel%.xz}; rel=${rel%.zst}; rel=${rel%.gz}
    dst=$KDIR/lib/modules/$KVER/$rel
    mkdir -p "${dst%/*}"
    case $f in
      *.xz) xz -dc "$f" > "$dst" ;; *.zst) zstd -qdc "$f" > "$dst" ;;
      *.gz) gzip -dc "$f" > "$dst" ;; *) cp "$f" "$dst" ;;
    esac
    deps=$(tr '\0' '\n' < "$dst" | grep -a -m1 '^depends=' | cut -d= -f2 | tr ',' ' ' || true)
    for d in $deps; do add_module "$d"; done
  }
  for m in $MODULES; do add_module "$m"; done
  for m in $EXTRA_MODULES; do build_extra_module "$m"; done
  cp "$MODROOT"/modules.builtin* "$MODROOT"/modules.order "$KDIR/lib/modules/$KVER/" 2>/dev/null || true
  "$BUSYBOX" depmod -b "$KDIR" "$KVER" || die "depmod failed"
  rm -rf "$FULL"
  echo "$MODULES $EXTRA_MODULES" > "$KDIR/.done"
fi
echo "$KPKG" > "$QVM_DIR/kernel/current"
VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* | head -1)
KVER=${VMLINUZ##*/vmlinuz-}
log "kernel $KVER ($(find "$KDIR/lib/modules" -name '*.ko' | wc -l) modules), qemu $(LD_LIBRARY_PATH=$QEMU_LIBS "$QEMU" --version | head -1 | awk '{print $4}')"

# ---------------------------------------------------- rsb_hub (service manager)
RSB_ROOT=$QVM_DIR/rsbinder-tools-$RSB_VERSION
if [ ! -x "$RSB_ROOT/bin/rsb_hub" ] || [ ! -x "$RSB_ROOT/bin/rsb_service" ]; then
  command -v cargo >/dev/null || die "cargo not found (needed to build rsb_hub and the project)"
  log "cargo install rsbinder-tools =$RSB_VERSION (static) into $RSB_ROOT"
  (unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR
   RUSTFLAGS="-C target-feature=+crt-static" \
     cargo install --locked --quiet --root "$RSB_ROOT.tmp" --target "$TARGET" \
       rsbinder-tools --version "=$RSB_VERSION") ||
    die "cargo install rsbinder-tools =$RSB_VERSION failed"
  rm -rf "$RSB_ROOT"; mv "$RSB_ROOT.tmp" "$RSB_ROOT"
fi

# ------------------------------------------------------- project binaries
BINDIR=""
if [ "$BUILD" = 1 ]; then
  command -v cargo >/dev/null || die "cargo not found"
  log "cargo build --release (static, CARGO_TARGET_DIR=target/vm)"
  if ! (cd "$REPO" &&
        CARGO_TARGET_DIR=$REPO/target/vm RUSTFLAGS="-C target-feature=+crt-static" \
          cargo build --release --locked --workspace --target "$TARGET" --bin i2c-hal-service --bin i2cctl \
            --bin usb-i2c-module ${QVM_EXTRA_BINS:+$(printf -- ' --bin %s' $QVM_EXTRA_BINS)}); then
    die "cargo build of i2c-hal-service/i2cctl/usb-i2c-module failed (see the compiler output above)"
  fi
  BINDIR=$REPO/target/vm/$TARGET/release
  for b in i2c-hal-service i2cctl usb-i2c-module ${QVM_EXTRA_BINS:-}; do
    [ -x "$BINDIR/$b" ] || die "cargo build produced no $b"
  done
  # The VTS suite (vts/, tests/vm/vts.sh): a test binary, found by its artifact line.
  VTS_BIN=$(cd "$REPO" &&
    CARGO_TARGET_DIR=$REPO/target/vm RUSTFLAGS="-C target-feature=+crt-static" \
      cargo test --release --target "$TARGET" --test vts --no-run --message-format=json |
      # The test's own artifact: the package's binaries are built (and listed) for it too.
      grep '"kind":\["test"\],[^}]*"name":"vts"' |
      sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1) || true
  [ -n "$VTS_BIN" ] && [ -x "$VTS_BIN" ] || die "cargo test --test vts --no-run produced no binary"
fi
rm -f "$QVM_DIR"/debs/*.deb   # unpacked above; not needed again
log "setup done"
[ "$SETUP_ONLY" = 1 ] && { log "--setup-only: not booting"; exit 0; }

# ---------------------------------------------------------------- initramfs
STAGE=$QVM_DIR/run/rootfs.$$
INITRD=$QVM_DIR/run/initrd.$$.cpio.gz
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$STAGE"; rm -f "$INITRD"; }
trap cleanup EXIT
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,dev,proc,sys,tmp,run,etc,test,usr,lib}
ln -s bin "$STAGE/sbin"; ln -s ../bin "$STAGE/usr/bin"; ln -s ../bin "$STAGE/usr/sbin"
cp "$BUSYBOX" "$STAGE/bin/busybox"
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -s busybox "$STAGE/bin/$a"; done

cp -a "$KDIR/lib/modules" "$STAGE/lib/"

# Binaries: static ones as they are; a dynamic one gets its ldd closure.
install_bin() {
  local src=$1 lib
  cp -L "$src" "$STAGE/bin/${src##*/}"
  if ! ldd "$src" 2>&1 | grep -qE 'not a dynamic|statically linked'; then
    log "note: ${src##*/} is dynamically linked; copying its libraries"
    for lib in $(ldd "$src" | grep -oE '/[^ ]+'); do
      mkdir -p "$STAGE/${lib%/*}"; cp -L "$lib" "$STAGE/$lib"
    done
  fi
}
install_bin "$RSB_ROOT/bin/rsb_hub"
install_bin "$RSB_ROOT/bin/rsb_service"
if [ -n "$BINDIR" ]; then
  install_bin "$BINDIR/i2c-hal-service"; install_bin "$BINDIR/i2cctl"
  install_bin "$BINDIR/usb-i2c-module"
  cp -L "$VTS_BIN" "$STAGE/bin/i2c-hal-vts"
  for b in ${QVM_EXTRA_BINS:-}; do install_bin "$BINDIR/$b"; done
fi
# Default deny: the service on the real kernel reads /etc/i2c-hal/policy.toml (root only).
mkdir -p "$STAGE/etc/i2c-hal"
cp "$HERE/policy.toml" "$STAGE/etc/i2c-hal/policy.toml"
cp "$GUEST" "$STAGE/test/guest.sh"
cp "$HERE/usb.sh" "$STAGE/test/usb.sh"   # sourced by guest.sh: the USB module scenarios
cp "$HERE/mux.sh" "$STAGE/test/mux.sh"   # sourced by guest.sh: a module with an I2C switch
cp "$HERE/vts.sh" "$STAGE/test/vts.sh"   # sourced by guest.sh: the VTS suite

# Guest watchdog: a little under the host timeout, so a hung guest still
# reports its logs and a summary before QEMU is killed.
GUEST_LIMIT=$(( TIMEOUT > 60 ? TIMEOUT - 20 : TIMEOUT ))
cat > "$STAGE/init" <<EOF
#!/bin/sh
export PATH=/bin HOME=/tmp VM_RUST_LOG=${RUST_LOG:-debug} RUST_BACKTRACE=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
modprobe virtio_pci; modprobe virtio-rng   # seeds the CRNG (see run.sh)
echo "VM-INIT kernel=\$(uname -r) uptime=\$(cut -d' ' -f1 /proc/uptime)"
( sleep $GUEST_LIMIT
  echo "FAIL: guest watchdog: test still running after ${GUEST_LIMIT}s"
  echo "--- processes:"; ps
  for p in /proc/[0-9]*; do
    case \$(awk '{print \$3}' \$p/stat 2>/dev/null) in D)
      echo "--- D-state \${p#/proc/} \$(cat \$p/cmdline | tr '\\0' ' '):"; cat \$p/stack 2>/dev/null ;;
    esac
  done
  echo "VM-EXIT=124"; sync; poweroff -f ) &
cd /tmp
sh /test/guest.sh
echo "VM-EXIT=\$?"
sync
poweroff -f
EOF
chmod +x "$STAGE/init"
(cd "$STAGE" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1 > "$INITRD")
log "initramfs $(du -k "$INITRD" | cut -f1) KiB"

# --------------------------------------------------------------------- boot
CONSOLE=$QVM_DIR/run/console.log
log "booting q35/TCG, ${QVM_MEM:-512} MiB, ${QVM_SMP:-1} vCPU, timeout ${TIMEOUT}s; console log: $CONSOLE"
TB=$EPOCHREALTIME
# -device virtio-rng-pci: under TCG the guest has no entropy source that initializes its
# CRNG within minutes, and getrandom() blocks until then; RPC binder (the session ids in
# rsbinder 0.12 src/rpc/session.rs) needs it, so the service on --socket would never answer.
set +e
LD_LIBRARY_PATH=$QEMU_LIBS timeout -k 5 "$TIMEOUT" "$QEMU" "${QEMU_DATA[@]}" \
  -machine q35,accel=tcg -m "${QVM_MEM:-512}" -smp "${QVM_SMP:-1}" \
  -display none -serial stdio -monitor none -nic none -no-reboot \
  -device virtio-rng-pci \
  -kernel "$VMLINUZ" -initrd "$INITRD" \
  -append "console=ttyS0 panic=-1 loglevel=4 ${QVM_CMDLINE:-}" < /dev/null 2>&1 |
  while IFS= read -r line; do
    us=$(( ${EPOCHREALTIME/./} - ${TB/./} ))
    printf '[%4d.%02d] %s\n' $((us / 1000000)) $((us % 1000000 / 10000)) "${line%$'\r'}"
  done | tee "$CONSOLE"
QRC=${PIPESTATUS[0]}
set -e

# ------------------------------------------------------------------ verdict
strip() { sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' "$CONSOLE"; }
RC=$(strip | sed -n 's/^VM-EXIT=\([0-9]*\).*/\1/p' | tail -1)
SUMMARY=$(strip | grep -E '^vm: [0-9]+ passed, [0-9]+ failed$' | tail -1 || true)
NPASS=$(strip | grep -c '^PASS:' || true)
NFAIL=$(strip | grep -c '^FAIL:' || true)
log "qemu exit $QRC, guest exit ${RC:-none}; boot+test $(since "$TB")s, total $(since "$T0")s"
if [ -z "$RC" ]; then
  [ "$QRC" = 124 ] && why="VM timed out after ${TIMEOUT}s" || why="VM ended without an exit marker (qemu exit $QRC)"
  echo "FAIL: host: $why"
  echo "vm: $NPASS passed, $((NFAIL + 1)) failed"
  exit 124
fi
if [ -z "$SUMMARY" ]; then
  [ "$RC" != 0 ] && NFAIL=$(( NFAIL > 0 ? NFAIL : 1 ))
  SUMMARY="vm: $NPASS passed, $NFAIL failed"
fi
echo "$SUMMARY"
exit "$RC"
