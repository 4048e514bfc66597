//! The I2C devices behind the emulated bridge, and the state file that keeps their contents
//! across cable pulls.
//!
//! Two kinds of device, both with 256 bytes of memory and an address pointer that a write's
//! first byte sets and that every byte read or written advances (the pointer survives STOP, so
//! a later plain read continues where the last access ended):
//! - `eeprom`: a 24C02-like serial EEPROM. Reads run on through the whole array and wrap from
//!   0xff to 0x00; writes wrap inside their 8-byte page, as the page write of a 2-Kbit part
//!   such as Atmel's AT24C02 does (its datasheet: 8-byte pages). Unlike a real part it is
//!   never busy after a write: the next START is acknowledged, no ACK polling is needed.
//! - `regs`: a register file (one byte per register) with auto-increment, so an SMBus word
//!   access covers registers N and N+1, low byte first, as `i2c_smbus_xfer_emulated`
//!   (drivers/i2c/i2c-core-smbus.c) builds and reads it.
//!
//! A device lives at a 7-bit address (0x08..=0x77) or at a 10-bit address (0x080..=0x3ff;
//! 10-bit addresses below 0x80 are not offered, so a number alone says which kind it is).
//!
//! The bus may also carry an 8-channel I2C switch in the manner of NXP's PCA9548A, so that a
//! module can hold several devices at one address, each behind its own channel. Its one
//! control register (the datasheet's "control register": a write stores the byte, a read
//! returns it, bit N connects channel N, all clear at power-on) decides which channels' devices
//! answer. The kernel's driver for it is drivers/i2c/muxes/i2c-mux-pca954x.c, which the QEMU
//! suite builds against Debian's kernel (tests/vm/run.sh).

use i2c_hal_core::request::parse_number;
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

pub const MEMORY_SIZE: usize = 256;
const EEPROM_PAGE: u8 = 8;

/// An I2C address as the bridge is asked for it: the number plus whether the message carried
/// I2C_M_TEN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Address {
    pub value: u16,
    pub ten_bit: bool,
}

impl Address {
    /// `0x50` is 7-bit, `0x2a0` is 10-bit.
    pub fn parse(text: &str) -> Result<Address, String> {
        let value = parse_u16(text).ok_or_else(|| format!("address {text:?} is not a number"))?;
        match value {
            0x08..=0x77 => Ok(Address { value, ten_bit: false }),
            0x80..=0x3ff => Ok(Address { value, ten_bit: true }),
            _ => Err(format!(
                "address {text} is outside 0x08..0x77 (7-bit) and 0x080..0x3ff (10-bit)"
            )),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ten_bit {
            write!(f, "0x{:03x}", self.value)
        } else {
            write!(f, "0x{:02x}", self.value)
        }
    }
}

/// What an emulated device is: an EEPROM, or a register file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Eeprom,
    Registers,
}

impl DeviceKind {
    fn name(self) -> &'static str {
        match self {
            DeviceKind::Eeprom => "eeprom",
            DeviceKind::Registers => "regs",
        }
    }
}

/// The switch has eight channels, 0..=7.
pub const SWITCH_CHANNELS: u8 = 8;

/// An emulated I2C device on the bridge's bus, or behind a channel of its switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct I2cDevice {
    pub kind: DeviceKind,
    pub address: Address,
    /// The switch channel the device sits behind; `None` for the bridge's own bus.
    pub channel: Option<u8>,
    memory: Vec<u8>,
    pointer: u8,
}

impl I2cDevice {
    /// `[chanN/]KIND@ADDR[:HEX]`: `eeprom@0x50`, `regs@0x48:1980`, `regs@0x2a0`,
    /// `chan3/eeprom@0x50` (behind the switch's channel 3). Without HEX an EEPROM holds byte i
    /// at offset i and a register file holds zeros; with HEX the bytes are placed from offset 0
    /// and the rest is 0xff (an erased EEPROM) or 0x00 (registers after reset).
    pub fn parse(spec: &str) -> Result<I2cDevice, String> {
        let (channel, on_segment) = match spec.split_once('/') {
            Some((channel, rest)) => (Some(parse_channel(channel, spec)?), rest),
            None => (None, spec),
        };
        let (kind, rest) = on_segment
            .split_once('@')
            .ok_or_else(|| format!("device {spec:?}: expected KIND@ADDR[:HEX]"))?;
        let kind = match kind {
            "eeprom" => DeviceKind::Eeprom,
            "regs" => DeviceKind::Registers,
            other => return Err(format!("device {spec:?}: unknown kind {other:?} (eeprom, regs)")),
        };
        let (address, hex) = match rest.split_once(':') {
            Some((address, hex)) => (address, Some(hex)),
            None => (rest, None),
        };
        let address = Address::parse(address).map_err(|e| format!("device {spec:?}: {e}"))?;
        let memory = match (kind, hex) {
            (DeviceKind::Eeprom, None) => (0..=255).collect(),
            (DeviceKind::Registers, None) => vec![0; MEMORY_SIZE],
            (_, Some(hex)) => {
                let bytes = parse_hex(hex).map_err(|e| format!("device {spec:?}: {e}"))?;
                let fill = if kind == DeviceKind::Eeprom { 0xff } else { 0x00 };
                let mut memory = vec![fill; MEMORY_SIZE];
                memory[..bytes.len()].copy_from_slice(&bytes);
                memory
            }
        };
        Ok(I2cDevice { kind, address, channel, memory, pointer: 0 })
    }

    /// `eeprom@0x50`, `chan3/eeprom@0x50`: the name the state file and the log use.
    pub fn name(&self) -> String {
        let channel = self.channel.map(|n| format!("chan{n}/")).unwrap_or_default();
        format!("{channel}{}@{}", self.kind.name(), self.address)
    }

    /// One write message: the first byte sets the pointer, the others are stored. Returns
    /// whether memory changed (so the caller knows to save state). An empty write is what
    /// i2cdetect's quick write sends: the device acknowledges and nothing changes.
    pub fn write(&mut self, data: &[u8]) -> bool {
        let Some((&pointer, payload)) = data.split_first() else {
            return false;
        };
        self.pointer = pointer;
        let mut changed = false;
        for &byte in payload {
            let cell = &mut self.memory[usize::from(self.pointer)];
            changed |= *cell != byte;
            *cell = byte;
            self.pointer = match self.kind {
                DeviceKind::Eeprom => {
                    let page = self.pointer & !(EEPROM_PAGE - 1);
                    page | (self.pointer.wrapping_add(1) & (EEPROM_PAGE - 1))
                }
                DeviceKind::Registers => self.pointer.wrapping_add(1),
            };
        }
        changed
    }

    /// One read message of `len` bytes from the pointer on.
    pub fn read(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                let byte = self.memory[usize::from(self.pointer)];
                self.pointer = self.pointer.wrapping_add(1);
                byte
            })
            .collect()
    }

    pub fn memory(&self) -> &[u8] {
        &self.memory
    }
}

fn parse_channel(text: &str, spec: &str) -> Result<u8, String> {
    text.strip_prefix("chan")
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|&n| n < SWITCH_CHANNELS)
        .ok_or_else(|| format!("device {spec:?}: {text:?} is not a switch channel (chan0..chan7)"))
}

/// The switch's control register: bit N connects channel N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    pub address: Address,
    control: u8,
}

impl Switch {
    /// A switch at `address` as it comes out of power-on reset: every channel disconnected.
    pub fn new(address: Address) -> Switch {
        Switch { address, control: 0 }
    }

    fn connects(&self, channel: Option<u8>) -> bool {
        channel.map_or(true, |n| self.control & (1 << n) != 0)
    }
}

/// The devices on the bridge's bus, and the switch (if any) with the devices behind it.
#[derive(Clone, Debug, Default)]
pub struct Bus {
    devices: Vec<I2cDevice>,
    switch: Option<Switch>,
}

impl Bus {
    /// Refuses a layout whose addresses would collide: two devices on one segment at one
    /// address, a channel device at an address the bridge's own bus already answers (both
    /// would answer while the channel is connected), or a channel device without a switch.
    pub fn new(devices: Vec<I2cDevice>, switch: Option<Switch>) -> Result<Bus, String> {
        for (i, device) in devices.iter().enumerate() {
            let clash = devices[..i].iter().find(|other| {
                other.address == device.address
                    && (other.channel == device.channel
                        || other.channel.is_none()
                        || device.channel.is_none())
            });
            if let Some(other) = clash {
                return Err(format!("{} and {} share an address", other.name(), device.name()));
            }
            match switch {
                Some(switch) if switch.address == device.address => {
                    return Err(format!("{} is at the switch's address", device.name()));
                }
                None if device.channel.is_some() => {
                    return Err(format!(
                        "{} sits behind a switch, but there is none",
                        device.name()
                    ));
                }
                _ => {}
            }
        }
        Ok(Bus { devices, switch })
    }

    /// One write message to `address`: `None` if nothing answers (a NAK), else whether a
    /// device's memory changed.
    pub fn write(&mut self, address: Address, data: &[u8]) -> Option<bool> {
        if let Some(switch) = self.switch.as_mut().filter(|s| s.address == address) {
            // Each byte is a new control value; the last one stays.
            if let Some(&last) = data.last() {
                switch.control = last;
            }
            return Some(false);
        }
        self.device_mut(address).map(|device| device.write(data))
    }

    /// One read message of `len` bytes from `address`: `None` if nothing answers.
    pub fn read(&mut self, address: Address, len: usize) -> Option<Vec<u8>> {
        if let Some(switch) = self.switch.filter(|s| s.address == address) {
            return Some(vec![switch.control; len]);
        }
        self.device_mut(address).map(|device| device.read(len))
    }

    /// The device that answers `address` now: on the bridge's bus, or behind a connected
    /// channel. With two connected channels holding the same address both would answer on
    /// real wires; the lower channel stands for them (pca954x connects one at a time).
    fn device_mut(&mut self, address: Address) -> Option<&mut I2cDevice> {
        let switch = self.switch;
        self.devices
            .iter_mut()
            .filter(|device| device.address == address)
            .filter(|device| {
                switch.map_or(device.channel.is_none(), |s| s.connects(device.channel))
            })
            .min_by_key(|device| device.channel)
    }

    pub fn devices(&self) -> &[I2cDevice] {
        &self.devices
    }

    pub fn switch(&self) -> Option<Switch> {
        self.switch
    }

    /// The state file: one line per device, `NAME HEX` (512 hex digits). Lines for devices
    /// this bus does not have are ignored, so a state file survives a changed device list.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut text = String::new();
        for device in &self.devices {
            text.push_str(&device.name());
            text.push(' ');
            for byte in device.memory() {
                text.push_str(&format!("{byte:02x}"));
            }
            text.push('\n');
        }
        // Written beside and renamed over, so a module killed mid-write (a cable pull from
        // the module's side is a SIGKILL in the tests) leaves the previous state, not half.
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, text)?;
        fs::rename(&tmp, path)
    }

    /// Loads a state file written by `save`; a missing file is not an error (first plug).
    pub fn load(&mut self, path: &Path) -> io::Result<bool> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(err) => return Err(err),
        };
        for (number, line) in text.lines().enumerate() {
            let invalid = |why: String| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} line {}: {why}", path.display(), number + 1),
                )
            };
            let Some((name, hex)) = line.split_once(' ') else {
                return Err(invalid("expected NAME HEX".to_string()));
            };
            let bytes = parse_hex(hex).map_err(invalid)?;
            if bytes.len() != MEMORY_SIZE {
                return Err(invalid(format!("{} bytes, expected {MEMORY_SIZE}", bytes.len())));
            }
            if let Some(device) = self.devices.iter_mut().find(|device| device.name() == name) {
                device.memory = bytes;
            }
        }
        Ok(true)
    }
}

/// Hex digits, optionally with `0x` and separated by spaces, commas or colons, at most 256 bytes.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !matches!(c, ' ' | ',' | ':' | '_'))
        .collect();
    if digits.len() % 2 != 0 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not an even number of hex digits"));
    }
    if digits.len() / 2 > MEMORY_SIZE {
        return Err(format!("{} bytes do not fit in {MEMORY_SIZE}", digits.len() / 2));
    }
    Ok((0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("checked hex digits"))
        .collect())
}

/// A number as i2c-tools users type it (decimal or 0x-hex), the same syntax as i2cctl's.
pub fn parse_u16(text: &str) -> Option<u16> {
    parse_number(text).ok().and_then(|number| u16::try_from(number).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_pick_seven_or_ten_bit_by_value() {
        assert_eq!(Address::parse("0x50"), Ok(Address { value: 0x50, ten_bit: false }));
        assert_eq!(Address::parse("0x2a0"), Ok(Address { value: 0x2a0, ten_bit: true }));
        assert_eq!(Address::parse("0x2a0").unwrap().to_string(), "0x2a0");
        assert_eq!(Address::parse("72").unwrap().to_string(), "0x48");
        for bad in ["0x07", "0x78", "0x7f", "0x400", "x"] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn device_specs() {
        let eeprom = I2cDevice::parse("eeprom@0x50").unwrap();
        assert_eq!(eeprom.memory()[0x10], 0x10);
        let custom = I2cDevice::parse("eeprom@0x51:de ad be ef").unwrap();
        assert_eq!(&custom.memory()[..5], &[0xde, 0xad, 0xbe, 0xef, 0xff]);
        let regs = I2cDevice::parse("regs@0x2a0:0x1980").unwrap();
        assert_eq!((regs.address.ten_bit, &regs.memory()[..3]), (true, &[0x19, 0x80, 0][..]));
        assert_eq!(regs.name(), "regs@0x2a0");
        assert!(I2cDevice::parse("rom@0x50").is_err());
        assert!(I2cDevice::parse("eeprom@0x50:abc").is_err());
        assert!(I2cDevice::parse("eeprom0x50").is_err());
    }

    #[test]
    fn eeprom_pointer_reads_wrap_and_page_writes_wrap_in_their_page() {
        let mut eeprom = I2cDevice::parse("eeprom@0x50").unwrap();
        assert!(!eeprom.write(&[0xfe]));
        assert_eq!(eeprom.read(4), vec![0xfe, 0xff, 0x00, 0x01]);
        assert_eq!(eeprom.read(1), vec![0x02], "the pointer survives between reads");
        assert!(eeprom.write(&[0x06, 0xa0, 0xa1, 0xa2]));
        assert_eq!(eeprom.memory()[0x06..0x08], [0xa0, 0xa1]);
        assert_eq!(eeprom.memory()[0x00], 0xa2, "the third byte wrapped to the page start");
        assert_eq!(eeprom.memory()[0x08], 0x08, "the next page is untouched");
        assert!(!eeprom.write(&[]), "a quick write changes nothing");
    }

    #[test]
    fn registers_auto_increment_across_the_whole_file() {
        let mut regs = I2cDevice::parse("regs@0x48").unwrap();
        assert!(regs.write(&[0x07, 0x34, 0x12]));
        regs.write(&[0x07]);
        assert_eq!(regs.read(2), vec![0x34, 0x12]);
        assert!(!regs.write(&[0x07, 0x34]), "same value: no change to save");
    }

    #[test]
    fn bus_refuses_duplicate_addresses_and_state_round_trips() {
        let devices = || {
            vec![I2cDevice::parse("eeprom@0x50").unwrap(), I2cDevice::parse("regs@0x2a0").unwrap()]
        };
        assert!(Bus::new(
            vec![I2cDevice::parse("eeprom@0x50").unwrap(), I2cDevice::parse("regs@0x50").unwrap()],
            None
        )
        .is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("module.state");
        let mut bus = Bus::new(devices(), None).unwrap();
        assert!(!bus.load(&path).unwrap(), "no state file yet");
        let ten_bit = Address { value: 0x2a0, ten_bit: true };
        bus.write(ten_bit, &[0x10, 0x55]).unwrap();
        bus.save(&path).unwrap();
        let mut again = Bus::new(devices(), None).unwrap();
        assert!(again.load(&path).unwrap());
        again.write(ten_bit, &[0x10]).unwrap();
        assert_eq!(again.read(ten_bit, 1), Some(vec![0x55]));
        assert_eq!(again.read(Address { value: 0x2a0, ten_bit: false }, 1), None);
        fs::write(&path, "eeprom@0x50 00\n").unwrap();
        assert!(again.load(&path).unwrap_err().to_string().contains("line 1"));
    }

    fn seven(value: u16) -> Address {
        Address { value, ten_bit: false }
    }

    #[test]
    fn channel_specs_and_names() {
        let behind = I2cDevice::parse("chan3/eeprom@0x50:aa").unwrap();
        assert_eq!((behind.channel, behind.name()), (Some(3), "chan3/eeprom@0x50".to_string()));
        assert_eq!(behind.memory()[0], 0xaa);
        for bad in ["chan8/eeprom@0x50", "ch3/eeprom@0x50", "chan/regs@0x48", "chan-1/regs@0x48"] {
            let err = I2cDevice::parse(bad).unwrap_err();
            assert!(err.contains("chan0..chan7"), "{bad}: {err}");
        }
    }

    #[test]
    fn switch_connects_the_channels_its_control_register_names() {
        let devices =
            ["eeprom@0x50", "chan0/regs@0x48:11", "chan3/regs@0x48:33", "chan3/regs@0x49"]
                .iter()
                .map(|spec| I2cDevice::parse(spec).unwrap())
                .collect();
        let mut bus = Bus::new(devices, Some(Switch::new(seven(0x70)))).unwrap();
        assert_eq!(bus.read(seven(0x70), 1), Some(vec![0]), "power-on: all disconnected");
        assert_eq!(bus.read(seven(0x48), 1), None);
        assert!(bus.read(seven(0x50), 1).is_some(), "the bridge's own bus always answers");
        assert_eq!(bus.write(seven(0x70), &[1 << 3]), Some(false));
        assert_eq!(bus.read(seven(0x70), 2), Some(vec![0x08, 0x08]));
        assert_eq!(bus.read(seven(0x48), 1), Some(vec![0x33]));
        assert!(bus.read(seven(0x49), 1).is_some());
        bus.write(seven(0x70), &[0xff, 1 << 0]);
        assert_eq!(bus.read(seven(0x48), 1), Some(vec![0x11]), "the last byte written stays");
        assert_eq!(bus.read(seven(0x49), 1), None, "channel 3 is disconnected again");
        bus.write(seven(0x70), &[]);
        assert_eq!(bus.read(seven(0x70), 1), Some(vec![1]), "an empty write keeps the register");
    }

    #[test]
    fn layouts_whose_addresses_collide_are_refused() {
        let layout = |specs: &[&str], switch: Option<u16>| {
            let devices = specs.iter().map(|spec| I2cDevice::parse(spec).unwrap()).collect();
            Bus::new(devices, switch.map(|a| Switch::new(seven(a)))).map(|_| ())
        };
        assert!(layout(&["chan1/eeprom@0x50", "chan2/eeprom@0x50"], Some(0x70)).is_ok());
        let err = layout(&["chan1/eeprom@0x50", "chan1/regs@0x50"], Some(0x70)).unwrap_err();
        assert!(err.contains("share an address"), "{err}");
        let err = layout(&["eeprom@0x50", "chan1/regs@0x50"], Some(0x70)).unwrap_err();
        assert!(err.contains("share an address"), "{err}");
        let err = layout(&["chan1/regs@0x70"], Some(0x70)).unwrap_err();
        assert!(err.contains("switch's address"), "{err}");
        let err = layout(&["chan1/regs@0x48"], None).unwrap_err();
        assert!(err.contains("there is none"), "{err}");
    }
}
