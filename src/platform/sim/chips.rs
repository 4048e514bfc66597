//! Byte-level models of the chips on the simulated modules. A chip only sees what travels on the
//! wire (START with the R/W bit, bytes written, bytes clocked out); how those cycles are grouped
//! into I2C messages or SMBus commands is the adapter's business, exactly as on real hardware.

use super::catalog::{EEPROM_ERASED, EEPROM_SIGNATURE, LM75_TEMPERATURE};

/// One I2C target device as seen from the bus.
pub(super) trait Chip: Send {
    /// A START or repeated START addressed this chip; `read` is the R/W bit.
    fn start(&mut self, read: bool);
    /// One byte written by the controller (the chip ACKs it).
    fn write_byte(&mut self, byte: u8);
    /// One byte clocked out to the controller.
    fn read_byte(&mut self) -> u8;
    /// The module was (re)powered: volatile state returns to its reset values.
    fn power_on(&mut self);
}

pub(super) const EEPROM_SIZE: usize = 256;

/// A 24C02-style 256-byte EEPROM. The first byte of every write sets the internal address
/// pointer; reads continue from the pointer. The pointer wraps at 256 in both directions (the
/// real part wraps writes within an 8-byte page; a flat wrap keeps the model predictable).
pub(super) struct Eeprom24c02 {
    memory: [u8; EEPROM_SIZE],
    pointer: u8,
    expecting_pointer: bool,
}

impl Eeprom24c02 {
    pub(super) fn new() -> Eeprom24c02 {
        let mut memory = [EEPROM_ERASED; EEPROM_SIZE];
        memory[..EEPROM_SIGNATURE.len()].copy_from_slice(EEPROM_SIGNATURE);
        Eeprom24c02 { memory, pointer: 0, expecting_pointer: false }
    }
}

impl Chip for Eeprom24c02 {
    fn start(&mut self, read: bool) {
        self.expecting_pointer = !read;
    }

    fn write_byte(&mut self, byte: u8) {
        if self.expecting_pointer {
            self.pointer = byte;
            self.expecting_pointer = false;
        } else {
            self.memory[usize::from(self.pointer)] = byte;
            self.pointer = self.pointer.wrapping_add(1);
        }
    }

    fn read_byte(&mut self) -> u8 {
        let byte = self.memory[usize::from(self.pointer)];
        self.pointer = self.pointer.wrapping_add(1);
        byte
    }

    fn power_on(&mut self) {
        // The memory is non-volatile: a re-plugged module keeps what was written to it.
        self.pointer = 0;
        self.expecting_pointer = false;
    }
}

/// LM75 register values: 9-bit two's complement in the top bits of a big-endian word.
pub(super) const LM75_T_HYST_DEFAULT: u16 = 0x4b00; // 75 °C
pub(super) const LM75_T_OS_DEFAULT: u16 = 0x5000; // 80 °C

const LM75_REG_TEMPERATURE: u8 = 0;
const LM75_REG_CONFIG: u8 = 1;
const LM75_REG_T_HYST: u8 = 2;
const LM75_REG_T_OS: u8 = 3;

/// An LM75-style temperature sensor: the first written byte selects a register (pointer), the
/// 16-bit registers travel most significant byte first. Through SMBus word operations, which
/// are little-endian on the wire, a register therefore appears byte-swapped: read_word_data(0)
/// returns 0x8019 for 25.5 °C (catalog::LM75_TEMPERATURE_WORD). That is how a real LM75 looks
/// from i2c-tools too.
pub(super) struct Lm75 {
    pointer: u8,
    expecting_pointer: bool,
    byte_index: usize,
    config: u8,
    t_hyst: u16,
    t_os: u16,
}

impl Lm75 {
    pub(super) fn new() -> Lm75 {
        Lm75 {
            pointer: LM75_REG_TEMPERATURE,
            expecting_pointer: false,
            byte_index: 0,
            config: 0,
            t_hyst: LM75_T_HYST_DEFAULT,
            t_os: LM75_T_OS_DEFAULT,
        }
    }

    fn word_register(&mut self) -> Option<&mut u16> {
        match self.pointer {
            LM75_REG_T_HYST => Some(&mut self.t_hyst),
            LM75_REG_T_OS => Some(&mut self.t_os),
            _ => None,
        }
    }

    fn write_register_byte(&mut self, byte: u8) {
        let index = self.byte_index;
        self.byte_index += 1;
        if self.pointer == LM75_REG_CONFIG {
            self.config = byte;
            return;
        }
        // Writes to the read-only temperature register are ignored, as on the chip.
        let Some(register) = self.word_register() else {
            return;
        };
        *register = match index {
            0 => (u16::from(byte) << 8) | (*register & 0x00ff),
            // Only bit 7 of the low byte exists (0.5 °C resolution).
            1 => (*register & 0xff00) | u16::from(byte & 0x80),
            _ => *register,
        };
    }
}

impl Chip for Lm75 {
    fn start(&mut self, read: bool) {
        self.expecting_pointer = !read;
        self.byte_index = 0;
    }

    fn write_byte(&mut self, byte: u8) {
        if self.expecting_pointer {
            // The pointer register has two bits; the chip ignores the rest.
            self.pointer = byte & 0x03;
            self.expecting_pointer = false;
            self.byte_index = 0;
        } else {
            self.write_register_byte(byte);
        }
    }

    fn read_byte(&mut self) -> u8 {
        let index = self.byte_index;
        self.byte_index = self.byte_index.wrapping_add(1);
        let word = match self.pointer {
            LM75_REG_CONFIG => return self.config,
            LM75_REG_T_HYST => self.t_hyst,
            LM75_REG_T_OS => self.t_os,
            _ => LM75_TEMPERATURE,
        };
        // Reading past the register repeats it, MSB then LSB.
        let [msb, lsb] = word.to_be_bytes();
        if index % 2 == 0 {
            msb
        } else {
            lsb
        }
    }

    fn power_on(&mut self) {
        *self = Lm75::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(chip: &mut dyn Chip, bytes: &[u8]) {
        chip.start(false);
        bytes.iter().for_each(|b| chip.write_byte(*b));
    }

    fn read(chip: &mut dyn Chip, len: usize) -> Vec<u8> {
        chip.start(true);
        (0..len).map(|_| chip.read_byte()).collect()
    }

    #[test]
    fn eeprom_pointer_wraps_at_256_for_writes_and_reads() {
        let mut eeprom = Eeprom24c02::new();
        write(&mut eeprom, &[0xfe, 1, 2, 3]);
        write(&mut eeprom, &[0xfe]);
        assert_eq!(read(&mut eeprom, 4), vec![1, 2, 3, EEPROM_SIGNATURE[1]]);
        assert_eq!(read(&mut eeprom, 2), EEPROM_SIGNATURE[2..4].to_vec());
    }

    #[test]
    fn eeprom_content_survives_a_power_cycle() {
        let mut eeprom = Eeprom24c02::new();
        write(&mut eeprom, &[0x40, 0xaa]);
        eeprom.power_on();
        write(&mut eeprom, &[0x40]);
        assert_eq!(read(&mut eeprom, 1), vec![0xaa]);
    }

    #[test]
    fn lm75_registers_are_big_endian_and_temperature_is_read_only() {
        let mut lm75 = Lm75::new();
        let temperature = LM75_TEMPERATURE.to_be_bytes().to_vec();
        write(&mut lm75, &[0]);
        assert_eq!(read(&mut lm75, 2), temperature);
        write(&mut lm75, &[0, 0x12, 0x34]);
        write(&mut lm75, &[0]);
        assert_eq!(read(&mut lm75, 2), temperature);
        write(&mut lm75, &[3, 0x55, 0xff]);
        write(&mut lm75, &[3]);
        assert_eq!(read(&mut lm75, 2), vec![0x55, 0x80]);
        write(&mut lm75, &[1, 0x06]);
        assert_eq!(read(&mut lm75, 1), vec![0x06]);
        lm75.power_on();
        write(&mut lm75, &[3]);
        assert_eq!(read(&mut lm75, 2), LM75_T_OS_DEFAULT.to_be_bytes().to_vec());
    }
}
