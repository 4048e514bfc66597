//! What a client makes of the service's replies, and the wire form of what it asks. Lenient
//! where the service is strict: a value a (possibly newer or broken) service sends is read,
//! never refused, so that a client keeps working against any version of the contract.

use crate::status::{RemovalReport, SessionReport, SessionState, StatusReport};
use i2c_hal_binder::aidl::{
    BusInfo::BusInfo as AidlBusInfo,
    I2cMessage::I2cMessage,
    II2cManager::{FLAG_EXCLUSIVE, FLAG_PEC, FLAG_TEN_BIT},
    LossReason::LossReason as AidlLossReason,
    RemovalRecord::RemovalRecord,
    ServiceStatus::ServiceStatus,
    SessionStatus::{SessionStatus, STATE_LIVE, STATE_OPENING},
    TransferResult::TransferResult,
};
use i2c_hal_binder::wire::operation_bit;
pub use i2c_hal_binder::wire::{length_to_aidl, open_flags_to_aidl};
use i2c_hal_core::device::{Target, Transferred};
use i2c_hal_core::policy::Caller;
use i2c_hal_core::request::{Message, OperationClass, OperationSet};
use i2c_hal_core::{BusInfo, Error, ErrorCode, Generation, LossReason, Result};
use std::time::Duration;

/// What a client makes of a BusInfo. A negative number or generation (only a broken service
/// sends one) becomes 0, which no live bus has.
pub fn bus_from_aidl(info: &AidlBusInfo) -> BusInfo {
    BusInfo {
        bus_number: or_zero(info.busNumber),
        name: info.name.clone(),
        stable_id: info.stableId.clone(),
        generation: Generation(or_zero(info.generation)),
        functionality: info.functionality as u64,
    }
}

/// A value from the wire that should not be negative (only a broken service sends one, and it
/// is read as 0, which names nothing).
fn or_zero<S, T: TryFrom<S> + Default>(value: S) -> T {
    T::try_from(value).unwrap_or_default()
}

/// The wire form of a generation a client asks for (0: current).
pub fn generation_to_aidl(generation: u64) -> Result<i64> {
    i64::try_from(generation).map_err(|_| {
        Error::new(ErrorCode::InvalidArgument, format!("generation {generation} is too large"))
    })
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

/// A negative count (only a broken service sends one) reads as nothing completed.
pub fn transferred_from_aidl(result: TransferResult) -> Transferred {
    Transferred {
        completed: or_zero(result.messagesCompleted),
        reads: result.reads.into_iter().map(|r| r.data).collect(),
    }
}

/// Bits this build does not know (a newer service) are ignored.
pub fn operations_from_aidl(bits: i32) -> OperationSet {
    OperationClass::ALL
        .into_iter()
        .filter(|class| bits & operation_bit(*class) != 0)
        .fold(OperationSet::default(), OperationSet::with)
}

/// What a client makes of an int that should hold a byte (a broken service could send more).
pub fn byte_from_reply(value: i32) -> u8 {
    value as u8
}

/// What a client makes of an int that should hold a word.
pub fn word_from_reply(value: i32) -> u16 {
    value as u16
}

fn duration_from_millis(value: i64) -> Duration {
    Duration::from_millis(or_zero(value))
}

/// What a client makes of a status report; out-of-range values (a broken service) read as 0.
pub fn status_from_aidl(status: &ServiceStatus) -> StatusReport {
    StatusReport {
        uptime: duration_from_millis(status.uptimeMillis),
        buses: status.buses.iter().map(bus_from_aidl).collect(),
        sessions: status.sessions.iter().map(session_from_aidl).collect(),
        listeners: or_zero(status.busListeners),
        counters: status.counters.iter().map(|c| (c.name.clone(), or_zero(c.value))).collect(),
        recent_removals: status.recentRemovals.iter().map(removal_from_aidl).collect(),
    }
}

fn removal_from_aidl(record: &RemovalRecord) -> RemovalReport {
    RemovalReport {
        bus_number: or_zero(record.busNumber),
        stable_id: record.stableId.clone(),
        generation: Generation(or_zero(record.generation)),
        latency: Duration::from_micros(or_zero(record.latencyMicros)),
        sessions_lost: or_zero(record.sessionsLost),
        age: duration_from_millis(record.ageMillis),
        // -1 (or any negative value) is the wire's "none yet".
        last_callback: u64::try_from(record.lastCallbackMicros).ok().map(Duration::from_micros),
        event_clock_nanos: u64::try_from(record.eventMonotonicNanos).ok().filter(|&n| n > 0),
    }
}

fn session_from_aidl(session: &SessionStatus) -> SessionReport {
    let state = match session.state {
        STATE_OPENING => SessionState::Opening,
        STATE_LIVE => SessionState::Live,
        // A state this build does not know is reported as what it most likely means: dead.
        _ => SessionState::Dead(
            loss_reason_from_aidl(session.lossReason).unwrap_or(LossReason::Removed),
        ),
    };
    SessionReport {
        id: or_zero(session.sessionId),
        caller: Caller { uid: session.uid as u32, pid: session.pid },
        bus_number: or_zero(session.busNumber),
        stable_id: session.stableId.clone(),
        generation: Generation(or_zero(session.generation)),
        target: Target {
            address: or_zero(session.address),
            ten_bit: session.flags & FLAG_TEN_BIT != 0,
            pec: session.flags & FLAG_PEC != 0,
        },
        exclusive: session.flags & FLAG_EXCLUSIVE != 0,
        age: duration_from_millis(session.ageMillis),
        state,
    }
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

/// None for a reason this build does not know (a newer service); the session is lost all the
/// same.
pub fn loss_reason_from_aidl(reason: AidlLossReason) -> Option<LossReason> {
    LossReason::from_i32(reason.0)
}
