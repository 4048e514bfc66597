//! VTS for `vendor.i2c` (VtsHalI2cTargetTest): checks a running i2c-hal service against its AIDL
//! contract from the outside, as an app sees it. The same binary runs against the simulator on
//! a host, the real kernel in QEMU over kernel binder, and a phone; `target.rs` says how it finds
//! the service, the devices behind the buses (`spec.rs`) and a way to unplug one. A check that
//! the environment cannot support is skipped, and says why on stderr.
//!
//! Every failure names the check, the device and what was expected against what came back, e.g.
//! `empty_address_is_address_nack: 0@0x30: quick write: expected ADDRESS_NACK, got IO_ERROR: ...`.

#[cfg(all(feature = "sim", not(target_os = "android")))]
mod simulator;
mod spec;
mod target;
#[cfg(not(target_os = "android"))]
mod wrong_service;

use i2c_hal_client::{
    Admin, BusEvent, Client, ClientResult, OpenOptions, OperationClass, Session, SessionReport,
    SharedLossCallback,
};
use i2c_hal_core::request::{Message, SmbusOp, SmbusValue};
use i2c_hal_core::{BusInfo, ErrorCode, LossReason};
use spec::{DeviceSpec, Expectation, Presence};
use std::collections::HashSet;
use std::io::Write;
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;
use target::{exclusive, list, shared, target, REMOVAL_TIMEOUT};

/// The interface version this suite checks.
const INTERFACE_VERSION: i32 = 1;
/// The frozen v1 hash: the last line of aidl_api/vendor.i2c/1/.hash, which the AIDL compiler
/// stamps into the generated interface (Soong from Android.bp's frozen version, build.rs on a
/// host; `cargo xtask check aidl` checks the file). AOSP's VTS suites compare against the same
/// constant; a file read at build time would need a Soong property Rust modules lack.
const FROZEN_HASH: &str = i2c_hal_binder::aidl::II2cManager::HASH;

/// How long a callback may take to arrive.
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

/// I2C_FUNC_* bits as include/uapi/linux/i2c.h defines them (and BusInfo.aidl repeats them).
mod func {
    pub const I2C: u64 = 0x0000_0001;
    pub const TEN_BIT_ADDR: u64 = 0x0000_0002;
    pub const SMBUS_PEC: u64 = 0x0000_0008;
    pub const SMBUS_BLOCK_PROC_CALL: u64 = 0x0000_8000;
    pub const SMBUS_QUICK: u64 = 0x0001_0000;
    pub const SMBUS_READ_BYTE: u64 = 0x0002_0000;
    pub const SMBUS_WRITE_BYTE: u64 = 0x0004_0000;
    pub const SMBUS_READ_BYTE_DATA: u64 = 0x0008_0000;
    pub const SMBUS_WRITE_BYTE_DATA: u64 = 0x0010_0000;
    pub const SMBUS_READ_WORD_DATA: u64 = 0x0020_0000;
    pub const SMBUS_WRITE_WORD_DATA: u64 = 0x0040_0000;
    pub const SMBUS_PROC_CALL: u64 = 0x0080_0000;
    pub const SMBUS_READ_BLOCK_DATA: u64 = 0x0100_0000;
    pub const SMBUS_WRITE_BLOCK_DATA: u64 = 0x0200_0000;
    pub const SMBUS_READ_I2C_BLOCK: u64 = 0x0400_0000;
    pub const SMBUS_WRITE_I2C_BLOCK: u64 = 0x0800_0000;
}

// ------------------------------------------------------------------------------ helpers ----

/// Prints why a check (or part of one) did not run. Written to stderr directly, past libtest's
/// capture of print!/eprint!, so that a skip is seen even when the check passes.
fn skip(check: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "vts: SKIPPED {check}: {why}");
}

/// The configured devices of one presence, or None after printing why the check is skipped.
fn devices(check: &str, presence: Presence) -> Option<Vec<DeviceSpec>> {
    let Some(devices) = target().devices(presence) else {
        skip(check, &format!("no device list ({} is not set)", target::DEVICES_ENV));
        return None;
    };
    if devices.is_empty() {
        skip(check, &format!("the device list ({}) names no such device", target::DEVICES_ENV));
        return None;
    }
    Some(devices)
}

/// What a failed or unexpectedly successful call was, for messages.
fn outcome<T>(result: &ClientResult<T>) -> String {
    match result {
        Ok(_) => format!("but the call succeeded (returning {})", std::any::type_name::<T>()),
        Err(error) => format!("got {error}"),
    }
}

/// Asserts that a call failed with exactly `expected` and a message.
#[track_caller]
fn expect_code<T>(result: ClientResult<T>, expected: ErrorCode, what: &str) {
    match &result {
        Err(error) if error.code() == Some(expected) => {
            let message = error.to_string();
            assert!(
                message.len() > expected.name().len() + 2,
                "{what}: {expected} came without a message"
            );
        }
        _ => panic!("{what}: expected {expected}, {}", outcome(&result)),
    }
}

/// Unwraps a call that must succeed.
#[track_caller]
fn expect_ok<T>(result: ClientResult<T>, what: &str) -> T {
    result.unwrap_or_else(|error| panic!("{what}: expected success, got {error}"))
}

/// The listed bus a device's BUS names (a number or a stable id).
fn listed_bus(client: &Client, device: &DeviceSpec, check: &str) -> BusInfo {
    let buses = list(client, check);
    buses
        .iter()
        .find(|b| b.bus_number.to_string() == device.bus || b.stable_id == device.bus)
        .cloned()
        .unwrap_or_else(|| {
            panic!("{check}: {}: no listed bus is `{}`: {buses:#?}", device.name(), device.bus)
        })
}

fn options(device: &DeviceSpec) -> OpenOptions {
    OpenOptions { ten_bit: device.ten_bit, pec: device.pec, ..OpenOptions::default() }
}

fn quiet() -> Box<dyn Fn(LossReason, String) + Send + Sync> {
    Box::new(|_, _| {})
}

fn open(client: &Client, device: &DeviceSpec, check: &str) -> Session {
    let opened = client.open_with(&device.bus, device.address, &options(device), quiet());
    expect_ok(opened, &format!("{check}: {}: openSession", device.name()))
}

/// A session-lost callback shared by sessions, and what it received.
fn loss_channel() -> (SharedLossCallback, Receiver<(LossReason, String)>) {
    let (sender, receiver) = mpsc::channel();
    let callback = SharedLossCallback::new(Box::new(move |reason, message| {
        let _ = sender.send((reason, message));
    }));
    (callback, receiver)
}

#[track_caller]
fn next_loss(receiver: &Receiver<(LossReason, String)>, what: &str) -> (LossReason, String) {
    receiver
        .recv_timeout(CALLBACK_TIMEOUT)
        .unwrap_or_else(|_| panic!("{what}: no onSessionLost within {CALLBACK_TIMEOUT:?}"))
}

/// Every SMBus operation (and the two I2C ones) with valid arguments, and the I2C_FUNC_* bits
/// it needs: the kernel's i2c_smbus_xfer() checks the same bits (drivers/i2c/i2c-core-smbus.c).
fn every_operation() -> Vec<(&'static str, u64, Operation)> {
    use Operation::*;
    vec![
        ("transfer", func::I2C, Transfer),
        ("writeRead", func::I2C, WriteRead),
        ("quick write", func::SMBUS_QUICK, Smbus(SmbusOp::Quick { read: false })),
        ("read byte", func::SMBUS_READ_BYTE, Smbus(SmbusOp::ReadByte)),
        ("write byte", func::SMBUS_WRITE_BYTE, Smbus(SmbusOp::WriteByte(0))),
        ("read byte data", func::SMBUS_READ_BYTE_DATA, Smbus(SmbusOp::ReadByteData(0))),
        ("write byte data", func::SMBUS_WRITE_BYTE_DATA, Smbus(SmbusOp::WriteByteData(0, 0))),
        ("read word data", func::SMBUS_READ_WORD_DATA, Smbus(SmbusOp::ReadWordData(0))),
        ("write word data", func::SMBUS_WRITE_WORD_DATA, Smbus(SmbusOp::WriteWordData(0, 0))),
        ("process call", func::SMBUS_PROC_CALL, Smbus(SmbusOp::ProcessCall(0, 0))),
        ("read block data", func::SMBUS_READ_BLOCK_DATA, Smbus(SmbusOp::ReadBlockData(0))),
        (
            "write block data",
            func::SMBUS_WRITE_BLOCK_DATA,
            Smbus(SmbusOp::WriteBlockData(0, vec![0])),
        ),
        (
            "block process call",
            func::SMBUS_BLOCK_PROC_CALL,
            Smbus(SmbusOp::BlockProcessCall(0, vec![0])),
        ),
        ("read I2C block", func::SMBUS_READ_I2C_BLOCK, Smbus(SmbusOp::ReadI2cBlockData(0, 1))),
        (
            "write I2C block",
            func::SMBUS_WRITE_I2C_BLOCK,
            Smbus(SmbusOp::WriteI2cBlockData(0, vec![0])),
        ),
    ]
}

#[derive(Clone, Debug)]
enum Operation {
    Transfer,
    WriteRead,
    Smbus(SmbusOp),
}

impl Operation {
    fn run(&self, session: &Session) -> ClientResult<()> {
        match self {
            Operation::Transfer => {
                session.transfer(&[Message::Write(vec![0]), Message::Read(1)]).map(|_| ())
            }
            Operation::WriteRead => session.write_read(&[0], 1).map(|_| ()),
            Operation::Smbus(op) => session.smbus(op).map(|_| ()),
        }
    }
}

// -------------------------------------------------------------------------------- checks ----

#[test]
fn interface_version_and_hash() {
    let _shared = shared();
    let client = target().connect();
    let (version, hash) = expect_ok(client.interface_version(), "II2cManager version/hash");
    assert_eq!(version, INTERFACE_VERSION, "II2cManager.getInterfaceVersion()");
    assert_eq!(hash, FROZEN_HASH, "II2cManager.getInterfaceHash() against aidl_api");
    match client.admin() {
        Ok(admin) => {
            let (version, hash) = expect_ok(admin.interface_version(), "II2cAdmin version/hash");
            assert_eq!(version, INTERFACE_VERSION, "II2cAdmin.getInterfaceVersion()");
            assert_eq!(hash, FROZEN_HASH, "II2cAdmin.getInterfaceHash()");
        }
        Err(e) => panic!("the II2cAdmin instance is not reachable: {e}"),
    }
}

#[test]
fn declared_instances_are_served() {
    use i2c_hal_binder::aidl::{II2cAdmin::II2cAdmin, II2cManager::II2cManager};
    use i2c_hal_binder::{check_service, declared_instances};
    let check = "declared_instances_are_served";
    let _shared = shared();
    if matches!(target().endpoint, i2c_hal_client::Endpoint::Socket(_)) {
        skip(check, "the service is on an RPC socket: no service manager declares instances");
        return;
    }
    // Connecting sets up this process's binder state, which the lookups below use.
    let _client = target().connect();
    let mut versions = Vec::new();
    for interface in ["vendor.i2c.II2cManager", "vendor.i2c.II2cAdmin"] {
        let instances = match declared_instances(interface) {
            Ok(instances) if !instances.is_empty() => instances,
            answer if cfg!(target_os = "android") => {
                panic!("{check}: no declared instance of {interface} (VINTF manifest): {answer:?}")
            }
            answer => {
                let why = format!(
                    "the service manager declares no instance of {interface} ({answer:?}); \
                     rsb_hub reads no VINTF manifest, so only `default` is checked"
                );
                skip(check, &why);
                continue;
            }
        };
        assert!(
            instances.iter().any(|i| i == "default"),
            "{check}: {interface} declares {instances:?}, not `default`"
        );
        for instance in instances {
            let name = format!("{interface}/{instance}");
            let version = if interface.ends_with("Admin") {
                check_service::<dyn II2cAdmin>(&name).map(|s| s.getInterfaceVersion())
            } else {
                check_service::<dyn II2cManager>(&name).map(|s| s.getInterfaceVersion())
            };
            let version =
                version.unwrap_or_else(|e| panic!("{check}: {name} is declared, not served: {e}"));
            let version: ClientResult<i32> = version.map_err(Into::into);
            versions.push((name.clone(), expect_ok(version, &format!("{check}: {name} version"))));
        }
    }
    for (name, version) in versions {
        assert_eq!(version, INTERFACE_VERSION, "{check}: {name}.getInterfaceVersion()");
    }
}

#[test]
fn bus_list_is_consistent() {
    let check = "bus_list_is_consistent";
    let _shared = shared();
    let client = target().connect();
    let buses = list(&client, check);
    let again = list(&client, check);
    assert_eq!(buses, again, "{check}: two listBuses in a row differ with nothing plugged");
    let mut numbers = HashSet::new();
    let mut ids = HashSet::new();
    let mut generations = HashSet::new();
    for bus in &buses {
        assert!(numbers.insert(bus.bus_number), "{check}: bus number twice: {buses:#?}");
        assert!(!bus.stable_id.is_empty(), "{check}: bus {} has no stable id", bus.bus_number);
        assert!(ids.insert(bus.stable_id.clone()), "{check}: stable id twice: {buses:#?}");
        assert!(bus.generation.0 > 0, "{check}: bus {} has generation 0", bus.bus_number);
        assert!(generations.insert(bus.generation), "{check}: generation twice: {buses:#?}");
        let i2c_or_smbus = func::I2C | 0x0fff_0000;
        assert!(
            bus.functionality & i2c_or_smbus != 0,
            "{check}: bus {} reports functionality {:#x}: neither I2C nor any SMBus operation",
            bus.bus_number,
            bus.functionality
        );
    }
    let no_such = client.open("vts-no-such-bus", 0, 0x50, false, quiet());
    expect_code(no_such, ErrorCode::NoSuchBus, "openSession on an unknown stable id");
    let free = (0..=u32::MAX).find(|n| !numbers.contains(n)).unwrap_or(u32::MAX);
    expect_code(
        client.open(&free.to_string(), 0, 0x50, false, quiet()),
        ErrorCode::NoSuchBus,
        &format!("openSession on unlisted bus number {free}"),
    );
    let Some(devices) = devices(check, Presence::Answers) else {
        return;
    };
    for device in devices {
        let what = format!("{check}: {}", device.name());
        let bus = listed_bus(&client, &device, check);
        // The same bus by number, by stable id and by its current generation.
        for name in [bus.bus_number.to_string(), bus.stable_id.clone()] {
            let opts = OpenOptions { generation: bus.generation.0, ..options(&device) };
            let session = expect_ok(
                client.open_with(&name, device.address, &opts, quiet()),
                &format!("{what}: open `{name}` generation {}", bus.generation),
            );
            let info = expect_ok(session.bus_info(), &format!("{what}: getBusInfo"));
            assert_eq!(info, bus, "{what}: getBusInfo differs from listBuses");
            let address = expect_ok(session.address_from_service(), &format!("{what}: getAddress"));
            assert_eq!(address, device.address, "{what}: getAddress");
            let allowed = expect_ok(session.allowed_operations(), &format!("{what}: allowed"));
            assert!(
                bus.functionality & func::I2C != 0
                    || !allowed.contains(OperationClass::RawTransfer),
                "{what}: OP_RAW_TRANSFER allowed on an adapter without I2C_FUNC_I2C"
            );
            expect_ok(session.close(), &format!("{what}: close"));
        }
        let stale = OpenOptions { generation: bus.generation.0 + 1_000_000, ..options(&device) };
        expect_code(
            client.open_with(&device.bus, device.address, &stale, quiet()),
            ErrorCode::NoSuchBus,
            &format!("{what}: openSession with a generation the bus does not have"),
        );
    }
}

#[test]
fn open_and_close() {
    let check = "open_and_close";
    let _shared = shared();
    let Some(devices) = devices(check, Presence::Answers) else {
        return;
    };
    let client = target().connect();
    for device in devices {
        let what = format!("{check}: {}", device.name());
        let session = open(&client, &device, check);
        expect_ok(session.close(), &format!("{what}: close"));
        expect_ok(session.close(), &format!("{what}: a second close"));
        expect_code(
            session.bus_info(),
            ErrorCode::SessionClosed,
            &format!("{what}: getBusInfo after close"),
        );
        expect_code(
            session.allowed_operations(),
            ErrorCode::SessionClosed,
            &format!("{what}: getAllowedOperations after close"),
        );
        for (name, _, operation) in every_operation() {
            expect_code(
                operation.run(&session),
                ErrorCode::SessionClosed,
                &format!("{what}: {name} after close"),
            );
        }
    }
}

#[test]
fn exclusive_session_keeps_others_off_the_address() {
    let check = "exclusive_session_keeps_others_off_the_address";
    let Some(devices) = devices(check, Presence::Answers) else {
        return;
    };
    // Alone: any other session on the address, from a check running beside this one, would
    // rightly make the exclusive open ADDRESS_BUSY.
    let _exclusive = exclusive();
    let client = target().connect();
    let device = &devices[0];
    let what = format!("{check}: {}", device.name());
    let exclusive = OpenOptions { exclusive: true, ..options(device) };
    // A session an earlier check dropped without close() ends when the service hears of the
    // release, which binder delivers asynchronously: allow it that long.
    let mut last = None;
    let opened = i2c_hal_testkit::poll_until(REMOVAL_TIMEOUT, || {
        match client.open_with(&device.bus, device.address, &exclusive, quiet()) {
            Ok(session) => last = Some(Ok(session)),
            Err(e) => last = Some(Err(e)),
        }
        matches!(last, Some(Ok(_)))
    });
    let first = match last {
        Some(Ok(session)) if opened => session,
        Some(Err(e)) => panic!("{what}: an exclusive session: expected success, got {e}"),
        _ => panic!("{what}: an exclusive session: no answer"),
    };
    expect_code(
        client.open_with(&device.bus, device.address, &options(device), quiet()),
        ErrorCode::AddressBusy,
        &format!("{what}: a second session beside an exclusive one"),
    );
    expect_code(
        client.open_with(&device.bus, device.address, &exclusive, quiet()),
        ErrorCode::AddressBusy,
        &format!("{what}: a second exclusive session"),
    );
    expect_ok(first.close(), &format!("{what}: close the exclusive session"));
    let after = client.open_with(&device.bus, device.address, &options(device), quiet());
    let after = expect_ok(after, &format!("{what}: a session once the exclusive one closed"));
    expect_ok(after.close(), &format!("{what}: close"));
}

/// A pattern that differs from run to run, so a device that ignores writes cannot pass by
/// still holding what an earlier run wrote.
fn pattern() -> [u8; 4] {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0x5a5a_5a5a)
        ^ std::process::id();
    let b = seed.to_le_bytes();
    // Never all equal: a stuck bus that reads one value everywhere must not match.
    [b[0], b[1] ^ 0x55, b[2] ^ 0xaa, b[3].wrapping_add(1) ^ b[0]]
}

fn has(bus: &BusInfo, bits: u64) -> bool {
    bus.functionality & bits == bits
}

/// One expectation's success path; each step only where the adapter has what it needs (what
/// it lacks is `what_the_adapter_lacks_is_not_supported`'s business).
fn exercise(session: &Session, bus: &BusInfo, expectation: &Expectation, what: &str) {
    let smbus = |op: SmbusOp, step: &str| expect_ok(session.smbus(&op), &format!("{what}: {step}"));
    let needs = |bits: u64, step: &str| {
        assert!(
            has(bus, bits),
            "{what}: the device list expects {step}, but the bus lacks {bits:#x}"
        );
    };
    match expectation {
        Expectation::Memory(reg) => {
            let reg = *reg;
            let p = pattern();
            let mut known = None;
            if has(bus, func::SMBUS_WRITE_BYTE_DATA | func::SMBUS_READ_BYTE_DATA) {
                smbus(SmbusOp::WriteByteData(reg, p[0]), "write byte data");
                let read = smbus(SmbusOp::ReadByteData(reg), "read byte data");
                assert_eq!(read, SmbusValue::Byte(p[0]), "{what}: byte data reads back");
                known = Some(p[0]);
            }
            if has(bus, func::SMBUS_WRITE_WORD_DATA | func::SMBUS_READ_WORD_DATA) {
                let word = u16::from_le_bytes([p[1], p[2]]);
                smbus(SmbusOp::WriteWordData(reg, word), "write word data");
                let read = smbus(SmbusOp::ReadWordData(reg), "read word data");
                assert_eq!(read, SmbusValue::Word(word), "{what}: word data reads back");
                known = Some(p[1]);
            }
            let mut block_known = None;
            if has(bus, func::SMBUS_WRITE_I2C_BLOCK | func::SMBUS_READ_I2C_BLOCK) {
                smbus(SmbusOp::WriteI2cBlockData(reg, p.to_vec()), "write I2C block");
                let read = smbus(SmbusOp::ReadI2cBlockData(reg, 4), "read I2C block");
                assert_eq!(read, SmbusValue::Block(p.to_vec()), "{what}: I2C block reads back");
                known = Some(p[0]);
                block_known = Some(p.to_vec());
            }
            if has(bus, func::SMBUS_WRITE_BYTE | func::SMBUS_READ_BYTE) {
                if let Some(byte) = known {
                    // Send byte sets the pointer; receive byte reads where it points.
                    smbus(SmbusOp::WriteByte(reg), "write byte (the pointer)");
                    let read = smbus(SmbusOp::ReadByte, "read byte");
                    assert_eq!(read, SmbusValue::Byte(byte), "{what}: read byte after the pointer");
                }
            }
            if has(bus, func::I2C) {
                let data = [p[3], p[2], p[1], p[0]];
                let mut write = vec![reg];
                write.extend_from_slice(&data);
                let done = expect_ok(
                    session.transfer(&[Message::Write(write)]),
                    &format!("{what}: transfer (one write)"),
                );
                assert_eq!(done.completed, 1, "{what}: messagesCompleted of a one-write transfer");
                let done = expect_ok(
                    session.transfer(&[Message::Write(vec![reg]), Message::Read(4)]),
                    &format!("{what}: transfer (write, repeated start, read)"),
                );
                assert_eq!(done.completed, 2, "{what}: messagesCompleted");
                assert_eq!(done.reads, vec![data.to_vec()], "{what}: transfer reads back");
                let read = expect_ok(session.write_read(&[reg], 4), &format!("{what}: writeRead"));
                assert_eq!(read, data.to_vec(), "{what}: writeRead reads back");
            } else if block_known.is_none() && known.is_none() {
                panic!("{what}: the bus has none of the operations a memory is checked with");
            }
            if has(bus, func::SMBUS_QUICK) {
                smbus(SmbusOp::Quick { read: false }, "quick write");
            }
        }
        Expectation::Byte(reg, value) => {
            needs(func::SMBUS_READ_BYTE_DATA, "read byte data");
            let read = smbus(SmbusOp::ReadByteData(*reg), "read byte data");
            assert_eq!(read, SmbusValue::Byte(*value), "{what}: register {reg:#04x}");
        }
        Expectation::Word(reg, value) => {
            needs(func::SMBUS_READ_WORD_DATA, "read word data");
            let read = smbus(SmbusOp::ReadWordData(*reg), "read word data");
            assert_eq!(read, SmbusValue::Word(*value), "{what}: register {reg:#04x}");
        }
        Expectation::ByteRegister(reg) => {
            needs(func::SMBUS_WRITE_BYTE_DATA | func::SMBUS_READ_BYTE_DATA, "byte data");
            let value = pattern()[0];
            smbus(SmbusOp::WriteByteData(*reg, value), "write byte data");
            let read = smbus(SmbusOp::ReadByteData(*reg), "read byte data");
            assert_eq!(read, SmbusValue::Byte(value), "{what}: register {reg:#04x} reads back");
        }
        Expectation::WordRegister(reg) => {
            needs(func::SMBUS_WRITE_WORD_DATA | func::SMBUS_READ_WORD_DATA, "word data");
            let p = pattern();
            let value = u16::from_le_bytes([p[0], p[1]]);
            smbus(SmbusOp::WriteWordData(*reg, value), "write word data");
            let read = smbus(SmbusOp::ReadWordData(*reg), "read word data");
            assert_eq!(read, SmbusValue::Word(value), "{what}: register {reg:#04x} reads back");
        }
        Expectation::ProcessCall(reg, input, output) => {
            needs(func::SMBUS_PROC_CALL, "a process call");
            let read = smbus(SmbusOp::ProcessCall(*reg, *input), "process call");
            assert_eq!(read, SmbusValue::Word(*output), "{what}: process call {reg:#04x}");
        }
        Expectation::BlockProcessCall(reg, input, output) => {
            needs(func::SMBUS_BLOCK_PROC_CALL, "a block process call");
            let read = smbus(SmbusOp::BlockProcessCall(*reg, input.clone()), "block process call");
            assert_eq!(read, SmbusValue::Block(output.clone()), "{what}: block process call");
        }
        Expectation::Block(reg, input, output) => {
            needs(func::SMBUS_WRITE_BLOCK_DATA | func::SMBUS_READ_BLOCK_DATA, "SMBus blocks");
            smbus(SmbusOp::WriteBlockData(*reg, input.clone()), "write block data");
            let read = smbus(SmbusOp::ReadBlockData(*reg), "read block data");
            assert_eq!(read, SmbusValue::Block(output.clone()), "{what}: block read");
        }
    }
}

#[test]
fn every_operation_succeeds_on_a_device_that_answers() {
    let check = "every_operation_succeeds_on_a_device_that_answers";
    let _shared = shared();
    let Some(devices) = devices(check, Presence::Answers) else {
        return;
    };
    let client = target().connect();
    let mut covered = HashSet::new();
    for device in devices {
        let bus = listed_bus(&client, &device, check);
        let session = open(&client, &device, check);
        for expectation in &device.expectations {
            let what = format!("{check}: {} {expectation:?}", device.name());
            exercise(&session, &bus, expectation, &what);
            covered.insert(std::mem::discriminant(expectation));
        }
        expect_ok(session.close(), &format!("{check}: {}: close", device.name()));
    }
    if covered.is_empty() {
        skip(check, "no device in the list has an expectation (mem=, byte=, pcall=, ...)");
    }
}

#[test]
fn what_the_adapter_lacks_is_not_supported() {
    let check = "what_the_adapter_lacks_is_not_supported";
    let _shared = shared();
    let Some(devices) = devices(check, Presence::Answers) else {
        return;
    };
    let client = target().connect();
    let mut refused = 0;
    for device in devices {
        let what = format!("{check}: {}", device.name());
        let bus = listed_bus(&client, &device, check);
        if !device.ten_bit && !has(&bus, func::TEN_BIT_ADDR) {
            let ten_bit = OpenOptions { ten_bit: true, ..options(&device) };
            let opened = client.open_with(&device.bus, device.address, &ten_bit, quiet());
            expect_code(opened, ErrorCode::NotSupported, &format!("{what}: a 10-bit session"));
            refused += 1;
        }
        if !device.pec && !has(&bus, func::SMBUS_PEC) {
            let pec = OpenOptions { pec: true, ..options(&device) };
            let opened = client.open_with(&device.bus, device.address, &pec, quiet());
            expect_code(opened, ErrorCode::NotSupported, &format!("{what}: a PEC session"));
            refused += 1;
        }
        let session = open(&client, &device, check);
        for (name, bits, operation) in every_operation() {
            if !has(&bus, bits) {
                expect_code(
                    operation.run(&session),
                    ErrorCode::NotSupported,
                    &format!(
                        "{what}: {name} (functionality {:#x} lacks {bits:#x})",
                        bus.functionality
                    ),
                );
                refused += 1;
            }
        }
        expect_ok(session.close(), &format!("{what}: close"));
    }
    if refused == 0 {
        skip(check, "every configured bus has every operation: nothing to refuse");
    }
}

#[test]
fn empty_address_is_address_nack() {
    let check = "empty_address_is_address_nack";
    let _shared = shared();
    let Some(devices) = devices(check, Presence::Absent) else {
        return;
    };
    let client = target().connect();
    for device in devices {
        let bus = listed_bus(&client, &device, check);
        let session = open(&client, &device, check);
        // The first operation the adapter has, of those that put the address on the wire with
        // the least effect on whatever might be there after all.
        let probe = every_operation()
            .into_iter()
            .filter(|(name, _, _)| {
                ["quick write", "read byte", "read byte data", "writeRead"].contains(name)
            })
            .find(|(_, bits, _)| has(&bus, *bits));
        let Some((name, _, operation)) = probe else {
            skip(check, &format!("{}: the bus has no operation to probe with", device.name()));
            continue;
        };
        expect_code(
            operation.run(&session),
            ErrorCode::AddressNack,
            &format!("{check}: {}: {name}", device.name()),
        );
        expect_ok(session.close(), &format!("{check}: {}: close", device.name()));
    }
}

#[test]
fn driver_bound_address_is_address_busy() {
    let check = "driver_bound_address_is_address_busy";
    let _shared = shared();
    let Some(devices) = devices(check, Presence::DriverBound) else {
        return;
    };
    let client = target().connect();
    for device in devices {
        expect_code(
            client.open_with(&device.bus, device.address, &options(&device), quiet()),
            ErrorCode::AddressBusy,
            &format!("{check}: {}: openSession", device.name()),
        );
    }
}

#[test]
fn bad_input_gets_its_exact_code() {
    let check = "bad_input_gets_its_exact_code";
    let _shared = shared();
    let Some(devices) = devices(check, Presence::Answers) else {
        return;
    };
    let Some(device) = devices.into_iter().find(|d| !d.ten_bit && !d.pec) else {
        skip(check, "no 7-bit device without PEC in the device list");
        return;
    };
    let client = target().connect();
    let bus = listed_bus(&client, &device, check);
    let what = format!("{check}: {}", device.name());
    let invalid = ErrorCode::InvalidArgument;
    let open_at = |address: u16, ten_bit: bool| {
        let opts = OpenOptions { ten_bit, ..OpenOptions::default() };
        client.open_with(&device.bus, address, &opts, quiet())
    };
    expect_code(open_at(0x78, false), invalid, &format!("{what}: 7-bit address 0x78 (reserved)"));
    expect_code(open_at(0x07, false), invalid, &format!("{what}: 7-bit address 0x07 (reserved)"));
    expect_code(open_at(0x400, true), invalid, &format!("{what}: 10-bit address 0x400"));

    // Below what the typed client lets through: the raw proxy.
    use i2c_hal_binder::aidl::I2cMessage::I2cMessage;
    let manager = client.raw_manager();
    let (callback, _losses) = loss_channel();
    let raw_open = |bus: &str, generation: i64, address: i32, flags: i32| {
        manager.openSession(bus, generation, address, flags, &callback.raw()).map_err(Into::into)
    };
    let address = i32::from(device.address);
    expect_code(raw_open(&device.bus, 0, -1, 0), invalid, &format!("{what}: address -1"));
    expect_code(raw_open(&device.bus, 0, address, 0x40), invalid, &format!("{what}: flag 0x40"));
    expect_code(raw_open(&device.bus, -1, address, 0), invalid, &format!("{what}: generation -1"));
    expect_code(raw_open("", 0, address, 0), ErrorCode::NoSuchBus, &format!("{what}: bus ``"));
    let session = expect_ok(raw_open(&device.bus, 0, address, 0), &format!("{what}: raw open"));
    let read = |len: i32| I2cMessage { read: true, readLength: len, writeData: vec![] };
    let write = |data: Vec<u8>| I2cMessage { read: false, readLength: 0, writeData: data };
    let code = |result: Result<_, _>, expected, step: &str| {
        let result: ClientResult<_> = result.map_err(Into::into);
        expect_code(result.map(|_: ()| ()), expected, &format!("{what}: {step}"));
    };
    let too_large = ErrorCode::TooLarge;
    if has(&bus, func::I2C) {
        code(session.transfer(&[]).map(drop), invalid, "transfer of no messages");
        code(session.transfer(&[read(0)]).map(drop), invalid, "a read of 0 bytes");
        code(session.transfer(&[read(-1)]).map(drop), invalid, "a read of -1 bytes");
        code(session.transfer(&[write(vec![])]).map(drop), invalid, "an empty write");
        let many: Vec<I2cMessage> = (0..43).map(|_| read(1)).collect();
        code(session.transfer(&many).map(drop), too_large, "43 messages (MAX_MESSAGES is 42)");
        code(session.transfer(&[write(vec![0; 4097])]).map(drop), too_large, "a 4097-byte write");
        code(session.writeRead(&[], 0).map(drop), invalid, "writeRead of nothing");
        code(session.writeRead(&[0], 4096).map(drop), too_large, "writeRead of 4097 bytes");
    }
    if has(&bus, func::SMBUS_WRITE_BYTE) {
        code(session.smbusWriteByte(256), invalid, "write byte 256");
    }
    if has(&bus, func::SMBUS_WRITE_BYTE_DATA) {
        code(session.smbusWriteByteData(0, -1), invalid, "write byte data -1");
        code(session.smbusWriteByteData(256, 0), invalid, "command 256");
    }
    if has(&bus, func::SMBUS_WRITE_WORD_DATA) {
        code(session.smbusWriteWordData(0, 65536), invalid, "write word 65536");
    }
    if has(&bus, func::SMBUS_READ_I2C_BLOCK) {
        code(session.smbusReadI2cBlockData(0, 0).map(drop), invalid, "I2C block of 0 bytes");
        code(session.smbusReadI2cBlockData(0, 33).map(drop), too_large, "I2C block of 33 bytes");
    }
    if has(&bus, func::SMBUS_WRITE_I2C_BLOCK) {
        code(session.smbusWriteI2cBlockData(0, &[]), invalid, "an empty I2C block write");
        code(session.smbusWriteI2cBlockData(0, &[0; 33]), too_large, "a 33-byte I2C block write");
    }
    let closed: ClientResult<()> = session.close().map_err(Into::into);
    expect_ok(closed, &format!("{what}: close the raw session"));
    // And it still works.
    let session = open(&client, &device, check);
    expect_ok(session.bus_info(), &format!("{what}: getBusInfo after all that"));
    expect_ok(session.close(), &format!("{what}: close"));
}

/// The role of a child the admin check runs as an unprivileged user.
const CHILD_ENV: &str = "I2C_HAL_VTS_CHILD";
const ADMIN_PROBE: &str = "admin-probe";
const ADMIN_CHECK: &str = "admin_instance_refuses_a_non_system_caller";

#[test]
fn admin_instance_refuses_a_non_system_caller() {
    if std::env::var(CHILD_ENV).as_deref() == Ok(ADMIN_PROBE) {
        // In the child, as the unprivileged uid: report what the admin instance answered.
        let uid = nix::unistd::getuid();
        let client = match Client::connect(&target().endpoint) {
            Ok(client) => client,
            Err(e) => {
                println!("VTS-ADMIN-PROBE uid={uid} unreachable={e}");
                return;
            }
        };
        let answer = match client.admin().and_then(|admin| admin.status()) {
            Ok(_) => "OK".to_string(),
            Err(e) => e.code().map_or_else(|| format!("TRANSPORT {e}"), |c| c.name().to_string()),
        };
        // A bus that exists, so that only the caller's uid can be the reason for a refusal.
        let bus = client.list_buses().ok().and_then(|b| b.first().map(|b| b.bus_number));
        let revoke = match client.revoke(&bus.unwrap_or(0).to_string()) {
            Ok(n) => format!("OK {n}"),
            Err(e) => e.code().map_or_else(|| format!("TRANSPORT {e}"), |c| c.name().to_string()),
        };
        println!("VTS-ADMIN-PROBE uid={uid} getStatus={answer} revokeBus={revoke}");
        return;
    }
    let check = ADMIN_CHECK;
    // The child calls revokeBus: were the refusal ever missing, it would end other checks'
    // sessions, so this check runs alone.
    let _exclusive = exclusive();
    if !nix::unistd::geteuid().is_root() {
        skip(check, "the suite does not run as root, so it cannot call from another uid");
        return;
    }
    let target = target();
    let uid = target.unprivileged_uid;
    // A child process of this binary, running only this check, as `uid`: binder judges the
    // calling uid of the process, so the caller must really be another process.
    let exe = std::env::current_exe().expect("the path of this test binary");
    let mut command = Command::new(exe);
    command.args(["--exact", ADMIN_CHECK, "--nocapture", "--test-threads", "1"]);
    command.env(CHILD_ENV, ADMIN_PROBE).envs(target.child_env.iter().cloned());
    // gid stays root's, so the RPC socket (group-accessible) admits the child: what is checked
    // here is the service's own uid check, not the socket's mode.
    std::os::unix::process::CommandExt::uid(&mut command, uid);
    let output = command.output().expect("run the unprivileged child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // libtest may print the probe's line after its own "test NAME ... ".
    let line = stdout.lines().find_map(|l| l.find("VTS-ADMIN-PROBE").map(|at| &l[at..]));
    let line = line.unwrap_or_else(|| {
        panic!(
            "{check}: the child (uid {uid}) reported nothing: {}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(line.contains(&format!("uid={uid} ")), "{check}: the child ran as {line}");
    if let Some(at) = line.find("unreachable=") {
        let why = &line[at + "unreachable=".len()..];
        match target.endpoint {
            // The socket's mode and directories decide who may connect (docs/security.md,
            // "Who may connect"); where they keep this uid out, the service's own check is not reached.
            i2c_hal_client::Endpoint::Socket(_) => {
                skip(check, &format!("uid {uid} cannot connect to the socket: {why}"));
                return;
            }
            i2c_hal_client::Endpoint::KernelBinder(_) => {
                panic!("{check}: uid {uid} cannot reach the service over binder: {why}")
            }
        }
    }
    for call in ["getStatus", "revokeBus"] {
        assert!(
            line.contains(&format!("{call}=PERMISSION_DENIED")),
            "{check}: {call} from uid {uid}: expected PERMISSION_DENIED, got {line}"
        );
    }
}

#[test]
fn revoke_ends_every_session_on_the_bus_once() {
    let check = "revoke_ends_every_session_on_the_bus_once";
    let Some(devices) = devices(check, Presence::Answers) else {
        return;
    };
    let _exclusive = exclusive();
    let client = target().connect();
    let admin = expect_ok(client.admin(), &format!("{check}: the admin instance"));
    let device = &devices[0];
    let what = format!("{check}: {}", device.name());
    let bus = listed_bus(&client, device, check);
    wait_until_no_session_on(&admin, &bus, &what);
    let (callback, losses) = loss_channel();
    let sessions: Vec<Session> = (0..2)
        .map(|_| {
            let opened =
                client.open_sharing(&device.bus, device.address, &options(device), &callback);
            expect_ok(opened, &format!("{what}: openSession"))
        })
        .collect();
    let revoked =
        expect_ok(admin.revoke(&bus.bus_number.to_string()), &format!("{what}: revokeBus"));
    assert_eq!(revoked, 2, "{what}: revokeBus counts the two sessions");
    for _ in 0..2 {
        let (reason, message) = next_loss(&losses, &what);
        assert_eq!(reason, LossReason::Revoked, "{what}: onSessionLost reason ({message})");
    }
    for session in &sessions {
        expect_code(session.bus_info(), ErrorCode::BusGone, &format!("{what}: a revoked session"));
    }
    // The bus itself stays: a new session works.
    let fresh = open(&client, device, check);
    expect_ok(fresh.bus_info(), &format!("{what}: a new session after the revoke"));
    expect_ok(fresh.close(), &format!("{what}: close"));
    assert!(losses.try_recv().is_err(), "{what}: a third onSessionLost for two sessions");
}

/// Waits until the service holds no session on `bus`, so that what a revoke counts is only
/// what the check opened next. Sessions that earlier checks dropped without closing are ended
/// by the release of their binder reference, which reaches the service in its own time.
fn wait_until_no_session_on(admin: &Admin, bus: &BusInfo, what: &str) {
    let on_bus = |s: &SessionReport| s.stable_id == bus.stable_id && s.generation == bus.generation;
    let mut held = Vec::new();
    let idle = i2c_hal_testkit::poll_until(CALLBACK_TIMEOUT, || {
        let status = expect_ok(admin.status(), &format!("{what}: getStatus"));
        held = status.sessions.into_iter().filter(on_bus).collect();
        held.is_empty()
    });
    let owners: Vec<String> =
        held.iter().map(|s| format!("uid {} pid {}", s.caller.uid, s.caller.pid)).collect();
    assert!(
        idle,
        "{what}: bus {} still has sessions {CALLBACK_TIMEOUT:?} after the check began, held by \
         {owners:?}: a revoke would count them too",
        bus.bus_number
    );
}

fn wait_event(
    events: &Receiver<BusEvent>,
    what: &str,
    matches: impl Fn(&BusEvent) -> bool,
    seen: &mut Vec<BusEvent>,
) -> BusEvent {
    loop {
        match events.recv_timeout(REMOVAL_TIMEOUT) {
            Ok(event) => {
                seen.push(event.clone());
                if matches(&event) {
                    return event;
                }
            }
            Err(_) => panic!("{what}: not within {REMOVAL_TIMEOUT:?}; events so far {seen:#?}"),
        }
    }
}

#[test]
fn removal_kills_sessions_once_and_they_stay_dead() {
    let check = "removal_kills_sessions_once_and_they_stay_dead";
    let removal = match &target().removal {
        Ok(removal) => removal,
        Err(why) => {
            skip(check, why);
            return;
        }
    };
    let _exclusive = exclusive();
    let device = &removal.device;
    let what = format!("{check}: {}", device.name());
    let client = target().connect();
    let before = listed_bus(&client, device, check);
    let (event_sender, events) = mpsc::channel();
    let _watch = expect_ok(
        client.watch(Box::new(move |event| {
            let _ = event_sender.send(event);
        })),
        &format!("{what}: registerBusListener"),
    );
    let (callback, losses) = loss_channel();
    let held = expect_ok(
        client.open_sharing(&device.bus, device.address, &options(device), &callback),
        &format!("{what}: openSession"),
    );
    expect_ok(held.bus_info(), &format!("{what}: getBusInfo before the removal"));

    if let Err(e) = removal.unplug.run() {
        panic!("{what}: unplugging with {} failed: {e}", removal.unplug.describe());
    }
    let (reason, message) = next_loss(&losses, &format!("{what}: the held session"));
    assert_eq!(reason, LossReason::Removed, "{what}: onSessionLost reason ({message})");
    let same_bus = |b: &BusInfo| b.stable_id == before.stable_id;
    let mut seen = Vec::new();
    wait_event(
        &events,
        &format!("{what}: onBusRemoved"),
        |e| matches!(e, BusEvent::Removed(b) if b == &before),
        &mut seen,
    );
    for step in ["getBusInfo", "an operation"] {
        let result = if step == "getBusInfo" {
            held.bus_info().map(drop)
        } else {
            every_operation()
                .into_iter()
                .find(|(_, bits, _)| has(&before, *bits))
                .map_or(Ok(()), |(_, _, operation)| operation.run(&held))
        };
        expect_code(result, ErrorCode::BusGone, &format!("{what}: {step} on the removed bus"));
    }
    let buses = list(&client, check);
    assert!(
        !buses.iter().any(|b| b.stable_id == before.stable_id && b.generation == before.generation),
        "{what}: the removed bus is still listed: {buses:#?}"
    );

    let Some(replug) = &removal.replug else {
        skip(check, "no replug command: the callback-once and replug parts need one");
        return;
    };
    if let Err(e) = replug.run() {
        panic!("{what}: replugging with {} failed: {e}", replug.describe());
    }
    let added = wait_event(
        &events,
        &format!("{what}: onBusAdded for {}", before.stable_id),
        |e| matches!(e, BusEvent::Added(b) if same_bus(b)),
        &mut seen,
    );
    let BusEvent::Added(after) = added else { unreachable!("matched Added") };
    assert!(
        after.generation.0 > before.generation.0,
        "{what}: the replugged bus has generation {} after {}",
        after.generation,
        before.generation
    );
    // Binder delivers a listener's callbacks in order: by the time onBusAdded arrived every
    // event the removal caused had too, and it was one onBusRemoved.
    let ours: Vec<&BusEvent> = seen
        .iter()
        .filter(|e| matches!(e, BusEvent::Added(b) | BusEvent::Removed(b) if same_bus(b)))
        .collect();
    assert_eq!(ours.len(), 2, "{what}: events for the bus across unplug and replug: {ours:#?}");
    expect_code(
        held.bus_info(),
        ErrorCode::BusGone,
        &format!("{what}: the old session after replug"),
    );

    // The same callback object on a session of the new adapter, then revoked: once its
    // REVOKED arrives, the removal's REMOVED (sent before it, to the same object) has had its
    // one chance to repeat.
    let new_bus = after.bus_number.to_string();
    let fresh = expect_ok(
        client.open_sharing(&new_bus, device.address, &options(device), &callback),
        &format!("{what}: a session on the replugged bus"),
    );
    expect_ok(fresh.bus_info(), &format!("{what}: the new session works"));
    match client.admin().and_then(|admin| admin.revoke(&new_bus)) {
        Ok(_) => {
            let (reason, message) = next_loss(&losses, &format!("{what}: the revoked session"));
            assert_eq!(
                reason,
                LossReason::Revoked,
                "{what}: a second onSessionLost for the removed session arrived ({message})"
            );
        }
        Err(e) if e.code() == Some(ErrorCode::PermissionDenied) => {
            skip(check, "not root or system: the callback-once proof needs revokeBus");
        }
        Err(e) => panic!("{what}: revokeBus: {e}"),
    }
}

/// The suite fails, naming the check and both codes, against a service that answers with the
/// wrong code; and passes the same check against the real one. Host only, and only when the
/// suite started its own simulator: it runs this binary again, against each.
#[cfg(not(target_os = "android"))]
#[test]
fn the_suite_fails_against_a_service_with_a_wrong_code() {
    let check = "the_suite_fails_against_a_service_with_a_wrong_code";
    if std::env::var_os(CHILD_ENV).is_some() || !target::is_self_started() {
        skip(check, "runs only where the suite starts its own simulator (a plain cargo test)");
        return;
    }
    // The control run below checks the simulator's buses from another process, which this
    // process's guard alone keeps apart from the checks that revoke or unplug them.
    let _shared = shared();
    let dir = std::env::temp_dir().join(format!("i2c-hal-vts-wrong-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory for the wrong-code service");
    let socket = dir.join("wrong.sock");
    let _ = std::fs::remove_file(&socket);
    wrong_service::serve(&socket).expect("serve the wrong-code service");
    let nack_check = "empty_address_is_address_nack";
    let run = |env: Vec<(String, String)>| {
        let exe = std::env::current_exe().expect("the path of this test binary");
        let output = Command::new(exe)
            .args(["--exact", nack_check, "--test-threads", "1"])
            .env(CHILD_ENV, "wrong-code")
            .env_remove(target::REMOVABLE_ENV)
            .env_remove(target::UNPLUG_ENV)
            .envs(env)
            .output()
            .expect("run the suite again");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status, text)
    };
    let wrong_env = |address: u16| {
        vec![
            (target::TARGET_ENV.to_string(), format!("socket:{}", socket.display())),
            (target::DEVICES_ENV.to_string(), format!("0@{address:#x},absent")),
        ]
    };
    // The real service: the check passes (so a failure below is the wrong code's doing).
    let (status, text) = run(target().child_env.clone());
    assert!(status.success(), "{check}: {nack_check} against the simulator failed:\n{text}");
    assert!(text.contains("1 passed"), "{check}: the check did not run:\n{text}");

    for (address, got) in [
        (wrong_service::WRONG_CODE_ADDRESS, "got IO_ERROR"),
        (wrong_service::SILENT_ADDRESS, "but the call succeeded"),
    ] {
        let (status, text) = run(wrong_env(address));
        assert!(
            !status.success(),
            "{check}: the suite passed a wrong code at {address:#x}:\n{text}"
        );
        for needle in [nack_check, "expected ADDRESS_NACK", got] {
            assert!(text.contains(needle), "{check}: no `{needle}` in the failure:\n{text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
