//! Numbers as i2c-tools users type them (decimal or 0x-hex), and the SMBus operations of
//! get/set built from them.

use crate::core::request::{validate_address, SmbusOp, SmbusValue};
use serde_json::{json, Value};

/// Parses decimal or 0x-hex. Signs and other prefixes are refused: nothing here is negative.
pub fn parse_number(text: &str) -> Result<u64, String> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(format!("'{text}' is not a number (decimal or 0x-hex)"));
    }
    u64::from_str_radix(digits, radix).map_err(|_| format!("'{text}' is too large"))
}

/// A 7-bit address outside the reserved ranges, as i2cget/i2cset accept without -f.
pub fn parse_address(text: &str) -> Result<u16, String> {
    let number = parse_number(text)?;
    validate_address(i64::try_from(number).unwrap_or(i64::MAX), false)
        .map_err(|error| error.message)
}

/// A register (SMBus command byte).
pub fn parse_register(text: &str) -> Result<u8, String> {
    let number = parse_number(text)?;
    u8::try_from(number).map_err(|_| format!("register {text} is not in 0x00..0xff"))
}

/// A data byte, 0x00..0xff.
pub fn parse_byte(text: &str) -> Result<u8, String> {
    let number = parse_number(text)?;
    u8::try_from(number).map_err(|_| format!("data byte {text} is not in 0x00..0xff"))
}

/// i2cget/i2cset's MODE argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DataSize {
    /// Byte data.
    #[value(name = "b")]
    Byte,
    /// Word data.
    #[value(name = "w")]
    Word,
}

impl DataSize {
    /// For the `hold` command loop, where clap is not involved.
    pub fn parse(text: &str) -> Result<DataSize, String> {
        match text {
            "b" => Ok(DataSize::Byte),
            "w" => Ok(DataSize::Word),
            _ => Err(format!("mode '{text}' is neither b (byte) nor w (word)")),
        }
    }
}

pub fn read_op(register: u8, size: DataSize) -> SmbusOp {
    match size {
        DataSize::Byte => SmbusOp::ReadByteData(register),
        DataSize::Word => SmbusOp::ReadWordData(register),
    }
}

/// The write for `set`; a value wider than the mode is a usage error, as with i2cset.
pub fn write_op(register: u8, value: u64, size: DataSize) -> Result<SmbusOp, String> {
    match size {
        DataSize::Byte => u8::try_from(value)
            .map(|byte| SmbusOp::WriteByteData(register, byte))
            .map_err(|_| format!("value {value:#x} does not fit a byte (0x00..0xff)")),
        DataSize::Word => u16::try_from(value)
            .map(|word| SmbusOp::WriteWordData(register, word))
            .map_err(|_| format!("value {value:#x} does not fit a word (0x0000..0xffff)")),
    }
}

/// i2cget's output: `0x%02x` for bytes, `0x%04x` for words.
pub fn format_value(value: &SmbusValue) -> String {
    match value {
        SmbusValue::None => String::new(),
        SmbusValue::Byte(byte) => format!("{byte:#04x}"),
        SmbusValue::Word(word) => format!("{word:#06x}"),
        SmbusValue::Block(bytes) => format_bytes(bytes),
    }
}

pub fn value_json(value: &SmbusValue) -> Value {
    match value {
        SmbusValue::None => Value::Null,
        SmbusValue::Byte(byte) => json!(byte),
        SmbusValue::Word(word) => json!(word),
        SmbusValue::Block(bytes) => json!(bytes),
    }
}

/// i2ctransfer's output for one read message: `0x%02x` separated by spaces.
pub fn format_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:#04x}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_decimal_or_0x_hex() {
        assert_eq!(parse_number("0"), Ok(0));
        assert_eq!(parse_number("80"), Ok(80));
        assert_eq!(parse_number("0x50"), Ok(0x50));
        assert_eq!(parse_number("0XfF"), Ok(0xff));
        assert_eq!(parse_number("010"), Ok(10));
        for bad in ["", "0x", "x50", "0xg1", "-1", "+1", "1.0", " 1", "0b101", "12z"] {
            assert!(parse_number(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_number("0x1ffffffffffffffff").unwrap_err().contains("too large"));
    }

    #[test]
    fn addresses_are_7_bit_and_unreserved() {
        assert_eq!(parse_address("0x08"), Ok(0x08));
        assert_eq!(parse_address("0x77"), Ok(0x77));
        assert_eq!(parse_address("80"), Ok(0x50));
        for bad in ["0x07", "0x78", "0x7f", "0x80", "0x3ff", "18446744073709551615"] {
            assert!(parse_address(bad).is_err(), "{bad} should be refused");
        }
        assert!(parse_address("0xzz").unwrap_err().contains("not a number"));
    }

    #[test]
    fn registers_and_bytes_fit_eight_bits() {
        assert_eq!(parse_register("0xff"), Ok(0xff));
        assert!(parse_register("256").unwrap_err().contains("register"));
        assert_eq!(parse_byte("255"), Ok(255));
        assert!(parse_byte("0x100").is_err());
    }

    #[test]
    fn modes_pick_byte_or_word_operations() {
        assert_eq!(DataSize::parse("b"), Ok(DataSize::Byte));
        assert_eq!(DataSize::parse("w"), Ok(DataSize::Word));
        assert!(DataSize::parse("c").is_err());
        assert_eq!(read_op(0x10, DataSize::Byte), SmbusOp::ReadByteData(0x10));
        assert_eq!(read_op(0x10, DataSize::Word), SmbusOp::ReadWordData(0x10));
    }

    #[test]
    fn write_values_must_fit_the_mode() {
        assert_eq!(write_op(1, 0xff, DataSize::Byte), Ok(SmbusOp::WriteByteData(1, 0xff)));
        assert!(write_op(1, 0x100, DataSize::Byte).unwrap_err().contains("byte"));
        assert_eq!(write_op(1, 0xffff, DataSize::Word), Ok(SmbusOp::WriteWordData(1, 0xffff)));
        assert!(write_op(1, 0x10000, DataSize::Word).unwrap_err().contains("word"));
    }

    #[test]
    fn values_print_like_i2cget() {
        assert_eq!(format_value(&SmbusValue::Byte(0x0a)), "0x0a");
        assert_eq!(format_value(&SmbusValue::Word(0x1a)), "0x001a");
        assert_eq!(format_value(&SmbusValue::Block(vec![1, 0xff])), "0x01 0xff");
        assert_eq!(value_json(&SmbusValue::Word(0x1234)), json!(0x1234));
        assert_eq!(format_bytes(&[]), "");
    }
}
