# tests/vm/mux.sh - sourced by tests/vm/guest.sh after tests/vm/usb.sh, whose helpers
# (mod_pull, mod_usbdev, port_plug, hold_start, d_tasks, the uevent recorder...) it uses.
# A detachable module with an I2C switch on board, on the real kernel:
#
#   usb-i2c-module emulates a PCA9548A-like 8-channel switch at 0x70 on its bridge's bus
#   (--switch), with an ID EEPROM at 0x57 on the bridge's own bus, one EEPROM at 0x50 behind
#   channel 0, another EEPROM at 0x50 and a register device at 0x48 behind channel 5.
#   `new_device pca9548 0x70` binds the kernel's pca954x driver (built by tests/vm/run.sh
#   from Debian's source), which adds one adapter per channel through i2c-mux.c: each a child
#   of the parent adapter (.../i2c-P/i2c-M) with a mux_device link to the switch's client
#   P-0070, whose channel-N links lead back.
#
#   (h) with the service on kernel binder: channels listed with ids free of bus numbers and
#       with their parent, reads through channels (one address, two segments), detect through
#       a channel against busybox i2cdetect, a cable pull with sessions held on channels and
#       on the parent (one client stopped) completing with one callback each and the
#       channels removed before the parent, a replug after another module took the freed
#       numbers (same ids, newer generations, old sessions dead), and unbinding only the
#       switch (delete_device), which ends the channels and leaves the parent serving
#   (i) without the service: a process holding a channel's /dev/i2c-N blocks the cable pull

SWITCH=0x70
EE_C="4d55582d4348414e" EE_C_READ="0x4d 0x55 0x58 0x2d 0x43 0x48 0x41 0x4e"   # "MUX-CHAN"
# mux_args SERIAL: a module's plug arguments (state kept per serial, as usb.sh's modules do)
mux_args() {
  echo "--serial $1 --state $W/mux-$1.state --switch $SWITCH --device eeprom@0x57:$EE_C" \
       "--device chan0/eeprom@0x50:$EE_A --device chan5/eeprom@0x50:$EE_B --device chan5/regs@0x48:1980"
}
# chan_bus PARENT N: the bus number of channel N of the switch on bus PARENT (i2c-mux.c's
# channel-N link in the switch's client directory)
chan_bus() {
  _l=$(readlink "/sys/bus/i2c/devices/i2c-$1/$1-00${SWITCH#0x}/channel-$2" 2>/dev/null) || return 1
  echo "${_l##*/i2c-}"
}
all_channels() { for _c in 0 1 2 3 4 5 6 7; do chan_bus "$1" "$_c" > /dev/null || return 1; done; }
channels_listed() { for _c in 0 1 2 3 4 5 6 7; do bus_listed "$(chan_bus "$1" "$_c")" || return 1; done; }
# bind_switch PARENT: what a module's board description does on a real device
bind_switch() {
  echo "pca9548 $SWITCH" > "/sys/bus/i2c/devices/i2c-$1/new_device" || return 1
  poll 200 0.05 all_channels "$1"
}
# grid_cells: the non-empty cells of an i2cdetect-style grid, as "0x48 0x50 UU@0x70 "; row
# 00's leading cells are blank (never probed), so its first field is the 16-(NF-1)th cell
grid_cells() {
  awk '/^[0-7]0:/ { row = substr($1, 1, 1); skip = (row == "0") ? 16 - (NF - 1) : 0
         for (i = 2; i <= NF; i++) if ($i != "--") {
           a = sprintf("0x%s%x", row, i - 2 + skip); printf "%s ", ($i == "UU" ? "UU@" a : a) } }'
}
# detect_cells RC: the cells of the grid on stdin if the command (exit status RC) succeeded
detect_cells() { if [ "$1" = 0 ]; then grid_cells; else echo "detect failed rc=$1"; fi; }

mux_with_service() {
  M="kernel binder, mux"
  echo "=== (h) a module with an I2C switch, with the service on kernel binder"
  rm -f "$W"/mux-*.state
  # ----------------------------------------------------------- channels and data
  # shellcheck disable=SC2046
  port_plug 0 $(mux_args MUX-1) || return 0
  P=$(port_bus 0); UP=$(mod_usbdev MUX-1)
  if bind_switch "$P"; then
    pass "[$M] pca954x bound at $SWITCH on i2c-$P: channels $(for c in 0 1 2 3 4 5 6 7; do printf 'i2c-%s ' "$(chan_bus "$P" "$c")"; done)"
  else
    fail "[$M] pca954x on i2c-$P: no channels: $(dmesg | grep -i pca954 | tail -3 | tr '\n' '|')"; return 0
  fi
  check "[$M] the service lists all eight channels" poll 100 0.1 channels_listed "$P"
  C0=$(chan_bus "$P" 0); C5=$(chan_bus "$P" 5)
  IDP=$(bus_field "$P" stable-id); IDC0=$(bus_field "$C0" stable-id); IDC5=$(bus_field "$C5" stable-id)
  check "[$M] channel ids are the module's id ($IDP), the switch's address and the channel: $IDC0, $IDC5" \
    eval '[ "$IDC0" = "$IDP/mux-0x70/chan-0" ] && [ "$IDC5" = "$IDP/mux-0x70/chan-5" ] && [ "$IDP" = "$(topology_id "$P")/serial-MUX-1" ]'
  check "[$M] no bus number in a channel's id (i2c-$C5 hangs from i2c-$P)" \
    eval 'case $IDC5 in *i2c-*) false ;; *) true ;; esac'
  check "[$M] buses shows the parent: $(bus_field "$C5" parent), json $(json_field "$C5" parent)" \
    eval '[ "$(bus_field "$C5" parent)" = "i2c-$P" ] && [ "$(json_field "$C5" parent)" = "$P" ]'
  cmd i2cctl transfer "$IDC0" w1@0x50 0x00 r8
  check "[$M] channel 0's EEPROM at 0x50, by id: '$OUT' (rc=$RC $ERR)" eq2 "$RC" 0 "$OUT" "$EE_A_READ"
  cmd i2cctl transfer "$C5" w1@0x50 0x00 r8
  check "[$M] channel 5's EEPROM at the same address: '$OUT' (rc=$RC $ERR)" eq2 "$RC" 0 "$OUT" "$EE_B_READ"
  cmd i2cctl get "$C5" 0x48 0x00 w
  check "[$M] SMBus word through channel 5: '$OUT' (rc=$RC $ERR)" eq2 "$RC" 0 "$OUT" 0x8019
  cmd i2cctl get "$C0" 0x48 0x00
  refused ADDRESS_NACK "[$M] 0x48 sits behind channel 5 only"
  cmd i2cctl transfer "$P" w1@0x57 0x00 r8
  check "[$M] the module's own EEPROM on the parent: '$OUT' (rc=$RC $ERR)" eq2 "$RC" 0 "$OUT" "$EE_C_READ"
  cmd i2cctl detect "$C5"
  MINE=$(echo "$OUT" | detect_cells "$RC")
  THEIRS=$(i2cdetect -y "$C5" 2>&1 | grid_cells)
  check "[$M] detect through channel 5 matches busybox i2cdetect ($MINE; the switch, bound on the parent, is UU)" \
    eval '[ "$MINE" = "$THEIRS" ] && [ "$MINE" = "0x48 0x50 0x57 UU@0x70 " ]'
  [ "$MINE" = "$THEIRS" ] || info "[$M] i2cdetect -y $C5: $THEIRS; i2cctl detect: $MINE"

  # --------------------------------------------- sessions on channels, cable pull
  hold_start X0 "$C0" 0x50 || fail "[$M] hold on channel 0: $(hold_log X0)"
  hold_start X5 "$C5" 0x48 || fail "[$M] hold on channel 5: $(hold_log X5)"
  hold_start XS "$C5" 0x50 || fail "[$M] hold on channel 5 (to be stopped): $(hold_log XS)"
  STOPPED=$HOLD_PID
  hold_start XP "$P" 0x57 || fail "[$M] hold on the parent: $(hold_log XP)"
  check "[$M] the service holds the channels' and the parent's nodes" \
    poll 40 0.05 eval 'svc_holds "$C0" && svc_holds "$C5" && svc_holds "$P"'
  GENC5=$(json_field "$C5" generation)
  kill -STOP "$STOPPED"
  MARK=$(uevent_lines)
  mod_pull 0
  if poll 1500 0.02 usbdev_gone "$UP"; then
    check "[$M] cable pull with sessions on two channels and the parent, one client stopped: USB disconnect complete after $(( $(now_ms) - PULL_T0 )) ms" \
      [ "$PULL_RC" = 0 ]
  else
    fail "[$M] USB device $UP still present 30 s after the pull; D tasks: $(d_tasks | tr '\n' '|')"
  fi
  # The recorder runs a shell per event, which lags under TCG; it logs in order, so once the USB
  # device's removal is in, every adapter's is.
  # (usb.sh pulled a module from this port before: only lines after MARK count.)
  poll 600 0.05 eval 'uevents_since "$MARK" | grep -q "^remove usb usb_device .*/$UP\$"'
  EV=$(uevents_since "$MARK")
  # i2c-mux.c makes each channel a child of the parent adapter: .../i2c-P/i2c-M
  LAST_CHAN=$(echo "$EV" | grep -n "^remove i2c [^ ]* .*/i2c-$P/i2c-[0-9]*\$" | tail -1 | cut -d: -f1)
  PARENT_DEV=$(first_line "$EV" "^remove i2c-dev - .*/i2c-$P/i2c-dev/i2c-$P\$")
  NCHAN=$(echo "$EV" | grep -c "^remove i2c [^ ]* .*/i2c-$P/i2c-[0-9]*\$")
  _what="the kernel removed the 8 channels ($NCHAN remove uevents, last at ${LAST_CHAN:-none}) before the parent's node (at $PARENT_DEV)"
  if [ "$NCHAN" = 8 ] && [ "$PARENT_DEV" -gt "${LAST_CHAN:-999999}" ]; then pass "[$M] $_what"
  else fail "[$M] $_what; uevents since line $MARK: $(echo "$EV" | tail -30 | tr '\n' '|')"; fi
  for h in X0 X5 XP; do
    checkw "[$M] session $h is lost" "$W/hold-usb-$h.log" "^lost reason=REMOVED"
  done
  kill -CONT "$STOPPED"
  checkw "[$M] the stopped client, continued, learns of the loss" "$W/hold-usb-XS.log" "^lost reason=REMOVED"
  for c in 0 5; do
    check "[$M] channel i2c-$(eval echo "\$C$c") no longer listed" poll 100 0.05 bus_unlisted "$(eval echo "\$C$c")"
  done
  check "[$M] parent i2c-$P no longer listed" poll 100 0.05 bus_unlisted "$P"

  # ------------------------------------- replug after the numbers were taken
  port_plug 1 --serial OTHER --device "eeprom@0x50:$EE_B" || return 0
  O=$(port_bus 1)
  port_plug 0 $(mux_args MUX-1) || return 0
  P2=$(port_bus 0); UP=$(mod_usbdev MUX-1)
  bind_switch "$P2" || fail "[$M] replug: no channels on i2c-$P2"
  poll 100 0.1 channels_listed "$P2" || fail "[$M] replug: channels not listed"
  C0b=$(chan_bus "$P2" 0); C5b=$(chan_bus "$P2" 5)
  info "[$M] another module took i2c-$O; the switch's module came back as i2c-$P2, channels 0 and 5 as i2c-$C0b and i2c-$C5b (were $C0, $C5)"
  check "[$M] replug: other bus numbers, the same ids ($(bus_field "$C5b" stable-id)), generation $GENC5 -> $(json_field "$C5b" generation)" \
    eval '[ "$C5b" != "$C5" ] && [ "$(bus_field "$C0b" stable-id)" = "$IDC0" ] && [ "$(bus_field "$C5b" stable-id)" = "$IDC5" ] && [ "$(json_field "$C5b" generation)" -gt "$GENC5" ]'
  for h in X0 X5 XS XP; do
    hold_cmd "$h" "get 0x00"
    check "[$M] the old session $h stays dead after the replug" \
      poll 100 0.05 file_has "$W/hold-usb-$h.log" "^error BUS_GONE:"
    check "[$M] session $h was told exactly once: $(file_count "$W/hold-usb-$h.log" "^lost ")" \
      [ "$(file_count "$W/hold-usb-$h.log" "^lost ")" = 1 ]
  done
  cmd i2cctl transfer "$IDC5" w1@0x50 0x00 r8
  check "[$M] channel 5's id reaches channel 5 again: '$OUT' (rc=$RC $ERR)" eq2 "$RC" 0 "$OUT" "$EE_B_READ"

  # ------------------------------------------ unbind the switch, keep the module
  hold_start Y0 "$C0b" 0x50 || fail "[$M] hold on channel 0: $(hold_log Y0)"
  hold_start YP "$P2" 0x57 || fail "[$M] hold on the parent: $(hold_log YP)"
  echo "$SWITCH" > "/sys/bus/i2c/devices/i2c-$P2/delete_device"
  check "[$M] delete_device $SWITCH: the channels go" poll 200 0.05 eval '! chan_bus "$P2" 0 > /dev/null && bus_unlisted "$C0b"'
  checkw "[$M] the channel's session is lost" "$W/hold-usb-Y0.log" "^lost reason=REMOVED"
  hold_cmd YP "transfer w1 0x00 r8"
  checkw "[$M] the parent's session keeps working" "$W/hold-usb-YP.log" "^$EE_C_READ\$"
  check "[$M] the parent stays listed, no callback on it" \
    eval 'bus_listed "$P2" && ! file_has "$W/hold-usb-YP.log" "^lost"'
  mod_pull 0; poll 200 0.02 usbdev_gone "$UP"
  mod_pull 1; poll 100 0.05 bus_unlisted "$O"
  check "[$M] service still running" alive "$SVC"
  for p in $HOLD_PIDS; do kill -9 "$p" 2>/dev/null; done
  HOLD_PIDS=""
}
mux_without_service() {
  echo "=== (i) without the service: an app holds a channel's /dev/i2c-N"
  rm -f "$W/usb-mod-0.log"
  # shellcheck disable=SC2046
  usb-i2c-module plug --port 0 $(mux_args MUX-1) > "$W/usb-mod-0.log" 2>&1 &
  HOLD_PIDS="${HOLD_PIDS:-} $!"
  poll 200 0.05 eval 'port_bus 0 > /dev/null && test -c "/dev/i2c-$(port_bus 0)"' || {
    fail "module MUX-1 without the service: no node: $(tr '\n' '|' < "$W/usb-mod-0.log")"; return 0; }
  P=$(port_bus 0); UP=$(mod_usbdev MUX-1)
  bind_switch "$P" || { fail "pca954x on i2c-$P: no channels"; return 0; }
  C3=$(chan_bus "$P" 3)
  poll 100 0.05 test -c "/dev/i2c-$C3" || fail "no /dev/i2c-$C3"
  sleep 100000 < "/dev/i2c-$C3" &
  HOLDER=$!; HOLD_PIDS="$HOLD_PIDS $HOLDER"
  mod_pull 0
  poll 300 0.1 eval 'd_tasks | grep -q i2c_del_adapter' || true
  check "USB device $UP is still there: an fd on channel i2c-$C3 keeps the disconnect from completing" \
    test -e "/sys/bus/usb/devices/$UP"
  check_worker_in_del_adapter
  release_holder "$HOLDER" "$UP" "channel i2c-$C3"
  for p in $HOLD_PIDS; do kill -9 "$p" 2>/dev/null; done
  HOLD_PIDS=""
}

# ==================================================================== run it
echo "=== (h) modules with an I2C switch: pca954x on i2c-tiny-usb"
if ! modprobe i2c-mux-pca954x; then
  fail "modprobe i2c-mux-pca954x (built by tests/vm/run.sh)"
  return 0
fi
uevent sh -c 'echo "$ACTION $SUBSYSTEM ${DEVTYPE:--} $DEVPATH"' >> "$W/usb-uevents.log" 2>&1 &
UEVENT_PID=$!
SVC_LOG=$W/mux-svc.log
RUST_LOG=${VM_RUST_LOG:-debug} i2c-hal-service > "$SVC_LOG" 2>&1 &
SVC=$!
if poll 150 0.2 eval 'i2cctl buses > /dev/null 2>&1'; then
  pass "i2c-hal-service (pid $SVC) registered again on kernel binder"
  mux_with_service
else
  fail "i2c-hal-service not answering on kernel binder: $(tail -5 "$SVC_LOG" | tr '\n' '|')"
fi
kill "$SVC"; poll 100 0.05 eval '! alive $SVC' || kill -9 "$SVC"
SVC=""
mux_without_service
kill "$UEVENT_PID" 2>/dev/null
