//! The service's side of the wire: requests read strictly from AIDL into the core's types, and
//! the core's answers written into AIDL. AIDL has no unsigned types (bytes travel as `int`
//! 0..255, words as `int` 0..65535, lengths and generations as signed integers), so every
//! integer is checked as it arrives and a malformed one is refused with INVALID_ARGUMENT.
//! A client reads replies leniently instead (`i2c_hal_client::convert`); what both ends share
//! is `i2c_hal_binder::wire`.

use i2c_hal_binder::aidl::{
    BusInfo::BusInfo as AidlBusInfo,
    Counter::Counter,
    ErrorCode::ErrorCode as AidlErrorCode,
    I2cMessage::I2cMessage,
    I2cReadResult::I2cReadResult,
    II2cManager::{FLAG_EXCLUSIVE, FLAG_PEC, FLAG_TEN_BIT},
    LossReason::LossReason as AidlLossReason,
    RemovalRecord::RemovalRecord,
    ServiceStatus::ServiceStatus,
    SessionStatus::{SessionStatus, STATE_DEAD, STATE_LIVE, STATE_OPENING},
    TransferResult::TransferResult,
};
pub use i2c_hal_binder::wire::{length_to_aidl, open_flags_to_aidl};
use i2c_hal_binder::wire::{operation_bit, saturate_i32, saturate_i64};
use i2c_hal_core::broker::{OpenRequest, SessionPhase, SessionSnapshot, StatusSnapshot};
use i2c_hal_core::device::Transferred;
use i2c_hal_core::request::{MessageRef, OperationSet, MAX_MESSAGES};
use i2c_hal_core::stats::RemovalEvent;
use i2c_hal_core::{BusInfo, BusSelector, Error, ErrorCode, Generation, LossReason, Result};
use std::time::Duration;

/// Every openSession flag this version knows.
const KNOWN_FLAGS: i32 = FLAG_EXCLUSIVE | FLAG_TEN_BIT | FLAG_PEC;

// ------------------------------------------------------------------------------- buses ----

pub fn bus_to_aidl(info: &BusInfo) -> AidlBusInfo {
    AidlBusInfo {
        busNumber: saturate_i32(info.bus_number),
        name: info.name.clone(),
        stableId: info.stable_id.clone(),
        generation: saturate_i64(info.generation.0),
        // The I2C_FUNC bits fit in 32 bits today; the wire keeps all 64 of the kernel's
        // unsigned long, so the cast preserves every bit.
        functionality: info.functionality as i64,
    }
}

// ---------------------------------------------------------------------------- sessions ----

/// The core's open request from openSession's arguments.
pub fn open_request_from_aidl(
    bus: &str,
    generation: i64,
    address: i32,
    flags: i32,
) -> Result<OpenRequest> {
    if flags & !KNOWN_FLAGS != 0 {
        return Err(invalid(format!("unknown flags {flags:#x} (known: {KNOWN_FLAGS:#x})")));
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
        ten_bit: flags & FLAG_TEN_BIT != 0,
        pec: flags & FLAG_PEC != 0,
    })
}

// ---------------------------------------------------------------------------- messages ----

/// Borrows the write data from the parcel: nothing is copied on the way to the device.
pub fn message_from_aidl(index: usize, message: &I2cMessage) -> Result<MessageRef<'_>> {
    if !message.read {
        return Ok(MessageRef::Write(&message.writeData));
    }
    if !message.writeData.is_empty() {
        return Err(invalid(format!("message {index} is a read but carries write data")));
    }
    length_from_aidl("readLength of message", message.readLength).map(MessageRef::Read)
}

/// What a well-formed message is to the core, checked inline: the caller takes the slow path
/// (`message_from_aidl`, which says what is wrong) only for a malformed one.
#[inline(always)]
fn view_from_aidl(message: &I2cMessage) -> Option<MessageRef<'_>> {
    if !message.read {
        return Some(MessageRef::Write(&message.writeData));
    }
    let len = usize::try_from(message.readLength).ok()?;
    message.writeData.is_empty().then_some(MessageRef::Read(len))
}

/// Runs `run` on the messages of one transfer as the core takes them, borrowed from the parcel.
/// Any transfer the core can run (at most MAX_MESSAGES messages) is viewed in place on the
/// stack, so a call allocates nothing for its messages; a longer one, which the broker refuses
/// as TOO_LARGE, is viewed on the heap so that the refusal (and its count) stays the broker's.
/// The first malformed message is refused before `run`.
pub fn with_messages_from_aidl<'a, R>(
    messages: &'a [I2cMessage],
    run: impl FnOnce(&[MessageRef<'a>]) -> R,
) -> Result<R> {
    if messages.len() > MAX_MESSAGES {
        let views = messages.iter().enumerate().map(|(i, m)| message_from_aidl(i, m));
        return views.collect::<Result<Vec<_>>>().map(|views| run(&views));
    }
    let mut views = [MessageRef::Read(0); MAX_MESSAGES];
    for (index, (message, view)) in messages.iter().zip(&mut views).enumerate() {
        match view_from_aidl(message) {
            Some(viewed) => *view = viewed,
            None => return Err(malformed(index, message)),
        }
    }
    Ok(run(&views[..messages.len()]))
}

#[cold]
fn malformed(index: usize, message: &I2cMessage) -> Error {
    match message_from_aidl(index, message) {
        Err(err) => err,
        Ok(view) => unreachable!("message {index} ({view:?}) is well formed"),
    }
}

pub fn transferred_to_aidl(done: Transferred) -> TransferResult {
    TransferResult {
        messagesCompleted: length_to_aidl(done.completed),
        reads: done.reads.into_iter().map(|data| I2cReadResult { data }).collect(),
    }
}

pub fn operations_to_aidl(set: OperationSet) -> i32 {
    set.classes().map(operation_bit).fold(0, |bits, bit| bits | bit)
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

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidArgument, message)
}

// ---------------------------------------------------------------------------- status ----

fn millis(duration: Duration) -> i64 {
    saturate_i64(duration.as_millis())
}

fn micros(duration: Duration) -> i64 {
    saturate_i64(duration.as_micros())
}

pub fn status_to_aidl(status: &StatusSnapshot) -> ServiceStatus {
    ServiceStatus {
        uptimeMillis: millis(status.uptime),
        buses: status.buses.iter().map(bus_to_aidl).collect(),
        sessions: status.sessions.iter().map(session_to_aidl).collect(),
        busListeners: length_to_aidl(status.listeners),
        counters: status
            .counters
            .iter()
            .map(|(name, value)| Counter { name: name.clone(), value: saturate_i64(*value) })
            .collect(),
        recentRemovals: status.recent_removals.iter().map(removal_to_aidl).collect(),
    }
}

fn session_to_aidl(session: &SessionSnapshot) -> SessionStatus {
    let (state, reason) = match session.state {
        SessionPhase::Opening => (STATE_OPENING, LossReason::Removed),
        SessionPhase::Live => (STATE_LIVE, LossReason::Removed),
        SessionPhase::Dead(reason) => (STATE_DEAD, reason),
    };
    SessionStatus {
        sessionId: saturate_i64(session.id.0),
        uid: session.caller.uid as i32,
        pid: session.caller.pid,
        busNumber: saturate_i32(session.bus.bus_number),
        stableId: session.bus.stable_id.clone(),
        generation: saturate_i64(session.bus.generation.0),
        address: session.target.address.into(),
        flags: open_flags_to_aidl(session.exclusive, session.target.ten_bit, session.target.pec),
        ageMillis: millis(session.age),
        state,
        lossReason: loss_reason_to_aidl(reason),
    }
}

/// CLOCK_MONOTONIC now, in nanoseconds (0 if it cannot be read, which Linux never does).
fn monotonic_nanos() -> i64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec().saturating_mul(1_000_000_000).saturating_add(t.tv_nsec()))
        .unwrap_or(0)
}

pub fn removal_to_aidl(removal: &RemovalEvent) -> RemovalRecord {
    // `Instant` is CLOCK_MONOTONIC on Linux but does not expose it: step back from now.
    let event_clock = monotonic_nanos().saturating_sub(micros(removal.started.elapsed()) * 1000);
    RemovalRecord {
        lastCallbackMicros: removal.last_callback.map_or(-1, micros),
        eventMonotonicNanos: event_clock.max(0),
        busNumber: saturate_i32(removal.bus_number),
        stableId: removal.stable_id.clone(),
        generation: saturate_i64(removal.generation.0),
        latencyMicros: micros(removal.latency),
        sessionsLost: length_to_aidl(removal.sessions_lost),
        ageMillis: millis(removal.at.elapsed()),
    }
}

// ------------------------------------------------------------------ codes and reasons ----

/// The wire value of an ErrorCode (the core's discriminants are the AIDL values; a test below
/// holds them together).
pub fn error_code_to_aidl(code: ErrorCode) -> AidlErrorCode {
    AidlErrorCode(code as i32)
}

pub fn loss_reason_to_aidl(reason: LossReason) -> AidlLossReason {
    AidlLossReason(reason as i32)
}

// Both ends of the wire, round trip: the service's writing against the client's reading.
#[cfg(test)]
mod tests {
    use super::*;
    use i2c_hal_binder::aidl::II2cSession::{OP_RAW_TRANSFER, OP_READ, OP_REGISTER, OP_WRITE};
    use i2c_hal_client::convert::*;
    use i2c_hal_client::SessionState;
    use i2c_hal_core::broker::SessionId;
    use i2c_hal_core::device::Target;
    use i2c_hal_core::policy::Caller;
    use i2c_hal_core::request::{Message, OperationClass};
    use std::time::Instant;

    /// The AIDL name of each core code, spelled as the generated constants are.
    const ERROR_CODES: [(ErrorCode, AidlErrorCode); 13] = [
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
        (ErrorCode::PecError, AidlErrorCode::PEC_ERROR),
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
            (LossReason::PolicyChanged, AidlLossReason::POLICY_CHANGED),
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
        use i2c_hal_core::request::AsMessage as _;
        for message in [Message::Write(vec![0x00, 0x10]), Message::Read(8)] {
            let wire = message_to_aidl(&message);
            assert_eq!(message_from_aidl(0, &wire), Ok(message.view()));
        }
        let read_with_data = I2cMessage { read: true, readLength: 2, writeData: vec![1] };
        let err = message_from_aidl(3, &read_with_data).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("message 3"), "{}", err.message);
        let negative = I2cMessage { read: true, readLength: -1, writeData: vec![] };
        assert_eq!(message_from_aidl(0, &negative).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(message_to_aidl(&Message::Read(usize::MAX)).readLength, i32::MAX);
        let all = [message_to_aidl(&Message::Write(vec![1])), negative];
        let err = with_messages_from_aidl(&all, |_| ()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn messages_are_viewed_in_place_up_to_the_cap_and_on_the_heap_beyond() {
        let write = || message_to_aidl(&Message::Write(vec![7]));
        let read = || message_to_aidl(&Message::Read(3));
        let expected = |n: usize| -> Vec<MessageRef<'static>> {
            (0..n)
                .map(|i| if i % 2 == 0 { MessageRef::Write(&[7]) } else { MessageRef::Read(3) })
                .collect()
        };
        for n in [0, 1, 2, MAX_MESSAGES, MAX_MESSAGES + 1, 3 * MAX_MESSAGES] {
            let wire: Vec<I2cMessage> =
                (0..n).map(|i| if i % 2 == 0 { write() } else { read() }).collect();
            let seen = with_messages_from_aidl(&wire, |views| views == expected(n)).unwrap();
            assert!(seen, "{n}");
        }
        // The first malformed message is the one reported, wherever it is, and nothing runs.
        for n in [1, 2, MAX_MESSAGES, MAX_MESSAGES + 5] {
            let mut wire: Vec<I2cMessage> = (0..n).map(|_| write()).collect();
            wire[n - 1] = I2cMessage { read: true, readLength: 1, writeData: vec![1] };
            let err = with_messages_from_aidl(&wire, |_| panic!("ran")).unwrap_err();
            assert!(err.message.contains(&format!("message {}", n - 1)), "{}", err.message);
            if n > 1 {
                wire[n - 2] = I2cMessage { read: true, readLength: -1, writeData: vec![] };
                let err = with_messages_from_aidl(&wire, |_| panic!("ran")).unwrap_err();
                assert_eq!(err.code, ErrorCode::InvalidArgument);
                assert!(err.message.contains("is negative"), "{}", err.message);
            }
        }
    }

    #[test]
    fn status_round_trips_field_by_field() {
        let bus = BusInfo {
            bus_number: 4,
            name: String::new(),
            stable_id: "usb1/1-1/1-1:1.0".into(),
            generation: Generation(9),
            functionality: 0,
        };
        let status = StatusSnapshot {
            uptime: Duration::from_millis(1234),
            buses: vec![bus.clone()],
            sessions: vec![
                SessionSnapshot {
                    id: SessionId(7),
                    caller: Caller { uid: 10_057, pid: 4321 },
                    bus: bus.clone(),
                    target: Target { address: 0x150, ten_bit: true, pec: false },
                    exclusive: true,
                    age: Duration::from_millis(250),
                    state: SessionPhase::Live,
                },
                SessionSnapshot {
                    id: SessionId(8),
                    caller: Caller { uid: 0, pid: 1 },
                    bus: bus.clone(),
                    target: Target { address: 0x50, ten_bit: false, pec: true },
                    exclusive: false,
                    age: Duration::from_millis(5),
                    state: SessionPhase::Dead(LossReason::Revoked),
                },
            ],
            listeners: 2,
            counters: vec![("transfers".into(), 12), ("errors.ADDRESS_NACK".into(), 3)],
            recent_removals: vec![],
        };
        let read = status_from_aidl(&status_to_aidl(&status));
        assert_eq!(read.uptime, status.uptime);
        assert_eq!(read.sessions.len(), 2);
        for (read, sent) in read.sessions.iter().zip(&status.sessions) {
            let bus = &sent.bus;
            assert_eq!(
                (read.id, read.caller, read.bus_number, &read.stable_id, read.generation),
                (sent.id.0, sent.caller, bus.bus_number, &bus.stable_id, bus.generation)
            );
            assert_eq!(
                (read.target, read.exclusive, read.age),
                (sent.target, sent.exclusive, sent.age)
            );
        }
        assert_eq!(read.sessions[0].state, SessionState::Live);
        assert_eq!(read.sessions[1].state, SessionState::Dead(LossReason::Revoked));
        assert_eq!(read.listeners, 2);
        assert_eq!(read.counters, status.counters);
        let wire = status_to_aidl(&status);
        assert_eq!(wire.sessions[0].flags, FLAG_TEN_BIT | FLAG_EXCLUSIVE);
        assert_eq!(wire.sessions[1].state, STATE_DEAD);
        assert_eq!(wire.sessions[1].lossReason, AidlLossReason::REVOKED);
    }

    #[test]
    fn a_removal_carries_its_event_on_the_monotonic_clock_and_its_last_callback() {
        // An event 50 ms ago: its clock reading must be 50 ms before the readings around it.
        const AGO: i64 = 50_000_000;
        let before = monotonic_nanos();
        let started = Instant::now() - Duration::from_nanos(AGO as u64);
        let around = monotonic_nanos();
        let dispatched = RemovalEvent {
            bus_number: 1,
            stable_id: "x".into(),
            generation: Generation(2),
            latency: Duration::from_micros(80),
            sessions_lost: 3,
            at: started,
            started,
            last_callback: Some(Duration::from_micros(1500)),
            event_clock_nanos: None,
        };
        let not_yet = RemovalEvent { last_callback: None, ..dispatched.clone() };
        let status = StatusSnapshot {
            uptime: Duration::from_millis(1),
            buses: vec![],
            sessions: vec![],
            listeners: 0,
            counters: vec![],
            recent_removals: vec![not_yet, dispatched],
        };
        let wire = status_to_aidl(&status);
        // Truncating the elapsed time to microseconds errs later, never earlier; the 10 ms of
        // slack is for a pause between reading the elapsed time and reading the clock.
        let event = wire.recentRemovals[1].eventMonotonicNanos;
        let (low, high) = (before - AGO, around - AGO + 10_000_000);
        assert!(low <= event && event <= high, "{low} <= {event} <= {high}");
        assert_eq!(wire.recentRemovals[1].lastCallbackMicros, 1500);
        assert_eq!(wire.recentRemovals[0].lastCallbackMicros, -1, "none yet is -1 on the wire");

        let read = status_from_aidl(&wire);
        assert_eq!(read.recent_removals[1].last_callback, Some(Duration::from_micros(1500)));
        assert_eq!(read.recent_removals[1].event_clock_nanos, Some(event as u64));
        assert_eq!(read.recent_removals[0].last_callback, None);
        assert_eq!(read.recent_removals[1].latency, Duration::from_micros(80));
    }

    #[test]
    fn transfer_results_round_trip_and_a_broken_count_reads_as_none() {
        let done = Transferred { completed: 3, reads: vec![vec![1, 2, 3], vec![0xff]] };
        let wire = transferred_to_aidl(done.clone());
        assert_eq!(wire.messagesCompleted, 3);
        assert_eq!(transferred_from_aidl(wire), done);
        let broken = TransferResult { messagesCompleted: -1, reads: vec![] };
        assert_eq!(transferred_from_aidl(broken).completed, 0);
    }

    #[test]
    fn operation_classes_match_the_generated_op_constants() {
        let all = OperationClass::ALL.into_iter().fold(OperationSet::default(), OperationSet::with);
        assert_eq!(operations_to_aidl(all), OP_READ | OP_WRITE | OP_REGISTER | OP_RAW_TRANSFER);
        for class in OperationClass::ALL {
            let one = OperationSet::default().with(class);
            assert_eq!(operations_from_aidl(operations_to_aidl(one)), one, "{class:?}");
        }
        assert_eq!(operations_to_aidl(OperationSet::default()), 0);
        // A class from a newer service is ignored, not misread.
        assert_eq!(operations_from_aidl(1 << 20), OperationSet::default());
    }

    #[test]
    fn the_contract_limits_and_functionality_bits_are_the_cores() {
        use i2c_hal_binder::aidl::{BusInfo as B, II2cSession as session};
        use i2c_hal_core::request::{func::*, MAX_MESSAGES, MAX_TRANSFER_BYTES, SMBUS_BLOCK_MAX};
        assert_eq!(session::MAX_MESSAGES as usize, MAX_MESSAGES);
        assert_eq!(session::MAX_TRANSFER_BYTES as usize, MAX_TRANSFER_BYTES);
        assert_eq!(session::SMBUS_BLOCK_MAX as usize, SMBUS_BLOCK_MAX);
        let pairs = [
            (B::FUNC_I2C, I2C_FUNC_I2C),
            (B::FUNC_10BIT_ADDR, I2C_FUNC_10BIT_ADDR),
            (B::FUNC_SMBUS_PEC, I2C_FUNC_SMBUS_PEC),
            (B::FUNC_SMBUS_BLOCK_PROC_CALL, I2C_FUNC_SMBUS_BLOCK_PROC_CALL),
            (B::FUNC_SMBUS_QUICK, I2C_FUNC_SMBUS_QUICK),
            (B::FUNC_SMBUS_READ_BYTE, I2C_FUNC_SMBUS_READ_BYTE),
            (B::FUNC_SMBUS_WRITE_BYTE, I2C_FUNC_SMBUS_WRITE_BYTE),
            (B::FUNC_SMBUS_READ_BYTE_DATA, I2C_FUNC_SMBUS_READ_BYTE_DATA),
            (B::FUNC_SMBUS_WRITE_BYTE_DATA, I2C_FUNC_SMBUS_WRITE_BYTE_DATA),
            (B::FUNC_SMBUS_READ_WORD_DATA, I2C_FUNC_SMBUS_READ_WORD_DATA),
            (B::FUNC_SMBUS_WRITE_WORD_DATA, I2C_FUNC_SMBUS_WRITE_WORD_DATA),
            (B::FUNC_SMBUS_PROC_CALL, I2C_FUNC_SMBUS_PROC_CALL),
            (B::FUNC_SMBUS_READ_BLOCK_DATA, I2C_FUNC_SMBUS_READ_BLOCK_DATA),
            (B::FUNC_SMBUS_WRITE_BLOCK_DATA, I2C_FUNC_SMBUS_WRITE_BLOCK_DATA),
            (B::FUNC_SMBUS_READ_I2C_BLOCK, I2C_FUNC_SMBUS_READ_I2C_BLOCK),
            (B::FUNC_SMBUS_WRITE_I2C_BLOCK, I2C_FUNC_SMBUS_WRITE_I2C_BLOCK),
        ];
        for (aidl, kernel) in pairs {
            assert_eq!(aidl as u64, kernel, "{kernel:#x}");
        }
        // Every kernel bit the core names has its constant in the contract.
        assert_eq!(pairs.len(), NAMES.len());
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
        assert!(request.exclusive && !request.ten_bit && !request.pec);
        let request = open_request_from_aidl("3", 0, 0x150, FLAG_TEN_BIT | FLAG_PEC).unwrap();
        assert!(!request.exclusive && request.ten_bit && request.pec);
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
        assert_eq!(open_flags_to_aidl(true, false, false), FLAG_EXCLUSIVE);
        assert_eq!(open_flags_to_aidl(false, true, true), FLAG_TEN_BIT | FLAG_PEC);
        assert_eq!(open_flags_to_aidl(false, false, false), 0);
    }
}
