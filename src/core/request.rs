//! What a client may ask of a bus, validated before it reaches a device. Only plain reads and
//! writes exist here: adapter-wide knobs (I2C_TIMEOUT, I2C_RETRIES), I2C_SLAVE_FORCE and message
//! flags such as IGNORE_NAK or NOSTART have no representation, so no client can reach them.

use super::error::{Error, ErrorCode, Result};

/// I2C_RDWR_IOCTL_MAX_MSGS in include/uapi/linux/i2c-dev.h.
pub const MAX_MESSAGES: usize = 42;
/// i2c-dev refuses messages longer than 8192 bytes (drivers/i2c/i2c-dev.c).
pub const MAX_MESSAGE_LEN: usize = 8192;
/// I2C_SMBUS_BLOCK_MAX in include/uapi/linux/i2c.h.
pub const SMBUS_BLOCK_MAX: usize = 32;
/// 0x00-0x07 and 0x78-0x7f are reserved by the I2C specification.
pub const FIRST_ADDRESS: u16 = 0x08;
pub const LAST_ADDRESS: u16 = 0x77;

/// Functionality bits from include/uapi/linux/i2c.h (I2C_FUNCS result), kernel names kept.
pub mod func {
    pub const I2C_FUNC_I2C: u64 = 0x0000_0001;
    pub const I2C_FUNC_SMBUS_QUICK: u64 = 0x0001_0000;
    pub const I2C_FUNC_SMBUS_READ_BYTE: u64 = 0x0002_0000;
    pub const I2C_FUNC_SMBUS_WRITE_BYTE: u64 = 0x0004_0000;
    pub const I2C_FUNC_SMBUS_READ_BYTE_DATA: u64 = 0x0008_0000;
    pub const I2C_FUNC_SMBUS_WRITE_BYTE_DATA: u64 = 0x0010_0000;
    pub const I2C_FUNC_SMBUS_READ_WORD_DATA: u64 = 0x0020_0000;
    pub const I2C_FUNC_SMBUS_WRITE_WORD_DATA: u64 = 0x0040_0000;
    pub const I2C_FUNC_SMBUS_READ_BLOCK_DATA: u64 = 0x0100_0000;
    pub const I2C_FUNC_SMBUS_WRITE_BLOCK_DATA: u64 = 0x0200_0000;
    pub const I2C_FUNC_SMBUS_READ_I2C_BLOCK: u64 = 0x0400_0000;
    pub const I2C_FUNC_SMBUS_WRITE_I2C_BLOCK: u64 = 0x0800_0000;
    pub const I2C_FUNC_SMBUS_PEC: u64 = 0x0000_0008;
    pub const I2C_FUNC_SMBUS_PROC_CALL: u64 = 0x0080_0000;
    /// I2C_FUNC_SMBUS_EMUL: what the kernel emulates on top of plain I2C (no SMBus block read).
    pub const I2C_FUNC_SMBUS_EMUL: u64 = I2C_FUNC_SMBUS_QUICK
        | I2C_FUNC_SMBUS_READ_BYTE
        | I2C_FUNC_SMBUS_WRITE_BYTE
        | I2C_FUNC_SMBUS_READ_BYTE_DATA
        | I2C_FUNC_SMBUS_WRITE_BYTE_DATA
        | I2C_FUNC_SMBUS_READ_WORD_DATA
        | I2C_FUNC_SMBUS_WRITE_WORD_DATA
        | I2C_FUNC_SMBUS_PROC_CALL
        | I2C_FUNC_SMBUS_WRITE_BLOCK_DATA
        | I2C_FUNC_SMBUS_READ_I2C_BLOCK
        | I2C_FUNC_SMBUS_WRITE_I2C_BLOCK
        | I2C_FUNC_SMBUS_PEC;

    /// The kernel name of each bit above, for messages that say what an adapter lacks.
    pub const NAMES: [(u64, &str); 14] = [
        (I2C_FUNC_I2C, "I2C_FUNC_I2C"),
        (I2C_FUNC_SMBUS_PEC, "I2C_FUNC_SMBUS_PEC"),
        (I2C_FUNC_SMBUS_QUICK, "I2C_FUNC_SMBUS_QUICK"),
        (I2C_FUNC_SMBUS_READ_BYTE, "I2C_FUNC_SMBUS_READ_BYTE"),
        (I2C_FUNC_SMBUS_WRITE_BYTE, "I2C_FUNC_SMBUS_WRITE_BYTE"),
        (I2C_FUNC_SMBUS_READ_BYTE_DATA, "I2C_FUNC_SMBUS_READ_BYTE_DATA"),
        (I2C_FUNC_SMBUS_WRITE_BYTE_DATA, "I2C_FUNC_SMBUS_WRITE_BYTE_DATA"),
        (I2C_FUNC_SMBUS_READ_WORD_DATA, "I2C_FUNC_SMBUS_READ_WORD_DATA"),
        (I2C_FUNC_SMBUS_WRITE_WORD_DATA, "I2C_FUNC_SMBUS_WRITE_WORD_DATA"),
        (I2C_FUNC_SMBUS_PROC_CALL, "I2C_FUNC_SMBUS_PROC_CALL"),
        (I2C_FUNC_SMBUS_READ_BLOCK_DATA, "I2C_FUNC_SMBUS_READ_BLOCK_DATA"),
        (I2C_FUNC_SMBUS_WRITE_BLOCK_DATA, "I2C_FUNC_SMBUS_WRITE_BLOCK_DATA"),
        (I2C_FUNC_SMBUS_READ_I2C_BLOCK, "I2C_FUNC_SMBUS_READ_I2C_BLOCK"),
        (I2C_FUNC_SMBUS_WRITE_I2C_BLOCK, "I2C_FUNC_SMBUS_WRITE_I2C_BLOCK"),
    ];
}

/// The kernel names of the bits of `required` that `available` lacks, joined with " | ", or
/// None if none is missing. Bits without a name in `func::NAMES` show as "I2C_FUNC_(unknown)".
pub fn missing_functionality(available: u64, required: u64) -> Option<String> {
    let missing = required & !available;
    if missing == 0 {
        return None;
    }
    let mut names: Vec<&str> =
        func::NAMES.iter().filter(|(bit, _)| missing & bit != 0).map(|(_, name)| *name).collect();
    let named = func::NAMES.iter().fold(0, |all, (bit, _)| all | bit);
    if missing & !named != 0 {
        names.push("I2C_FUNC_(unknown)");
    }
    Some(names.join(" | "))
}

/// Refuses, with NOT_SUPPORTED, an operation needing `required` on an adapter whose I2C_FUNCS
/// is `available`. The one functionality check: backends do not repeat it.
pub fn require_functionality(available: u64, required: u64) -> Result<()> {
    let Some(missing) = missing_functionality(available, required) else {
        return Ok(());
    };
    // Plain I2C missing is the one case with an alternative the client can take.
    let hint = if required & !available & func::I2C_FUNC_I2C != 0 {
        " (SMBus-only adapter: use SMBus operations)"
    } else {
        ""
    };
    Err(Error::new(
        ErrorCode::NotSupported,
        format!("functionality {available:#x} lacks {missing}{hint}"),
    ))
}

/// One message of a combined transfer; the address is always the session's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Read(usize),
    Write(Vec<u8>),
}

impl Message {
    pub fn is_read(&self) -> bool {
        matches!(self, Message::Read(_))
    }

    /// Bytes on the wire: read for a read, written for a write.
    pub fn len(&self) -> usize {
        match self {
            Message::Read(len) => *len,
            Message::Write(data) => data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The SMBus protocol forms a session may use (I2C_SMBUS ioctl sizes), with their data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmbusOp {
    Quick { read: bool },
    ReadByte,
    WriteByte(u8),
    ReadByteData(u8),
    WriteByteData(u8, u8),
    ReadWordData(u8),
    WriteWordData(u8, u16),
    ReadBlockData(u8),
    WriteBlockData(u8, Vec<u8>),
    ReadI2cBlockData(u8, usize),
    WriteI2cBlockData(u8, Vec<u8>),
}

/// What an SMBus operation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmbusValue {
    None,
    Byte(u8),
    Word(u16),
    Block(Vec<u8>),
}

/// The class of an operation, for policy decisions and per-class counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationClass {
    /// SMBus reads (including quick): register reads.
    Read,
    /// SMBus writes: register writes.
    Write,
    /// Raw I2C_RDWR transfers, which can do anything the device allows.
    RawTransfer,
}

impl SmbusOp {
    /// The protocol's name, as the SMBus specification and kernel documentation call it.
    pub fn name(&self) -> &'static str {
        match self {
            SmbusOp::Quick { .. } => "quick",
            SmbusOp::ReadByte => "read byte",
            SmbusOp::WriteByte(_) => "write byte",
            SmbusOp::ReadByteData(_) => "read byte data",
            SmbusOp::WriteByteData(..) => "write byte data",
            SmbusOp::ReadWordData(_) => "read word data",
            SmbusOp::WriteWordData(..) => "write word data",
            SmbusOp::ReadBlockData(_) => "read block data",
            SmbusOp::WriteBlockData(..) => "write block data",
            SmbusOp::ReadI2cBlockData(..) => "read I2C block data",
            SmbusOp::WriteI2cBlockData(..) => "write I2C block data",
        }
    }

    /// The I2C_FUNC bit the adapter must have for this operation.
    pub fn required_functionality(&self) -> u64 {
        use func::*;
        match self {
            SmbusOp::Quick { .. } => I2C_FUNC_SMBUS_QUICK,
            SmbusOp::ReadByte => I2C_FUNC_SMBUS_READ_BYTE,
            SmbusOp::WriteByte(_) => I2C_FUNC_SMBUS_WRITE_BYTE,
            SmbusOp::ReadByteData(_) => I2C_FUNC_SMBUS_READ_BYTE_DATA,
            SmbusOp::WriteByteData(..) => I2C_FUNC_SMBUS_WRITE_BYTE_DATA,
            SmbusOp::ReadWordData(_) => I2C_FUNC_SMBUS_READ_WORD_DATA,
            SmbusOp::WriteWordData(..) => I2C_FUNC_SMBUS_WRITE_WORD_DATA,
            SmbusOp::ReadBlockData(_) => I2C_FUNC_SMBUS_READ_BLOCK_DATA,
            SmbusOp::WriteBlockData(..) => I2C_FUNC_SMBUS_WRITE_BLOCK_DATA,
            SmbusOp::ReadI2cBlockData(..) => I2C_FUNC_SMBUS_READ_I2C_BLOCK,
            SmbusOp::WriteI2cBlockData(..) => I2C_FUNC_SMBUS_WRITE_I2C_BLOCK,
        }
    }

    pub fn class(&self) -> OperationClass {
        match self {
            SmbusOp::Quick { .. }
            | SmbusOp::ReadByte
            | SmbusOp::ReadByteData(_)
            | SmbusOp::ReadWordData(_)
            | SmbusOp::ReadBlockData(_)
            | SmbusOp::ReadI2cBlockData(..) => OperationClass::Read,
            _ => OperationClass::Write,
        }
    }

    /// Checks the lengths the kernel would refuse, so the client gets a precise code.
    pub fn validate(&self) -> Result<()> {
        match self {
            SmbusOp::WriteBlockData(_, data) | SmbusOp::WriteI2cBlockData(_, data) => {
                check_block_len(data.len())
            }
            SmbusOp::ReadI2cBlockData(_, len) => check_block_len(*len),
            _ => Ok(()),
        }
    }
}

fn check_block_len(len: usize) -> Result<()> {
    if len == 0 {
        return Err(Error::new(ErrorCode::InvalidArgument, "SMBus block of 0 bytes"));
    }
    if len > SMBUS_BLOCK_MAX {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("SMBus block of {len} bytes (at most {SMBUS_BLOCK_MAX})"),
        ));
    }
    Ok(())
}

/// Checks a 7-bit, non-reserved address.
pub fn validate_address(address: i64) -> Result<u16> {
    if !(FIRST_ADDRESS as i64..=LAST_ADDRESS as i64).contains(&address) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "address {address:#04x} is outside 0x{FIRST_ADDRESS:02x}..0x{LAST_ADDRESS:02x} \
                 (7-bit, reserved addresses excluded)"
            ),
        ));
    }
    Ok(address as u16)
}

/// Checks a combined transfer against the limits of I2C_RDWR. The one home of that rule: the
/// broker applies it to every transfer, and the backends call it again rather than keep a copy.
pub fn validate_transfer(messages: &[Message]) -> Result<()> {
    if messages.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "a transfer needs at least one message",
        ));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("{} messages in one transfer (at most {MAX_MESSAGES})", messages.len()),
        ));
    }
    for (index, message) in messages.iter().enumerate() {
        let len = message.len();
        if len == 0 {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("message {index} has length 0"),
            ));
        }
        if len > MAX_MESSAGE_LEN {
            return Err(Error::new(
                ErrorCode::TooLarge,
                format!("message {index} has {len} bytes (at most {MAX_MESSAGE_LEN})"),
            ));
        }
    }
    Ok(())
}

/// Converts a client's int to a byte, refusing values that do not fit.
pub fn byte_arg(what: &str, value: i32) -> Result<u8> {
    u8::try_from(value).map_err(|_| {
        Error::new(ErrorCode::InvalidArgument, format!("{what} {value} is not in 0..255"))
    })
}

/// Converts a client's int to a 16-bit word, refusing values that do not fit.
pub fn word_arg(what: &str, value: i32) -> Result<u16> {
    u16::try_from(value).map_err(|_| {
        Error::new(ErrorCode::InvalidArgument, format!("{what} {value} is not in 0..65535"))
    })
}

/// Converts a client's length to usize, refusing negative values.
pub fn length_arg(what: &str, value: i32) -> Result<usize> {
    usize::try_from(value)
        .map_err(|_| Error::new(ErrorCode::InvalidArgument, format!("{what} {value} is negative")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_outside_the_7_bit_unreserved_range_are_refused() {
        assert_eq!(validate_address(0x50), Ok(0x50));
        assert_eq!(validate_address(0x08), Ok(0x08));
        assert_eq!(validate_address(0x77), Ok(0x77));
        for bad in [-1, 0, 0x07, 0x78, 0x7f, 0x80, 0x3ff, i64::MAX] {
            assert_eq!(validate_address(bad).unwrap_err().code, ErrorCode::InvalidArgument);
        }
    }

    #[test]
    fn transfers_are_checked_against_i2c_rdwr_limits() {
        assert!(validate_transfer(&[Message::Write(vec![0]), Message::Read(4)]).is_ok());
        assert_eq!(validate_transfer(&[]).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(
            validate_transfer(&[Message::Read(0)]).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            validate_transfer(&[Message::Write(vec![])]).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            validate_transfer(&[Message::Read(MAX_MESSAGE_LEN + 1)]).unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert!(validate_transfer(&[Message::Read(MAX_MESSAGE_LEN)]).is_ok());
        let too_many = vec![Message::Read(1); MAX_MESSAGES + 1];
        assert_eq!(validate_transfer(&too_many).unwrap_err().code, ErrorCode::TooLarge);
        assert!(validate_transfer(&too_many[..MAX_MESSAGES]).is_ok());
    }

    #[test]
    fn missing_functionality_names_the_kernel_bit() {
        use func::*;
        assert_eq!(missing_functionality(I2C_FUNC_I2C, I2C_FUNC_I2C), None);
        assert_eq!(
            missing_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_I2C).as_deref(),
            Some("I2C_FUNC_I2C")
        );
        assert_eq!(
            missing_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_SMBUS_READ_BLOCK_DATA).as_deref(),
            Some("I2C_FUNC_SMBUS_READ_BLOCK_DATA")
        );
        assert_eq!(missing_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_SMBUS_READ_BYTE_DATA), None);
        assert_eq!(missing_functionality(0, 1 << 40).as_deref(), Some("I2C_FUNC_(unknown)"));
        for op in [SmbusOp::ReadBlockData(0), SmbusOp::Quick { read: true }] {
            assert!(missing_functionality(0, op.required_functionality()).is_some());
        }
    }

    #[test]
    fn every_missing_bit_is_named() {
        use func::*;
        let required = I2C_FUNC_I2C | I2C_FUNC_SMBUS_QUICK | 1 << 40;
        assert_eq!(
            missing_functionality(I2C_FUNC_SMBUS_QUICK, required).as_deref(),
            Some("I2C_FUNC_I2C | I2C_FUNC_(unknown)")
        );
        let all_named = NAMES.iter().fold(0, |all, (bit, _)| all | bit);
        assert_eq!(missing_functionality(0, all_named).unwrap().matches("I2C_FUNC_").count(), 14);
    }

    #[test]
    fn required_functionality_is_checked_by_kernel_name() {
        use func::*;
        assert_eq!(require_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_SMBUS_QUICK), Ok(()));
        let err =
            require_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_SMBUS_READ_BLOCK_DATA).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotSupported);
        assert!(err.message.contains("lacks I2C_FUNC_SMBUS_READ_BLOCK_DATA"), "{}", err.message);
        assert!(!err.message.contains("SMBus-only"), "{}", err.message);
        let err = require_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_I2C).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotSupported);
        assert!(err.message.contains("lacks I2C_FUNC_I2C"), "{}", err.message);
        assert!(
            err.message.contains("SMBus-only adapter: use SMBus operations"),
            "{}",
            err.message
        );
    }

    #[test]
    fn smbus_blocks_are_limited_to_32_bytes() {
        assert!(SmbusOp::WriteBlockData(0, vec![1; 32]).validate().is_ok());
        assert_eq!(
            SmbusOp::WriteBlockData(0, vec![1; 33]).validate().unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert_eq!(
            SmbusOp::ReadI2cBlockData(0, 0).validate().unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn int_arguments_must_fit_their_width() {
        assert_eq!(byte_arg("value", 255), Ok(255));
        assert_eq!(byte_arg("value", 256).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(byte_arg("value", -1).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(word_arg("value", 65535), Ok(65535));
        assert_eq!(word_arg("value", 65536).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(length_arg("length", -3).unwrap_err().code, ErrorCode::InvalidArgument);
    }
}
