//! The service's error vocabulary. `ErrorCode` mirrors the AIDL `vendor.i2c.ErrorCode` enum value
//! for value (the service converts with `as i32`, service/src/convert.rs), so the core never
//! needs the binder crates.

use std::fmt;

/// Mirrors `aidl/vendor/i2c/ErrorCode.aidl`; the discriminants are the wire values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
pub enum ErrorCode {
    BusGone = 1,
    NoSuchBus = 2,
    AddressNack = 3,
    AddressBusy = 4,
    InvalidArgument = 5,
    TooLarge = 6,
    NotSupported = 7,
    Timeout = 8,
    IoError = 9,
    PermissionDenied = 10,
    QuotaExceeded = 11,
    SessionClosed = 12,
    PecError = 13,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::BusGone,
        ErrorCode::NoSuchBus,
        ErrorCode::AddressNack,
        ErrorCode::AddressBusy,
        ErrorCode::InvalidArgument,
        ErrorCode::TooLarge,
        ErrorCode::NotSupported,
        ErrorCode::Timeout,
        ErrorCode::IoError,
        ErrorCode::PermissionDenied,
        ErrorCode::QuotaExceeded,
        ErrorCode::SessionClosed,
        ErrorCode::PecError,
    ];

    /// The AIDL enumerator name, which is what users see in logs and in i2cctl errors.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::BusGone => "BUS_GONE",
            ErrorCode::NoSuchBus => "NO_SUCH_BUS",
            ErrorCode::AddressNack => "ADDRESS_NACK",
            ErrorCode::AddressBusy => "ADDRESS_BUSY",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::NotSupported => "NOT_SUPPORTED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::IoError => "IO_ERROR",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::SessionClosed => "SESSION_CLOSED",
            ErrorCode::PecError => "PEC_ERROR",
        }
    }

    pub fn from_i32(value: i32) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| *c as i32 == value)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A typed failure with the context a client (and a log reader) needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_wire_values() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_i32(code as i32), Some(code));
        }
        assert_eq!(ErrorCode::from_i32(0), None);
        assert_eq!(ErrorCode::from_i32(99), None);
    }
}
