//! Existing embedded-hal 1.0 driver crates from crates.io, unmodified, on sessions of the real
//! service: `eeprom24x` on the simulated 24C02 of eeprom-module (a full I2C adapter, so the
//! driver's transactions are combined transfers) and `lm75` on the simulated LM75 of
//! sensor-module (an SMBus-only adapter, so the session sends the SMBus commands that put the
//! same bytes on the wire). Each result is checked a second way, through plain SMBus calls on
//! another session, so a test passes only if the bytes really reached the chip.
//!
//! docs/app-developers.md quotes `lm75_reads_and_configures_the_sensor_through_smbus` and
//! `a_driver_sees_bus_gone_and_runs_again_on_a_reopened_session`.

mod common;

use common::{
    Service, EEPROM_ADDRESS, EEPROM_ERASED, EEPROM_MODULE, EEPROM_SIGNATURE, LM75_ADDRESS,
    SENSOR_MODULE, WAIT_TIMEOUT,
};
use eeprom24x::{Eeprom24x, SlaveAddr};
use embedded_hal::i2c::{Error as _, ErrorKind, I2c, NoAcknowledgeSource};
use i2c_hal_client::{Client, OpenOptions, Session};
use i2c_hal_core::request::{SmbusOp, SmbusValue};
use i2c_hal_core::{ErrorCode, LossReason};
use lm75::{Address, Lm75};

/// The stable id of a simulated module's adapter (catalog: platform device plus module).
fn stable_id(client: &Client, module: &str) -> String {
    let name = common::sim_adapter_name(module);
    let buses = client.list_buses().expect("listBuses");
    buses.into_iter().find(|bus| bus.name == name).expect("the module is listed").stable_id
}

fn open(client: &Client, module: &str, address: u16) -> Session {
    let bus = stable_id(client, module);
    client.open_with(&bus, address, &OpenOptions::default(), Box::new(|_, _| {})).expect("open")
}

fn read_byte_data(session: &Session, register: u8) -> u8 {
    match session.smbus(&SmbusOp::ReadByteData(register)).expect("read byte data") {
        SmbusValue::Byte(byte) => byte,
        other => panic!("read byte data returned {other:?}"),
    }
}

/// An LM75 register as it is on the wire, most significant byte first.
fn lm75_register(session: &Session, register: u8) -> [u8; 2] {
    match session.smbus(&SmbusOp::ReadWordData(register)).expect("read word data") {
        // SMBus words arrive low byte first: the first byte on the wire is the low one.
        SmbusValue::Word(word) => word.to_le_bytes(),
        other => panic!("read word data returned {other:?}"),
    }
}

#[test]
fn eeprom24x_reads_and_writes_the_24c02_through_transfers() {
    let service = Service::start();
    let client = service.client();
    let session = open(&client, EEPROM_MODULE, EEPROM_ADDRESS);
    let check = open(&client, EEPROM_MODULE, EEPROM_ADDRESS);
    let mut eeprom = Eeprom24x::new_24x02(session, SlaveAddr::default());

    // Random reads: what the factory wrote.
    let mut signature = vec![0; EEPROM_SIGNATURE.len()];
    eeprom.read_data(0, &mut signature).expect("read_data");
    assert_eq!(signature, EEPROM_SIGNATURE);
    assert_eq!(eeprom.read_byte(0x80).expect("read_byte"), EEPROM_ERASED);

    // A byte write, seen by the driver and by plain SMBus on another session.
    eeprom.write_byte(0x40, 0xa5).expect("write_byte");
    assert_eq!(eeprom.read_byte(0x40).expect("read_byte"), 0xa5);
    assert_eq!(read_byte_data(&check, 0x40), 0xa5);
    // A current address read continues after the last byte read (0x40): 0x41.
    eeprom.write_byte(0x41, 0x5a).expect("write_byte");
    eeprom.read_byte(0x40).expect("read_byte");
    assert_eq!(eeprom.read_current_address().expect("read_current_address"), 0x5a);

    // An aligned page write lands as one page.
    let page = [1, 2, 3, 4, 5, 6, 7, 8];
    eeprom.write_page(0x20, &page).expect("write_page");
    let mut back = [0; 8];
    eeprom.read_data(0x20, &mut back).expect("read_data");
    assert_eq!(back, page);
    // More than a page, or past the page's end, is the driver's own refusal: the chip would
    // wrap the write to the page start. Nothing is sent.
    assert!(matches!(eeprom.write_page(0x50, &[0; 9]), Err(eeprom24x::Error::TooMuchData)));
    assert!(matches!(eeprom.write_page(0x36, &[0; 4]), Err(eeprom24x::Error::TooMuchData)));
    assert_eq!(read_byte_data(&check, 0x36), EEPROM_ERASED);
    // The same write sent as it is (the trait's own write) shows the wrap the driver avoids.
    let mut session = eeprom.destroy();
    let eeprom_address = EEPROM_ADDRESS as u8;
    I2c::write(&mut session, eeprom_address, &[0x36, 0xa1, 0xa2, 0xa3, 0xa4]).expect("write");
    let mut page_0x30 = [0; 8];
    I2c::write_read(&mut session, eeprom_address, &[0x30], &mut page_0x30).expect("write_read");
    let erased = EEPROM_ERASED;
    assert_eq!(page_0x30, [0xa3, 0xa4, erased, erased, erased, erased, 0xa1, 0xa2]);
    // A transaction of several operations: adjacent reads are one read on the wire.
    let (mut first, mut rest) = ([0; 2], [0; 6]);
    let mut operations = [
        embedded_hal::i2c::Operation::Write(&[0x30]),
        embedded_hal::i2c::Operation::Read(&mut first),
        embedded_hal::i2c::Operation::Read(&mut rest),
    ];
    I2c::transaction(&mut session, eeprom_address, &mut operations).expect("transaction");
    assert_eq!((first.as_slice(), rest.as_slice()), page_0x30.split_at(2));

    // A driver aimed at an address where nothing answers gets a NACK (ADDRESS_NACK; v1 cannot
    // say which phase, so embedded-hal hears a NACK of unknown source).
    let absent = open(&client, EEPROM_MODULE, 0x51);
    let mut nobody = Eeprom24x::new_24x02(absent, SlaveAddr::Alternative(false, false, true));
    match nobody.read_byte(0) {
        Err(eeprom24x::Error::I2C(error)) => {
            assert_eq!(error.code(), Some(ErrorCode::AddressNack), "{error}");
            assert_eq!(error.kind(), ErrorKind::NoAcknowledge(NoAcknowledgeSource::Unknown));
        }
        other => panic!("reading from an empty address: {other:?}"),
    }
}

#[test]
fn lm75_reads_and_configures_the_sensor_through_smbus() {
    let service = Service::start();
    let client = service.client();
    // sensor-module's adapter is SMBus only: no I2C_FUNC_I2C.
    let check = open(&client, SENSOR_MODULE, LM75_ADDRESS);
    let session = open(&client, SENSOR_MODULE, LM75_ADDRESS);
    let mut sensor = Lm75::new(session, Address::default());

    assert_eq!(sensor.read_temperature().expect("read_temperature"), 25.5);

    sensor.set_os_temperature(90.0).expect("set_os_temperature");
    sensor.set_hysteresis_temperature(-10.5).expect("set_hysteresis_temperature");
    // 9-bit two's complement in the top bits, most significant byte first.
    assert_eq!(lm75_register(&check, 3), [0x5a, 0x00], "T_OS 90 °C");
    assert_eq!(lm75_register(&check, 2), [0xf5, 0x80], "T_HYST -10.5 °C");

    sensor.disable().expect("disable");
    assert_eq!(read_byte_data(&check, 1) & 0x01, 0x01, "shutdown bit set");
    sensor.set_fault_queue(lm75::FaultQueue::_4).expect("set_fault_queue");
    assert_eq!(read_byte_data(&check, 1), 0b0001_0001, "fault queue 4, still shut down");
    sensor.enable().expect("enable");
    assert_eq!(read_byte_data(&check, 1), 0b0001_0000, "running again");
    // The pointer is back on the temperature after the driver's own register writes.
    assert_eq!(sensor.read_temperature().expect("read_temperature"), 25.5);

    // What has no SMBus equivalent on this adapter is refused, not approximated.
    let mut session = sensor.destroy();
    let mut two = [0; 2];
    let error = I2c::read(&mut session, LM75_ADDRESS as u8, &mut two).unwrap_err();
    assert_eq!(error.code(), Some(ErrorCode::NotSupported), "{error}");
    // And a session answers for its own address only.
    let error = I2c::write(&mut session, 0x4f_u8, &[0]).unwrap_err();
    assert_eq!(error.code(), Some(ErrorCode::InvalidArgument), "{error}");
    assert!(error.to_string().contains("0x48"), "{error}");
}

#[test]
fn a_driver_sees_bus_gone_and_runs_again_on_a_reopened_session() {
    let service = Service::start();
    let client = service.client();
    let bus = client
        .list_buses()
        .expect("listBuses")
        .into_iter()
        .find(|bus| bus.name == common::sim_adapter_name(EEPROM_MODULE))
        .expect("eeprom-module is listed");
    let (session, lost) = client
        .open_channel(&bus.stable_id, EEPROM_ADDRESS, &OpenOptions::default())
        .expect("open_channel");
    let mut eeprom = Eeprom24x::new_24x02(session, SlaveAddr::default());
    eeprom.write_byte(0x60, 0x42).expect("write_byte");

    service.unplug(&client, EEPROM_MODULE);
    let loss = lost.recv_timeout(WAIT_TIMEOUT).expect("the session-lost notice");
    assert_eq!(loss.reason, LossReason::Removed, "{loss:?}");
    match eeprom.read_byte(0x60) {
        Err(eeprom24x::Error::I2C(error)) => {
            assert_eq!(error.code(), Some(ErrorCode::BusGone), "{error}")
        }
        other => panic!("a driver on a removed bus: {other:?}"),
    }

    // The module comes back (same stable id, new generation) while reopen waits for it.
    let reopened = std::thread::scope(|scope| {
        let waiter = scope
            .spawn(|| client.reopen(&bus, EEPROM_ADDRESS, &OpenOptions::default(), WAIT_TIMEOUT));
        service.plug(&client, EEPROM_MODULE);
        waiter.join().expect("reopen thread")
    });
    let (session, _lost) = reopened.expect("reopen");
    let info = session.bus_info().expect("bus info");
    assert_eq!(info.stable_id, bus.stable_id);
    assert!(info.generation > bus.generation, "{info:?} after {bus:?}");
    let mut eeprom_again = Eeprom24x::new_24x02(session, SlaveAddr::default());
    // The EEPROM kept its contents over the replug; the old driver's session stays dead.
    assert_eq!(eeprom_again.read_byte(0x60).expect("read_byte"), 0x42);
    match eeprom.read_byte(0x60) {
        Err(eeprom24x::Error::I2C(error)) => {
            assert_eq!(error.code(), Some(ErrorCode::BusGone), "{error}")
        }
        other => panic!("the old session came back: {other:?}"),
    }
}

#[test]
fn the_service_death_reaches_the_client_as_an_event() {
    let mut service = Service::start();
    let client = service.client();
    let (_watch, died) = client.service_death_channel().expect("death channel");
    service.signal(nix::sys::signal::Signal::SIGKILL);
    service.wait_for_exit("the killed service");
    died.recv_timeout(WAIT_TIMEOUT).expect("the service-death notice");
    let error = client.list_buses().unwrap_err();
    assert!(error.is_transport(), "{error:?}");
    assert!(error.to_string().contains("the service is gone"), "{error}");
    assert!(!error.to_string().contains("DeadObject"), "{error}");
}
