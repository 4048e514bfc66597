#!/usr/bin/env bash
# Shows that sepolicy/check.sh is not vacuous: each mutation below breaks a scratch copy of the
# policy, and the check must refuse every one (and pass the unmodified policy).
# Usage: sepolicy/self-test.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$here/check.sh" >/dev/null || { echo "sepolicy self-test: the unmodified policy fails" >&2; exit 1; }

# name | file (under vendor/ or example/) | text appended to it, or with `-` before the file, the
# line (whole and exact) removed from it
mutations=(
  'unknown type|vendor/hal_vendor_i2c_default.te|allow hal_vendor_i2c_default no_such_type:file read;'
  'syntax error|vendor/hal_vendor_i2c_default.te|allow hal_vendor_i2c_default sysfs:file read'
  'unknown macro|vendor/hal_vendor_i2c_default.te|binder_cal(hal_vendor_i2c_default, system_app)'
  'unknown permission|vendor/hal_vendor_i2c_default.te|allow hal_vendor_i2c_default sysfs:file rw_file_perm;'
  'unknown class|vendor/hal_vendor_i2c_default.te|allow hal_vendor_i2c_default self:netlink_uevent_socket create;'
  'opening a generic device node (AOSP neverallow)|vendor/hal_vendor_i2c_default.te|allow hal_vendor_i2c_default device:chr_file rw_file_perms;'
  'net_admin for the HAL (AOSP HAL neverallow)|vendor/hal_vendor_i2c_default.te|allow hal_vendor_i2c_default self:capability net_admin;'
  'another domain adding the service (add_service neverallow)|example/clients.te|allow platform_app hal_vendor_i2c_service:service_manager add;'
  'an untrusted app finding it (AOSP app neverallow)|example/clients.te|allow untrusted_app hal_vendor_i2c_service:service_manager find;'
  'service_contexts naming an undeclared type|vendor/service_contexts|vendor.i2c.II2cManager/other    u:object_r:hal_vendor_i2c_servce:s0'
  'file_contexts naming an undeclared type|vendor/file_contexts|/dev/i2c-x    u:object_r:vendor_i2c_devce:s0'
  'file_contexts with a bad regular expression|vendor/file_contexts|/dev/i2c-[0-9+    u:object_r:vendor_i2c_device:s0'
  'a context that is not u:object_r:TYPE:s0|vendor/service_contexts|vendor.i2c.II2cAdmin/other    u:r:hal_vendor_i2c_admin_service'
  'genfs_contexts naming an undeclared type|vendor/genfs_contexts|genfscon sysfs /bus/i2c/drivers u:object_r:sysfs_i2c:s0'
  'dumpstate no longer finding the service (a granted access missing)|-vendor/hal_vendor_i2c_default.te|allow dumpstate hal_vendor_i2c_service:service_manager find;'
  'dumpstate no longer calling it (a granted access missing)|-vendor/hal_vendor_i2c_default.te|binder_call(dumpstate, hal_vendor_i2c_default)'
  'the service not writing to the dump pipe (a granted access missing)|-vendor/hal_vendor_i2c_default.te|allow hal_vendor_i2c_default dumpstate:fifo_file write;'
  'dumpstate finding the admin instance (a denied access)|vendor/hal_vendor_i2c_default.te|allow dumpstate hal_vendor_i2c_admin_service:service_manager find;'
  'adb shell calling into the service (a denied access)|example/clients.te|binder_call(shell, hal_vendor_i2c_default)'
)

failures=0
for entry in "${mutations[@]}"; do
  IFS='|' read -r name file text <<<"$entry"
  rm -rf "$scratch/policy" && mkdir "$scratch/policy"
  cp -r "$here/vendor" "$here/example" "$scratch/policy/"
  case $file in
    -*)
      file=${file#-}
      grep -v -x -F -- "$text" "$scratch/policy/$file" >"$scratch/edited" || true
      cmp -s "$scratch/edited" "$scratch/policy/$file" && {
        echo "sepolicy self-test: $name: no line \"$text\" in $file to remove" >&2
        exit 1
      }
      cp "$scratch/edited" "$scratch/policy/$file"
      ;;
    *) printf '%s\n' "$text" >>"$scratch/policy/$file" ;;
  esac
  if "$here/check.sh" "$scratch/policy/vendor" "$scratch/policy/example" >"$scratch/log" 2>&1; then
    echo "sepolicy self-test: NOT caught: $name" >&2
    failures=$((failures + 1))
  else
    echo "caught: $name: $(grep -m1 -E 'ERROR|error|neverallow|expected|bad|not u:|does not allow' "$scratch/log" | cut -c1-160)"
  fi
done
[ "$failures" = 0 ] || { echo "sepolicy self-test: $failures mutation(s) not caught" >&2; exit 1; }
