//! The simulated adapters (bus controllers) and the chips wired to them. Errors start as the
//! errno the kernel would return through i2c-dev and go through the production errno mapping.

use super::catalog::{ChipModel, Controller, ModuleSpec};
use super::chips::{Chip, Eeprom24c02, Lm75};
use crate::core::device::{DeviceFault, Target, Transferred};
use crate::core::request::func::*;
use crate::core::request::{validate_transfer, Message, SmbusOp, SmbusValue, SMBUS_BLOCK_MAX};
use crate::platform::i2cdev::operation_fault;
use std::collections::BTreeMap;

/// The SMBus-only controller's functionality, modelled on i2c-i801.
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

/// Highest 7-bit address; above it i2c-dev wants I2C_TENBIT, which sessions never get.
const MAX_7BIT_ADDRESS: u16 = 0x7f;

struct AttachedChip {
    chip: Box<dyn Chip>,
    /// A kernel driver bound to the address: I2C_SLAVE on it fails with EBUSY.
    bound_driver: Option<&'static str>,
}

/// One adapter with its chips. Shared by every handle open on the bus; callers lock it for a
/// whole operation, which makes each transfer atomic as the kernel's adapter lock does.
pub(super) struct SimAdapter {
    controller: Controller,
    chips: BTreeMap<u16, AttachedChip>,
}

impl SimAdapter {
    /// The module's controller with its chips, fresh from the factory.
    pub(super) fn new(spec: &ModuleSpec) -> SimAdapter {
        let chips = spec
            .chips
            .iter()
            .map(|chip| {
                let model: Box<dyn Chip> = match chip.model {
                    ChipModel::Eeprom24c02 => Box::new(Eeprom24c02::new()),
                    ChipModel::Lm75 => Box::new(Lm75::new()),
                };
                (chip.address, AttachedChip { chip: model, bound_driver: chip.bound_driver })
            })
            .collect();
        SimAdapter { controller: spec.controller, chips }
    }

    /// The I2C_FUNCS answer.
    pub(super) fn functionality(&self) -> u64 {
        match self.controller {
            Controller::I2c => I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL,
            Controller::SmbusOnly => SMBUS_ONLY_FUNCTIONALITY,
        }
    }

    pub(super) fn power_on(&mut self) {
        self.chips.values_mut().for_each(|attached| attached.chip.power_on());
    }

    /// I2C_SLAVE: succeeds for empty addresses too (the kernel does not probe), fails only
    /// where a driver is bound.
    pub(super) fn claim(&self, target: Target) -> Result<(), DeviceFault> {
        let address = check_target(target)?;
        match self.chips.get(&address).and_then(|attached| attached.bound_driver) {
            Some(driver) => Err(operation_fault(
                libc::EBUSY,
                format!("address {address:#04x} is in use by the kernel driver {driver}"),
            )),
            None => Ok(()),
        }
    }

    /// I2C_RDWR: the messages run in order with repeated STARTs and one STOP at the end.
    pub(super) fn transfer(
        &mut self,
        target: Target,
        messages: &[Message],
    ) -> Result<Transferred, DeviceFault> {
        // An SMBus controller's driver has no master_xfer, which __i2c_transfer() answers with
        // EOPNOTSUPP (drivers/i2c/i2c-core-base.c).
        if self.controller != Controller::I2c {
            return Err(not_supported("plain I2C transfers (the adapter is SMBus-only)"));
        }
        // The service's I2C_RDWR limits, from their one home. Behind the broker they never
        // trigger (it applied them first); they keep a direct caller from sizing read buffers
        // from lengths no transfer may have.
        validate_transfer(messages).map_err(DeviceFault::refused)?;
        let address = check_target(target)?;
        let mut reads = Vec::new();
        for message in messages {
            match message {
                Message::Write(bytes) => self.wire_write(address, bytes)?,
                Message::Read(len) => reads.push(self.wire_read(address, *len)?),
            }
        }
        Ok(Transferred { completed: messages.len(), reads })
    }

    /// I2C_SMBUS. On the I2C controller this mirrors the kernel's i2c_smbus_xfer_emulated (the
    /// same messages, in the same order); the SMBus controller produces the same wire cycles in
    /// hardware, so both share one sequence per command.
    pub(super) fn smbus(
        &mut self,
        target: Target,
        op: &SmbusOp,
    ) -> Result<SmbusValue, DeviceFault> {
        let address = check_target(target)?;
        // What the hardware can do, not an I2C_FUNCS check (that is the broker's): the I2C
        // controller's driver cannot let the device set the length of a read (I2C_M_RECV_LEN),
        // so an emulated SMBus block read is refused, which is why its functionality lacks
        // I2C_FUNC_SMBUS_READ_BLOCK_DATA.
        if self.controller == Controller::I2c
            && matches!(op, SmbusOp::ReadBlockData(_) | SmbusOp::BlockProcessCall(..))
        {
            return Err(not_supported(&format!("SMBus {}", op.name())));
        }
        check_smbus_lengths(op)?;
        // Through i2c-dev an SMBus command needs I2C_SLAVE first, which a bound driver refuses.
        self.claim(target)?;
        self.smbus_on_wire(address, op)
    }

    fn smbus_on_wire(&mut self, address: u16, op: &SmbusOp) -> Result<SmbusValue, DeviceFault> {
        let value = match op {
            SmbusOp::Quick { read: true } => {
                self.wire_read(address, 0).map(|_| SmbusValue::None)?
            }
            SmbusOp::Quick { read: false } => {
                self.wire_write(address, &[]).map(|_| SmbusValue::None)?
            }
            SmbusOp::ReadByte => SmbusValue::Byte(self.read_bytes::<1>(address)?[0]),
            SmbusOp::WriteByte(byte) => self.write_value(address, &[*byte])?,
            SmbusOp::ReadByteData(command) => {
                self.wire_write(address, &[*command])?;
                SmbusValue::Byte(self.read_bytes::<1>(address)?[0])
            }
            SmbusOp::WriteByteData(command, byte) => {
                self.write_value(address, &[*command, *byte])?
            }
            SmbusOp::ReadWordData(command) => {
                self.wire_write(address, &[*command])?;
                SmbusValue::Word(u16::from_le_bytes(self.read_bytes::<2>(address)?))
            }
            SmbusOp::WriteWordData(command, word) => {
                let [low, high] = word.to_le_bytes();
                self.write_value(address, &[*command, low, high])?
            }
            SmbusOp::ReadBlockData(command) => {
                self.wire_write(address, &[*command])?;
                SmbusValue::Block(self.wire_read_counted(address)?)
            }
            SmbusOp::WriteBlockData(command, data) => {
                let mut bytes = vec![*command, data.len() as u8];
                bytes.extend_from_slice(data);
                self.write_value(address, &bytes)?
            }
            SmbusOp::ReadI2cBlockData(command, len) => {
                self.wire_write(address, &[*command])?;
                SmbusValue::Block(self.wire_read(address, *len)?)
            }
            SmbusOp::WriteI2cBlockData(command, data) => {
                let mut bytes = vec![*command];
                bytes.extend_from_slice(data);
                self.write_value(address, &bytes)?
            }
            SmbusOp::ProcessCall(command, word) => {
                let [low, high] = word.to_le_bytes();
                self.wire_write(address, &[*command, low, high])?;
                SmbusValue::Word(u16::from_le_bytes(self.read_bytes::<2>(address)?))
            }
            SmbusOp::BlockProcessCall(command, data) => {
                let mut bytes = vec![*command, data.len() as u8];
                bytes.extend_from_slice(data);
                self.wire_write(address, &bytes)?;
                SmbusValue::Block(self.wire_read_counted(address)?)
            }
        };
        Ok(value)
    }

    fn chip_at(&mut self, address: u16) -> Result<&mut dyn Chip, DeviceFault> {
        match self.chips.get_mut(&address) {
            Some(attached) => Ok(attached.chip.as_mut()),
            None => Err(operation_fault(
                libc::ENXIO,
                format!("no device acknowledged address {address:#04x}"),
            )),
        }
    }

    fn wire_write(&mut self, address: u16, bytes: &[u8]) -> Result<(), DeviceFault> {
        let chip = self.chip_at(address)?;
        chip.start(false);
        bytes.iter().for_each(|byte| chip.write_byte(*byte));
        Ok(())
    }

    fn write_value(&mut self, address: u16, bytes: &[u8]) -> Result<SmbusValue, DeviceFault> {
        self.wire_write(address, bytes).map(|_| SmbusValue::None)
    }

    fn wire_read(&mut self, address: u16, len: usize) -> Result<Vec<u8>, DeviceFault> {
        let chip = self.chip_at(address)?;
        chip.start(true);
        Ok((0..len).map(|_| chip.read_byte()).collect())
    }

    fn read_bytes<const N: usize>(&mut self, address: u16) -> Result<[u8; N], DeviceFault> {
        let chip = self.chip_at(address)?;
        chip.start(true);
        Ok(std::array::from_fn(|_| chip.read_byte()))
    }

    /// An SMBus block read: the device sends the count first. Like i801, a count of 0 or above
    /// 32 is a protocol error rather than a short or truncated block.
    fn wire_read_counted(&mut self, address: u16) -> Result<Vec<u8>, DeviceFault> {
        let chip = self.chip_at(address)?;
        chip.start(true);
        let count = usize::from(chip.read_byte());
        if count == 0 || count > SMBUS_BLOCK_MAX {
            return Err(operation_fault(
                libc::EPROTO,
                format!("device at {address:#04x} announced an SMBus block of {count} bytes"),
            ));
        }
        Ok((0..count).map(|_| chip.read_byte()).collect())
    }
}

fn not_supported(what: &str) -> DeviceFault {
    operation_fault(libc::EOPNOTSUPP, format!("the adapter does not support {what}"))
}

/// The 7-bit address the simulated controllers can put on the wire; they have no 10-bit or
/// PEC support, which their functionality says, so the broker never asks for either.
fn check_target(target: Target) -> Result<u16, DeviceFault> {
    if target.ten_bit || target.pec {
        return Err(not_supported("10-bit addresses or PEC"));
    }
    if target.address > MAX_7BIT_ADDRESS {
        return Err(operation_fault(
            libc::EINVAL,
            format!("address {:#x} needs 10-bit addressing", target.address),
        ));
    }
    Ok(target.address)
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
    use crate::core::device::FaultKind;
    use crate::core::request::{MAX_MESSAGES, MAX_MESSAGE_LEN, MAX_TRANSFER_BYTES};

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
                &[Message::Write(vec![0]), Message::Read(EEPROM_SIGNATURE.len())],
            )
            .unwrap();
        assert_eq!(reads.reads, vec![EEPROM_SIGNATURE.to_vec()]);
        adapter
            .transfer(Target::seven_bit(EEPROM_ADDRESS), &[Message::Write(vec![0x80, 1, 2, 3])])
            .unwrap();
        let reads = adapter
            .transfer(
                Target::seven_bit(EEPROM_ADDRESS),
                &[Message::Write(vec![0x7f]), Message::Read(5)],
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
        ];
        for (spec, address) in [(&EEPROM, EEPROM_ADDRESS), (&SENSOR, LM75_ADDRESS)] {
            let mut adapter = SimAdapter::new(spec);
            let functionality = adapter.functionality();
            let refused = |result: Result<_, DeviceFault>| matches!(result, Err(fault) if fault.kind == FaultKind::NotSupported);
            for op in &ops {
                let lacks = functionality & op.required_functionality() == 0;
                assert_eq!(
                    refused(adapter.smbus(Target::seven_bit(address), op).map(|_| ())),
                    lacks,
                    "{op:?}"
                );
            }
            let lacks_i2c = functionality & I2C_FUNC_I2C == 0;
            let transfer =
                adapter.transfer(Target::seven_bit(address), &[Message::Read(1)]).map(|_| ());
            assert_eq!(refused(transfer), lacks_i2c, "transfer at {address:#04x}");
        }
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
                &[Message::Write(vec![0]), Message::Read(2)]
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
            errno(eeprom.transfer(Target::seven_bit(0x51), &[Message::Read(1)])),
            libc::ENXIO
        );
        assert_eq!(
            errno(eeprom.transfer(Target::seven_bit(0x51), &[Message::Write(vec![0])])),
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
        let too_many = vec![Message::Read(1); MAX_MESSAGES + 1];
        assert_eq!(
            kind(adapter.transfer(Target::seven_bit(EEPROM_ADDRESS), &too_many)),
            FaultKind::TooLarge
        );
        assert_eq!(
            kind(adapter.transfer(
                Target::seven_bit(EEPROM_ADDRESS),
                &[Message::Read(MAX_MESSAGE_LEN + 1)]
            )),
            FaultKind::TooLarge
        );
        let largest = adapter
            .transfer(Target::seven_bit(EEPROM_ADDRESS), &[Message::Read(MAX_TRANSFER_BYTES)]);
        assert_eq!(largest.unwrap().reads[0].len(), MAX_TRANSFER_BYTES);
        assert_eq!(errno(adapter.claim(Target::seven_bit(0x80))), libc::EINVAL);
        assert_eq!(
            errno(adapter.transfer(Target::seven_bit(0x3ff), &[Message::Read(1)])),
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
