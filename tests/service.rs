//! The real i2c-hal-service binary in simulator mode, driven through the client API over its
//! RPC binder socket: sessions, hot-unplug, bus-number reuse, dead clients, bad input, bus
//! listeners, revoke and shutdown.

mod common;

use common::*;
use i2c_hal_binder::aidl::II2cManager;
use i2c_hal_client::{BusEvent, Client, Session};
use i2c_hal_core::request::func::I2C_FUNC_I2C;
use i2c_hal_core::request::{
    Message, SmbusOp, SmbusValue, MAX_MESSAGES, MAX_MESSAGE_LEN, MAX_TRANSFER_BYTES,
};
use i2c_hal_core::{BusInfo, ErrorCode, LossReason};
use i2c_hal_platform::unix_socket::lock_path_for;
use i2c_hal_sim::catalog;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

/// An address on the sensor bus with no chip and no driver: sessions open, devices NACK.
const UNUSED_SENSOR_ADDRESS: u16 = 0x4a;

fn bus_named(buses: &[BusInfo], module: &str) -> BusInfo {
    let name = sim_adapter_name(module);
    buses
        .iter()
        .find(|bus| bus.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no bus named '{name}' in {buses:#?}"))
}

fn read_byte_data(session: &Session, register: u8) -> u8 {
    match session.smbus(&SmbusOp::ReadByteData(register)).expect("read_byte_data") {
        SmbusValue::Byte(byte) => byte,
        other => panic!("read_byte_data returned {other:?}"),
    }
}

fn read_word_data(session: &Session, register: u8) -> u16 {
    match session.smbus(&SmbusOp::ReadWordData(register)).expect("read_word_data") {
        SmbusValue::Word(word) => word,
        other => panic!("read_word_data returned {other:?}"),
    }
}

/// Every kind of call a dead session might get, each of which must fail with `expected`.
fn assert_every_call_fails(session: &Session, expected: ErrorCode, context: &str) {
    assert_code(
        session.transfer(&[Message::Write(vec![0]), Message::Read(1)]),
        expected,
        &format!("{context}: transfer"),
    );
    assert_code(session.write_read(&[0], 1), expected, &format!("{context}: write_read"));
    assert_code(
        session.smbus(&SmbusOp::ReadByteData(0)),
        expected,
        &format!("{context}: read_byte_data"),
    );
    assert_code(
        session.smbus(&SmbusOp::WriteByteData(0x70, 1)),
        expected,
        &format!("{context}: write_byte_data"),
    );
    assert_code(session.bus_info(), expected, &format!("{context}: bus_info"));
}

/// Opens a session on eeprom 0x50 (bus 0) whose loss is reported on the returned channel.
fn open_watched_eeprom_session(client: &Client) -> (Session, Receiver<(LossReason, String)>) {
    let (on_lost, lost) = loss_channel();
    let session = client.open("0", 0, EEPROM_ADDRESS, false, on_lost).expect("open eeprom 0x50");
    (session, lost)
}

/// Unplugs eeprom-module under a live session and checks the single REMOVED callback.
fn unplug_eeprom_under(
    service: &Service,
    client: &Client,
    session: &Session,
    lost: &Receiver<(LossReason, String)>,
) {
    assert_eq!(service.fds_on_bus(0), 1, "an open session holds one fd on i2c-0");
    service.unplug(client, EEPROM_MODULE);
    let (reason, message) = expect_message(lost, "session-lost callback after unplug");
    assert_eq!(reason, LossReason::Removed, "loss reason (message: {message})");
    // A round trip on the same connection, then nothing more may be queued.
    assert_code(session.bus_info(), ErrorCode::BusGone, "bus_info after unplug");
    assert!(lost.try_recv().is_err(), "a second session-lost callback arrived");
}

#[test]
fn open_transfer_and_close_on_both_modules() {
    let service = Service::start();
    let client = service.client();

    let buses = client.list_buses().expect("list_buses");
    assert_eq!(buses.len(), 2, "{buses:#?}");
    let eeprom = bus_named(&buses, EEPROM_MODULE);
    let sensor = bus_named(&buses, SENSOR_MODULE);
    assert_eq!((eeprom.bus_number, sensor.bus_number), (0, 1));
    assert_ne!(eeprom.stable_id, sensor.stable_id);
    assert!(eeprom.generation.0 > 0 && sensor.generation.0 > 0);
    assert_ne!(eeprom.generation, sensor.generation, "generations are never shared");
    assert_ne!(eeprom.functionality & I2C_FUNC_I2C, 0, "eeprom bus can do plain I2C");
    assert_eq!(sensor.functionality & I2C_FUNC_I2C, 0, "sensor bus is SMBus-only");
    assert_eq!(client.list_buses().expect("list_buses again"), buses, "listing is stable");

    assert_eq!(service.fds_on_bus(0), 0, "no fd before any session");
    let by_number =
        client.open("0", 0, EEPROM_ADDRESS, false, ignore_loss()).expect("open by bus number");
    let by_stable_id = client
        .open(&eeprom.stable_id, 0, EEPROM_ADDRESS, false, ignore_loss())
        .expect("open by stable id");
    assert_eq!(by_number.bus_info().expect("bus_info"), eeprom);
    assert_eq!(by_stable_id.bus_info().expect("bus_info"), eeprom);
    assert_eq!(by_number.address(), EEPROM_ADDRESS);
    assert_eq!(service.fds_on_bus(0), 1, "the sessions share one fd on i2c-0");

    // The EEPROM's factory contents, through a repeated-start write+read and through writeRead.
    let reads = by_number
        .transfer(&[Message::Write(vec![0x00]), Message::Read(EEPROM_SIGNATURE.len())])
        .expect("signature transfer");
    assert_eq!(reads.reads, vec![EEPROM_SIGNATURE.to_vec()]);
    assert_eq!(reads.completed, 2, "the adapter reports both messages done");

    // Write at an offset, read back from the other session.
    let payload = [0xde, 0xad, 0xbe, 0xef];
    let mut write = vec![0x40];
    write.extend_from_slice(&payload);
    let reads = by_number.transfer(&[Message::Write(write)]).expect("write transfer");
    assert!(reads.reads.is_empty(), "a write-only transfer returns no reads: {reads:?}");
    let reads = by_stable_id
        .transfer(&[Message::Write(vec![0x40]), Message::Read(payload.len())])
        .expect("read-back transfer");
    assert_eq!(reads.reads, vec![payload.to_vec()]);
    assert_eq!(by_stable_id.write_read(&[0x41], 3).expect("write_read"), payload[1..].to_vec());

    // SMBus byte and word data on the full I2C adapter (emulated like the kernel does).
    assert_eq!(read_byte_data(&by_number, 0x00), EEPROM_SIGNATURE[0]);
    by_number.smbus(&SmbusOp::WriteByteData(0x60, 0xab)).expect("write_byte_data");
    assert_eq!(read_byte_data(&by_number, 0x60), 0xab);
    by_number.smbus(&SmbusOp::WriteWordData(0x62, 0x1234)).expect("write_word_data");
    assert_eq!(read_word_data(&by_number, 0x62), 0x1234);
    assert_eq!(by_number.write_read(&[0x62], 2).expect("word bytes"), vec![0x34, 0x12]);

    // SMBus byte and word data on the SMBus-only sensor bus (LM75 registers).
    let lm75 = client.open("1", 0, LM75_ADDRESS, false, ignore_loss()).expect("open lm75");
    assert_eq!(read_word_data(&lm75, 0), LM75_TEMPERATURE_WORD);
    lm75.smbus(&SmbusOp::WriteByteData(1, 0x06)).expect("write config");
    assert_eq!(read_byte_data(&lm75, 1), 0x06);
    lm75.smbus(&SmbusOp::WriteWordData(3, 0x8055)).expect("write T_os");
    assert_eq!(read_word_data(&lm75, 3), 0x8055);
    assert_eq!(service.fds_on_bus(1), 1, "the lm75 session holds one fd on i2c-1");

    by_number.close().expect("close by_number");
    assert_eq!(service.fds_on_bus(0), 1, "the other session still holds the fd");
    by_stable_id.close().expect("close by_stable_id");
    lm75.close().expect("close lm75");
    for closed in [&by_number, &by_stable_id, &lm75] {
        assert_every_call_fails(closed, ErrorCode::SessionClosed, "after close");
    }
    service.wait_for_fds_on_bus(0, 0);
    service.wait_for_fds_on_bus(1, 0);
    assert_eq!(client.list_buses().expect("list_buses after close"), buses);
}

#[test]
fn the_service_reports_the_interface_version_and_hash_it_was_built_from() {
    let service = Service::start();
    let (version, hash) = service.client().interface_version().expect("interface version");
    // v1 is frozen: the hash is the last line of its .hash file, as Soong stamps it
    // (`cargo xtask check aidl` checks that the file is the hash of the dump).
    assert_eq!(version, II2cManager::VERSION);
    assert_eq!(version, 1);
    assert_eq!(hash, II2cManager::HASH);
    let recorded = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("aidl_api/vendor.i2c/1/.hash"),
    )
    .expect("the frozen v1 hash");
    assert_eq!(hash, recorded.lines().last().unwrap().trim());
    // The admin instance is the same interface version (one aidl_interface, one hash).
    let admin = service.client().admin().expect("admin instance");
    assert_eq!(admin.interface_version().expect("admin interface version"), (version, hash));
}

#[test]
fn unplug_under_a_held_session_kills_it_and_closes_the_fd() {
    let service = Service::start();
    let client = service.client();
    let (session, lost) = open_watched_eeprom_session(&client);
    assert_eq!(read_byte_data(&session, 0), EEPROM_SIGNATURE[0]);

    unplug_eeprom_under(&service, &client, &session, &lost);

    assert_eq!(service.fds_on_bus(0), 0, "a finished unplug means the fd is closed");
    for attempt in 1..=3 {
        assert_every_call_fails(&session, ErrorCode::BusGone, &format!("zombie call #{attempt}"));
    }
    assert!(lost.try_recv().is_err(), "calls on the zombie brought another loss callback");
    let remaining = client.list_buses().expect("list_buses after unplug");
    assert_eq!(remaining.len(), 1, "{remaining:#?}");
    assert_eq!(remaining[0].name, sim_adapter_name(SENSOR_MODULE));
    session.close().expect("close() on a zombie succeeds");
    assert_every_call_fails(&session, ErrorCode::SessionClosed, "after closing the zombie");
}

#[test]
fn replug_with_the_same_bus_number_is_a_new_generation() {
    let service = Service::start();
    let client = service.client();
    let old_bus = bus_named(&client.list_buses().expect("list_buses"), EEPROM_MODULE);
    let (old_session, lost) = open_watched_eeprom_session(&client);
    unplug_eeprom_under(&service, &client, &old_session, &lost);

    let new_bus = service.plug(&client, EEPROM_MODULE);
    assert_eq!(new_bus.bus_number, 0, "bus 0 is free again");
    assert!(new_bus.generation > old_bus.generation, "{new_bus:?} after {old_bus:?}");
    assert_eq!(new_bus.stable_id, old_bus.stable_id, "same topology, same stable id");

    assert_every_call_fails(&old_session, ErrorCode::BusGone, "old session after replug");
    assert!(lost.try_recv().is_err(), "the replug sent the old session another callback");
    assert_code(
        client.open("0", old_bus.generation.0, EEPROM_ADDRESS, false, ignore_loss()),
        ErrorCode::NoSuchBus,
        "open with the old generation",
    );
    let fresh = client
        .open("0", new_bus.generation.0, EEPROM_ADDRESS, false, ignore_loss())
        .expect("open with the new generation");
    assert_eq!(fresh.bus_info().expect("bus_info"), new_bus);
    assert_eq!(fresh.write_read(&[0x00], 3).expect("read"), EEPROM_SIGNATURE[..3].to_vec());
    assert_eq!(service.fds_on_bus(0), 1);
    fresh.close().expect("close");
    service.wait_for_fds_on_bus(0, 0);
}

#[test]
fn a_reused_bus_number_never_revives_an_old_session() {
    let service = Service::start();
    let client = service.client();
    let buses = client.list_buses().expect("list_buses");
    let eeprom = bus_named(&buses, EEPROM_MODULE);
    let (old_session, lost) = open_watched_eeprom_session(&client);

    service.unplug(&client, EEPROM_MODULE);
    assert_eq!(expect_message(&lost, "loss callback").0, LossReason::Removed);
    service.unplug(&client, SENSOR_MODULE);
    assert!(client.list_buses().expect("list_buses").is_empty());

    let sensor = service.plug(&client, SENSOR_MODULE);
    assert_eq!(sensor.bus_number, 0, "the sensor takes the lowest free number");
    assert_eq!(sensor.functionality & I2C_FUNC_I2C, 0);

    assert_every_call_fails(&old_session, ErrorCode::BusGone, "eeprom session on reused bus 0");
    assert_code(
        client.open(&eeprom.stable_id, 0, EEPROM_ADDRESS, false, ignore_loss()),
        ErrorCode::NoSuchBus,
        "open the unplugged eeprom by stable id",
    );
    assert_code(
        client.open("0", eeprom.generation.0, LM75_ADDRESS, false, ignore_loss()),
        ErrorCode::NoSuchBus,
        "open bus 0 at the eeprom's generation",
    );
    let lm75 = client.open("0", 0, LM75_ADDRESS, false, ignore_loss()).expect("open 0 0x48");
    assert_eq!(lm75.bus_info().expect("bus_info"), sensor);
    assert_eq!(read_word_data(&lm75, 0), LM75_TEMPERATURE_WORD);
    assert_every_call_fails(&old_session, ErrorCode::BusGone, "eeprom session, sensor in use");
    assert!(lost.try_recv().is_err(), "the old session was told about its loss twice");
}

#[test]
fn a_killed_client_releases_its_session() {
    let service = Service::start();
    let eeprom = address_arg(EEPROM_ADDRESS);
    let mut holder = service.spawn_i2cctl(&["hold", "0", &eeprom], std::process::Stdio::null());
    let held = holder.expect_line("held line", |line| line.starts_with("held "));
    assert!(held.starts_with(&format!("held bus=0 address={eeprom} generation=")), "{held}");
    assert_eq!(service.fds_on_bus(0), 1, "the held session keeps i2c-0 open");

    let status = holder.kill_hard();
    assert!(!status.success(), "i2cctl hold was killed: {status}");

    service.wait_for_fds_on_bus(0, 0);
    service.wait_until("sim list shows open-handles=0 for eeprom-module", || {
        let listing = service.i2cctl(&["sim", "list"]);
        listing.exit_code == Some(0)
            && listing.stdout.lines().any(|line| {
                line.starts_with(&format!("{EEPROM_MODULE}\t"))
                    && line.contains("\topen-handles=0\t")
            })
    });
    let client = service.client();
    let waited = service.unplug(&client, EEPROM_MODULE);
    assert_eq!(waited, Duration::ZERO, "unplug had to wait for a handle of the dead client");
}

#[test]
fn bad_input_gets_precise_codes_and_the_service_keeps_serving() {
    let service = Service::start();
    let client = service.client();

    for address in [0x00, 0x07, 0x78, 0x80] {
        assert_code(
            client.open("0", 0, address, false, ignore_loss()),
            ErrorCode::InvalidArgument,
            &format!("open address {address:#04x}"),
        );
    }
    assert_code(
        client.open("9", 0, EEPROM_ADDRESS, false, ignore_loss()),
        ErrorCode::NoSuchBus,
        "open unknown bus 9",
    );
    assert_code(
        client.open("platform/no-such-adapter", 0, EEPROM_ADDRESS, false, ignore_loss()),
        ErrorCode::NoSuchBus,
        "open unknown stable id",
    );
    assert_code(
        client.open("1", 0, DRIVER_BOUND_ADDRESS, false, ignore_loss()),
        ErrorCode::AddressBusy,
        "open an address bound to a kernel driver",
    );

    let eeprom =
        client.open("0", 0, EEPROM_ADDRESS, false, ignore_loss()).expect("open eeprom 0x50");
    assert_code(eeprom.transfer(&[]), ErrorCode::InvalidArgument, "transfer of 0 messages");
    assert_code(eeprom.transfer(&[Message::Read(0)]), ErrorCode::InvalidArgument, "0-length read");
    assert_code(
        eeprom.transfer(&[Message::Write(Vec::new())]),
        ErrorCode::InvalidArgument,
        "0-length write",
    );
    assert_code(
        eeprom.transfer(&[Message::Write(vec![0; MAX_MESSAGE_LEN + 1])]),
        ErrorCode::TooLarge,
        "8193-byte write",
    );
    assert_code(
        eeprom.transfer(&[Message::Read(MAX_MESSAGE_LEN + 1)]),
        ErrorCode::TooLarge,
        "8193-byte read",
    );
    let mut too_many = vec![Message::Write(vec![0x00])];
    too_many.extend(vec![Message::Read(1); MAX_MESSAGES]);
    assert_eq!(too_many.len(), 43);
    assert_code(eeprom.transfer(&too_many), ErrorCode::TooLarge, "43 messages");
    let most = &too_many[..MAX_MESSAGES];
    let reads = eeprom.transfer(most).expect("42 messages are allowed");
    // The factory EEPROM holds its signature, then erased (0xff) bytes.
    let expected: Vec<Vec<u8>> = EEPROM_SIGNATURE
        .iter()
        .copied()
        .chain(std::iter::repeat(EEPROM_ERASED))
        .take(MAX_MESSAGES - 1)
        .map(|byte| vec![byte])
        .collect();
    assert_eq!(reads.reads, expected, "41 one-byte reads walk the EEPROM from offset 0");
    assert_eq!(reads.completed, MAX_MESSAGES);

    // The total per call: MAX_TRANSFER_BYTES at the edge is fine, one byte past it is not, and
    // the service keeps serving.
    let at_the_cap = [Message::Write(vec![0x00]), Message::Read(MAX_TRANSFER_BYTES - 1)];
    let done = eeprom.transfer(&at_the_cap).expect("a transfer of exactly MAX_TRANSFER_BYTES");
    assert_eq!(done.reads[0].len(), MAX_TRANSFER_BYTES - 1);
    let one_past = [Message::Write(vec![0x00]), Message::Read(MAX_TRANSFER_BYTES)];
    assert_code(eeprom.transfer(&one_past), ErrorCode::TooLarge, "MAX_TRANSFER_BYTES + 1");
    assert_code(
        eeprom.write_read(&[0x00], MAX_TRANSFER_BYTES),
        ErrorCode::TooLarge,
        "writeRead of MAX_TRANSFER_BYTES + 1",
    );
    assert_eq!(eeprom.write_read(&[0x00], 1).expect("still serving"), EEPROM_SIGNATURE[..1]);

    let absent = client.open("0", 0, 0x33, false, ignore_loss()).expect("open absent 0x33");
    assert_code(absent.transfer(&[Message::Read(1)]), ErrorCode::AddressNack, "read from 0x33");
    assert_code(
        absent.smbus(&SmbusOp::ReadByteData(0)),
        ErrorCode::AddressNack,
        "read_byte_data from 0x33",
    );

    let lm75 = client.open("1", 0, LM75_ADDRESS, false, ignore_loss()).expect("open lm75");
    assert_code(
        lm75.transfer(&[Message::Write(vec![0]), Message::Read(2)]),
        ErrorCode::NotSupported,
        "raw transfer on the SMBus-only bus",
    );
    assert_code(
        lm75.write_read(&[0], 2),
        ErrorCode::NotSupported,
        "write_read on the SMBus-only bus",
    );

    // Exclusive opens conflict with any other session on the address, in both orders.
    assert_code(
        client.open("0", 0, EEPROM_ADDRESS, true, ignore_loss()),
        ErrorCode::AddressBusy,
        "exclusive open over a shared session",
    );
    let exclusive = client
        .open("1", 0, UNUSED_SENSOR_ADDRESS, true, ignore_loss())
        .expect("exclusive open on an unused address");
    assert_code(
        client.open("1", 0, UNUSED_SENSOR_ADDRESS, false, ignore_loss()),
        ErrorCode::AddressBusy,
        "shared open over an exclusive session",
    );
    assert_code(
        client.open("1", 0, UNUSED_SENSOR_ADDRESS, true, ignore_loss()),
        ErrorCode::AddressBusy,
        "exclusive open over an exclusive session",
    );
    exclusive.close().expect("close exclusive");
    client
        .open("1", 0, UNUSED_SENSOR_ADDRESS, true, ignore_loss())
        .expect("exclusive open once the holder closed")
        .close()
        .expect("close");

    // None of that broke anything: the sessions still work, and so does a new client.
    assert_eq!(read_byte_data(&eeprom, 0x00), EEPROM_SIGNATURE[0]);
    assert_eq!(read_word_data(&lm75, 0), LM75_TEMPERATURE_WORD);
    let second_client = service.client();
    assert_eq!(second_client.list_buses().expect("list_buses").len(), 2);
    let second =
        second_client.open("0", 0, EEPROM_ADDRESS, false, ignore_loss()).expect("second client");
    assert_eq!(second.write_read(&[0x00], 2).expect("read"), EEPROM_SIGNATURE[..2].to_vec());
}

#[test]
fn bus_listeners_see_removal_and_addition_until_dropped() {
    let service = Service::start();
    let client = service.client();
    let eeprom = bus_named(&client.list_buses().expect("list_buses"), EEPROM_MODULE);

    let (sender, events) = mpsc::channel();
    let watch = client
        .watch(Box::new(move |event| {
            let _ = sender.send(event);
        }))
        .expect("watch");

    service.unplug(&client, EEPROM_MODULE);
    match expect_message(&events, "bus-removed event") {
        BusEvent::Removed(bus) => assert_eq!(bus, eeprom),
        other => panic!("expected the eeprom's removal, got {other:?}"),
    }
    let replugged = service.plug(&client, EEPROM_MODULE);
    match expect_message(&events, "bus-added event") {
        BusEvent::Added(bus) => {
            assert_eq!(bus, replugged);
            assert_eq!(bus.bus_number, eeprom.bus_number);
            assert!(bus.generation > eeprom.generation, "{bus:?} after {eeprom:?}");
        }
        other => panic!("expected the eeprom's addition, got {other:?}"),
    }
    assert!(events.try_recv().is_err(), "one event per change");

    // A second listener on the same connection witnesses that later events were delivered.
    let (witness_sender, witness_events) = mpsc::channel();
    let _witness = client
        .watch(Box::new(move |event| {
            let _ = witness_sender.send(event);
        }))
        .expect("witness watch");
    drop(watch);
    service.unplug(&client, EEPROM_MODULE);
    assert!(matches!(expect_message(&witness_events, "witness event"), BusEvent::Removed(_)));
    client.list_buses().expect("round trip");
    assert!(events.try_recv().is_err(), "a dropped Watch still received an event");
}

#[test]
fn revoke_kills_sessions_on_a_bus_for_admins_only() {
    let service = Service::start();
    let client = service.client();
    let (session, lost) = open_watched_eeprom_session(&client);
    assert_eq!(service.fds_on_bus(0), 1);

    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let is_admin = matches!(uid % 100_000, 0 | 1000); // AID_ROOT, AID_SYSTEM
    if !is_admin {
        assert_code(
            client.revoke("0"),
            ErrorCode::PermissionDenied,
            &format!("revoke as uid {uid}"),
        );
        assert_eq!(read_byte_data(&session, 0), EEPROM_SIGNATURE[0], "session survives");
        assert!(lost.try_recv().is_err());
        return;
    }

    assert_eq!(client.revoke("0").expect("revoke bus 0"), 1, "one session was held");
    let (reason, message) = expect_message(&lost, "session-lost callback after revoke");
    assert_eq!(reason, LossReason::Revoked, "loss reason (message: {message})");
    service.wait_for_fds_on_bus(0, 0);
    assert_every_call_fails(&session, ErrorCode::BusGone, "revoked session");
    assert!(lost.try_recv().is_err(), "a second session-lost callback arrived");
    assert_code(client.revoke("9"), ErrorCode::NoSuchBus, "revoke unknown bus");

    let buses = client.list_buses().expect("list_buses");
    assert_eq!(buses.len(), 2, "revoke keeps the adapter: {buses:#?}");
    let fresh = client.open("0", 0, EEPROM_ADDRESS, false, ignore_loss()).expect("new session");
    assert_eq!(read_byte_data(&fresh, 0), EEPROM_SIGNATURE[0]);
    assert_eq!(service.fds_on_bus(0), 1);
    assert_eq!(client.revoke("0").expect("revoke again"), 1);
    assert_code(fresh.bus_info(), ErrorCode::BusGone, "second revoked session");
    session.close().expect("close the revoked session");
}

#[test]
fn sigterm_tells_held_sessions_and_cleans_up() {
    let mut service = Service::start();
    let client = service.client();
    let (session, lost) = open_watched_eeprom_session(&client);
    assert_eq!(read_byte_data(&session, 0), EEPROM_SIGNATURE[0]);
    assert!(service.socket().exists() && service.control_socket().exists());

    let status = service.terminate();
    let (reason, message) = expect_message(&lost, "session-lost callback on shutdown");
    assert_eq!(reason, LossReason::Shutdown, "loss reason (message: {message})");
    assert_eq!(status.code(), Some(0), "exit status; stderr:\n{}", service.stderr());
    assert!(!service.socket().exists(), "the service socket was not removed");
    assert!(!service.control_socket().exists(), "the simulator control socket was not removed");
}

#[test]
fn a_second_instance_on_the_same_socket_fails_and_leaves_the_first_alone() {
    let mut service = Service::start();
    let client = service.client();

    let (status, stderr) = service.run_second_instance();
    assert!(!status.success(), "the second instance exited with {status}; stderr:\n{stderr}");
    let in_use = format!("{} is in use", service.socket().display());
    assert!(stderr.contains(&in_use), "no '{in_use}' in the second instance's stderr:\n{stderr}");

    assert!(service.socket().exists(), "the first instance's socket was removed");
    assert!(service.control_socket().exists(), "the first instance's control socket was removed");
    assert_eq!(client.list_buses().expect("listBuses on the old connection").len(), 2);
    assert_eq!(service.client().list_buses().expect("listBuses on a new connection").len(), 2);
    assert_eq!(service.sim().list().expect("sim list").len(), catalog::MODULES.len());
    service.unplug(&client, SENSOR_MODULE);
    service.plug(&client, SENSOR_MODULE);

    // The first instance still owns its paths, so it removes them, lock files included.
    assert_eq!(service.terminate().code(), Some(0), "stderr:\n{}", service.stderr());
    for path in [service.socket().to_path_buf(), service.control_socket()] {
        assert!(!path.exists(), "{} was left behind", path.display());
        assert!(!lock_path_for(&path).exists(), "the lock of {} was left behind", path.display());
    }
}
