//! The simulated adapters (bus controllers) and the chips wired to them. Errors start as the
//! errno the kernel would return through i2c-dev and go through the production errno mapping.

use super::catalog::{ChipModel, Controller, ModuleSpec};
use super::chips::{Chip, Eeprom24c02, Lm75, Smbus2Device};
use super::pec::{address_byte, pec};
use i2c_hal_core::device::{DeviceFault, Target, Transferred};
use i2c_hal_core::request::func::*;
use i2c_hal_core::request::{validate_transfer, MessageRef, SmbusOp, SmbusValue, SMBUS_BLOCK_MAX};
use i2c_hal_platform::i2cdev::operation_fault;
use std::collections::BTreeMap;

/// The SMBus-only controller's functionality, modelled on an early i2c-i801.
const SMBUS_ONLY_FUNCTIONALITY: u64 = I2C_FUNC_SMBUS_QUICK
    | I2C_FUNC_SMBUS_READ_BYTE
    | I2C_FUNC_SMBUS_WRITE_BYTE
    | I2C_FUNC_SMBUS_READ_BYTE_DATA
    | I2C_FUNC_SMBUS_WRITE_BYTE_DATA
    | I2C_FUNC_SMBUS_READ_WORD_DATA
    | I2C_FUNC_SMBUS_WRITE_WORD_DATA
    | I2C_FUNC_SMBUS_READ_BLOCK_DATA
    | I2C_FUNC_SMBUS_WRITE_BLOCK_DATA
    | I2C_FUNC_SMBUS_READ_I2C_BLOCK
    | I2C_FUNC_SMBUS_WRITE_I2C_BLOCK;

/// The SMBus 2.0 controller: the same, plus what i801 gains on recent chipsets.
const SMBUS2_FUNCTIONALITY: u64 = SMBUS_ONLY_FUNCTIONALITY
    | I2C_FUNC_SMBUS_PROC_CALL
    | I2C_FUNC_SMBUS_BLOCK_PROC_CALL
    | I2C_FUNC_SMBUS_PEC;

/// What the kernel emulates over plain I2C for the full I2C controllers, without PEC (see
/// `Controller::I2c` for why).
const I2C_FUNCTIONALITY: u64 = I2C_FUNC_I2C | (I2C_FUNC_SMBUS_EMUL & !I2C_FUNC_SMBUS_PEC);

/// Highest 7-bit address; above it i2c-dev wants I2C_TENBIT.
const MAX_7BIT_ADDRESS: u16 = 0x7f;
/// Highest 10-bit address (I2C_SLAVE with I2C_TENBIT set refuses more).
const MAX_10BIT_ADDRESS: u16 = 0x3ff;

struct AttachedChip {
    chip: Box<dyn Chip>,
    /// A kernel driver bound to the address: I2C_SLAVE on it fails with EBUSY.
    bound_driver: Option<&'static str>,
}

/// Where a chip answers: 7-bit and 10-bit addresses are different addresses on the wire (a
/// 10-bit address starts with the reserved 11110 pattern), so 0x50 and 10-bit 0x150 never meet.
type WireAddress = (u16, bool);

fn wire_address(target: Target) -> WireAddress {
    (target.address, target.ten_bit)
}

/// One adapter with its chips. Shared by every handle open on the bus; callers lock it for a
/// whole operation, which makes each transfer atomic as the kernel's adapter lock does.
pub(super) struct SimAdapter {
    controller: Controller,
    chips: BTreeMap<WireAddress, AttachedChip>,
}

impl SimAdapter {
    /// The module's controller with its chips, fresh from the factory.
    pub(super) fn new(spec: &ModuleSpec) -> SimAdapter {
        let chips = spec
            .chips
            .iter()
            .map(|chip| {
                let model: Box<dyn Chip> = match chip.model {
                    ChipModel::Eeprom24c02 { signature } => Box::new(Eeprom24c02::new(signature)),
                    ChipModel::Lm75 => Box::new(Lm75::new()),
                    ChipModel::Smbus2Device => Box::new(Smbus2Device::new(chip.address)),
                };
                let attached = AttachedChip { chip: model, bound_driver: chip.bound_driver };
                ((chip.address, chip.ten_bit), attached)
            })
            .collect();
        SimAdapter { controller: spec.controller, chips }
    }

    /// The I2C_FUNCS answer.
    pub(super) fn functionality(&self) -> u64 {
        match self.controller {
            Controller::I2c => I2C_FUNCTIONALITY,
            Controller::I2cTenBit => I2C_FUNCTIONALITY | I2C_FUNC_10BIT_ADDR,
            Controller::SmbusOnly => SMBUS_ONLY_FUNCTIONALITY,
            Controller::Smbus2 => SMBUS2_FUNCTIONALITY,
        }
    }

    fn can(&self, bits: u64) -> bool {
        self.functionality() & bits == bits
    }

    pub(super) fn power_on(&mut self) {
        self.chips.values_mut().for_each(|attached| attached.chip.power_on());
    }

    /// I2C_SLAVE: succeeds for empty addresses too (the kernel does not probe), fails only
    /// where a driver is bound.
    pub(super) fn claim(&self, target: Target) -> Result<(), DeviceFault> {
        self.check_target(target)?;
        match self.chips.get(&wire_address(target)).and_then(|attached| attached.bound_driver) {
            Some(driver) => Err(operation_fault(
                libc::EBUSY,
                format!("address {target} is in use by the kernel driver {driver}"),
            )),
            None => Ok(()),
        }
    }

    /// I2C_RDWR: the messages run in order with repeated STARTs and one STOP at the end. PEC
    /// is an SMBus matter: plain messages never carry one, whatever the session asked for.
    pub(super) fn transfer(
        &mut self,
        target: Target,
        messages: &[MessageRef<'_>],
    ) -> Result<Transferred, DeviceFault> {
        // An SMBus controller's driver has no master_xfer, which __i2c_transfer() answers with
        // EOPNOTSUPP (drivers/i2c/i2c-core-base.c).
        if !self.can(I2C_FUNC_I2C) {
            return Err(not_supported("plain I2C transfers (the adapter is SMBus-only)"));
        }
        // The service's I2C_RDWR limits, from their one home. Behind the broker they never
        // trigger (it applied them first); they keep a direct caller from sizing read buffers
        // from lengths no transfer may have.
        let shape = validate_transfer(messages).map_err(DeviceFault::refused)?;
        self.check_target(target)?;
        let mut wire = self.begin(target, false)?;
        let mut reads = Vec::with_capacity(shape.reads);
        for message in messages {
            match message {
                MessageRef::Write(bytes) => wire.write(bytes),
                MessageRef::Read(len) => reads.push(wire.read(*len)),
            }
        }
        Ok(Transferred { completed: messages.len(), reads })
    }

    /// I2C_SMBUS. On the I2C controllers this mirrors the kernel's i2c_smbus_xfer_emulated (the
    /// same messages, in the same order, PEC included); the SMBus controllers produce the same
    /// wire cycles in hardware, so all share one sequence per command.
    pub(super) fn smbus(
        &mut self,
        target: Target,
        op: &SmbusOp,
    ) -> Result<SmbusValue, DeviceFault> {
        self.check_target(target)?;
        // A driver refuses what its hardware cannot do, which is what its functionality leaves
        // out: i801 answers an unsupported size with EOPNOTSUPP, and an I2C driver without
        // I2C_M_RECV_LEN cannot let the device set the length of an emulated block read. The
        // broker checks functionality first, so behind it this never triggers.
        if !self.can(op.required_functionality()) {
            return Err(not_supported(&format!("SMBus {}", op.name())));
        }
        check_smbus_lengths(op)?;
        // Through i2c-dev an SMBus command needs I2C_SLAVE first, which a bound driver refuses.
        self.claim(target)?;
        // SMBus puts a PEC on every command but quick; I2C block transfers are not SMBus
        // commands. i2c_smbus_xfer_emulated and i801 alike leave those out.
        let pec = target.pec
            && !matches!(
                op,
                SmbusOp::Quick { .. }
                    | SmbusOp::ReadI2cBlockData(..)
                    | SmbusOp::WriteI2cBlockData(..)
            );
        let mut wire = self.begin(target, pec)?;
        smbus_on_wire(&mut wire, op)
    }

    /// The START of a transaction with the chip at `target`, or the NACK of an empty address.
    fn begin(&mut self, target: Target, pec: bool) -> Result<Wire<'_>, DeviceFault> {
        match self.chips.get_mut(&wire_address(target)) {
            Some(attached) => Ok(Wire {
                chip: attached.chip.as_mut(),
                address: target.address,
                pec: pec.then_some(0),
            }),
            None => Err(operation_fault(
                libc::ENXIO,
                format!("no device acknowledged address {target}"),
            )),
        }
    }

    /// The address modes the controller can put on the wire, and the address range of each.
    /// The broker checks functionality first, so behind it these never trigger; they keep the
    /// model honest for direct callers (its tests).
    fn check_target(&self, target: Target) -> Result<(), DeviceFault> {
        if target.ten_bit && !self.can(I2C_FUNC_10BIT_ADDR) {
            return Err(not_supported("10-bit addresses"));
        }
        if target.pec && !self.can(I2C_FUNC_SMBUS_PEC) {
            return Err(not_supported("SMBus PEC"));
        }
        let (limit, kind) = if target.ten_bit {
            (MAX_10BIT_ADDRESS, "more than 10 bits")
        } else {
            (MAX_7BIT_ADDRESS, "10-bit addressing")
        };
        if target.address > limit {
            return Err(operation_fault(
                libc::EINVAL,
                format!("address {:#x} needs {kind}", target.address),
            ));
        }
        Ok(())
    }
}
/// One transaction with one chip, from its START to its STOP, which is sent when the Wire is
/// dropped: on every path, as a controller ends what it started however it went. It keeps the
/// host's side of the PEC when the transaction carries one.
struct Wire<'a> {
    chip: &'a mut dyn Chip,
    address: u16,
    /// The PEC of everything on the wire so far, in a transaction that carries one.
    pec: Option<u8>,
}

impl Wire<'_> {
    fn start(&mut self, read: bool) {
        self.chip.start(read);
        self.cover(&[address_byte(self.address, read)]);
    }

    fn cover(&mut self, bytes: &[u8]) {
        if let Some(crc) = &mut self.pec {
            *crc = pec(*crc, bytes);
        }
    }

    /// A write message, followed by more of the transaction.
    fn write(&mut self, bytes: &[u8]) {
        self.start(false);
        bytes.iter().for_each(|byte| self.chip.write_byte(*byte));
        self.cover(bytes);
    }

    /// The one message of a write-only SMBus command: with PEC, the PEC byte follows the data
    /// (i2c_smbus_add_pec).
    fn write_last(&mut self, bytes: &[u8]) {
        self.write(bytes);
        if let Some(crc) = self.pec {
            self.chip.write_byte(crc);
        }
    }

    /// A read message of `len` bytes.
    fn read(&mut self, len: usize) -> Vec<u8> {
        self.start(true);
        let bytes: Vec<u8> = (0..len).map(|_| self.chip.read_byte()).collect();
        self.cover(&bytes);
        bytes
    }

    /// The read that ends an SMBus command: with PEC, one byte more, which must be the PEC of
    /// the whole transaction (i2c_smbus_check_pec; EBADMSG otherwise).
    fn read_last(&mut self, len: usize) -> Result<Vec<u8>, DeviceFault> {
        let bytes = self.read(len);
        self.check_pec()?;
        Ok(bytes)
    }

    /// An SMBus block read, the device sending the count first, then the PEC if any. Like i801,
    /// a count of 0 or above 32 is a protocol error rather than a short or truncated block.
    fn read_counted_last(&mut self) -> Result<Vec<u8>, DeviceFault> {
        self.start(true);
        let count = self.chip.read_byte();
        self.cover(&[count]);
        let count = usize::from(count);
        if count == 0 || count > SMBUS_BLOCK_MAX {
            return Err(operation_fault(
                libc::EPROTO,
                format!(
                    "device at {:#04x} announced an SMBus block of {count} bytes",
                    self.address
                ),
            ));
        }
        let bytes: Vec<u8> = (0..count).map(|_| self.chip.read_byte()).collect();
        self.cover(&bytes);
        self.check_pec()?;
        Ok(bytes)
    }

    fn check_pec(&mut self) -> Result<(), DeviceFault> {
        let Some(expected) = self.pec else {
            return Ok(());
        };
        let received = self.chip.read_byte();
        if received == expected {
            return Ok(());
        }
        Err(operation_fault(
            libc::EBADMSG,
            format!(
                "bad PEC {received:#04x} from {:#04x} (computed {expected:#04x})",
                self.address
            ),
        ))
    }
}

impl Drop for Wire<'_> {
    fn drop(&mut self) {
        self.chip.stop();
    }
}

/// The wire cycles of one SMBus command, as i2c_smbus_xfer_emulated builds them: a write
/// message, then for the reading commands a read message after a repeated START.
fn smbus_on_wire(wire: &mut Wire<'_>, op: &SmbusOp) -> Result<SmbusValue, DeviceFault> {
    let word = |bytes: Vec<u8>| SmbusValue::Word(u16::from_le_bytes([bytes[0], bytes[1]]));
    let block = |command: u8, data: &[u8]| {
        // The count byte: check_smbus_lengths has kept data within SMBUS_BLOCK_MAX.
        let mut bytes = vec![command, data.len() as u8];
        bytes.extend_from_slice(data);
        bytes
    };
    let value = match op {
        SmbusOp::Quick { read: true } => {
            wire.read(0);
            SmbusValue::None
        }
        SmbusOp::Quick { read: false } => {
            wire.write(&[]);
            SmbusValue::None
        }
        SmbusOp::ReadByte => SmbusValue::Byte(wire.read_last(1)?[0]),
        SmbusOp::WriteByte(byte) => {
            wire.write_last(&[*byte]);
            SmbusValue::None
        }
        SmbusOp::ReadByteData(command) => {
            wire.write(&[*command]);
            SmbusValue::Byte(wire.read_last(1)?[0])
        }
        SmbusOp::WriteByteData(command, byte) => {
            wire.write_last(&[*command, *byte]);
            SmbusValue::None
        }
        SmbusOp::ReadWordData(command) => {
            wire.write(&[*command]);
            word(wire.read_last(2)?)
        }
        SmbusOp::WriteWordData(command, value) => {
            let [low, high] = value.to_le_bytes();
            wire.write_last(&[*command, low, high]);
            SmbusValue::None
        }
        SmbusOp::ReadBlockData(command) => {
            wire.write(&[*command]);
            SmbusValue::Block(wire.read_counted_last()?)
        }
        SmbusOp::WriteBlockData(command, data) => {
            wire.write_last(&block(*command, data));
            SmbusValue::None
        }
        SmbusOp::ReadI2cBlockData(command, len) => {
            wire.write(&[*command]);
            SmbusValue::Block(wire.read_last(*len)?)
        }
        SmbusOp::WriteI2cBlockData(command, data) => {
            let mut bytes = vec![*command];
            bytes.extend_from_slice(data);
            wire.write_last(&bytes);
            SmbusValue::None
        }
        SmbusOp::ProcessCall(command, value) => {
            let [low, high] = value.to_le_bytes();
            wire.write(&[*command, low, high]);
            word(wire.read_last(2)?)
        }
        SmbusOp::BlockProcessCall(command, data) => {
            wire.write(&block(*command, data));
            SmbusValue::Block(wire.read_counted_last()?)
        }
    };
    Ok(value)
}

fn not_supported(what: &str) -> DeviceFault {
    operation_fault(libc::EOPNOTSUPP, format!("the adapter does not support {what}"))
}

/// The kernel refuses SMBus blocks above I2C_SMBUS_BLOCK_MAX with EINVAL.
fn check_smbus_lengths(op: &SmbusOp) -> Result<(), DeviceFault> {
    let len = match op {
        SmbusOp::WriteBlockData(_, data)
        | SmbusOp::WriteI2cBlockData(_, data)
        | SmbusOp::BlockProcessCall(_, data) => data.len(),
        SmbusOp::ReadI2cBlockData(_, len) => *len,
        _ => return Ok(()),
    };
    if len > SMBUS_BLOCK_MAX {
        return Err(operation_fault(
            libc::EINVAL,
            format!("SMBus block of {len} bytes (at most {SMBUS_BLOCK_MAX})"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::catalog::*;
    use super::super::chips::{LM75_T_HYST_DEFAULT, LM75_T_OS_DEFAULT};
    use super::*;
    use i2c_hal_core::device::FaultKind;
    use i2c_hal_core::request::{MAX_MESSAGES, MAX_MESSAGE_LEN, MAX_TRANSFER_BYTES};

    fn errno<T: std::fmt::Debug>(result: Result<T, DeviceFault>) -> i32 {
        let fault = result.expect_err("operation should have failed");
        fault.errno.unwrap_or_else(|| panic!("no errno in {fault:?}"))
    }

    fn kind<T: std::fmt::Debug>(result: Result<T, DeviceFault>) -> FaultKind {
        result.expect_err("operation should have failed").kind
    }

    #[test]
    fn eeprom_write_then_read_back_through_transfers() {
        let mut adapter = SimAdapter::new(&EEPROM);
        let reads = adapter
            .transfer(
                Target::seven_bit(EEPROM_ADDRESS),
                &[MessageRef::Write(&[0]), MessageRef::Read(EEPROM_SIGNATURE.len())],
            )
            .unwrap();
        assert_eq!(reads.reads, vec![EEPROM_SIGNATURE.to_vec()]);
        adapter
            .transfer(Target::seven_bit(EEPROM_ADDRESS), &[MessageRef::Write(&[0x80, 1, 2, 3])])
            .unwrap();
        let reads = adapter
            .transfer(
                Target::seven_bit(EEPROM_ADDRESS),
                &[MessageRef::Write(&[0x7f]), MessageRef::Read(5)],
            )
            .unwrap();
        assert_eq!(reads.reads, vec![vec![EEPROM_ERASED, 1, 2, 3, EEPROM_ERASED]]);
    }

    #[test]
    fn eeprom_through_emulated_smbus() {
        let mut adapter = SimAdapter::new(&EEPROM);
        assert_eq!(
            adapter.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadByteData(0)),
            Ok(SmbusValue::Byte(EEPROM_SIGNATURE[0]))
        );
        // The pointer auto-increments, so a plain read byte continues after it.
        assert_eq!(
            adapter.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadByte),
            Ok(SmbusValue::Byte(EEPROM_SIGNATURE[1]))
        );
        assert_eq!(
            adapter.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadWordData(0)),
            Ok(SmbusValue::Word(u16::from_le_bytes([EEPROM_SIGNATURE[0], EEPROM_SIGNATURE[1]])))
        );
        adapter
            .smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::WriteByteData(0x20, 0x5a))
            .unwrap();
        adapter
            .smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::WriteWordData(0x21, 0xbeef))
            .unwrap();
        adapter
            .smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::WriteI2cBlockData(0x23, vec![7, 8]))
            .unwrap();
        assert_eq!(
            adapter.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadI2cBlockData(0x20, 6)),
            Ok(SmbusValue::Block(vec![0x5a, 0xef, 0xbe, 7, 8, EEPROM_ERASED]))
        );
        // A block write sends its count byte, which the EEPROM stores like any other byte.
        adapter
            .smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::WriteBlockData(0x30, vec![9]))
            .unwrap();
        assert_eq!(
            adapter.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadI2cBlockData(0x30, 2)),
            Ok(SmbusValue::Block(vec![1, 9]))
        );
        assert_eq!(
            adapter.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::Quick { read: false }),
            Ok(SmbusValue::None)
        );
    }

    #[test]
    fn smbus_block_read_is_not_emulated_on_plain_i2c() {
        let mut adapter = SimAdapter::new(&EEPROM);
        assert_eq!(adapter.functionality() & I2C_FUNC_SMBUS_READ_BLOCK_DATA, 0);
        assert_eq!(
            errno(adapter.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadBlockData(0))),
            libc::EOPNOTSUPP
        );
    }

    /// The first chip of a module, as a session would address it.
    fn first_chip(spec: &ModuleSpec) -> Target {
        let chip = spec.chips[0];
        Target { address: chip.address, ten_bit: chip.ten_bit, pec: false }
    }

    #[test]
    fn each_module_refuses_exactly_what_its_functionality_lacks() {
        let ops = [
            SmbusOp::Quick { read: false },
            SmbusOp::ReadByte,
            SmbusOp::WriteByte(0),
            SmbusOp::ReadByteData(0),
            SmbusOp::WriteByteData(1, 0),
            SmbusOp::ReadWordData(0),
            SmbusOp::WriteWordData(2, 0x4b00),
            SmbusOp::ReadBlockData(0),
            SmbusOp::WriteBlockData(1, vec![0]),
            SmbusOp::ReadI2cBlockData(0, 2),
            SmbusOp::WriteI2cBlockData(1, vec![0]),
            SmbusOp::ProcessCall(0x10, 1),
            SmbusOp::BlockProcessCall(0x20, vec![1, 2]),
        ];
        for spec in &MODULES {
            let mut adapter = SimAdapter::new(spec);
            let target = first_chip(spec);
            let functionality = adapter.functionality();
            let refused = |result: Result<_, DeviceFault>| matches!(result, Err(fault) if fault.kind == FaultKind::NotSupported);
            for op in &ops {
                let lacks = functionality & op.required_functionality() == 0;
                assert_eq!(
                    refused(adapter.smbus(target, op).map(|_| ())),
                    lacks,
                    "{op:?} on {}",
                    spec.name
                );
            }
            let lacks_i2c = functionality & I2C_FUNC_I2C == 0;
            let transfer = adapter.transfer(target, &[MessageRef::Read(1)]).map(|_| ());
            assert_eq!(refused(transfer), lacks_i2c, "transfer on {}", spec.name);
            // The modes a session may ask for, refused where the functionality lacks them.
            for (mode, bit) in [
                (Target { ten_bit: true, ..target }, I2C_FUNC_10BIT_ADDR),
                (Target { pec: true, ..target }, I2C_FUNC_SMBUS_PEC),
            ] {
                let lacks = functionality & bit == 0;
                assert_eq!(refused(adapter.claim(mode)), lacks, "{mode:?} on {}", spec.name);
            }
        }
    }

    #[test]
    fn only_the_new_modules_offer_10_bit_pec_and_process_calls() {
        let functionality = |spec: &ModuleSpec| SimAdapter::new(spec).functionality();
        let has = |spec: &ModuleSpec, bit: u64| functionality(spec) & bit != 0;
        for spec in [&EEPROM, &SENSOR] {
            assert!(!has(spec, I2C_FUNC_10BIT_ADDR), "{}", spec.name);
            assert!(!has(spec, I2C_FUNC_SMBUS_PEC), "{}", spec.name);
            assert!(!has(spec, I2C_FUNC_SMBUS_BLOCK_PROC_CALL), "{}", spec.name);
        }
        // The kernel emulates a process call over plain I2C; the early SMBus controller has none.
        assert!(has(&EEPROM, I2C_FUNC_SMBUS_PROC_CALL));
        assert!(!has(&SENSOR, I2C_FUNC_SMBUS_PROC_CALL));
        let smbus2 = I2C_FUNC_SMBUS_PEC | I2C_FUNC_SMBUS_PROC_CALL | I2C_FUNC_SMBUS_BLOCK_PROC_CALL;
        assert_eq!(functionality(&SMBUS2) & smbus2, smbus2);
        assert!(!has(&SMBUS2, I2C_FUNC_I2C) && !has(&SMBUS2, I2C_FUNC_10BIT_ADDR));
        assert!(has(&TEN_BIT, I2C_FUNC_10BIT_ADDR) && has(&TEN_BIT, I2C_FUNC_I2C));
        assert!(!has(&TEN_BIT, I2C_FUNC_SMBUS_PEC));
        // The full I2C controllers differ only in 10-bit addressing.
        assert_eq!(functionality(&TEN_BIT), functionality(&EEPROM) | I2C_FUNC_10BIT_ADDR);
    }

    #[test]
    fn ten_bit_addressing_reaches_the_ten_bit_device_and_seven_bit_does_not() {
        let mut adapter = SimAdapter::new(&TEN_BIT);
        let ten_bit = Target { address: TEN_BIT_EEPROM_ADDRESS, ten_bit: true, pec: false };
        let signature = TEN_BIT_EEPROM_SIGNATURE;
        assert_eq!(adapter.claim(ten_bit), Ok(()));
        let done = adapter
            .transfer(ten_bit, &[MessageRef::Write(&[0]), MessageRef::Read(signature.len())])
            .unwrap();
        assert_eq!(done.reads, vec![signature.to_vec()]);
        assert_eq!(
            adapter.smbus(ten_bit, &SmbusOp::ReadByteData(1)),
            Ok(SmbusValue::Byte(signature[1]))
        );
        // The same low bits as a 7-bit address, and a 10-bit address with the 7-bit's value:
        // both empty.
        let low_bits = TEN_BIT_EEPROM_ADDRESS & 0x7f;
        for elsewhere in
            [Target::seven_bit(low_bits), Target { address: low_bits, ten_bit: true, pec: false }]
        {
            assert_eq!(adapter.claim(elsewhere), Ok(()), "{elsewhere}");
            assert_eq!(
                errno(adapter.transfer(elsewhere, &[MessageRef::Read(1)])),
                libc::ENXIO,
                "{elsewhere}"
            );
            assert_eq!(
                errno(adapter.smbus(elsewhere, &SmbusOp::ReadByteData(0))),
                libc::ENXIO,
                "{elsewhere}"
            );
        }
        let too_wide = Target { address: 0x400, ten_bit: true, pec: false };
        assert_eq!(errno(adapter.claim(too_wide)), libc::EINVAL);
        // Elsewhere a 10-bit target is refused outright: those controllers cannot address it.
        let mut eeprom = SimAdapter::new(&EEPROM);
        assert_eq!(errno(eeprom.claim(ten_bit)), libc::EOPNOTSUPP);
        assert_eq!(errno(eeprom.transfer(ten_bit, &[MessageRef::Read(1)])), libc::EOPNOTSUPP);
    }

    fn pec_target() -> Target {
        Target { address: SMBUS2_DEVICE_ADDRESS, ten_bit: false, pec: true }
    }

    #[test]
    fn smbus2_device_answers_process_calls_with_their_transforms() {
        use super::super::catalog::smbus2::*;
        for target in [Target::seven_bit(SMBUS2_DEVICE_ADDRESS), pec_target()] {
            let mut adapter = SimAdapter::new(&SMBUS2);
            assert_eq!(
                adapter.smbus(target, &SmbusOp::ProcessCall(REG_INCREMENT, 0x1234)),
                Ok(SmbusValue::Word(0x1235)),
                "{target:?}"
            );
            assert_eq!(
                adapter.smbus(target, &SmbusOp::ProcessCall(REG_INCREMENT, 0xffff)),
                Ok(SmbusValue::Word(0x0000))
            );
            assert_eq!(
                adapter.smbus(target, &SmbusOp::BlockProcessCall(REG_REVERSE, vec![1, 2, 3])),
                Ok(SmbusValue::Block(vec![3, 2, 1]))
            );
            let longest: Vec<u8> = (0..32).collect();
            let reversed: Vec<u8> = (0..32).rev().collect();
            assert_eq!(
                adapter.smbus(target, &SmbusOp::BlockProcessCall(REG_REVERSE, longest)),
                Ok(SmbusValue::Block(reversed))
            );
        }
    }

    #[test]
    fn smbus2_pec_sessions_read_and_write_and_see_a_corrupted_pec() {
        use super::super::catalog::smbus2::*;
        let mut adapter = SimAdapter::new(&SMBUS2);
        let pec = pec_target();
        let plain = Target::seven_bit(SMBUS2_DEVICE_ADDRESS);
        assert_eq!(adapter.smbus(pec, &SmbusOp::ReadByteData(REG_ID)), Ok(SmbusValue::Byte(ID)));
        assert_eq!(adapter.smbus(pec, &SmbusOp::ReadByte), Ok(SmbusValue::Byte(ID)));
        // Writes carry the host's PEC, which the device checks (and counts) before it applies
        // them; writes without PEC are applied uncounted.
        adapter.smbus(pec, &SmbusOp::WriteByteData(REG_SCRATCH, 0x5a)).unwrap();
        adapter.smbus(pec, &SmbusOp::WriteWordData(REG_WORD, 0xbeef)).unwrap();
        adapter.smbus(plain, &SmbusOp::WriteByteData(REG_SCRATCH, 0x5a)).unwrap();
        assert_eq!(
            adapter.smbus(plain, &SmbusOp::ReadByteData(REG_PECS_MATCHED)),
            Ok(SmbusValue::Byte(2))
        );
        assert_eq!(
            adapter.smbus(plain, &SmbusOp::ReadByteData(REG_SCRATCH)),
            Ok(SmbusValue::Byte(0x5a))
        );
        assert_eq!(
            adapter.smbus(pec, &SmbusOp::ReadWordData(REG_WORD)),
            Ok(SmbusValue::Word(0xbeef))
        );
        adapter.smbus(pec, &SmbusOp::WriteBlockData(REG_REVERSE, vec![7, 8, 9])).unwrap();
        assert_eq!(
            adapter.smbus(pec, &SmbusOp::ReadBlockData(REG_REVERSE)),
            Ok(SmbusValue::Block(vec![9, 8, 7]))
        );
        // Quick and I2C block transfers carry no PEC, in a PEC session too.
        assert_eq!(adapter.smbus(pec, &SmbusOp::Quick { read: false }), Ok(SmbusValue::None));
        assert_eq!(
            adapter.smbus(pec, &SmbusOp::ReadI2cBlockData(REG_WORD, 2)),
            Ok(SmbusValue::Block(vec![0xef, 0xbe]))
        );

        // A wrong PEC from the device is EBADMSG (PEC_ERROR), once per corrupted PEC; reads
        // without PEC neither notice nor use one up.
        adapter.smbus(pec, &SmbusOp::WriteByteData(REG_CORRUPT_PEC, 2)).unwrap();
        assert_eq!(adapter.smbus(plain, &SmbusOp::ReadByteData(REG_ID)), Ok(SmbusValue::Byte(ID)));
        let corrupted = adapter.smbus(pec, &SmbusOp::ReadByteData(REG_ID));
        assert_eq!(errno(corrupted.clone()), libc::EBADMSG);
        assert_eq!(kind(corrupted), FaultKind::Pec);
        assert_eq!(
            kind(adapter.smbus(pec, &SmbusOp::ProcessCall(REG_INCREMENT, 1))),
            FaultKind::Pec
        );
        assert_eq!(adapter.smbus(pec, &SmbusOp::ReadByteData(REG_ID)), Ok(SmbusValue::Byte(ID)));
        assert_eq!(
            adapter.smbus(pec, &SmbusOp::ReadByteData(REG_CORRUPT_PEC)),
            Ok(SmbusValue::Byte(0))
        );
    }
    #[test]
    fn sensor_reads_look_like_a_real_lm75_through_smbus() {
        let mut adapter = SimAdapter::new(&SENSOR);
        assert_eq!(
            adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadWordData(0)),
            Ok(SmbusValue::Word(LM75_TEMPERATURE_WORD))
        );
        assert_eq!(
            adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadWordData(3)),
            Ok(SmbusValue::Word(LM75_T_OS_DEFAULT.swap_bytes()))
        );
        assert_eq!(
            adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadWordData(2)),
            Ok(SmbusValue::Word(LM75_T_HYST_DEFAULT.swap_bytes()))
        );
        assert_eq!(
            adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadByteData(1)),
            Ok(SmbusValue::Byte(0))
        );
        adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::WriteByteData(1, 0x02)).unwrap();
        assert_eq!(
            adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadByteData(1)),
            Ok(SmbusValue::Byte(2))
        );
        adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::WriteWordData(3, 0x8055)).unwrap();
        assert_eq!(
            adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadWordData(3)),
            Ok(SmbusValue::Word(0x8055))
        );
        assert_eq!(
            adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadI2cBlockData(0, 2)),
            Ok(SmbusValue::Block(LM75_TEMPERATURE.to_be_bytes().to_vec()))
        );
        adapter.power_on();
        assert_eq!(
            adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadWordData(3)),
            Ok(SmbusValue::Word(LM75_T_OS_DEFAULT.swap_bytes()))
        );
    }

    #[test]
    fn smbus_only_adapter_refuses_plain_transfers() {
        let mut adapter = SimAdapter::new(&SENSOR);
        assert_eq!(adapter.functionality() & I2C_FUNC_I2C, 0);
        assert_eq!(
            errno(adapter.transfer(
                Target::seven_bit(LM75_ADDRESS),
                &[MessageRef::Write(&[0]), MessageRef::Read(2)]
            )),
            libc::EOPNOTSUPP
        );
    }

    #[test]
    fn sensor_block_read_with_a_bad_count_is_a_protocol_error() {
        let mut adapter = SimAdapter::new(&SENSOR);
        // The LM75 answers 0x19 (25) as the count, then the register bytes.
        let block =
            adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadBlockData(0)).unwrap();
        assert!(
            matches!(block, SmbusValue::Block(ref bytes) if bytes.len() == usize::from(LM75_TEMPERATURE.to_be_bytes()[0]))
        );
        // T_os starts with 0x50 (80), more than a block may hold.
        assert_eq!(
            errno(adapter.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadBlockData(3))),
            libc::EPROTO
        );
    }

    #[test]
    fn empty_addresses_nack_every_operation_but_can_be_claimed() {
        let mut eeprom = SimAdapter::new(&EEPROM);
        let mut sensor = SimAdapter::new(&SENSOR);
        assert_eq!(eeprom.claim(Target::seven_bit(0x51)), Ok(()));
        assert_eq!(
            errno(eeprom.transfer(Target::seven_bit(0x51), &[MessageRef::Read(1)])),
            libc::ENXIO
        );
        assert_eq!(
            errno(eeprom.transfer(Target::seven_bit(0x51), &[MessageRef::Write(&[0])])),
            libc::ENXIO
        );
        for op in [
            SmbusOp::Quick { read: true },
            SmbusOp::Quick { read: false },
            SmbusOp::ReadByte,
            SmbusOp::ReadByteData(0),
            SmbusOp::WriteWordData(0, 1),
            SmbusOp::WriteBlockData(0, vec![1]),
        ] {
            assert_eq!(
                errno(eeprom.smbus(Target::seven_bit(0x51), &op)),
                libc::ENXIO,
                "{op:?} on eeprom-module"
            );
            assert_eq!(
                errno(sensor.smbus(Target::seven_bit(0x20), &op)),
                libc::ENXIO,
                "{op:?} on sensor-module"
            );
        }
    }

    #[test]
    fn driver_bound_address_is_busy() {
        let mut adapter = SimAdapter::new(&SENSOR);
        assert_eq!(errno(adapter.claim(Target::seven_bit(DRIVER_BOUND_ADDRESS))), libc::EBUSY);
        assert_eq!(
            errno(
                adapter.smbus(Target::seven_bit(DRIVER_BOUND_ADDRESS), &SmbusOp::ReadWordData(0))
            ),
            libc::EBUSY
        );
        assert_eq!(adapter.claim(Target::seven_bit(LM75_ADDRESS)), Ok(()));
    }

    #[test]
    fn out_of_range_requests_fail_like_i2c_dev_without_panicking() {
        let mut adapter = SimAdapter::new(&EEPROM);
        assert_eq!(
            kind(adapter.transfer(Target::seven_bit(EEPROM_ADDRESS), &[])),
            FaultKind::InvalidArgument
        );
        let too_many = vec![MessageRef::Read(1); MAX_MESSAGES + 1];
        assert_eq!(
            kind(adapter.transfer(Target::seven_bit(EEPROM_ADDRESS), &too_many)),
            FaultKind::TooLarge
        );
        assert_eq!(
            kind(adapter.transfer(
                Target::seven_bit(EEPROM_ADDRESS),
                &[MessageRef::Read(MAX_MESSAGE_LEN + 1)]
            )),
            FaultKind::TooLarge
        );
        let largest = adapter
            .transfer(Target::seven_bit(EEPROM_ADDRESS), &[MessageRef::Read(MAX_TRANSFER_BYTES)]);
        assert_eq!(largest.unwrap().reads[0].len(), MAX_TRANSFER_BYTES);
        assert_eq!(errno(adapter.claim(Target::seven_bit(0x80))), libc::EINVAL);
        assert_eq!(
            errno(adapter.transfer(Target::seven_bit(0x3ff), &[MessageRef::Read(1)])),
            libc::EINVAL
        );
        assert_eq!(
            errno(
                adapter.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadI2cBlockData(0, 33))
            ),
            libc::EINVAL
        );
        assert_eq!(
            errno(adapter.smbus(
                Target::seven_bit(EEPROM_ADDRESS),
                &SmbusOp::WriteBlockData(0, vec![0; 300])
            )),
            libc::EINVAL
        );
        assert_eq!(
            adapter.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadI2cBlockData(0, 0)),
            Ok(SmbusValue::Block(vec![]))
        );
    }
}
