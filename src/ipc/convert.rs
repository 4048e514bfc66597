//! Every conversion between the AIDL types and the core's, in both directions, and the checks
//! on integers as they arrive from the wire (AIDL has no unsigned types: bytes travel as `int`
//! 0..255, words as `int` 0..65535, lengths and generations as signed integers).
//!
//! The service side refuses a malformed value with INVALID_ARGUMENT; the client side converts
//! what a (possibly newer) service sends without ever failing on a value it does not know.

use super::compat::aidl::{
    BusInfo::BusInfo as AidlBusInfo, ErrorCode::ErrorCode as AidlErrorCode, I2cMessage::I2cMessage,
    I2cReadResult::I2cReadResult, II2cManager::FLAG_EXCLUSIVE,
    LossReason::LossReason as AidlLossReason,
};
use crate::core::broker::OpenRequest;
use crate::core::request::Message;
use crate::core::{BusInfo, BusSelector, Error, ErrorCode, Generation, LossReason, Result};

// ------------------------------------------------------------------------------- buses ----

pub fn bus_to_aidl(info: &BusInfo) -> AidlBusInfo {
    AidlBusInfo {
        busNumber: saturate_i32(info.bus_number.into()),
        name: info.name.clone(),
        stableId: info.stable_id.clone(),
        generation: i64::try_from(info.generation.0).unwrap_or(i64::MAX),
        // The I2C_FUNC bits fit in 32 bits today; the wire keeps all 64 of the kernel's
        // unsigned long, so the cast preserves every bit.
        functionality: info.functionality as i64,
    }
}

/// What a client makes of a BusInfo. A negative number or generation (only a broken service
/// sends one) becomes 0, which no live bus has.
pub fn bus_from_aidl(info: &AidlBusInfo) -> BusInfo {
    BusInfo {
        bus_number: u32::try_from(info.busNumber).unwrap_or(0),
        name: info.name.clone(),
        stable_id: info.stableId.clone(),
        generation: Generation(u64::try_from(info.generation).unwrap_or(0)),
        functionality: info.functionality as u64,
    }
}

fn saturate_i32(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

// ---------------------------------------------------------------------------- sessions ----

/// The core's open request from openSession's arguments.
pub fn open_request_from_aidl(
    bus: &str,
    generation: i64,
    address: i32,
    flags: i32,
) -> Result<OpenRequest> {
    if flags & !FLAG_EXCLUSIVE != 0 {
        return Err(invalid(format!("unknown flags {flags:#x} (known: {FLAG_EXCLUSIVE:#x})")));
    }
    let generation = match generation {
        0 => None,
        g => Some(Generation(
            u64::try_from(g).map_err(|_| invalid(format!("generation {g} is negative")))?,
        )),
    };
    Ok(OpenRequest {
        bus: BusSelector::parse(bus),
        generation,
        address: address.into(),
        exclusive: flags & FLAG_EXCLUSIVE != 0,
    })
}

/// The wire form of a generation a client asks for (0: current).
pub fn generation_to_aidl(generation: u64) -> Result<i64> {
    i64::try_from(generation).map_err(|_| {
        Error::new(ErrorCode::InvalidArgument, format!("generation {generation} is too large"))
    })
}

pub fn open_flags_to_aidl(exclusive: bool) -> i32 {
    if exclusive {
        FLAG_EXCLUSIVE
    } else {
        0
    }
}

// ---------------------------------------------------------------------------- messages ----

pub fn message_from_aidl(index: usize, message: &I2cMessage) -> Result<Message> {
    if !message.read {
        return Ok(Message::Write(message.writeData.clone()));
    }
    if !message.writeData.is_empty() {
        return Err(invalid(format!("message {index} is a read but carries write data")));
    }
    length_from_aidl("readLength of message", message.readLength).map(Message::Read)
}

pub fn messages_from_aidl(messages: &[I2cMessage]) -> Result<Vec<Message>> {
    messages.iter().enumerate().map(|(i, m)| message_from_aidl(i, m)).collect()
}

/// A read longer than the wire can say is sent as i32::MAX, which the service refuses as
/// TOO_LARGE: the caller learns the real limit from the service's message.
pub fn message_to_aidl(message: &Message) -> I2cMessage {
    match message {
        Message::Read(len) => {
            I2cMessage { read: true, readLength: length_to_aidl(*len), writeData: Vec::new() }
        }
        Message::Write(data) => I2cMessage { read: false, readLength: 0, writeData: data.clone() },
    }
}

pub fn reads_to_aidl(reads: Vec<Vec<u8>>) -> Vec<I2cReadResult> {
    reads.into_iter().map(|data| I2cReadResult { data }).collect()
}

pub fn reads_from_aidl(reads: Vec<I2cReadResult>) -> Vec<Vec<u8>> {
    reads.into_iter().map(|r| r.data).collect()
}

// ------------------------------------------------------------------ integers on the wire ----

/// A byte that travels as an AIDL int.
pub fn byte_from_aidl(what: &str, value: i32) -> Result<u8> {
    u8::try_from(value).map_err(|_| invalid(format!("{what} {value} is not in 0..255")))
}

/// A 16-bit word that travels as an AIDL int.
pub fn word_from_aidl(what: &str, value: i32) -> Result<u16> {
    u16::try_from(value).map_err(|_| invalid(format!("{what} {value} is not in 0..65535")))
}

/// A length that travels as an AIDL int; too large is the core's call (TOO_LARGE), negative
/// is malformed.
pub fn length_from_aidl(what: &str, value: i32) -> Result<usize> {
    usize::try_from(value).map_err(|_| invalid(format!("{what} {value} is negative")))
}

pub fn length_to_aidl(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}

/// What a client makes of an int that should hold a byte (a broken service could send more).
pub fn byte_from_reply(value: i32) -> u8 {
    value as u8
}

/// What a client makes of an int that should hold a word.
pub fn word_from_reply(value: i32) -> u16 {
    value as u16
}

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

// ------------------------------------------------------------------ codes and reasons ----

/// The wire value of an ErrorCode (the core's discriminants are the AIDL values; a test below
/// holds them together).
pub fn error_code_to_aidl(code: ErrorCode) -> AidlErrorCode {
    AidlErrorCode(code as i32)
}

/// A service-specific code as the client received it: one this build knows, or a newer one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceivedCode {
    Known(ErrorCode),
    /// A code from a newer service. Clients treat it as "the call failed".
    Unknown(i32),
}

pub fn error_code_from_aidl(value: i32) -> ReceivedCode {
    match ErrorCode::from_i32(value) {
        Some(code) => ReceivedCode::Known(code),
        None => ReceivedCode::Unknown(value),
    }
}

pub fn loss_reason_to_aidl(reason: LossReason) -> AidlLossReason {
    AidlLossReason(reason as i32)
}

/// None for a reason this build does not know (a newer service); the session is lost all the
/// same.
pub fn loss_reason_from_aidl(reason: AidlLossReason) -> Option<LossReason> {
    LossReason::from_i32(reason.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AIDL name of each core code, spelled as the generated constants are.
    const ERROR_CODES: [(ErrorCode, AidlErrorCode); 12] = [
        (ErrorCode::BusGone, AidlErrorCode::BUS_GONE),
        (ErrorCode::NoSuchBus, AidlErrorCode::NO_SUCH_BUS),
        (ErrorCode::AddressNack, AidlErrorCode::ADDRESS_NACK),
        (ErrorCode::AddressBusy, AidlErrorCode::ADDRESS_BUSY),
        (ErrorCode::InvalidArgument, AidlErrorCode::INVALID_ARGUMENT),
        (ErrorCode::TooLarge, AidlErrorCode::TOO_LARGE),
        (ErrorCode::NotSupported, AidlErrorCode::NOT_SUPPORTED),
        (ErrorCode::Timeout, AidlErrorCode::TIMEOUT),
        (ErrorCode::IoError, AidlErrorCode::IO_ERROR),
        (ErrorCode::PermissionDenied, AidlErrorCode::PERMISSION_DENIED),
        (ErrorCode::QuotaExceeded, AidlErrorCode::QUOTA_EXCEEDED),
        (ErrorCode::SessionClosed, AidlErrorCode::SESSION_CLOSED),
    ];

    #[test]
    fn every_error_code_matches_its_generated_aidl_constant_both_ways() {
        for (core, aidl) in ERROR_CODES {
            assert_eq!(error_code_to_aidl(core), aidl, "{core}");
            assert_eq!(error_code_from_aidl(aidl.0), ReceivedCode::Known(core), "{core}");
        }
        // Neither side has a code the other lacks.
        let mut aidl_values: Vec<i32> = AidlErrorCode::enum_values().iter().map(|c| c.0).collect();
        let mut core_values: Vec<i32> = ErrorCode::ALL.iter().map(|c| *c as i32).collect();
        aidl_values.sort();
        core_values.sort();
        assert_eq!(aidl_values, core_values);
    }

    #[test]
    fn a_code_from_a_newer_service_stays_that_code() {
        assert_eq!(error_code_from_aidl(4242), ReceivedCode::Unknown(4242));
        assert_eq!(error_code_from_aidl(0), ReceivedCode::Unknown(0));
        assert_eq!(error_code_from_aidl(-1), ReceivedCode::Unknown(-1));
    }

    #[test]
    fn every_loss_reason_matches_its_generated_aidl_constant_both_ways() {
        let reasons = [
            (LossReason::Removed, AidlLossReason::REMOVED),
            (LossReason::Revoked, AidlLossReason::REVOKED),
            (LossReason::Shutdown, AidlLossReason::SHUTDOWN),
        ];
        for (core, aidl) in reasons {
            assert_eq!(loss_reason_to_aidl(core), aidl, "{core}");
            assert_eq!(loss_reason_from_aidl(aidl), Some(core), "{core}");
        }
        assert_eq!(AidlLossReason::enum_values().len(), reasons.len());
        assert_eq!(loss_reason_from_aidl(AidlLossReason(99)), None);
    }

    #[test]
    fn bus_info_round_trips_and_a_broken_reply_never_wraps() {
        let info = BusInfo {
            bus_number: 7,
            name: "i2c-tiny-usb at bus 001 device 002".into(),
            stable_id: "usb1/1-1/1-1:1.0".into(),
            generation: Generation(42),
            functionality: 0x0eff_0009,
        };
        let wire = bus_to_aidl(&info);
        assert_eq!(wire.busNumber, 7);
        assert_eq!(wire.generation, 42);
        assert_eq!(wire.functionality, 0x0eff_0009);
        assert_eq!(bus_from_aidl(&wire), info);

        let broken = AidlBusInfo { busNumber: -3, generation: -1, ..wire };
        let read = bus_from_aidl(&broken);
        assert_eq!((read.bus_number, read.generation), (0, Generation(0)));
        let huge = BusInfo { generation: Generation(u64::MAX), ..info };
        assert_eq!(bus_to_aidl(&huge).generation, i64::MAX);
    }

    #[test]
    fn messages_round_trip_and_malformed_ones_are_invalid() {
        for message in [Message::Write(vec![0x00, 0x10]), Message::Read(8)] {
            let wire = message_to_aidl(&message);
            assert_eq!(message_from_aidl(0, &wire), Ok(message));
        }
        let read_with_data = I2cMessage { read: true, readLength: 2, writeData: vec![1] };
        let err = message_from_aidl(3, &read_with_data).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("message 3"), "{}", err.message);
        let negative = I2cMessage { read: true, readLength: -1, writeData: vec![] };
        assert_eq!(message_from_aidl(0, &negative).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(message_to_aidl(&Message::Read(usize::MAX)).readLength, i32::MAX);
        let all = [message_to_aidl(&Message::Write(vec![1])), negative];
        assert_eq!(messages_from_aidl(&all).unwrap_err().code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn reads_round_trip() {
        let reads = vec![vec![1, 2, 3], vec![], vec![0xff]];
        assert_eq!(reads_from_aidl(reads_to_aidl(reads.clone())), reads);
    }

    #[test]
    fn wire_integers_must_fit_their_width() {
        assert_eq!(byte_from_aidl("value", 255), Ok(255));
        assert_eq!(byte_from_aidl("value", 256).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(byte_from_aidl("value", -1).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(word_from_aidl("value", 65535), Ok(65535));
        assert_eq!(word_from_aidl("value", 65536).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(length_from_aidl("length", -3).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(length_from_aidl("length", 8192), Ok(8192));
        assert_eq!(length_to_aidl(usize::MAX), i32::MAX);
        assert_eq!(byte_from_reply(0x5a), 0x5a);
        assert_eq!(word_from_reply(0x8019), 0x8019);
    }

    #[test]
    fn open_requests_check_flags_and_generations() {
        let request = open_request_from_aidl("3", 0, 0x50, FLAG_EXCLUSIVE).unwrap();
        assert_eq!(request.bus, BusSelector::Number(3));
        assert_eq!(request.generation, None);
        assert_eq!(request.address, 0x50);
        assert!(request.exclusive);
        let request = open_request_from_aidl("pci0000:00/0000:00:1f.3", 9, 0x48, 0).unwrap();
        assert_eq!(request.generation, Some(Generation(9)));
        assert!(!request.exclusive);
        assert_eq!(
            open_request_from_aidl("3", -1, 0x50, 0).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            open_request_from_aidl("3", 0, 0x50, 0x80).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(generation_to_aidl(u64::MAX).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(generation_to_aidl(5), Ok(5));
        assert_eq!(open_flags_to_aidl(true), FLAG_EXCLUSIVE);
        assert_eq!(open_flags_to_aidl(false), 0);
    }
}
