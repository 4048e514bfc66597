# tests/vm/usb.sh - sourced by tests/vm/guest.sh (busybox sh, root) after its i801/stub
# scenarios; uses its helpers (pass, fail, check, poll, cmd, bus_line, json_field, ...) and
# its counters. Detachable USB I2C modules on the real kernel:
#
#   usb-i2c-module (src/bin/usb-i2c-module) emulates an i2c-tiny-usb USB-to-I2C bridge with an
#   EEPROM at 0x50, a register device at 0x48 and a register device at the 10-bit address
#   0x2a0 behind it, and plugs it into a port of the kernel's USB/IP virtual host controller
#   (vhci_hcd). usbcore enumerates it, i2c-tiny-usb adds the adapter, i2c-dev the node. A cable
#   pull is `echo PORT > /sys/devices/platform/vhci_hcd.0/detach`: the hub driver sees the port
#   disconnect and removes the device as for a real unplug (usb_disconnect() from hub_wq).
#
#   (f) with the service, once on kernel binder and once on RPC binder (--socket):
#       data (write-read through I2C_RDWR, SMBus words, NACK), the 10-bit device through a
#       --ten-bit session, PEC and block process call as the bridge's functionality says, the
#       uevent order of a pull, a held session across pull and replug, module identity (port
#       plus serial number: same module on another port, another module on the same port, a
#       module without a serial, one with odd characters in it), two modules with one pulled,
#       a pull during a transfer loop of three clients
#   (g) without the service: a process holding /dev/i2c-N keeps the USB disconnect from
#       completing (a hub_wq worker in D state in i2c_del_adapter) and stalls every other
#       port of that hub; closing the fd lets it all finish
#
# vhci_hcd ports 0..14 are the high-speed root hub ports 1..15 of vhci_hcd.0; this file uses
# ports 0 and 1 (same hub) and 30 (port 1 of vhci_hcd.1, another hub).

VHCI=/sys/devices/platform/vhci_hcd.0
# Module contents. EEPROM "I2C-HAL!" / "MODULE-B"; 0x48 holds 0x19 0x80 (an LM75-like
# 25.5 degC, read as the SMBus word 0x8019); 0x2a0 holds c0 ff ee.
EE_A="4932432d48414c21" EE_A_READ="0x49 0x32 0x43 0x2d 0x48 0x41 0x4c 0x21"
EE_B="4d4f44554c452d42" EE_B_READ="0x4d 0x4f 0x44 0x55 0x4c 0x45 0x2d 0x42"
# A serial number with a space, a slash, a non-ASCII letter (U+00C4, UTF-8 c3 84) and a '*'
ODD_SERIAL=$(printf 'SN 01/\303\204*x')
# mod_args SERIAL EEPROM-HEX: a module's plug arguments; one state file per serial, so a
# module keeps its contents across pulls and ports as a real one keeps its EEPROM
mod_args() {
  echo "--serial $1 --state $W/usb-$1.state --device eeprom@0x50:$2 --device regs@0x48:1980 --device regs@0x2a0:c0ffee"
}

# mod_plug PORT SERIAL EEPROM-HEX: plug a module; waits until its i2c-dev node exists
mod_plug() {
  rm -f "$W/usb-mod-$1.log"
  # shellcheck disable=SC2046
  usb-i2c-module plug --port "$1" $(mod_args "$2" "$3") > "$W/usb-mod-$1.log" 2>&1 &
  HOLD_PIDS="${HOLD_PIDS:-} $!"
  _serial=$2   # not "$2" inside the eval: poll's own arguments are the positional ones there
  if poll 200 0.05 eval 'mod_bus "$_serial" > /dev/null && test -c "/dev/i2c-$(mod_bus "$_serial")"'; then
    return 0
  fi
  fail "module $2 on vhci port $1: no /dev/i2c-N after 10 s: $(tr '\n' '|' < "$W/usb-mod-$1.log")"
  return 1
}
# mod_pull PORT: the cable pull; sets PULL_RC, PULL_MS (how long the detach write took) and
# PULL_T0 (when it started)
mod_pull() {
  _a=$(now_ms); echo "$1" > "$VHCI/detach"; PULL_RC=$?; PULL_MS=$(( $(now_ms) - _a ))
  PULL_T0=$_a
}
# The USB device (sysfs name, e.g. 1-1) whose serial is $1. Root hubs (usbN) and interfaces
# (N-P:C.I) are skipped; the read has a timeout because the serial attribute takes the device
# lock, which a disconnect stuck in i2c_del_adapter() holds (see (g)).
mod_usbdev() {
  for _u in /sys/bus/usb/devices/[0-9]*-*; do
    case $_u in *:*) continue ;; esac
    [ "$(timeout 2 cat "$_u/serial" 2>/dev/null)" = "$1" ] && { echo "${_u##*/}"; return 0; }
  done
  return 1
}
# The i2c bus number of the bridge on USB device $1 (its adapter sits below interface :1.0)
usbdev_bus() {
  for _a in "/sys/bus/usb/devices/$1/$1:1.0"/i2c-*; do
    [ -d "$_a" ] && { echo "${_a##*/i2c-}"; return 0; }
  done
  return 1
}
# The i2c bus number of the module with serial $1
mod_bus() { _u=$(mod_usbdev "$1") && usbdev_bus "$_u"; }
usbdev_gone() { ! test -e "/sys/bus/usb/devices/$1"; }
# The i2c bus of whatever module is on vhci port $1, found through the topology alone (no
# attribute reads, which can block, see mod_usbdev): port P is port P%30+1 of the
# high-speed root hub of vhci_hcd.(P/30), the lower numbered of its two buses (usbN;
# vhci_hcd.0 also has a usbip_debug attribute).
port_bus() {
  _hub=$(ls -d "/sys/devices/platform/vhci_hcd.$(( $1 / 30 ))"/usb[0-9]* | sed 's/.*usb//' | sort -n | head -1)
  usbdev_bus "$_hub-$(( $1 % 30 + 1 ))"
}
# The port part of the stable id docs/contract.md's rule gives: the adapter's parent below
# /sys/devices (for a bridge the USB interface); a bridge with serial S gets "/serial-S" added
topology_id() { _p=$(readlink -f "/sys/bus/i2c/devices/i2c-$1"); _p=${_p%/*}; echo "${_p#/sys/devices/}"; }
# port_plug PORT ARGS...: plug a module given by raw usb-i2c-module arguments (any serial, or
# none); waits until the bus on that port has its i2c-dev node and the service lists it
port_plug() {
  _port=$1; shift
  rm -f "$W/usb-mod-$_port.log"
  usb-i2c-module plug --port "$_port" "$@" > "$W/usb-mod-$_port.log" 2>&1 &
  HOLD_PIDS="${HOLD_PIDS:-} $!"
  if poll 200 0.05 eval 'port_bus "$_port" > /dev/null && test -c "/dev/i2c-$(port_bus "$_port")"' &&
     poll 100 0.1 eval 'bus_listed "$(port_bus "$_port")"'; then
    return 0
  fi
  fail "[$M] module on vhci port $_port: not listed after 20 s: $(tr '\n' '|' < "$W/usb-mod-$_port.log")"
  return 1
}

# hold_start NAME BUS ADDR: a session held by `i2cctl hold` (its pid in HOLD_PID), commands
# through a FIFO that a sleeping writer keeps open (so the hold never sees EOF); hold_cmd
# NAME LINE sends one
hold_start() {
  rm -f "$W/hold-usb-$1.in" "$W/hold-usb-$1.log"; mkfifo "$W/hold-usb-$1.in"
  i2cctl hold "$2" "$3" < "$W/hold-usb-$1.in" > "$W/hold-usb-$1.log" 2>&1 &
  HOLD_PID=$!
  HOLD_PIDS="${HOLD_PIDS:-} $HOLD_PID"
  sleep 100000 > "$W/hold-usb-$1.in" &
  HOLD_PIDS="$HOLD_PIDS $!"
  poll 100 0.1 file_has "$W/hold-usb-$1.log" "^held bus=$2 "
}
hold_cmd() { echo "$2" > "$W/hold-usb-$1.in"; }
hold_log() { tr '\n' '|' < "$W/hold-usb-$1.log" | cut -c1-600; }

# uevents since line $1 of the recorder's log: "ACTION SUBSYSTEM DEVTYPE|- DEVPATH"
uevents_since() { tail -n +"$(( $1 + 1 ))" "$W/usb-uevents.log"; }
uevent_lines() { wc -l < "$W/usb-uevents.log"; }
# line number (within $1) of the first "ACTION SUBSYSTEM ..." matching $2, 0 if none
first_line() { _l=$(echo "$1" | grep -n -m1 "$2" | cut -d: -f1); echo "${_l:-0}"; }
# check_uevent_order remove|add USBDEV MARK WHAT: the order of the uevents of the module on
# USB device USBDEV (e.g. 1-1) since line MARK of the recorder's log
check_uevent_order() {
  _ev=$(uevents_since "$3" | grep -e "/$2/" -e "/$2\$")
  _d=$(first_line "$_ev" "^$1 i2c-dev ")
  _i=$(first_line "$_ev" "^$1 i2c ")
  _f=$(first_line "$_ev" "^$1 usb usb_interface ")
  _u=$(first_line "$_ev" "^$1 usb usb_device ")
  if [ "$1" = remove ]; then _want="$_d -lt $_i ] && [ $_i -lt $_f ] && [ $_f -lt $_u"
  else _want="$_u -lt $_f ] && [ $_f -lt $_d ] && [ $_d -lt $_i"; fi
  if [ "$_d" -gt 0 ] && [ "$_i" -gt 0 ] && [ "$_f" -gt 0 ] && [ "$_u" -gt 0 ] && eval "[ $_want ]"; then
    pass "[$M] $1 uevents in the order of a real USB $4: $(echo "$_ev" | awk '{print $1 ":" $2 ($3 == "-" ? "" : "/" $3)}' | tr '\n' ' ')"
  else
    fail "[$M] $1 uevents for $2 (i2c-dev=$_d i2c=$_i interface=$_f device=$_u): $(echo "$_ev" | tr '\n' '|')"
  fi
}
# removal latency the service logged for its last removal of bus $1
svc_latency() {
  grep "bus $1 generation [0-9]* removed: .* after " "$SVC_LOG" | tail -1 | sed 's/.* after //'
}
# check_worker_in_del_adapter: a task (the hub's worker) waits in D state in i2c_del_adapter;
# its stack is shown
check_worker_in_del_adapter() {
  _dt=$(d_tasks | grep i2c_del_adapter | head -1)
  if [ -n "$_dt" ]; then
    set -- $_dt
    pass "task $1 ($2) waits in D state, wchan $3; its stack: $(grep -oE '(i2c_|pca954x|usb_disconnect|hub_event)[a-z_]*' "/proc/$1/stack" | tr '\n' ' ')"
  else
    fail "no D-state task in i2c_del_adapter: $(d_tasks | tr '\n' '|')"
  fi
}
# release_holder PID USBDEV WHAT: ending the process that holds WHAT open lets the USB
# disconnect of USBDEV finish
release_holder() {
  _t=$(now_ms); kill "$1"
  if poll 1500 0.02 usbdev_gone "$2"; then
    pass "closing $3 lets the disconnect finish within $(( $(now_ms) - _t )) ms"
  else
    fail "USB device $2 still there 30 s after the holder of $3 exited"
  fi
}
# D-state tasks: "PID COMM WCHAN"
d_tasks() {
  for _p in /proc/[0-9]*; do
    [ "$(awk '{print $3}' "$_p/stat" 2>/dev/null)" = D ] &&
      echo "${_p#/proc/} $(cat "$_p/comm" 2>/dev/null) $(cat "$_p/wchan" 2>/dev/null)"
  done
}

# usb_with_service MODE: scenario (f); MODE is "kernel binder" or "RPC"
usb_with_service() {
  M=$1
  echo "=== (f) USB I2C modules with the service on $M"
  rm -f "$W"/usb-MOD-*.state   # each run starts from the command-line contents
  # ---------------------------------------------------------------- plug and data
  mod_plug 0 MOD-A "$EE_A" || return 0
  A=$(mod_bus MOD-A); UA=$(mod_usbdev MOD-A)
  if poll 100 0.1 bus_listed "$A"; then
    pass "[$M] module MOD-A on vhci port 0 (USB $UA) listed: $(bus_line "$A")"
  else
    fail "[$M] module MOD-A: i2c-$A not listed by the service: $(i2cctl buses 2>&1 | tr '\n' '|')"; return 0
  fi
  IDA0=$(bus_field "$A" stable-id); GENA0=$(json_field "$A" generation)
  check "[$M] kind i2c (I2C_FUNC_I2C from CMD_GET_FUNC): $(bus_field "$A" kind)" [ "$(bus_field "$A" kind)" = i2c ]
  check "[$M] stable id is the USB interface on port 1 plus the serial number: $IDA0" \
    eval '[ "$IDA0" = "$(topology_id "$A")/serial-MOD-A" ] && case $IDA0 in */$UA/$UA:1.0/serial-MOD-A) true ;; *) false ;; esac'
  cmd i2cctl transfer "$A" w1@0x50 0x00 r8
  check "[$M] write-read through I2C_RDWR: transfer $A w1@0x50 0x00 r8 -> '$OUT' (rc=$RC $ERR)" \
    eq2 "$RC" 0 "$OUT" "$EE_A_READ"
  cmd i2cctl get "$A" 0x48 0x00 w
  check "[$M] SMBus word (emulated by the i2c core) from 0x48: '$OUT' (rc=$RC $ERR)" eq2 "$RC" 0 "$OUT" 0x8019
  cmd i2cctl set "$A" 0x50 0x20 0x5a
  V=$(i2cget -y "$A" 0x50 0x20 2>&1)
  check "[$M] i2cctl set EEPROM 0x20=0x5a -> busybox i2cget reads $V (rc=$RC $ERR)" eq2 "$RC" 0 "$V" 0x5a
  cmd i2cctl get "$A" 0x51 0x00
  case "$RC:$ERR" in 1:"i2cctl: ADDRESS_NACK:"*) pass "[$M] empty address 0x51 (STATUS_ADDRESS_NAK -> ENXIO): $ERR" ;;
    *) fail "[$M] empty address 0x51: rc=$RC '$ERR' (want exit 1, ADDRESS_NACK)" ;; esac
  cmd i2cctl transfer "$A" w1@0x51 0x00 r1
  case "$RC:$ERR" in 1:"i2cctl: ADDRESS_NACK:"*) pass "[$M] I2C_RDWR to the empty address: ADDRESS_NACK" ;;
    *) fail "[$M] I2C_RDWR to 0x51: rc=$RC '$ERR' (want exit 1, ADDRESS_NACK)" ;; esac
  # What the bridge can do is what CMD_GET_FUNC says (usb_func() in i2c-tiny-usb.c passes it
  # on): I2C | SMBUS_EMUL | 10BIT_ADDR (bridge.rs). SMBUS_EMUL (include/uapi/linux/i2c.h)
  # has PEC and the process call, but neither SMBus block reads nor the block process call.
  FUNCS=$(json_field "$A" functionality)
  info "[$M] the bridge's functionality word: $(printf 0x%08x "$FUNCS")"
  check "[$M] functionality $(printf 0x%08x "$FUNCS") = I2C | SMBUS_EMUL | 10BIT_ADDR (0x0eff000b)" \
    [ "$(printf 0x%08x "$FUNCS")" = 0x0eff000b ]
  # 10-bit addressing: a session opened with FLAG_TEN_BIT sends I2C_M_TEN messages, which
  # i2c-tiny-usb passes on in wValue; the 7-bit address with the same low bits (0x2a0 & 0x7f)
  # is another, empty, address.
  cmd i2cctl transfer --ten-bit "$A" w1@0x2a0 0x00 r3
  check "[$M] --ten-bit session reads the 10-bit device: transfer --ten-bit $A w1@0x2a0 0x00 r3 -> '$OUT' (rc=$RC $ERR)" \
    eq2 "$RC" 0 "$OUT" "0xc0 0xff 0xee"
  cmd i2cctl get --ten-bit "$A" 0x2a0 0x01
  check "[$M] SMBus byte data through a 10-bit session (emulated with I2C_M_TEN messages): '$OUT' (rc=$RC $ERR)" \
    eq2 "$RC" 0 "$OUT" 0xff
  cmd i2cctl transfer "$A" w1@0x20 0x00 r3
  refused ADDRESS_NACK "[$M] the same low bits as a 7-bit address (0x20) reach nothing"
  # PEC: the i2c core computes and checks it (i2c_smbus_xfer_emulated, i2c_smbus_check_pec in
  # drivers/i2c/i2c-core-smbus.c); the register device sends none, so the byte after the data
  # (0x80) is taken for the PEC, which over 0x90 0x00 0x91 0x19 is 0xed: EBADMSG.
  cmd i2cctl get "$A" 0x48 0x00 bp
  refused PEC_ERROR "[$M] PEC read from a device that sends no PEC"
  cmd i2cctl block-call "$A" 0x48 0x00 0x01
  refused NOT_SUPPORTED "[$M] block process call (no I2C_FUNC_SMBUS_BLOCK_PROC_CALL in SMBUS_EMUL)"
  cmd i2cctl detect "$A"
  ROWS=$(echo "$OUT" | awk '$1 == "40:" || $1 == "50:"' | tr '\n' ' ')
  case "$ROWS" in *"40: -- -- -- -- -- -- -- -- 48 "*"50: 50 -- "*) pass "[$M] detect $A finds 0x48 and 0x50 only there: $ROWS" ;;
    *) fail "[$M] detect $A (rc=$RC $ERR): $OUT" ;; esac

  # ------------------------------------------------- held session, pull, replug
  hold_start A0 "$A" 0x50 || fail "[$M] hold on i2c-$A: $(hold_log A0)"
  check "[$M] service holds /dev/i2c-$A for the session" poll 40 0.05 svc_holds "$A"
  MARK=$(uevent_lines)
  mod_pull 0
  # Judged: the disconnect completes with a session held (one blocked in i2c_del_adapter()
  # never does). Reported: how long it took (the guest's speed follows the host's load).
  if poll 1500 0.02 usbdev_gone "$UA"; then
    _ms=$(( $(now_ms) - PULL_T0 ))
    check "[$M] cable pull with a session held: detach returned (rc=$PULL_RC, ${PULL_MS} ms), USB disconnect of $UA complete after $_ms ms" \
      [ "$PULL_RC" = 0 ]
  else
    fail "[$M] USB device $UA still present 30 s after the pull; D tasks: $(d_tasks | tr '\n' '|')"
  fi
  INFO_LAT=$(svc_latency "$A"); info "[$M] service: uevent to fd closed took $INFO_LAT"
  checkw "[$M] held session reports the removal" "$W/hold-usb-A0.log" "^lost reason=REMOVED"
  hold_cmd A0 "get 0x00"
  checkw "[$M] call on the lost session" "$W/hold-usb-A0.log" "^error BUS_GONE:"
  check "[$M] i2c-$A no longer listed" poll 100 0.05 bus_unlisted "$A"
  poll 100 0.05 file_has "$W/usb-uevents.log" "^remove usb usb_device .*/$UA\$" > /dev/null
  check_uevent_order remove "$UA" "$MARK" disconnect
  check "[$M] the module saw the host close the connection" \
    poll 100 0.05 file_has "$W/usb-mod-0.log" "^unplugged: the host closed"

  MARK=$(uevent_lines)
  mod_plug 0 MOD-A "$EE_A" || return 0
  A=$(mod_bus MOD-A); UA=$(mod_usbdev MOD-A)
  poll 100 0.1 bus_listed "$A"
  poll 100 0.05 file_has "$W/usb-uevents.log" "^bind usb usb_device .*/$UA\$" > /dev/null
  check_uevent_order add "$UA" "$MARK" "plug-in"
  GENA1=$(json_field "$A" generation); IDA1=$(bus_field "$A" stable-id)
  check "[$M] replug on the same port: same stable id ($IDA1), generation $GENA0 -> $GENA1" \
    eval '[ "$IDA1" = "$IDA0" ] && [ "$GENA1" -gt "$GENA0" ]'
  hold_cmd A0 "get 0x00"
  check "[$M] the old session stays dead after the replug" \
    poll 100 0.05 eval '[ "$(file_count "$W/hold-usb-A0.log" "^error BUS_GONE:")" -ge 2 ]'
  check "[$M] exactly one loss callback: $(file_count "$W/hold-usb-A0.log" "^lost ")" \
    [ "$(file_count "$W/hold-usb-A0.log" "^lost ")" = 1 ]
  cmd i2cctl get "$A" 0x50 0x20
  check "[$M] the EEPROM kept its contents across the pull (0x20 -> '$OUT', rc=$RC $ERR)" eq2 "$RC" 0 "$OUT" 0x5a

  # ------------------------------------------------------------- module identity
  # docs/contract.md's rule: a bus's stable id is the adapter's parent in the topology, for a USB
  # bridge the USB interface, i.e. the port, plus the USB device's serial number if it has one.
  mod_pull 0; poll 100 0.02 usbdev_gone "$UA"
  mod_plug 1 MOD-A "$EE_A" || return 0
  A=$(mod_bus MOD-A); UA=$(mod_usbdev MOD-A)
  poll 100 0.1 bus_listed "$A"
  IDA2=$(bus_field "$A" stable-id)
  check "[$M] the same module (serial MOD-A) on another port gets that port's id: $IDA2" \
    eval '[ "$IDA2" != "$IDA0" ] && [ "$IDA2" = "$(topology_id "$A")/serial-MOD-A" ]'
  cmd i2cctl get "$A" 0x50 0x20
  check "[$M] ... and brings its contents (0x20 -> '$OUT')" eq2 "$RC" 0 "$OUT" 0x5a
  mod_plug 0 MOD-B "$EE_B" || return 0
  B=$(mod_bus MOD-B); UB=$(mod_usbdev MOD-B)
  poll 100 0.1 bus_listed "$B"
  IDB=$(bus_field "$B" stable-id); GENB=$(json_field "$B" generation)
  check "[$M] two modules at once: MOD-A i2c-$A ($UA), MOD-B i2c-$B ($UB)" \
    eval 'bus_listed "$A" && bus_listed "$B" && [ "$A" != "$B" ]'
  check "[$M] another module (serial MOD-B) on port 1 of the hub gets another id, $IDB (MOD-A had $IDA0 there)" \
    eval '[ "$IDB" != "$IDA0" ] && [ "$IDB" = "${IDA0%/serial-MOD-A}/serial-MOD-B" ] && [ "$GENB" -gt "$GENA1" ]'
  cmd i2cctl get "$IDA0" 0x50 0x00
  refused NO_SUCH_BUS "[$M] MOD-A's old id on that port no longer reaches a bus (MOD-B is there)"
  cmd i2cctl get "$IDB" 0x50 0x00
  check "[$M] MOD-B's id reaches MOD-B (EEPROM byte 0 -> '$OUT', rc=$RC $ERR)" eq2 "$RC" 0 "$OUT" 0x4d
  cmd i2cctl transfer "$B" w1@0x50 0x00 r8
  check "[$M] MOD-B's own EEPROM: '$OUT' (rc=$RC $ERR)" eq2 "$RC" 0 "$OUT" "$EE_B_READ"

  # A module without a serial number keeps the port alone; odd characters in a serial (the
  # kernel turns the UTF-16 string descriptor into UTF-8, usb_string() in
  # drivers/usb/core/message.c) become '_', one per character.
  if port_plug 2 --device "eeprom@0x50:$EE_B"; then
    N=$(port_bus 2); IDN=$(bus_field "$N" stable-id)
    check "[$M] a module without a serial number on vhci port 2: the port's id alone, $IDN" \
      eval '[ "$IDN" = "$(topology_id "$N")" ] && ! test -e "/sys/bus/usb/devices/$(basename "${IDN%/*}")/serial"'
    mod_pull 2; poll 100 0.05 bus_unlisted "$N"
  fi
  if port_plug 2 --serial "$ODD_SERIAL" --device "eeprom@0x50:$EE_B"; then
    N=$(port_bus 2); IDN=$(bus_field "$N" stable-id)
    check "[$M] serial '$ODD_SERIAL' on vhci port 2: $IDN" \
      [ "$IDN" = "$(topology_id "$N")/serial-SN_01___x" ]
    mod_pull 2; poll 100 0.05 bus_unlisted "$N"
  fi

  # ------------------------------------------- pull one module, the other stays
  hold_start A1 "$A" 0x50 || fail "[$M] hold on MOD-A: $(hold_log A1)"
  hold_start B0 "$B" 0x50 || fail "[$M] hold on MOD-B: $(hold_log B0)"
  mod_pull 0
  check "[$M] pull MOD-B: its USB device goes" poll 100 0.02 usbdev_gone "$UB"
  checkw "[$M] MOD-B's session is lost" "$W/hold-usb-B0.log" "^lost reason=REMOVED"
  hold_cmd A1 "transfer w1 0x00 r8"
  checkw "[$M] MOD-A's session keeps working" "$W/hold-usb-A1.log" "^$EE_A_READ\$"
  check "[$M] MOD-A's session got no callback" eval '! file_has "$W/hold-usb-A1.log" "^lost"'

  # ------------------------------------- pull during a transfer loop, 3 clients
  for c in 1 2 3; do
    hold_start "L$c" "$A" 0x50 || fail "[$M] hold L$c: $(hold_log "L$c")"
    # 2000 commands fit the FIFO; the hold works through them at its own pace
    ( i=0; while [ $i -lt 2000 ]; do echo "transfer w1 0x00 r8"; i=$((i + 1)); done ) > "$W/hold-usb-L$c.in" &
  done
  poll 100 0.05 eval '[ "$(file_count "$W/hold-usb-L3.log" "^0x")" -ge 20 ]'
  mod_pull 1
  if poll 200 0.02 usbdev_gone "$UA"; then
    pass "[$M] pull during 3 looping clients: USB disconnect complete after $(( $(now_ms) - PULL_T0 )) ms (< 4000 ms: at most one in-flight transfer, which i2c-tiny-usb bounds by its 2000 ms USB timeout)"
  else
    fail "[$M] USB device $UA still present 4 s after the pull in the loop; D tasks: $(d_tasks | tr '\n' '|')"
  fi
  info "[$M] service: uevent to fd closed took $(svc_latency "$A") during the loop"
  for c in 1 2 3; do
    L=$W/hold-usb-L$c.log
    poll 100 0.05 file_has "$L" "^lost reason=REMOVED"
    # The hold prints results in order; the loss callback comes on another thread, so its
    # line may land anywhere. In order: results equal to the EEPROM's bytes and at most the
    # one transfer that was in flight failing, then from the first BUS_GONE on only BUS_GONE.
    V=$(awk -v want="$EE_A_READ" '
      /^held / { next }
      /^lost reason=REMOVED/ { lost++; next }
      /^error BUS_GONE:/ { gone++; dead = 1; next }
      !dead && $0 == want { ok++; next }
      !dead && /^error IO_ERROR:/ { io++; next }
      { bad++; print "client: unexpected " $0 > "/dev/stderr" }
      END { printf "%d %d %d %d %d", lost, ok, io, gone, bad }' "$L" 2>> "$W/usb-unexpected.log")
    set -- $V
    if [ "$1" = 1 ] && [ "$2" -ge 1 ] && [ "$3" -le 1 ] && [ "$5" = 0 ]; then
      pass "[$M] looping client $c: $2 transfers with the right bytes, $3 failed in flight, one REMOVED, then $4 BUS_GONE"
    else
      fail "[$M] looping client $c: lost=$1 ok=$2 in-flight-errors=$3 bus-gone=$4 unexpected=$5: $(tail -3 "$W/usb-unexpected.log" 2>/dev/null | tr '\n' '|')"
    fi
  done
  checkw "[$M] MOD-A's other session is lost too" "$W/hold-usb-A1.log" "^lost reason=REMOVED"
  check "[$M] service still running" alive "$SVC"
  for p in $HOLD_PIDS; do kill -9 "$p" 2>/dev/null; done
  HOLD_PIDS=""
}

# ==================================================================== run it
echo "=== (f) USB I2C bridge modules: i2c-tiny-usb on vhci_hcd"
if ! modprobe vhci-hcd || ! modprobe i2c-tiny-usb || ! test -e "$VHCI/attach"; then
  fail "modprobe vhci-hcd i2c-tiny-usb (no $VHCI/attach)"
  return 0
fi
if [ ! -x /bin/usb-i2c-module ]; then
  fail "usb-i2c-module is not in this image"
  return 0
fi
uevent sh -c 'echo "$ACTION $SUBSYSTEM ${DEVTYPE:--} $DEVPATH"' > "$W/usb-uevents.log" 2>&1 &
UEVENT_PID=$!
SVC_LOG=$W/svc.log
usb_with_service "kernel binder"
rsb_service dump vendor.i2c.II2cManager/default > "$W/usb-dump" 2>&1
LAT=$(grep "^removal latency" "$W/usb-dump")
check "[kernel binder] binder dump reports the removals: $LAT" \
  eval 'echo "$LAT" | grep -q "count=[1-9]"'

# A running `i2cctl watch` learns of the service's death (a binder death notice) and exits 3
# with one line. `status` counting a listener shows the watch is registered before the kill.
i2cctl watch > "$W/watch-death.out" 2> "$W/watch-death.err" &
WATCH=$!
check "[kernel binder] i2cctl watch registered" \
  poll 100 0.05 eval 'i2cctl status 2>/dev/null | grep -q "^service .* listeners=[1-9]"'

# The same on RPC binder: a second service instance, on a socket.
kill "$SVC"; poll 100 0.05 eval '! alive $SVC' || kill -9 "$SVC"
poll 100 0.05 eval '! alive $WATCH' || kill -9 "$WATCH"
wait "$WATCH"; WATCH_RC=$?
if [ "$WATCH_RC" = 3 ] && [ "$(cat "$W/watch-death.err")" = \
     "i2cctl: SERVICE_DIED: the service died (its process ended or closed the connection)" ]; then
  pass "[kernel binder] watch exits 3 with one line when the service dies"
else
  fail "[kernel binder] watch after the service died: rc=$WATCH_RC err='$(cat "$W/watch-death.err")'"
fi
SVC_LOG=$W/usb-svc-rpc.log
RUST_LOG=${VM_RUST_LOG:-debug} i2c-hal-service --socket "$W/rpc.sock" > "$SVC_LOG" 2>&1 &
SVC=$!
export I2C_HAL_SOCKET=$W/rpc.sock
if poll 100 0.1 eval 'i2cctl buses > /dev/null 2>&1'; then
  pass "i2c-hal-service on RPC binder ($W/rpc.sock, pid $SVC) answers"
  usb_with_service RPC
else
  fail "i2c-hal-service --socket not answering: $(tail -5 "$SVC_LOG" | tr '\n' '|')"
fi
kill "$SVC"; poll 100 0.05 eval '! alive $SVC' || kill -9 "$SVC"
SVC=""
unset I2C_HAL_SOCKET

# ============================================== (g) the same, without the service
echo "=== (g) without the service: an app holds the bridge's /dev/i2c-N itself"
if mod_plug 0 MOD-A "$EE_A"; then
  A=$(mod_bus MOD-A); UA=$(mod_usbdev MOD-A)
  V=$(usb-i2c-module rdwr "/dev/i2c-$A" w1@0x2a0 0x00 r3 2>&1)
  check "kernel path to the 10-bit device (I2C_RDWR with I2C_M_TEN): '$V'" [ "$V" = "0xc0 0xff 0xee" ]
  sleep 100000 < "/dev/i2c-$A" &
  HOLDER=$!; HOLD_PIDS="${HOLD_PIDS:-} $HOLDER"
  mod_pull 0
  # The write returning at all, while the fd stays open, shows that it did not wait for it.
  check "detach returns even so (rc=$PULL_RC, ${PULL_MS} ms): the disconnect runs in the hub's worker" \
    [ "$PULL_RC" = 0 ]
  check "the adapter's uevents went out: /dev/i2c-$A is gone" poll 100 0.02 eval '! test -e /dev/i2c-$A'
  # The hub's worker reaches i2c_del_adapter() and waits there for the last fd.
  poll 300 0.1 eval 'd_tasks | grep -q i2c_del_adapter' || true
  check "USB device $UA is still there: the disconnect cannot complete while the fd is open" \
    test -e "/sys/bus/usb/devices/$UA"
  timeout 1 cat "/sys/bus/usb/devices/$UA/serial" > /dev/null 2>&1; RCS=$?
  check "reading $UA's serial attribute blocks too (timeout 1 cat: rc=$RCS): the disconnect holds the device lock" \
    [ "$RCS" != 0 ]
  check_worker_in_del_adapter
  # hub_event() for that root hub is the one stuck: no other port of the hub is serviced
  mod_plug_quiet() { usb-i2c-module plug --port "$1" $(mod_args "$2" "$3") > "$W/usb-mod-$1.log" 2>&1 & HOLD_PIDS="$HOLD_PIDS $!"; }
  mod_plug_quiet 1 MOD-B "$EE_B"
  mod_plug_quiet 30 MOD-C "$EE_B"
  if poll 100 0.05 eval 'port_bus 30 > /dev/null'; then
    pass "meanwhile a module on another hub (vhci_hcd.1) enumerates: i2c-$(port_bus 30)"
  else
    fail "a module on vhci_hcd.1 did not enumerate either: $(tr '\n' '|' < "$W/usb-mod-30.log")"
  fi
  sleep 1
  check "but one on another port of the same hub does not (its hub's worker is the one stuck)" \
    eval '! port_bus 1 > /dev/null'
  release_holder "$HOLDER" "$UA" "/dev/i2c-$A"
  check "no task left in D state" eval '[ -z "$(d_tasks | grep i2c_del_adapter)" ]'
  check "the waiting module on the same hub now enumerates" poll 100 0.1 eval 'port_bus 1 > /dev/null'
  for p in 1 30; do echo "$p" > "$VHCI/detach" 2>/dev/null; done
fi
kill "$UEVENT_PID" 2>/dev/null
