//! The parts of the v1 contract beyond plain sessions, each against the real service over RPC
//! binder, on simulated modules that can (smbus2-module, ten-bit-module) and cannot
//! (eeprom-module, sensor-module) do them: process calls, 10-bit addresses, PEC, allowed
//! operations and the admin instance, through the client library and through i2cctl.

mod common;

use common::*;
use i2c_hal_client::{Client, ClientResult, OpenOptions, Session, SessionState};
use i2c_hal_core::request::func::{
    I2C_FUNC_10BIT_ADDR, I2C_FUNC_SMBUS_BLOCK_PROC_CALL, I2C_FUNC_SMBUS_PEC,
    I2C_FUNC_SMBUS_PROC_CALL,
};
use i2c_hal_core::request::{Message, OperationClass, SmbusOp, SmbusValue};
use i2c_hal_core::{ErrorCode, LossReason};
use smbus2::*;
use std::process::Stdio;

fn open(client: &Client, bus: u32, address: u16, options: OpenOptions) -> ClientResult<Session> {
    client.open_with(&bus.to_string(), address, &options, ignore_loss())
}

fn plain() -> OpenOptions {
    OpenOptions::default()
}

fn ten_bit() -> OpenOptions {
    OpenOptions { ten_bit: true, ..OpenOptions::default() }
}

fn pec() -> OpenOptions {
    OpenOptions { pec: true, ..OpenOptions::default() }
}

/// Asserts a refusal with `code` whose message names `needle` (a kernel bit name, say).
#[track_caller]
fn assert_refused<T>(result: ClientResult<T>, code: ErrorCode, needle: &str, context: &str) {
    match result {
        Err(error) => {
            assert_eq!(error.code(), Some(code), "{context}: {error}");
            assert!(error.to_string().contains(needle), "{context}: no '{needle}' in {error}");
        }
        Ok(_) => panic!("{context}: expected {code}, but the call succeeded"),
    }
}

fn word(value: ClientResult<SmbusValue>) -> u16 {
    match value.expect("an SMBus word") {
        SmbusValue::Word(word) => word,
        other => panic!("expected a word, got {other:?}"),
    }
}

fn byte(value: ClientResult<SmbusValue>) -> u8 {
    match value.expect("an SMBus byte") {
        SmbusValue::Byte(byte) => byte,
        other => panic!("expected a byte, got {other:?}"),
    }
}

fn block(value: ClientResult<SmbusValue>) -> Vec<u8> {
    match value.expect("an SMBus block") {
        SmbusValue::Block(bytes) => bytes,
        other => panic!("expected a block, got {other:?}"),
    }
}

/// Bus numbers of the four modules, by name.
struct Buses {
    eeprom: u32,
    sensor: u32,
    smbus2: u32,
    ten_bit: u32,
}

fn buses(service: &Service, client: &Client) -> Buses {
    Buses {
        eeprom: service.bus_of(client, EEPROM_MODULE),
        sensor: service.bus_of(client, SENSOR_MODULE),
        smbus2: service.bus_of(client, SMBUS2_MODULE),
        ten_bit: service.bus_of(client, TEN_BIT_MODULE),
    }
}

#[test]
fn every_module_plugs_with_the_default_two_keeping_their_bus_numbers() {
    let service = Service::start_all();
    let client = service.client();
    let buses = buses(&service, &client);
    assert_eq!((buses.eeprom, buses.sensor), (0, 1));
    let listed = client.list_buses().expect("list_buses");
    let functionality =
        |bus: u32| listed.iter().find(|b| b.bus_number == bus).unwrap().functionality;
    assert_ne!(functionality(buses.ten_bit) & I2C_FUNC_10BIT_ADDR, 0);
    let smbus2 = I2C_FUNC_SMBUS_PEC | I2C_FUNC_SMBUS_PROC_CALL | I2C_FUNC_SMBUS_BLOCK_PROC_CALL;
    assert_eq!(functionality(buses.smbus2) & smbus2, smbus2);
    for bus in [buses.eeprom, buses.sensor] {
        assert_eq!(functionality(bus) & (I2C_FUNC_10BIT_ADDR | I2C_FUNC_SMBUS_PEC), 0, "bus {bus}");
    }
}

#[test]
fn process_calls_answer_with_the_documented_transforms_where_the_adapter_has_them() {
    let service = Service::start_all();
    let client = service.client();
    let buses = buses(&service, &client);
    let device = open(&client, buses.smbus2, SMBUS2_DEVICE_ADDRESS, plain()).expect("open");

    // The word plus one, wrapping; the block reversed, up to SMBUS_BLOCK_MAX bytes.
    assert_eq!(word(device.smbus(&SmbusOp::ProcessCall(REG_INCREMENT, 0x1234))), 0x1235);
    assert_eq!(word(device.smbus(&SmbusOp::ProcessCall(REG_INCREMENT, 0xffff))), 0x0000);
    assert_eq!(
        block(device.smbus(&SmbusOp::BlockProcessCall(REG_REVERSE, vec![1, 2, 3]))),
        [3, 2, 1]
    );
    let longest: Vec<u8> = (0x40..0x60).collect();
    assert_eq!(longest.len(), 32);
    assert_eq!(
        block(device.smbus(&SmbusOp::BlockProcessCall(REG_REVERSE, longest.clone()))),
        block_process_call_answer(&longest)
    );
    assert_code(
        device.smbus(&SmbusOp::BlockProcessCall(REG_REVERSE, vec![0; 33])),
        ErrorCode::TooLarge,
        "a 33-byte block process call",
    );
    assert_code(
        device.smbus(&SmbusOp::BlockProcessCall(REG_REVERSE, vec![])),
        ErrorCode::InvalidArgument,
        "an empty block process call",
    );
    // A process call is a write and a read: what it wrote stays, as on the device.
    assert_eq!(word(device.smbus(&SmbusOp::ReadWordData(REG_INCREMENT))), 0x0000);

    // The SMBus-only sensor adapter has neither; the plain I2C adapter cannot do a block
    // process call (the device sets the length of the read, which emulation cannot follow).
    let lm75 = open(&client, buses.sensor, LM75_ADDRESS, plain()).expect("open lm75");
    assert_refused(
        lm75.smbus(&SmbusOp::ProcessCall(0, 1)),
        ErrorCode::NotSupported,
        "I2C_FUNC_SMBUS_PROC_CALL",
        "process call on the SMBus-only adapter",
    );
    assert_refused(
        lm75.smbus(&SmbusOp::BlockProcessCall(0, vec![1])),
        ErrorCode::NotSupported,
        "I2C_FUNC_SMBUS_BLOCK_PROC_CALL",
        "block process call on the SMBus-only adapter",
    );
    let eeprom = open(&client, buses.eeprom, EEPROM_ADDRESS, plain()).expect("open eeprom");
    assert_refused(
        eeprom.smbus(&SmbusOp::BlockProcessCall(0x70, vec![1])),
        ErrorCode::NotSupported,
        "I2C_FUNC_SMBUS_BLOCK_PROC_CALL",
        "block process call on the plain I2C adapter",
    );
    // A process call the kernel does emulate over plain I2C: a write of the register and the
    // word, then a read. The EEPROM stores the word and answers the two (erased) bytes after.
    assert_eq!(word(eeprom.smbus(&SmbusOp::ProcessCall(0x70, 0xbeef))), 0xffff);
    assert_eq!(word(eeprom.smbus(&SmbusOp::ReadWordData(0x70))), 0xbeef);

    // The refusals changed nothing: the device still answers.
    assert_eq!(word(device.smbus(&SmbusOp::ProcessCall(REG_INCREMENT, 41))), 42);
    assert_eq!(word(lm75.smbus(&SmbusOp::ReadWordData(0))), LM75_TEMPERATURE_WORD);
}

#[test]
fn ten_bit_sessions_reach_the_ten_bit_device_where_the_adapter_can_address_it() {
    let service = Service::start_all();
    let client = service.client();
    let buses = buses(&service, &client);

    let device = open(&client, buses.ten_bit, TEN_BIT_EEPROM_ADDRESS, ten_bit()).expect("open");
    let signature = TEN_BIT_EEPROM_SIGNATURE;
    assert_eq!(device.write_read(&[0x00], signature.len()).expect("read"), signature);
    assert_eq!(byte(device.smbus(&SmbusOp::ReadByteData(1))), signature[1]);
    device.transfer(&[Message::Write(vec![0x80, 0xa5])]).expect("write");
    assert_eq!(byte(device.smbus(&SmbusOp::ReadByteData(0x80))), 0xa5);
    assert_eq!(device.address(), TEN_BIT_EEPROM_ADDRESS);

    // The same low bits as a 7-bit address, or as a 10-bit address below 0x80: nobody there.
    let low_bits = TEN_BIT_EEPROM_ADDRESS & 0x7f;
    for (options, what) in [(plain(), "7-bit"), (ten_bit(), "10-bit")] {
        let elsewhere = open(&client, buses.ten_bit, low_bits, options).expect("open");
        assert_code(
            elsewhere.transfer(&[Message::Write(vec![0]), Message::Read(1)]),
            ErrorCode::AddressNack,
            &format!("{what} {low_bits:#x}: transfer"),
        );
        assert_code(
            elsewhere.smbus(&SmbusOp::ReadByteData(0)),
            ErrorCode::AddressNack,
            &format!("{what} {low_bits:#x}: read byte data"),
        );
    }
    // 7-bit and 10-bit addresses are apart for exclusivity too.
    let exclusive = OpenOptions { exclusive: true, ..plain() };
    let _seven = open(&client, buses.ten_bit, low_bits, exclusive).expect("exclusive 7-bit");
    let exclusive_ten = OpenOptions { exclusive: true, ..ten_bit() };
    let _ten = open(&client, buses.ten_bit, low_bits, exclusive_ten).expect("exclusive 10-bit");

    // Out of range either way.
    assert_code(
        open(&client, buses.ten_bit, 0x400, ten_bit()),
        ErrorCode::InvalidArgument,
        "10-bit address 0x400",
    );
    assert_code(
        open(&client, buses.ten_bit, TEN_BIT_EEPROM_ADDRESS, plain()),
        ErrorCode::InvalidArgument,
        "0x150 without the 10-bit flag",
    );
    // The adapters without I2C_FUNC_10BIT_ADDR.
    for bus in [buses.eeprom, buses.sensor, buses.smbus2] {
        assert_refused(
            open(&client, bus, TEN_BIT_EEPROM_ADDRESS, ten_bit()),
            ErrorCode::NotSupported,
            "I2C_FUNC_10BIT_ADDR",
            &format!("10-bit open on bus {bus}"),
        );
    }
    assert_eq!(device.write_read(&[0x00], 3).expect("still serving"), signature[..3]);
}

#[test]
fn pec_sessions_check_every_smbus_command_and_a_bad_pec_is_pec_error() {
    let service = Service::start_all();
    let client = service.client();
    let buses = buses(&service, &client);
    let checked = open(&client, buses.smbus2, SMBUS2_DEVICE_ADDRESS, pec()).expect("PEC open");
    let unchecked = open(&client, buses.smbus2, SMBUS2_DEVICE_ADDRESS, plain()).expect("open");

    // Reads: the device's PEC matched, or these would fail.
    assert_eq!(byte(checked.smbus(&SmbusOp::ReadByteData(REG_ID))), ID);
    assert_eq!(byte(checked.smbus(&SmbusOp::ReadByte)), ID);
    assert_eq!(word(checked.smbus(&SmbusOp::ReadWordData(REG_WORD))), WORD_RESET);
    assert_eq!(
        block(checked.smbus(&SmbusOp::ReadBlockData(REG_REVERSE))),
        block_process_call_answer(REVERSE_RESET)
    );
    // Writes carry the service's PEC: the device applies them only if it matches, counting
    // each, and the session without PEC reads them back (its own writes go uncounted).
    let matched = |session: &Session| byte(session.smbus(&SmbusOp::ReadByteData(REG_PECS_MATCHED)));
    assert_eq!(matched(&unchecked), 0);
    unchecked.smbus(&SmbusOp::WriteByteData(REG_SCRATCH, 0x11)).expect("write without PEC");
    assert_eq!(matched(&unchecked), 0);
    checked.smbus(&SmbusOp::WriteByteData(REG_SCRATCH, 0x5a)).expect("PEC write byte");
    checked.smbus(&SmbusOp::WriteWordData(REG_WORD, 0xbeef)).expect("PEC write word");
    checked.smbus(&SmbusOp::WriteBlockData(REG_REVERSE, vec![7, 8, 9])).expect("PEC block");
    assert_eq!(matched(&unchecked), 3);
    assert_eq!(byte(unchecked.smbus(&SmbusOp::ReadByteData(REG_PECS_REFUSED))), 0);
    assert_eq!(byte(unchecked.smbus(&SmbusOp::ReadByteData(REG_SCRATCH))), 0x5a);
    assert_eq!(word(unchecked.smbus(&SmbusOp::ReadWordData(REG_WORD))), 0xbeef);
    assert_eq!(block(unchecked.smbus(&SmbusOp::ReadBlockData(REG_REVERSE))), [9, 8, 7]);
    // Process calls with PEC.
    assert_eq!(word(checked.smbus(&SmbusOp::ProcessCall(REG_INCREMENT, 0x00ff))), 0x0100);
    assert_eq!(block(checked.smbus(&SmbusOp::BlockProcessCall(REG_REVERSE, vec![1, 2]))), [2, 1]);

    // The device sends wrong PECs on request: PEC_ERROR, once per wrong PEC, and a session
    // without PEC neither notices nor uses one up.
    checked.smbus(&SmbusOp::WriteByteData(REG_CORRUPT_PEC, 2)).expect("ask for 2 bad PECs");
    assert_eq!(byte(unchecked.smbus(&SmbusOp::ReadByteData(REG_ID))), ID);
    assert_refused(
        checked.smbus(&SmbusOp::ReadByteData(REG_ID)),
        ErrorCode::PecError,
        "bad PEC",
        "read byte data with a corrupted PEC",
    );
    assert_code(
        checked.smbus(&SmbusOp::ProcessCall(REG_INCREMENT, 1)),
        ErrorCode::PecError,
        "process call with a corrupted PEC",
    );
    // The session, the bus and the service carry on.
    assert_eq!(byte(checked.smbus(&SmbusOp::ReadByteData(REG_ID))), ID);
    assert_eq!(byte(checked.smbus(&SmbusOp::ReadByteData(REG_CORRUPT_PEC))), 0);
    assert_eq!(checked.bus_info().expect("bus_info").bus_number, buses.smbus2);
    let eeprom = open(&client, buses.eeprom, EEPROM_ADDRESS, plain()).expect("open eeprom");
    assert_eq!(eeprom.write_read(&[0], 1).expect("another bus"), EEPROM_SIGNATURE[..1]);

    // The adapters without I2C_FUNC_SMBUS_PEC.
    for (bus, address) in [
        (buses.eeprom, EEPROM_ADDRESS),
        (buses.sensor, LM75_ADDRESS),
        (buses.ten_bit, TEN_BIT_EEPROM_ADDRESS & 0x7f),
    ] {
        assert_refused(
            open(&client, bus, address, pec()),
            ErrorCode::NotSupported,
            "I2C_FUNC_SMBUS_PEC",
            &format!("PEC open on bus {bus}"),
        );
    }
    if can_switch_users() || is_system() {
        let status = client.admin().expect("admin").status().expect("status");
        let pec_errors = status.counters.iter().find(|(name, _)| name == "errors.PEC_ERROR");
        assert_eq!(pec_errors, Some(&("errors.PEC_ERROR".to_string(), 2)), "{status:#?}");
    }
}

fn is_system() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    matches!(unsafe { libc::geteuid() } % 100_000, 0 | 1000)
}

#[test]
fn allowed_operations_say_what_each_adapter_can_do() {
    use OperationClass::*;
    let service = Service::start_all();
    let client = service.client();
    let buses = buses(&service, &client);
    for (bus, address, options, expected) in [
        (buses.eeprom, EEPROM_ADDRESS, plain(), &[Read, Write, Register, RawTransfer][..]),
        (buses.sensor, LM75_ADDRESS, plain(), &[Read, Write, Register]),
        (buses.smbus2, SMBUS2_DEVICE_ADDRESS, plain(), &[Read, Write, Register]),
        (buses.ten_bit, TEN_BIT_EEPROM_ADDRESS, ten_bit(), &[Read, Write, Register, RawTransfer]),
    ] {
        let session = open(&client, bus, address, options).expect("open");
        let allowed = session.allowed_operations().expect("getAllowedOperations");
        assert_eq!(allowed.classes().collect::<Vec<_>>(), expected, "bus {bus}");
        session.close().expect("close");
        assert_code(session.allowed_operations(), ErrorCode::SessionClosed, "after close");
    }
}

#[test]
fn the_admin_instance_shows_owners_and_refuses_other_users() {
    // The socket (mode 0660) lets the other user in through its group.
    let other_group = NOBODY.1.to_string();
    let service = Service::start_with_args(&["--socket-group", &other_group]);
    let client = service.client();
    let admin = client.admin().expect("the admin instance is served");
    if !can_switch_users() {
        // Not root: then this process is an ordinary caller, which is refused everything.
        if !is_system() {
            assert_code(admin.status(), ErrorCode::PermissionDenied, "status as a user");
            assert_code(admin.revoke("0"), ErrorCode::PermissionDenied, "revoke as a user");
        }
        eprintln!("not root: the other-user half of this test needs setuid");
        return;
    }
    service.let_other_users_in();
    let eeprom = client.list_buses().expect("list_buses")[0].clone();
    let exclusive = OpenOptions { exclusive: true, ..plain() };
    let own = client.open_with("0", EEPROM_ADDRESS, &exclusive, ignore_loss()).expect("open");

    // Another user holds a session on the sensor bus through i2cctl.
    let lm75 = address_arg(LM75_ADDRESS);
    let mut holder = service.spawn_i2cctl_as(NOBODY, &["hold", "1", &lm75], Stdio::piped());
    let held = holder.expect_line("held line", |line| line.starts_with("held "));
    assert!(held.starts_with(&format!("held bus=1 address={lm75} ")), "{held}");

    let status = admin.status().expect("status as root");
    assert_eq!(status.sessions.len(), 2, "{status:#?}");
    let mine = status.sessions.iter().find(|s| s.caller.uid == 0).expect("root's session");
    assert_eq!(mine.caller.pid, std::process::id() as i32);
    assert_eq!((mine.bus_number, mine.generation), (0, eeprom.generation));
    assert_eq!(mine.stable_id, eeprom.stable_id);
    assert_eq!((mine.target.address, mine.target.ten_bit), (EEPROM_ADDRESS, false));
    assert!(mine.exclusive);
    assert_eq!(mine.state, SessionState::Live);
    let theirs = status.sessions.iter().find(|s| s.caller.uid == NOBODY.0).expect("nobody's");
    assert_eq!(theirs.caller.pid, holder.pid() as i32);
    assert_eq!((theirs.bus_number, theirs.target.address), (1, LM75_ADDRESS));
    assert_eq!(theirs.state, SessionState::Live);
    assert!(status.buses.len() == 2 && status.uptime.as_nanos() > 0, "{status:#?}");

    // i2cctl status shows the same, one line per session.
    let output = service.i2cctl(&["status"]);
    let line = output
        .success()
        .lines()
        .find(|line| line.starts_with("session ") && line.contains(&format!(" uid={} ", NOBODY.0)))
        .unwrap_or_else(|| panic!("no session line of uid {} in {output:?}", NOBODY.0));
    let pid = format!(" pid={} bus=1 ", holder.pid());
    assert!(line.contains(&pid) && line.contains(&format!(" address={lm75} ")), "{line}");
    assert!(line.contains(" state=live"), "{line}");

    // The other user may not administer: one line, exit 1, and nothing happened.
    for args in [&["revoke", "0"][..], &["status"], &["reload-policy"]] {
        let refused = service.i2cctl_as(NOBODY, args);
        assert_one_line_failure(&refused, 1, "i2cctl: PERMISSION_DENIED: ");
        assert!(refused.stderr.contains(&format!("uid {}", NOBODY.0)), "{refused:?}");
    }
    assert_eq!(own.write_read(&[0], 1).expect("not revoked"), EEPROM_SIGNATURE[..1]);

    // Root may: the other user's session dies REVOKED and stays in the status until closed.
    assert_eq!(admin.revoke("1").expect("revoke bus 1"), 1);
    let lost = holder.expect_line("lost line", |line| line.starts_with("lost "));
    assert!(lost.starts_with("lost reason=REVOKED"), "{lost}");
    holder.send_line("allowed");
    let answer = holder.next_line();
    assert!(answer.starts_with("error BUS_GONE: "), "{answer}");
    let status = admin.status().expect("status after revoke");
    let theirs = status.sessions.iter().find(|s| s.caller.uid == NOBODY.0).expect("nobody's");
    assert_eq!(theirs.state, SessionState::Dead(LossReason::Revoked));
    let removed = status.counters.iter().find(|(name, _)| name == "revocations");
    assert_eq!(removed, Some(&("revocations".to_string(), 1)));
    // Without a policy file there is nothing to reload, and root is told so.
    assert_code(admin.reload_policy(), ErrorCode::NotSupported, "reload without a policy");
}

#[test]
fn i2cctl_reaches_process_calls_and_names_the_refusals() {
    let service = Service::start_all();
    let client = service.client();
    let buses = buses(&service, &client);
    let (smbus2, sensor, eeprom) =
        (buses.smbus2.to_string(), buses.sensor.to_string(), buses.eeprom.to_string());
    let device = address_arg(SMBUS2_DEVICE_ADDRESS);
    let increment = format!("{REG_INCREMENT:#04x}");
    let reverse = format!("{REG_REVERSE:#04x}");

    assert_eq!(
        service.i2cctl(&["call", &smbus2, &device, &increment, "0x1234"]).success(),
        "0x1235\n"
    );
    let output = service.i2cctl(&["--json", "call", &smbus2, &device, &increment, "0xffff"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(output.success()).unwrap()["value"], 0);
    let output = service.i2cctl(&["block-call", &smbus2, &device, &reverse, "1", "2", "0x03"]);
    assert_eq!(output.success(), "0x03 0x02 0x01\n");
    let output = service.i2cctl(&["--json", "block-call", &smbus2, &device, &reverse, "9", "8"]);
    let parsed: serde_json::Value = serde_json::from_str(output.success()).unwrap();
    assert_eq!(parsed["value"], serde_json::json!([8, 9]));

    let lm75 = address_arg(LM75_ADDRESS);
    let refused = service.i2cctl(&["call", &sensor, &lm75, "0", "1"]);
    assert_one_line_failure(&refused, 1, "i2cctl: NOT_SUPPORTED: ");
    assert!(refused.stderr.contains("I2C_FUNC_SMBUS_PROC_CALL"), "{refused:?}");
    let refused = service.i2cctl(&["block-call", &sensor, &lm75, "0", "1"]);
    assert_one_line_failure(&refused, 1, "i2cctl: NOT_SUPPORTED: ");
    let refused = service.i2cctl(&["block-call", &eeprom, &address_arg(EEPROM_ADDRESS), "0", "1"]);
    assert_one_line_failure(&refused, 1, "i2cctl: NOT_SUPPORTED: ");
    assert!(refused.stderr.contains("I2C_FUNC_SMBUS_BLOCK_PROC_CALL"), "{refused:?}");
    let too_long: Vec<String> = (0..33).map(|byte| byte.to_string()).collect();
    let mut args = vec!["block-call", &smbus2, &device, &reverse];
    args.extend(too_long.iter().map(String::as_str));
    assert_one_line_failure(&service.i2cctl(&args), 2, "i2cctl: TOO_LARGE: ");
}

#[test]
fn i2cctl_reaches_the_ten_bit_device_with_t_and_names_the_refusals() {
    let service = Service::start_all();
    let client = service.client();
    let buses = buses(&service, &client);
    let (ten, eeprom) = (buses.ten_bit.to_string(), buses.eeprom.to_string());
    let signature = TEN_BIT_EEPROM_SIGNATURE;
    let first = format!("{:#04x}\n", signature[0]);

    assert_eq!(service.i2cctl(&["get", "-t", &ten, "0x150", "0x00"]).success(), first);
    assert_eq!(service.i2cctl(&["get", &ten, "0x150", "0x00", "--ten-bit"]).success(), first);
    let output = service.i2cctl(&["transfer", "-t", &ten, "w1@0x150", "0x00", "r4"]);
    let expected: Vec<String> = signature[..4].iter().map(|b| format!("{b:#04x}")).collect();
    assert_eq!(output.success(), format!("{}\n", expected.join(" ")));
    service.i2cctl(&["set", "-t", &ten, "0x150", "0x90", "0xbeef", "w"]).success();
    assert_eq!(service.i2cctl(&["get", "-t", &ten, "0x150", "0x90", "w"]).success(), "0xbeef\n");

    // 7-bit with the same low bits: nobody answers there.
    let nack = service.i2cctl(&["get", &ten, "0x50", "0x00"]);
    assert_one_line_failure(&nack, 1, "i2cctl: ADDRESS_NACK: ");
    // An adapter without 10-bit addressing.
    let refused = service.i2cctl(&["get", "-t", &eeprom, "0x150", "0x00"]);
    assert_one_line_failure(&refused, 1, "i2cctl: NOT_SUPPORTED: ");
    assert!(refused.stderr.contains("I2C_FUNC_10BIT_ADDR"), "{refused:?}");
    // Out of range, and a 10-bit address without -t: usage errors before any call.
    for args in [&["get", "-t", &ten, "0x400", "0"][..], &["get", &ten, "0x150", "0"]] {
        assert_one_line_failure(&service.i2cctl(args), 2, "i2cctl: USAGE: ");
    }

    // hold -t: the held line says so, and its loop reaches the device.
    let mut holder = service.spawn_i2cctl(&["hold", "-t", &ten, "0x150"], Stdio::piped());
    let held = holder.next_line();
    assert!(held.starts_with(&format!("held bus={ten} address=0x150 ")), "{held}");
    assert!(held.ends_with(" flags=ten-bit"), "{held}");
    holder.send_line("get 0x01");
    assert_eq!(holder.next_line(), format!("{:#04x}", signature[1]));
    holder.send_line("transfer w1 0x00 r2");
    assert_eq!(holder.next_line(), expected[..2].join(" "));
    holder.send_line("allowed");
    assert_eq!(holder.next_line(), "allowed read write register raw-transfer");
}

#[test]
fn i2cctl_reads_and_writes_with_pec_and_reports_pec_error() {
    let service = Service::start_all();
    let client = service.client();
    let buses = buses(&service, &client);
    let (smbus2, sensor) = (buses.smbus2.to_string(), buses.sensor.to_string());
    let device = address_arg(SMBUS2_DEVICE_ADDRESS);
    let id = format!("{ID:#04x}\n");
    let reg = |register: u8| format!("{register:#04x}");

    assert_eq!(service.i2cctl(&["get", &smbus2, &device, &reg(REG_ID), "bp"]).success(), id);
    service.i2cctl(&["set", &smbus2, &device, &reg(REG_SCRATCH), "0x5a", "bp"]).success();
    let matched = service.i2cctl(&["get", &smbus2, &device, &reg(REG_PECS_MATCHED)]);
    assert_eq!(
        matched.success(),
        "0x01
",
        "the write carried a PEC that matched"
    );
    let scratch = service.i2cctl(&["get", &smbus2, &device, &reg(REG_SCRATCH)]);
    assert_eq!(scratch.success(), "0x5a\n");
    service.i2cctl(&["set", &smbus2, &device, &reg(REG_WORD), "0xcafe", "wp"]).success();
    assert_eq!(
        service.i2cctl(&["get", &smbus2, &device, &reg(REG_WORD), "wp"]).success(),
        "0xcafe\n"
    );
    let call = service.i2cctl(&["call", &smbus2, &device, &reg(REG_INCREMENT), "7", "p"]);
    assert_eq!(call.success(), "0x0008\n");
    service.i2cctl(&["set", &smbus2, &device, &reg(REG_REVERSE), "1", "2", "3", "sp"]).success();
    let output = service.i2cctl(&["get", &smbus2, &device, &reg(REG_REVERSE), "sp"]);
    assert_eq!(output.success(), "0x03 0x02 0x01\n");
    // i2cget's c: the register goes out as a byte, then a byte is read, both with PEC here.
    assert_eq!(service.i2cctl(&["get", &smbus2, &device, &reg(REG_ID), "cp"]).success(), id);

    // A corrupted PEC is PEC_ERROR, exit 1, one line; the next read is fine again.
    service.i2cctl(&["set", &smbus2, &device, &reg(REG_CORRUPT_PEC), "1", "bp"]).success();
    let corrupted = service.i2cctl(&["get", &smbus2, &device, &reg(REG_ID), "bp"]);
    assert_one_line_failure(&corrupted, 1, "i2cctl: PEC_ERROR: ");
    assert_eq!(service.i2cctl(&["get", &smbus2, &device, &reg(REG_ID), "bp"]).success(), id);

    // An adapter without PEC, and PEC on an I2C block.
    let refused = service.i2cctl(&["get", &sensor, &address_arg(LM75_ADDRESS), "0", "wp"]);
    assert_one_line_failure(&refused, 1, "i2cctl: NOT_SUPPORTED: ");
    assert!(refused.stderr.contains("I2C_FUNC_SMBUS_PEC"), "{refused:?}");
    let usage = service.i2cctl(&["get", &smbus2, &device, "0", "ip"]);
    assert_one_line_failure(&usage, 2, "i2cctl: USAGE: ");

    // hold --pec: every SMBus command of the session carries PEC.
    let mut holder = service.spawn_i2cctl(&["hold", "--pec", &smbus2, &device], Stdio::piped());
    let held = holder.next_line();
    assert!(held.ends_with(" flags=pec"), "{held}");
    holder.send_line(&format!("get {} bp", reg(REG_ID)));
    assert_eq!(holder.next_line(), id.trim_end());
    holder.send_line(&format!("call {} 0x00ff", reg(REG_INCREMENT)));
    assert_eq!(holder.next_line(), "0x0100");
    holder.send_line(&format!("block-call {} 4 5 6 p", reg(REG_REVERSE)));
    assert_eq!(holder.next_line(), "0x06 0x05 0x04");
    holder.send_line(&format!("set {} 1", reg(REG_CORRUPT_PEC)));
    assert_eq!(holder.next_line(), "ok");
    holder.send_line(&format!("get {}", reg(REG_ID)));
    let answer = holder.next_line();
    assert!(answer.starts_with("error PEC_ERROR: "), "{answer}");
    holder.send_line("allowed");
    assert_eq!(holder.next_line(), "allowed read write register");
}
