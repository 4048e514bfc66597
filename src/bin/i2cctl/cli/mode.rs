//! i2cget's and i2cset's MODE argument, and the SMBus commands behind get, set, call and
//! block-call. The same functions serve the command line and `hold`'s command loop.
//!
//! MODE letters are i2c-tools': `b` byte data (the default), `w` word data, `c` a byte without
//! a register (get: write the register as a byte, then read a byte; set: write the register as
//! the byte, no VALUE), `s` SMBus block, `i` I2C block. A `p` suffix asks for SMBus PEC, as in
//! i2c-tools, except on `i`: an I2C block transfer is not an SMBus command and carries no PEC.

use super::number::{parse_byte, parse_number};
use super::InputRefusal;
use i2c_hal_core::request::{SmbusOp, SMBUS_BLOCK_MAX};

/// The SMBus form a MODE letter names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `b`: read/write byte data.
    Byte,
    /// `w`: read/write word data.
    Word,
    /// `c`: send byte / receive byte, the register being the byte sent.
    SendReceiveByte,
    /// `s`: SMBus block data (the device says how long, on reads).
    Block,
    /// `i`: I2C block data.
    I2cBlock,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    pub form: Form,
    /// The `p` suffix: the session is opened with PEC.
    pub pec: bool,
}

pub const MODES: &str = "b, w, c, s or i, with p appended for PEC (not to i)";

impl Default for Mode {
    fn default() -> Mode {
        Mode { form: Form::Byte, pec: false }
    }
}

impl Mode {
    pub fn parse(text: &str) -> Result<Mode, String> {
        let (letter, pec) = match text.strip_suffix('p') {
            Some(letter) if !letter.is_empty() => (letter, true),
            _ => (text, false),
        };
        let form = match letter {
            "b" => Form::Byte,
            "w" => Form::Word,
            "c" => Form::SendReceiveByte,
            "s" => Form::Block,
            "i" => Form::I2cBlock,
            _ => return Err(format!("mode '{text}' is not one of {MODES}")),
        };
        if pec && form == Form::I2cBlock {
            return Err("PEC is not defined for I2C block transfers (mode i)".to_string());
        }
        Ok(Mode { form, pec })
    }
}

/// What one get, set, call or block-call does: SMBus commands on one session, in order (the
/// last one's answer is what is printed), and whether that session carries PEC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmbusPlan {
    pub ops: Vec<SmbusOp>,
    pub pec: bool,
}

/// `get REG [MODE [LENGTH]]`; LENGTH only in mode i (1..32, 32 if left out, as in i2cget).
pub fn plan_get(
    register: u8,
    mode: Option<&str>,
    length: Option<&str>,
) -> Result<SmbusPlan, InputRefusal> {
    let mode = mode.map(Mode::parse).transpose()?.unwrap_or_default();
    if length.is_some() && mode.form != Form::I2cBlock {
        return Err("LENGTH is for mode i (I2C block) only".into());
    }
    let ops = match mode.form {
        Form::Byte => vec![SmbusOp::ReadByteData(register)],
        Form::Word => vec![SmbusOp::ReadWordData(register)],
        // i2cget's "c": the register goes out as a byte of its own, then a byte is read.
        Form::SendReceiveByte => vec![SmbusOp::WriteByte(register), SmbusOp::ReadByte],
        Form::Block => vec![SmbusOp::ReadBlockData(register)],
        Form::I2cBlock => {
            let length = length.map(parse_block_length).transpose()?.unwrap_or(SMBUS_BLOCK_MAX);
            vec![SmbusOp::ReadI2cBlockData(register, length)]
        }
    };
    Ok(SmbusPlan { ops, pec: mode.pec })
}

fn parse_block_length(text: &str) -> Result<usize, InputRefusal> {
    match parse_number(text)? {
        length @ 1..=32 => Ok(length as usize),
        0 => Err(InputRefusal::Usage(format!("LENGTH {text} is not in 1..{SMBUS_BLOCK_MAX}"))),
        _ => Err(InputRefusal::TooLarge(format!("LENGTH {text} is more than {SMBUS_BLOCK_MAX}"))),
    }
}

/// `set REG VALUE... [MODE]`: one VALUE for b and w, 1..32 bytes for s and i, none for c. As
/// with i2cset, MODE comes last; a word that starts with a letter is the MODE.
pub fn plan_set(register: u8, words: &[impl AsRef<str>]) -> Result<SmbusPlan, InputRefusal> {
    let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
    let (values, mode) = match words.split_last() {
        Some((last, values)) if last.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            (values, Mode::parse(last)?)
        }
        _ => (&words[..], Mode::default()),
    };
    let op = match (mode.form, values) {
        (Form::Byte, [value]) => SmbusOp::WriteByteData(register, fit_byte(value)?),
        (Form::Word, [value]) => SmbusOp::WriteWordData(register, fit_word(value)?),
        (Form::SendReceiveByte, []) => SmbusOp::WriteByte(register),
        (Form::Block, values) => SmbusOp::WriteBlockData(register, block(values)?),
        (Form::I2cBlock, values) => SmbusOp::WriteI2cBlockData(register, block(values)?),
        (Form::Byte | Form::Word, _) => {
            return Err(format!("mode {} takes exactly one VALUE", letter(mode.form)).into());
        }
        (Form::SendReceiveByte, _) => {
            return Err("mode c takes no VALUE: REG is the byte written".into());
        }
    };
    Ok(SmbusPlan { ops: vec![op], pec: mode.pec })
}

/// `call REG VALUE [p]`: an SMBus process call, a word out and a word back.
pub fn plan_call(
    register: u8,
    value: &str,
    suffix: Option<&str>,
) -> Result<SmbusPlan, InputRefusal> {
    let pec = pec_suffix(suffix)?;
    Ok(SmbusPlan { ops: vec![SmbusOp::ProcessCall(register, fit_word(value)?)], pec })
}

/// `block-call REG BYTE... [p]`: an SMBus block process call, 1..32 bytes out, a block back.
pub fn plan_block_call(register: u8, words: &[impl AsRef<str>]) -> Result<SmbusPlan, InputRefusal> {
    let words: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
    let (bytes, pec) = match words.split_last() {
        Some((last, bytes)) if last.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            (bytes, pec_suffix(Some(last))?)
        }
        _ => (&words[..], false),
    };
    Ok(SmbusPlan { ops: vec![SmbusOp::BlockProcessCall(register, block(bytes)?)], pec })
}

fn pec_suffix(suffix: Option<&str>) -> Result<bool, String> {
    match suffix {
        None => Ok(false),
        Some("p") => Ok(true),
        Some(other) => Err(format!("'{other}' is not p (PEC)")),
    }
}

fn letter(form: Form) -> &'static str {
    match form {
        Form::Byte => "b",
        Form::Word => "w",
        Form::SendReceiveByte => "c",
        Form::Block => "s",
        Form::I2cBlock => "i",
    }
}

fn fit_byte(text: &str) -> Result<u8, String> {
    let value = parse_number(text)?;
    u8::try_from(value).map_err(|_| format!("value {value:#x} does not fit a byte (0x00..0xff)"))
}

fn fit_word(text: &str) -> Result<u16, String> {
    let value = parse_number(text)?;
    u16::try_from(value)
        .map_err(|_| format!("value {value:#x} does not fit a word (0x0000..0xffff)"))
}

fn block(values: &[&str]) -> Result<Vec<u8>, InputRefusal> {
    if values.is_empty() {
        return Err("a block needs at least one byte".into());
    }
    if values.len() > SMBUS_BLOCK_MAX {
        let count = values.len();
        return Err(InputRefusal::TooLarge(format!(
            "{count} bytes in a block (at most {SMBUS_BLOCK_MAX})"
        )));
    }
    Ok(values.iter().map(|value| parse_byte(value)).collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(ops: Vec<SmbusOp>, pec: bool) -> Result<SmbusPlan, InputRefusal> {
        Ok(SmbusPlan { ops, pec })
    }

    #[test]
    fn modes_are_i2c_tools_letters_with_p_for_pec() {
        assert_eq!(Mode::parse("b"), Ok(Mode { form: Form::Byte, pec: false }));
        assert_eq!(Mode::parse("wp"), Ok(Mode { form: Form::Word, pec: true }));
        assert_eq!(Mode::parse("cp"), Ok(Mode { form: Form::SendReceiveByte, pec: true }));
        assert_eq!(Mode::parse("sp"), Ok(Mode { form: Form::Block, pec: true }));
        assert_eq!(Mode::parse("i"), Ok(Mode { form: Form::I2cBlock, pec: false }));
        assert!(Mode::parse("ip").unwrap_err().contains("I2C block"));
        for bad in ["p", "q", "bb", "B", "", "pp"] {
            assert!(Mode::parse(bad).unwrap_err().contains("is not one of"), "{bad:?}");
        }
    }

    #[test]
    fn get_reads_like_i2cget() {
        assert_eq!(plan_get(0x10, None, None), plan(vec![SmbusOp::ReadByteData(0x10)], false));
        assert_eq!(plan_get(1, Some("wp"), None), plan(vec![SmbusOp::ReadWordData(1)], true));
        assert_eq!(
            plan_get(7, Some("c"), None),
            plan(vec![SmbusOp::WriteByte(7), SmbusOp::ReadByte], false)
        );
        assert_eq!(plan_get(2, Some("s"), None), plan(vec![SmbusOp::ReadBlockData(2)], false));
        assert_eq!(
            plan_get(2, Some("i"), None),
            plan(vec![SmbusOp::ReadI2cBlockData(2, 32)], false)
        );
        assert_eq!(
            plan_get(2, Some("i"), Some("4")),
            plan(vec![SmbusOp::ReadI2cBlockData(2, 4)], false)
        );
        let too_long = plan_get(2, Some("i"), Some("33")).unwrap_err();
        assert!(matches!(too_long, InputRefusal::TooLarge(_)), "{too_long:?}");
        assert!(too_long.contains("more than 32"), "{too_long}");
        let empty = plan_get(2, Some("i"), Some("0")).unwrap_err();
        assert!(matches!(empty, InputRefusal::Usage(_)), "{empty:?}");
        assert!(plan_get(2, Some("b"), Some("4")).unwrap_err().contains("mode i"));
    }

    #[test]
    fn set_takes_values_then_the_mode_like_i2cset() {
        let set = |words: &str| plan_set(0x10, &words.split_whitespace().collect::<Vec<_>>());
        assert_eq!(set("0xab"), plan(vec![SmbusOp::WriteByteData(0x10, 0xab)], false));
        assert_eq!(set("0xab bp"), plan(vec![SmbusOp::WriteByteData(0x10, 0xab)], true));
        assert_eq!(set("0xbeef w"), plan(vec![SmbusOp::WriteWordData(0x10, 0xbeef)], false));
        assert_eq!(set("c"), plan(vec![SmbusOp::WriteByte(0x10)], false));
        assert_eq!(set("1 2 3 sp"), plan(vec![SmbusOp::WriteBlockData(0x10, vec![1, 2, 3])], true));
        assert_eq!(set("1 2 i"), plan(vec![SmbusOp::WriteI2cBlockData(0x10, vec![1, 2])], false));
        assert!(set("0x100").unwrap_err().contains("byte"));
        assert!(set("0x10000 w").unwrap_err().contains("word"));
        assert!(set("1 2").unwrap_err().contains("exactly one VALUE"));
        assert!(set("b").unwrap_err().contains("exactly one VALUE"));
        assert!(set("1 c").unwrap_err().contains("takes no VALUE"));
        assert!(set("s").unwrap_err().contains("at least one byte"));
        assert!(set("0x100 s").unwrap_err().contains("0x100"));
        let too_long = format!("{} s", "1 ".repeat(33));
        assert!(set(&too_long).unwrap_err().contains("at most 32"));
        assert!(set("1 ip").unwrap_err().contains("I2C block"));
        assert!(set("1 x").unwrap_err().contains("is not one of"));
    }

    #[test]
    fn process_calls() {
        assert_eq!(
            plan_call(0x10, "0x1234", None),
            plan(vec![SmbusOp::ProcessCall(0x10, 0x1234)], false)
        );
        assert_eq!(
            plan_call(0x10, "1", Some("p")),
            plan(vec![SmbusOp::ProcessCall(0x10, 1)], true)
        );
        assert!(plan_call(0x10, "0x10000", None).unwrap_err().contains("word"));
        assert!(plan_call(0x10, "1", Some("w")).unwrap_err().contains("not p"));
        let block =
            |words: &str| plan_block_call(0x20, &words.split_whitespace().collect::<Vec<_>>());
        assert_eq!(
            block("1 2 3"),
            plan(vec![SmbusOp::BlockProcessCall(0x20, vec![1, 2, 3])], false)
        );
        assert_eq!(block("0xff p"), plan(vec![SmbusOp::BlockProcessCall(0x20, vec![0xff])], true));
        assert!(block("p").unwrap_err().contains("at least one byte"));
        assert!(block("1 s").unwrap_err().contains("not p"));
        assert!(block(&"7 ".repeat(33)).unwrap_err().contains("at most 32"));
    }
}
