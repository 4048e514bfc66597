//! The encodings both ends of the wire share: flag and operation bits, and integers that must
//! saturate rather than wrap on their way into AIDL's signed types. The service's strict reading
//! of a request is `i2c_hal_service::convert`; a client's lenient reading of a reply is
//! `i2c_hal_client::convert`.

use crate::aidl::{
    II2cManager::{FLAG_EXCLUSIVE, FLAG_PEC, FLAG_TEN_BIT},
    II2cSession::{OP_RAW_TRANSFER, OP_READ, OP_REGISTER, OP_WRITE},
};
use i2c_hal_core::request::OperationClass;

/// A count or id for the wire: past the wire type's range it saturates, never wraps.
pub fn saturate_i32(value: impl TryInto<i32>) -> i32 {
    value.try_into().unwrap_or(i32::MAX)
}

/// As [`saturate_i32`], for the wire's 64-bit fields.
pub fn saturate_i64(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// The openSession flags of a session's options.
pub fn open_flags_to_aidl(exclusive: bool, ten_bit: bool, pec: bool) -> i32 {
    [(exclusive, FLAG_EXCLUSIVE), (ten_bit, FLAG_TEN_BIT), (pec, FLAG_PEC)]
        .into_iter()
        .filter(|(set, _)| *set)
        .fold(0, |flags, (_, flag)| flags | flag)
}

/// The II2cSession.OP_* bit of each operation class.
pub fn operation_bit(class: OperationClass) -> i32 {
    match class {
        OperationClass::Read => OP_READ,
        OperationClass::Write => OP_WRITE,
        OperationClass::Register => OP_REGISTER,
        OperationClass::RawTransfer => OP_RAW_TRANSFER,
    }
}

/// A length for the wire (a read length, a count); saturates.
pub fn length_to_aidl(len: usize) -> i32 {
    saturate_i32(len)
}
