//! Numbers as i2c-tools users type them (decimal or 0x-hex), and how values print.

pub use i2c_hal_core::request::parse_number;
use i2c_hal_core::request::{validate_address, SmbusValue};
use serde_json::{json, Value};

/// A 7-bit address outside the reserved ranges, as i2cget/i2cset accept without -f, or with
/// `ten_bit` a 10-bit address, 0x000..0x3ff.
pub fn parse_address(text: &str, ten_bit: bool) -> Result<u16, String> {
    check_address(parse_number(text)?, ten_bit)
}

/// The address check of `parse_address`, for a number already parsed (the command line parses
/// ADDR before it knows whether -t was given). The service's own rule, so both agree.
pub fn check_address(number: u64, ten_bit: bool) -> Result<u16, String> {
    validate_address(i64::try_from(number).unwrap_or(i64::MAX), ten_bit)
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
        assert_eq!(parse_address("0x08", false), Ok(0x08));
        assert_eq!(parse_address("0x77", false), Ok(0x77));
        assert_eq!(parse_address("80", false), Ok(0x50));
        for bad in ["0x07", "0x78", "0x7f", "0x80", "0x3ff", "18446744073709551615"] {
            assert!(parse_address(bad, false).is_err(), "{bad} should be refused");
        }
        assert!(parse_address("0xzz", false).unwrap_err().contains("not a number"));
    }

    #[test]
    fn ten_bit_addresses_span_0_to_0x3ff() {
        assert_eq!(parse_address("0x000", true), Ok(0));
        assert_eq!(parse_address("0x150", true), Ok(0x150));
        assert_eq!(parse_address("0x3ff", true), Ok(0x3ff));
        let error = parse_address("0x400", true).unwrap_err();
        assert!(error.contains("0x000..0x3ff"), "{error}");
        assert!(parse_address("0x150", false).unwrap_err().contains("ten-bit"));
        assert!(check_address(u64::MAX, true).is_err());
    }

    #[test]
    fn registers_and_bytes_fit_eight_bits() {
        assert_eq!(parse_register("0xff"), Ok(0xff));
        assert!(parse_register("256").unwrap_err().contains("register"));
        assert_eq!(parse_byte("255"), Ok(255));
        assert!(parse_byte("0x100").is_err());
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
