//! Malformed requests as a hostile or buggy client sends them on the wire, below what the typed
//! client API lets through: negative and huge lengths and values, out-of-range flags and
//! generations, empty and oversized arrays, calls after close. Each gets its exact ErrorCode,
//! and the service keeps serving everyone else.

mod common;

use common::*;
use i2c_hal_binder::aidl::{
    I2cMessage::I2cMessage,
    II2cManager::II2cManager,
    II2cSession::II2cSession,
    II2cSessionCallback::{BnI2cSessionCallback, II2cSessionCallback},
    LossReason::LossReason,
};
use i2c_hal_binder::{service_specific, BinderResult, Interface, Status, Strong};
use i2c_hal_core::ErrorCode;

struct Quiet;

impl Interface for Quiet {}

impl II2cSessionCallback for Quiet {
    fn onSessionLost(&self, _: LossReason, _: &str) -> BinderResult<()> {
        Ok(())
    }
}

/// The service-specific code of a failed call; panics on success or a transport failure.
#[track_caller]
fn code<T: std::fmt::Debug>(result: BinderResult<T>, what: &str) -> ErrorCode {
    let status: Status = match result {
        Ok(value) => panic!("{what}: succeeded with {value:?}"),
        Err(status) => status,
    };
    let (value, message) =
        service_specific(&status).unwrap_or_else(|| panic!("{what}: not a service error"));
    assert!(!message.is_empty(), "{what}: an error without a message");
    ErrorCode::from_i32(value).unwrap_or_else(|| panic!("{what}: unknown code {value}"))
}

fn read(len: i32) -> I2cMessage {
    I2cMessage { read: true, readLength: len, writeData: vec![] }
}

fn write(data: Vec<u8>) -> I2cMessage {
    I2cMessage { read: false, readLength: 0, writeData: data }
}

#[test]
fn every_malformed_request_gets_its_code_and_the_service_keeps_serving() {
    let service = Service::start();
    let client = service.client();
    let manager: Strong<dyn II2cManager> = client.raw_manager();
    // Tests run on hosts only, where the generated stub takes just the object.
    let callback: Strong<dyn II2cSessionCallback> = BnI2cSessionCallback::new_binder(Quiet);
    let open = |bus: &str, generation: i64, address: i32, flags: i32| {
        manager.openSession(bus, generation, address, flags, &callback)
    };
    let invalid = ErrorCode::InvalidArgument;

    for (address, flags, what) in [
        (-1, 0, "a negative address"),
        (0x78, 0, "a reserved 7-bit address"),
        (i32::MAX, 0, "a huge address"),
        (0x400, 2, "a 10-bit address past 0x3ff"),
        (0x50, 0x40, "an unknown flag"),
        (0x50, i32::MIN, "a negative flag word"),
    ] {
        assert_eq!(code(open("0", 0, address, flags), what), invalid, "{what}");
    }
    assert_eq!(code(open("0", -1, 0x50, 0), "negative generation"), invalid);
    assert_eq!(code(open("0", i64::MIN, 0x50, 0), "i64::MIN generation"), invalid);
    assert_eq!(code(open("0", i64::MAX, 0x50, 0), "no such generation"), ErrorCode::NoSuchBus);
    assert_eq!(code(open("", 0, 0x50, 0), "an empty bus name"), ErrorCode::NoSuchBus);
    let long_name = "x".repeat(100_000);
    assert_eq!(code(open(&long_name, 0, 0x50, 0), "a huge bus name"), ErrorCode::NoSuchBus);
    // 10-bit on an adapter without I2C_FUNC_10BIT_ADDR.
    assert_eq!(code(open("0", 0, 0x150, 2), "10-bit unsupported"), ErrorCode::NotSupported);

    let session: Strong<dyn II2cSession> = open("0", 0, EEPROM_ADDRESS.into(), 0).expect("open");
    let too_large = ErrorCode::TooLarge;
    let transfer = |messages: &[I2cMessage]| session.transfer(messages);
    assert_eq!(code(transfer(&[]), "no messages"), invalid);
    assert_eq!(code(transfer(&[read(-1)]), "a negative read"), invalid);
    assert_eq!(code(transfer(&[read(0)]), "an empty read"), invalid);
    assert_eq!(code(transfer(&[write(vec![])]), "an empty write"), invalid);
    assert_eq!(code(transfer(&[read(i32::MAX)]), "a huge read"), too_large);
    let read_with_data = I2cMessage { read: true, readLength: 1, writeData: vec![1] };
    assert_eq!(code(transfer(&[read_with_data]), "a read with data"), invalid);
    let too_many: Vec<I2cMessage> = (0..43).map(|_| read(1)).collect();
    assert_eq!(code(transfer(&too_many), "43 messages"), too_large);
    assert_eq!(code(transfer(&[write(vec![0; 8193])]), "an 8193-byte write"), too_large);
    assert_eq!(code(session.writeRead(&[], 0), "writeRead of nothing"), invalid);
    assert_eq!(code(session.writeRead(&[0], -5), "a negative readLength"), invalid);
    assert_eq!(code(session.writeRead(&[0], i32::MAX), "a huge readLength"), too_large);

    assert_eq!(code(session.smbusWriteByte(256), "byte 256"), invalid);
    assert_eq!(code(session.smbusWriteByte(-1), "byte -1"), invalid);
    assert_eq!(code(session.smbusReadByteData(300), "command 300"), invalid);
    assert_eq!(code(session.smbusWriteByteData(0, 256), "value 256"), invalid);
    assert_eq!(code(session.smbusWriteWordData(0, 70_000), "word 70000"), invalid);
    assert_eq!(code(session.smbusWriteWordData(0, -1), "word -1"), invalid);
    assert_eq!(code(session.smbusProcessCall(-1, 0), "command -1"), invalid);
    assert_eq!(code(session.smbusReadI2cBlockData(0, -1), "block length -1"), invalid);
    assert_eq!(code(session.smbusReadI2cBlockData(0, 0), "block length 0"), invalid);
    assert_eq!(code(session.smbusReadI2cBlockData(0, 33), "block length 33"), too_large);
    assert_eq!(code(session.smbusWriteI2cBlockData(0, &[]), "an empty block"), invalid);
    assert_eq!(code(session.smbusWriteI2cBlockData(0, &[0; 33]), "a 33-byte block"), too_large);
    // What the adapter lacks is NOT_SUPPORTED, whatever the arguments' sizes.
    let block_call = session.smbusBlockProcessCall(0, &[1]);
    assert_eq!(code(block_call, "block process call"), ErrorCode::NotSupported);

    // The session itself survived all of that; after close, everything is SESSION_CLOSED.
    assert_eq!(session.writeRead(&[0], 1).expect("still usable"), EEPROM_SIGNATURE[..1]);
    session.close().expect("close");
    session.close().expect("close twice");
    let closed = ErrorCode::SessionClosed;
    assert_eq!(code(session.writeRead(&[0], 1), "writeRead after close"), closed);
    assert_eq!(code(session.smbusReadByte(), "readByte after close"), closed);
    assert_eq!(code(session.getBusInfo(), "getBusInfo after close"), closed);
    assert_eq!(code(session.getAllowedOperations(), "ops after close"), closed);

    // Everyone else is served as before.
    let other = service.client();
    let fresh = other.open("0", 0, EEPROM_ADDRESS, false, ignore_loss()).expect("a new session");
    assert_eq!(fresh.write_read(&[0], 2).expect("read"), EEPROM_SIGNATURE[..2].to_vec());
}
