//! What the suite may do and expect at which address: the device list of `I2C_HAL_VTS_DEVICES`.
//!
//! The service cannot tell the suite what is wired to a bus, and on a phone writing to an
//! arbitrary address could harm the hardware, so every device the suite touches is named by
//! whoever runs it. Entries are separated by `;`; each is `BUS@ADDR` followed by
//! comma-separated items:
//!
//! | item | meaning |
//! |---|---|
//! | `10bit`, `pec` | open the session with `FLAG_TEN_BIT` / `FLAG_PEC` |
//! | `absent` | nothing answers there: an operation is `ADDRESS_NACK` |
//! | `busy` | a kernel driver is bound there: openSession is `ADDRESS_BUSY` |
//! | `mem=REG` | REG..REG+3 read back what is written, behind a pointer (an EEPROM, i2c-stub): byte, byte data, word data, I2C block, transfer and writeRead round trips |
//! | `byte=REG:VAL`, `word=REG:VAL` | reading REG gives VAL (a read-only identity or sensor register) |
//! | `byte-rw=REG`, `word-rw=REG` | a byte / word register that reads back what is written |
//! | `pcall=REG:IN:OUT` | the process call on REG with word IN answers OUT |
//! | `bpcall=REG:IN:OUT` | the block process call on REG with bytes IN (hex, `0a0b`) answers OUT |
//! | `block=REG:IN:OUT` | an SMBus block write of IN to REG, then a block read of REG, gives OUT |
//!
//! BUS is what openSession takes: a bus number or a stable id.

#![forbid(unsafe_code)]

/// Whether something answers at the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Answers,
    Absent,
    DriverBound,
}

/// One thing a device is known to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    Memory(u8),
    Byte(u8, u8),
    Word(u8, u16),
    ByteRegister(u8),
    WordRegister(u8),
    ProcessCall(u8, u16, u16),
    BlockProcessCall(u8, Vec<u8>, Vec<u8>),
    Block(u8, Vec<u8>, Vec<u8>),
}

/// One configured device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    pub bus: String,
    pub address: u16,
    pub ten_bit: bool,
    pub pec: bool,
    pub presence: Presence,
    pub expectations: Vec<Expectation>,
}

impl DeviceSpec {
    /// `BUS@ADDR` plus its flags, as the suite names the device in messages.
    pub fn name(&self) -> String {
        let flags = match (self.ten_bit, self.pec) {
            (true, true) => " (10-bit, PEC)",
            (true, false) => " (10-bit)",
            (false, true) => " (PEC)",
            (false, false) => "",
        };
        format!("{}@{:#04x}{flags}", self.bus, self.address)
    }
}

fn number(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| format!("`{text}` is not a number"))
}

fn narrow<T: TryFrom<u32>>(text: &str) -> Result<T, String> {
    let value = number(text)?;
    T::try_from(value).map_err(|_| format!("{text} is out of range"))
}

fn hex_bytes(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    if text.is_empty() || text.len() % 2 != 0 {
        return Err(format!("`{text}` is not an even number of hex digits"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("`{text}` is not hex bytes"))
        })
        .collect()
}

/// Splits `a:b:c` into exactly `n` parts.
fn parts<'a>(value: &'a str, n: usize, item: &str) -> Result<Vec<&'a str>, String> {
    let parts: Vec<&str> = value.split(':').collect();
    if parts.len() == n {
        Ok(parts)
    } else {
        Err(format!("`{item}` needs {n} `:`-separated values"))
    }
}

fn expectation(key: &str, value: &str, item: &str) -> Result<Expectation, String> {
    Ok(match key {
        "mem" => Expectation::Memory(narrow(value)?),
        "byte-rw" => Expectation::ByteRegister(narrow(value)?),
        "word-rw" => Expectation::WordRegister(narrow(value)?),
        "byte" => {
            let p = parts(value, 2, item)?;
            Expectation::Byte(narrow(p[0])?, narrow(p[1])?)
        }
        "word" => {
            let p = parts(value, 2, item)?;
            Expectation::Word(narrow(p[0])?, narrow(p[1])?)
        }
        "pcall" => {
            let p = parts(value, 3, item)?;
            Expectation::ProcessCall(narrow(p[0])?, narrow(p[1])?, narrow(p[2])?)
        }
        "bpcall" => {
            let p = parts(value, 3, item)?;
            Expectation::BlockProcessCall(narrow(p[0])?, hex_bytes(p[1])?, hex_bytes(p[2])?)
        }
        "block" => {
            let p = parts(value, 3, item)?;
            Expectation::Block(narrow(p[0])?, hex_bytes(p[1])?, hex_bytes(p[2])?)
        }
        _ => return Err(format!("unknown item `{item}`")),
    })
}

fn entry(text: &str) -> Result<DeviceSpec, String> {
    let mut items = text.split(',').map(str::trim);
    let head = items.next().unwrap_or_default();
    let (bus, address) =
        head.rsplit_once('@').ok_or_else(|| format!("`{head}` is not BUS@ADDR"))?;
    if bus.is_empty() {
        return Err(format!("`{head}` names no bus"));
    }
    let mut device = DeviceSpec {
        bus: bus.to_string(),
        address: narrow(address)?,
        ten_bit: false,
        pec: false,
        presence: Presence::Answers,
        expectations: Vec::new(),
    };
    for item in items.filter(|item| !item.is_empty()) {
        match item {
            "10bit" => device.ten_bit = true,
            "pec" => device.pec = true,
            "absent" => device.presence = Presence::Absent,
            "busy" => device.presence = Presence::DriverBound,
            _ => {
                let (key, value) =
                    item.split_once('=').ok_or_else(|| format!("unknown item `{item}`"))?;
                device.expectations.push(expectation(key, value, item)?);
            }
        }
    }
    if device.presence != Presence::Answers && !device.expectations.is_empty() {
        return Err(format!("`{text}`: an absent or driver-bound device has no expectations"));
    }
    Ok(device)
}

/// Parses a whole device list; the error names the entry at fault.
pub fn parse(text: &str) -> Result<Vec<DeviceSpec>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| entry(e).map_err(|why| format!("device `{e}`: {why}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_list_parses_into_its_devices_and_expectations() {
        let list = parse(
            " 0@0x50,mem=0x80 ; platform/x/y@0x150,10bit,byte=0:0x69;2@66,pec,pcall=0x10:0x1234:4661,\
             bpcall=0x20:0102:0201;1@0x49,busy;1@0x30,absent",
        )
        .expect("parses");
        assert_eq!(list.len(), 5);
        assert_eq!(list[0].expectations, vec![Expectation::Memory(0x80)]);
        assert_eq!(list[1].bus, "platform/x/y");
        assert!(list[1].ten_bit && !list[1].pec);
        assert_eq!(list[1].address, 0x150);
        assert_eq!(
            list[2].expectations,
            vec![
                Expectation::ProcessCall(0x10, 0x1234, 0x1235),
                Expectation::BlockProcessCall(0x20, vec![1, 2], vec![2, 1])
            ]
        );
        assert_eq!(list[3].presence, Presence::DriverBound);
        assert_eq!(list[4].presence, Presence::Absent);
        assert_eq!(list[4].name(), "1@0x30");
    }

    #[test]
    fn a_bad_entry_is_refused_naming_it() {
        for (text, why) in [
            ("0x50", "is not BUS@ADDR"),
            ("0@0x50,frobnicate", "unknown item `frobnicate`"),
            ("0@0x50,byte=1", "needs 2"),
            ("0@0x50,mem=0x100", "out of range"),
            ("0@0x50,block=1:0a0:0a", "even number"),
            ("0@0x30,absent,mem=0", "no expectations"),
        ] {
            let error = parse(text).expect_err(text);
            assert!(error.contains(why) && error.contains(text), "{text}: {error}");
        }
    }
}
