//! Byte-level models of the chips on the simulated modules. A chip only sees what travels on the
//! wire (START with the R/W bit, bytes written, bytes clocked out); how those cycles are grouped
//! into I2C messages or SMBus commands is the adapter's business, exactly as on real hardware.

use super::catalog::smbus2::{self, *};
use super::catalog::{EEPROM_ERASED, LM75_TEMPERATURE};
use super::pec::{address_byte, pec};

/// One I2C target device as seen from the bus.
pub(super) trait Chip: Send {
    /// A START or repeated START addressed this chip; `read` is the R/W bit.
    fn start(&mut self, read: bool);
    /// One byte written by the controller (the chip ACKs it).
    fn write_byte(&mut self, byte: u8);
    /// One byte clocked out to the controller.
    fn read_byte(&mut self) -> u8;
    /// The STOP that ends the transaction. Chips that keep no per-transaction state (a PEC,
    /// a command waiting for its data) have nothing to do.
    fn stop(&mut self) {}
    /// The module was (re)powered: volatile state returns to its reset values.
    fn power_on(&mut self);
}

pub(super) const EEPROM_SIZE: usize = 256;

/// Bytes per write page of a 24C02 (Microchip 24AA02/24LC02B data sheet, "Page Write").
pub(super) const EEPROM_PAGE_SIZE: u8 = 8;

/// A 24C02-style 256-byte EEPROM, as drivers such as eeprom24x expect it. The first byte of
/// every write sets the internal address pointer ("byte write" is one data byte, "page write"
/// several). As on the real part, data bytes of one write stay in the pointer's 8-byte page:
/// the low three bits of the pointer roll over, so a write past the page end wraps to the
/// page start. A read (a "random read" after a pointer write, or a "current address read"
/// without one) continues from the pointer and wraps over the whole 256 bytes.
pub(super) struct Eeprom24c02 {
    memory: [u8; EEPROM_SIZE],
    pointer: u8,
    expecting_pointer: bool,
}

impl Eeprom24c02 {
    /// Fresh from the factory: `signature` (at most 256 bytes), then erased bytes.
    pub(super) fn new(signature: &[u8]) -> Eeprom24c02 {
        let mut memory = [EEPROM_ERASED; EEPROM_SIZE];
        let len = signature.len().min(EEPROM_SIZE);
        memory[..len].copy_from_slice(&signature[..len]);
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
            let page = self.pointer & !(EEPROM_PAGE_SIZE - 1);
            self.pointer = page | (self.pointer.wrapping_add(1) & (EEPROM_PAGE_SIZE - 1));
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

/// An SMBus 2.0 device (catalog::smbus2 has its register map). It does what a real one does
/// with PEC, which is optional per transaction:
/// - it keeps the PEC of everything on the wire since the START, address bytes included;
/// - a write with one byte more than its command's width carries a PEC: the device applies it
///   only if that byte is right (a real device NACKs it; the model's chips cannot NACK, so a
///   wrong one is dropped), and counts either outcome in a register;
/// - a read answers the command's bytes, then, if the host keeps clocking, the PEC of the
///   transaction, then 0xff (the bus idles high).
pub(super) struct Smbus2Device {
    address: u16,
    scratch: u8,
    word: u16,
    operand: u16,
    block: Vec<u8>,
    corrupt_pecs: u8,
    pecs_matched: u8,
    pecs_refused: u8,
    // The transaction in progress, START to STOP.
    crc: u8,
    command: u8,
    phase: Phase,
    written: Vec<u8>,
    answer: Vec<u8>,
    clocked_out: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    /// After START+W: the first byte is the command.
    ExpectingCommand,
    /// The command is known; `written` collects its data.
    Writing,
    Reading,
}

impl Smbus2Device {
    pub(super) fn new(address: u16) -> Smbus2Device {
        Smbus2Device {
            address,
            scratch: 0,
            word: WORD_RESET,
            operand: 0,
            block: REVERSE_RESET.to_vec(),
            corrupt_pecs: 0,
            pecs_matched: 0,
            pecs_refused: 0,
            crc: 0,
            command: REG_ID,
            phase: Phase::Idle,
            written: Vec::new(),
            answer: Vec::new(),
            clocked_out: 0,
        }
    }

    /// The end of a write phase (repeated START or STOP): apply what was written.
    fn finish_write(&mut self) {
        let data = std::mem::take(&mut self.written);
        if self.phase != Phase::Writing || data.is_empty() {
            return; // Only a command: it selects what the next read answers.
        }
        let Some(width) = write_width(self.command, &data) else {
            return;
        };
        let data = if data.len() == width {
            &data[..]
        } else if data.len() == width + 1 {
            // The write is the transaction's first phase, so the running PEC covers its address
            // byte, command, data and the PEC byte sent: 0 when that byte was right.
            if self.crc != 0 {
                self.pecs_refused = self.pecs_refused.wrapping_add(1);
                return;
            }
            self.pecs_matched = self.pecs_matched.wrapping_add(1);
            &data[..width]
        } else {
            return; // Neither the command's width nor that plus a PEC: not for this device.
        };
        self.apply(data);
    }

    fn apply(&mut self, data: &[u8]) {
        let word = || u16::from_le_bytes([data[0], data[1]]);
        match self.command {
            REG_SCRATCH => self.scratch = data[0],
            REG_CORRUPT_PEC => self.corrupt_pecs = data[0],
            REG_WORD => self.word = word(),
            REG_INCREMENT => self.operand = word(),
            REG_REVERSE => self.block = data[1..].to_vec(),
            _ => {}
        }
    }

    /// What a read of the current command answers (before the PEC).
    fn answer(&self) -> Vec<u8> {
        match self.command {
            REG_ID => vec![ID],
            REG_SCRATCH => vec![self.scratch],
            REG_WORD => self.word.to_le_bytes().to_vec(),
            REG_INCREMENT => smbus2::process_call_answer(self.operand).to_le_bytes().to_vec(),
            REG_REVERSE => {
                let reversed = smbus2::block_process_call_answer(&self.block);
                std::iter::once(reversed.len() as u8).chain(reversed).collect()
            }
            REG_CORRUPT_PEC => vec![self.corrupt_pecs],
            REG_PECS_MATCHED => vec![self.pecs_matched],
            REG_PECS_REFUSED => vec![self.pecs_refused],
            _ => vec![UNKNOWN_READS_AS],
        }
    }
}

/// Bytes of data (after the command) a write to `command` carries, without PEC; None for
/// commands that take no writes. A block's width follows from its count byte, 1..32.
fn write_width(command: u8, data: &[u8]) -> Option<usize> {
    match command {
        REG_SCRATCH | REG_CORRUPT_PEC => Some(1),
        REG_WORD | REG_INCREMENT => Some(2),
        REG_REVERSE => {
            let count = usize::from(*data.first()?);
            (1..=32).contains(&count).then_some(1 + count)
        }
        _ => None,
    }
}

impl Chip for Smbus2Device {
    fn start(&mut self, read: bool) {
        if matches!(self.phase, Phase::ExpectingCommand | Phase::Writing) {
            self.finish_write();
        }
        self.crc = pec(self.crc, &[address_byte(self.address, read)]);
        if read {
            self.phase = Phase::Reading;
            self.answer = self.answer();
            self.clocked_out = 0;
        } else {
            self.phase = Phase::ExpectingCommand;
        }
    }

    fn write_byte(&mut self, byte: u8) {
        self.crc = pec(self.crc, &[byte]);
        match self.phase {
            Phase::ExpectingCommand => {
                self.command = byte;
                self.phase = Phase::Writing;
            }
            Phase::Writing => self.written.push(byte),
            // Not addressed for writing: a real device would not be listening.
            Phase::Idle | Phase::Reading => {}
        }
    }

    fn read_byte(&mut self) -> u8 {
        let index = self.clocked_out;
        self.clocked_out = self.clocked_out.saturating_add(1);
        if self.phase != Phase::Reading {
            return 0xff;
        }
        match index.cmp(&self.answer.len()) {
            std::cmp::Ordering::Less => {
                let byte = self.answer[index];
                self.crc = pec(self.crc, &[byte]);
                byte
            }
            std::cmp::Ordering::Equal if self.corrupt_pecs > 0 => {
                self.corrupt_pecs -= 1;
                !self.crc
            }
            std::cmp::Ordering::Equal => self.crc,
            std::cmp::Ordering::Greater => 0xff,
        }
    }

    fn stop(&mut self) {
        if matches!(self.phase, Phase::ExpectingCommand | Phase::Writing) {
            self.finish_write();
        }
        self.crc = 0;
        self.phase = Phase::Idle;
        self.answer.clear();
        self.clocked_out = 0;
    }

    fn power_on(&mut self) {
        *self = Smbus2Device::new(self.address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::EEPROM_SIGNATURE;

    fn write(chip: &mut dyn Chip, bytes: &[u8]) {
        chip.start(false);
        bytes.iter().for_each(|b| chip.write_byte(*b));
    }

    fn read(chip: &mut dyn Chip, len: usize) -> Vec<u8> {
        chip.start(true);
        (0..len).map(|_| chip.read_byte()).collect()
    }

    const DEVICE: u16 = 0x42;

    /// Bytes a host puts on the wire for `phases` (write bytes, or a read length), ending with
    /// a STOP; returns what was read. The PEC is the caller's to append or check.
    fn transaction(chip: &mut dyn Chip, phases: &[Result<&[u8], usize>]) -> Vec<u8> {
        let mut read_bytes = Vec::new();
        for phase in phases {
            match phase {
                Ok(bytes) => write(chip, bytes),
                Err(len) => read_bytes.extend(read(chip, *len)),
            }
        }
        chip.stop();
        read_bytes
    }

    fn with_pec(wire_prefix: &[u8], bytes: &[u8]) -> Vec<u8> {
        let mut all = bytes.to_vec();
        let mut covered = wire_prefix.to_vec();
        covered.extend_from_slice(bytes);
        all.push(pec(0, &covered));
        all
    }

    const W: u8 = DEVICE as u8 * 2;
    const R: u8 = DEVICE as u8 * 2 + 1;

    #[test]
    fn smbus2_registers_without_pec() {
        let mut chip = Smbus2Device::new(DEVICE);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_ID]), Err(1)]), vec![ID]);
        transaction(&mut chip, &[Ok(&[REG_SCRATCH, 0x5a])]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_SCRATCH]), Err(1)]), vec![0x5a]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_WORD]), Err(2)]), vec![0x34, 0x12]);
        transaction(&mut chip, &[Ok(&[REG_WORD, 0xef, 0xbe])]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_WORD]), Err(2)]), vec![0xef, 0xbe]);
        // A receive byte (no command in this transaction) reads the command last selected.
        assert_eq!(transaction(&mut chip, &[Err(2)])[0], 0xef);
        // Writes to the identity and to unknown commands change nothing.
        transaction(&mut chip, &[Ok(&[REG_ID, 0x00])]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_ID]), Err(1)]), vec![ID]);
        assert_eq!(transaction(&mut chip, &[Ok(&[0x77]), Err(1)]), vec![UNKNOWN_READS_AS]);
    }

    #[test]
    fn smbus2_process_calls_transform_what_they_send() {
        let mut chip = Smbus2Device::new(DEVICE);
        // Process call: write command and word, repeated START, read a word: the word plus 1.
        let answer = transaction(&mut chip, &[Ok(&[REG_INCREMENT, 0x34, 0x12]), Err(2)]);
        assert_eq!(answer, vec![0x35, 0x12]);
        let answer = transaction(&mut chip, &[Ok(&[REG_INCREMENT, 0xff, 0xff]), Err(2)]);
        assert_eq!(answer, vec![0x00, 0x00]);
        // Block process call: count and bytes out, count and the bytes reversed back.
        let answer = transaction(&mut chip, &[Ok(&[REG_REVERSE, 3, 1, 2, 3]), Err(4)]);
        assert_eq!(answer, vec![3, 3, 2, 1]);
        // At power-on the block is REVERSE_RESET, read back reversed.
        chip.power_on();
        let answer = transaction(&mut chip, &[Ok(&[REG_REVERSE]), Err(1 + REVERSE_RESET.len())]);
        assert_eq!(answer[0] as usize, REVERSE_RESET.len());
        assert_eq!(answer[1..], *block_process_call_answer(REVERSE_RESET));
        // A block whose count is 0 or above 32, or whose length disagrees with it, is ignored.
        for bad in [&[REG_REVERSE, 0][..], &[REG_REVERSE, 33], &[REG_REVERSE, 2, 1]] {
            transaction(&mut chip, &[Ok(bad)]);
            let answer = transaction(&mut chip, &[Ok(&[REG_REVERSE]), Err(2)]);
            assert_eq!(answer[0] as usize, REVERSE_RESET.len(), "{bad:?}");
        }
    }

    #[test]
    fn smbus2_sends_the_pec_of_the_whole_transaction_after_its_answer() {
        let mut chip = Smbus2Device::new(DEVICE);
        // Read byte data with PEC: S addr+W cmd Sr addr+R data PEC P.
        let read = transaction(&mut chip, &[Ok(&[REG_ID]), Err(3)]);
        assert_eq!(read[..2], [ID, pec(0, &[W, REG_ID, R, ID])]);
        assert_eq!(read[2], 0xff, "after the PEC the bus idles high");
        // Receive byte with PEC covers the read address byte and the data only.
        assert_eq!(transaction(&mut chip, &[Err(2)]), vec![ID, pec(0, &[R, ID])]);
        // Process call with PEC: the host sends none on the write part, the device's covers all.
        let read = transaction(&mut chip, &[Ok(&[REG_INCREMENT, 0x01, 0x00]), Err(3)]);
        assert_eq!(read, vec![0x02, 0x00, pec(0, &[W, REG_INCREMENT, 0x01, 0x00, R, 0x02, 0x00])]);
    }

    #[test]
    fn smbus2_applies_a_write_only_with_a_matching_pec() {
        let mut chip = Smbus2Device::new(DEVICE);
        transaction(&mut chip, &[Ok(&with_pec(&[W], &[REG_SCRATCH, 0x11]))]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_SCRATCH]), Err(1)]), vec![0x11]);
        transaction(&mut chip, &[Ok(&with_pec(&[W], &[REG_WORD, 0x22, 0x33]))]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_WORD]), Err(2)]), vec![0x22, 0x33]);
        transaction(&mut chip, &[Ok(&with_pec(&[W], &[REG_REVERSE, 2, 7, 8]))]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_REVERSE]), Err(3)]), vec![2, 8, 7]);
        // Writes without PEC are applied too, and not counted.
        transaction(&mut chip, &[Ok(&[REG_WORD, 0x44, 0x55])]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_PECS_MATCHED]), Err(1)]), vec![3]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_PECS_REFUSED]), Err(1)]), vec![0]);

        // A PEC computed for another address (or corrupted on the wire) is refused.
        let mut wrong = with_pec(&[W + 2], &[REG_SCRATCH, 0x99]);
        transaction(&mut chip, &[Ok(&wrong)]);
        *wrong.last_mut().unwrap() ^= 0x01;
        transaction(&mut chip, &[Ok(&wrong)]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_PECS_REFUSED]), Err(1)]), vec![2]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_PECS_MATCHED]), Err(1)]), vec![3]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_SCRATCH]), Err(1)]), vec![0x11]);
    }

    #[test]
    fn smbus2_corrupts_as_many_pecs_as_asked_then_sends_good_ones() {
        let mut chip = Smbus2Device::new(DEVICE);
        transaction(&mut chip, &[Ok(&[REG_CORRUPT_PEC, 2])]);
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_CORRUPT_PEC]), Err(1)]), vec![2]);
        // Reads without a PEC byte clocked out leave the count alone.
        transaction(&mut chip, &[Ok(&[REG_ID]), Err(1)]);
        let good = pec(0, &[W, REG_ID, R, ID]);
        for expected in [!good, !good, good, good] {
            assert_eq!(transaction(&mut chip, &[Ok(&[REG_ID]), Err(2)]), vec![ID, expected]);
        }
        chip.power_on();
        assert_eq!(transaction(&mut chip, &[Ok(&[REG_CORRUPT_PEC]), Err(1)]), vec![0]);
    }

    #[test]
    fn eeprom_writes_wrap_within_their_page_and_reads_over_the_whole_memory() {
        let mut eeprom = Eeprom24c02::new(EEPROM_SIGNATURE);
        // Page 0xf8..0xff: 1 and 2 land at 0xfe and 0xff, 3 wraps to the page start 0xf8.
        write(&mut eeprom, &[0xfe, 1, 2, 3]);
        write(&mut eeprom, &[0xf8]);
        assert_eq!(read(&mut eeprom, 1), vec![3]);
        // A read runs on past the page, and past the end to address 0.
        write(&mut eeprom, &[0xfe]);
        assert_eq!(read(&mut eeprom, 4), vec![1, 2, EEPROM_SIGNATURE[0], EEPROM_SIGNATURE[1]]);
        // A current address read continues where the last one stopped.
        assert_eq!(read(&mut eeprom, 2), EEPROM_SIGNATURE[2..4].to_vec());
        // After a write, the pointer is the next byte of the page.
        write(&mut eeprom, &[0x45, 0xaa]);
        assert_eq!(read(&mut eeprom, 1), vec![EEPROM_ERASED]);
        write(&mut eeprom, &[0x47, 0xbb]);
        write(&mut eeprom, &[0x40]);
        assert_eq!(read(&mut eeprom, 1), vec![EEPROM_ERASED]);
        write(&mut eeprom, &[0x47]);
        assert_eq!(read(&mut eeprom, 1), vec![0xbb]);
    }

    #[test]
    fn eeprom_content_survives_a_power_cycle() {
        let mut eeprom = Eeprom24c02::new(EEPROM_SIGNATURE);
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
