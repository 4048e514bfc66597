# tests/vm/vts.sh - sourced by tests/vm/guest.sh (busybox sh, root): the VTS suite (vts/,
# built statically by run.sh as /bin/i2c-hal-vts) against the service on the real kernel over
# kernel binder, the same binary that checks the simulator on the host and a phone's service.
#
# It is told what the test bed holds (vts/README.md): i2c-stub's chips as memories (i2c-stub.c
# keeps a register file per chip: byte, word and I2C block writes read back, and receive byte
# reads where send byte pointed), an empty stub address, at24 bound to another, and QEMU's SPD
# EEPROM behind the ICH9 SMBus (i801), whose PCI function it unplugs (remove) and replugs
# (rescan). The EEPROM is checked through byte and word registers only: a 4-byte I2C block
# written and read back through QEMU's ICH9 SMBus came back with its last byte 0, where the
# same sequence reads back whole on i2c-stub and the simulator (not yet investigated: it may
# be hw/i2c/pm_smbus.c's I2C block handling). Uses guest.sh's helpers and counters; leaves the adapters as it found them.

echo "=== (vts) the VTS suite over kernel binder"
# guest.sh's last scenario left i801 removed and i2c-stub unloaded: bring both back.
echo 1 > /sys/bus/pci/rescan
modprobe i2c-stub chip_addr=0x50,0x51 || fail "vts: modprobe i2c-stub"
if poll 100 0.1 bus_by_name "SMBus I801 adapter" > /dev/null &&
   poll 100 0.1 bus_by_name "SMBus stub driver" > /dev/null; then
  VI801=$(bus_by_name "SMBus I801 adapter"); VSTUB=$(bus_by_name "SMBus stub driver")
  check "vts: the service lists i801 (i2c-$VI801) and the stub (i2c-$VSTUB)" \
    poll 100 0.1 eval 'bus_listed "$VI801" && bus_listed "$VSTUB"'
  VI801_ID=$(bus_field "$VI801" stable-id)
  VI801_PCI=${I801_PCI:?}
  echo 24c02 0x51 > "/sys/bus/i2c/devices/i2c-$VSTUB/new_device" &&
    poll 100 0.05 test -e "/sys/bus/i2c/devices/$VSTUB-0051/driver" || fail "vts: bind at24 to 0x51"
  # Android's ueventd makes /dev/binder 0666; this misc device is 0600, and the admin check
  # calls from uid 65534.
  VBINDER_MODE=$(stat -L -c %a /dev/binderfs/binder)
  chmod 0666 "$(readlink -f /dev/binderfs/binder)"
  I2C_HAL_VTS_TARGET=binder \
  I2C_HAL_VTS_DEVICES="$VSTUB@0x50,mem=0x10;$VSTUB@0x52,absent;$VSTUB@0x51,busy;$VI801_ID@0x50,byte-rw=0x20,word-rw=0x22;$VI801_ID@0x50,pec,byte-rw=0x30" \
  I2C_HAL_VTS_REMOVABLE="$VI801_ID@0x50" \
  I2C_HAL_VTS_UNPLUG="echo 1 > $VI801_PCI/remove" \
  I2C_HAL_VTS_REPLUG="echo 1 > /sys/bus/pci/rescan" \
    i2c-hal-vts --test-threads 2 > "$W/vts.log" 2>&1
  VRC=$?
  grep "SKIPPED" "$W/vts.log" | sed 's/^/INFO: /'
  if [ "$VRC" = 0 ]; then
    pass "vts: $(grep '^test result' "$W/vts.log" | tail -1)"
    grep -E '^test .* ok$' "$W/vts.log" | sed 's/^/  /'
  else
    fail "vts: i2c-hal-vts exited $VRC:"
    sed 's/^/  vts: /' "$W/vts.log" | grep -vE '^  vts: +(at |[0-9]+: )' | tail -n 80
  fi
  chmod "$VBINDER_MODE" "$(readlink -f /dev/binderfs/binder)"
  echo 0x51 > "/sys/bus/i2c/devices/i2c-$VSTUB/delete_device"
  # As guest.sh left them: the stub unloaded, i801 removed.
  poll 100 0.05 eval 'rmmod i2c_stub 2> /dev/null' || fail "vts: rmmod i2c_stub afterwards"
  [ -e "$VI801_PCI" ] && echo 1 > "$VI801_PCI/remove"
else
  fail "vts: i801 or the stub did not come back (sysfs: $(ls /sys/bus/i2c/devices | tr '\n' ' '))"
fi
