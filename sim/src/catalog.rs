//! The simulated modules, described once. The simulator builds its modules from this catalog,
//! and every test that expects something of them (names, addresses, contents, readings) takes
//! it from here, so changing a module cannot leave a test checking the old one.

/// The simulator's platform device: every module hangs below it in sysfs, and every adapter's
/// name starts with it.
pub const PLATFORM_DEVICE: &str = "i2c-hal-sim";

pub const EEPROM_MODULE: &str = "eeprom-module";
pub const SENSOR_MODULE: &str = "sensor-module";
pub const SMBUS2_MODULE: &str = "smbus2-module";
pub const TEN_BIT_MODULE: &str = "ten-bit-module";

/// The 24C02 on eeprom-module.
pub const EEPROM_ADDRESS: u16 = 0x50;
/// The first bytes of the 24C02 as it leaves the factory.
pub const EEPROM_SIGNATURE: &[u8] = b"i2c-hal sim eeprom";
/// Every byte after the signature, as in an erased EEPROM.
pub const EEPROM_ERASED: u8 = 0xff;

/// The LM75 on sensor-module that sessions may use.
pub const LM75_ADDRESS: u16 = 0x48;
/// A second LM75 on sensor-module, owned by a kernel driver: I2C_SLAVE on it fails with EBUSY.
pub const DRIVER_BOUND_ADDRESS: u16 = 0x49;
/// The driver that owns DRIVER_BOUND_ADDRESS.
pub const BOUND_DRIVER: &str = "lm75";
/// The LM75 temperature register, 25.5 °C: 9-bit two's complement in the top bits of a
/// big-endian word.
pub const LM75_TEMPERATURE: u16 = 0x1980;
/// LM75_TEMPERATURE as SMBus read_word_data(0) returns it: SMBus words are little-endian on
/// the wire, so the register appears byte-swapped (0x8019), as a real LM75 does in i2c-tools.
pub const LM75_TEMPERATURE_WORD: u16 = LM75_TEMPERATURE.swap_bytes();

/// The SMBus 2.0 device on smbus2-module (ChipModel::Smbus2Device).
pub const SMBUS2_DEVICE_ADDRESS: u16 = 0x42;

/// The registers of the SMBus 2.0 device. Each command has one width, as on real SMBus devices
/// (PMBus ones, smart batteries), which is how the device tells a trailing PEC byte from data.
/// Words are little-endian on the wire, as SMBus words are, so what is written as a word reads
/// back as the same word.
pub mod smbus2 {
    /// Byte, read-only: the device's identity, `ID`.
    pub const REG_ID: u8 = 0x00;
    pub const ID: u8 = 0x20;
    /// Byte register, read and write; 0 at power-on.
    pub const REG_SCRATCH: u8 = 0x01;
    /// Word register, read and write; WORD_RESET at power-on.
    pub const REG_WORD: u8 = 0x02;
    pub const WORD_RESET: u16 = 0x1234;
    /// Word: a write sets the operand, a read answers `process_call_answer(operand)`. A process
    /// call does both in one transaction, so it answers the word it sent plus one.
    pub const REG_INCREMENT: u8 = 0x10;
    /// Block (1..32 bytes): a write stores the block, a read answers
    /// `block_process_call_answer(block)`. A block process call answers its block reversed.
    pub const REG_REVERSE: u8 = 0x20;
    /// What REG_REVERSE holds at power-on (so a read answers it reversed).
    pub const REVERSE_RESET: &[u8] = b"smbus2";
    /// Byte: writing N makes the device send a wrong PEC (the right one inverted) the next N
    /// times it sends one; a read answers how many are still to come. 0 at power-on.
    pub const REG_CORRUPT_PEC: u8 = 0xf0;
    /// Byte, read-only: how many writes arrived with a PEC that matched (wrapping at 256), so
    /// a test can see that a host sent one; writes without PEC are applied but not counted.
    pub const REG_PECS_MATCHED: u8 = 0xf1;
    /// Byte, read-only: how many writes were dropped for a PEC that did not match.
    pub const REG_PECS_REFUSED: u8 = 0xf2;
    /// Any other command reads as this one byte and ignores writes.
    pub const UNKNOWN_READS_AS: u8 = 0xff;

    /// The process call's documented transform: the word plus one, wrapping at 0xffff.
    pub fn process_call_answer(word: u16) -> u16 {
        word.wrapping_add(1)
    }

    /// The block process call's documented transform: the same bytes in reverse order.
    pub fn block_process_call_answer(block: &[u8]) -> Vec<u8> {
        block.iter().rev().copied().collect()
    }
}

/// The EEPROM at a 10-bit address on ten-bit-module. The 7-bit address with the same low bits
/// (0x50) is empty there: 10-bit and 7-bit addresses are different addresses on the wire.
pub const TEN_BIT_EEPROM_ADDRESS: u16 = 0x150;
/// Its first bytes, unlike eeprom-module's, so a test can tell which device answered.
pub const TEN_BIT_EEPROM_SIGNATURE: &[u8] = b"i2c-hal sim 10-bit eeprom";

/// What the bus controller can put on the wire by itself. Each one's I2C_FUNCS is in
/// `SimAdapter::functionality`; what a controller lacks, the simulator refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    /// A full I2C controller; the kernel emulates SMBus on top of plain messages. Its driver
    /// leaves PEC out of its functionality (drivers may), so no full I2C adapter here offers
    /// PEC: smbus2-module is where PEC lives, and this is an adapter that refuses it.
    I2c,
    /// The same, and it can put 10-bit addresses on the wire (I2C_FUNC_10BIT_ADDR).
    I2cTenBit,
    /// An SMBus-only controller such as an early Intel i801: no I2C_RDWR, no process calls,
    /// no PEC.
    SmbusOnly,
    /// An SMBus 2.0 host controller with every SMBus feature, like a recent i801: PEC in
    /// hardware, process call and block process call; still no I2C_RDWR.
    Smbus2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChipModel {
    /// A 256-byte EEPROM holding `signature`, then EEPROM_ERASED bytes.
    Eeprom24c02 { signature: &'static [u8] },
    /// A temperature sensor reading LM75_TEMPERATURE.
    Lm75,
    /// An SMBus 2.0 device with PEC, process calls and a way to corrupt its PEC: see `smbus2`.
    Smbus2Device,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChipSpec {
    pub address: u16,
    /// `address` is a 10-bit address (reached only with I2C_M_TEN / FLAG_TEN_BIT).
    pub ten_bit: bool,
    pub model: ChipModel,
    /// The kernel driver bound to the address, if any.
    pub bound_driver: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModuleSpec {
    pub name: &'static str,
    /// What `sim list` shows.
    pub description: &'static str,
    pub controller: Controller,
    pub chips: &'static [ChipSpec],
    /// Plugged by the service's default `--sim-modules default`; the others only on request
    /// (`--sim-modules all`, a list, or `sim plug`), so the default simulator stays the two
    /// buses the walkthrough and most tests are written against.
    pub default: bool,
}

pub const EEPROM: ModuleSpec = ModuleSpec {
    name: EEPROM_MODULE,
    description: "full I2C adapter; 24C02 EEPROM at 0x50",
    controller: Controller::I2c,
    chips: &[ChipSpec {
        address: EEPROM_ADDRESS,
        ten_bit: false,
        model: ChipModel::Eeprom24c02 { signature: EEPROM_SIGNATURE },
        bound_driver: None,
    }],
    default: true,
};

pub const SENSOR: ModuleSpec = ModuleSpec {
    name: SENSOR_MODULE,
    description: "SMBus-only adapter (i801-like); LM75 at 0x48, 0x49 bound to a kernel driver",
    controller: Controller::SmbusOnly,
    chips: &[
        ChipSpec {
            address: LM75_ADDRESS,
            ten_bit: false,
            model: ChipModel::Lm75,
            bound_driver: None,
        },
        ChipSpec {
            address: DRIVER_BOUND_ADDRESS,
            ten_bit: false,
            model: ChipModel::Lm75,
            bound_driver: Some(BOUND_DRIVER),
        },
    ],
    default: true,
};

pub const SMBUS2: ModuleSpec = ModuleSpec {
    name: SMBUS2_MODULE,
    description: "SMBus 2.0 adapter (PEC, process calls); SMBus 2.0 device with PEC at 0x42",
    controller: Controller::Smbus2,
    chips: &[ChipSpec {
        address: SMBUS2_DEVICE_ADDRESS,
        ten_bit: false,
        model: ChipModel::Smbus2Device,
        bound_driver: None,
    }],
    default: false,
};

pub const TEN_BIT: ModuleSpec = ModuleSpec {
    name: TEN_BIT_MODULE,
    description: "full I2C adapter with 10-bit addressing; 24C02-like EEPROM at 10-bit 0x150",
    controller: Controller::I2cTenBit,
    chips: &[ChipSpec {
        address: TEN_BIT_EEPROM_ADDRESS,
        ten_bit: true,
        model: ChipModel::Eeprom24c02 { signature: TEN_BIT_EEPROM_SIGNATURE },
        bound_driver: None,
    }],
    default: false,
};

/// Every module, in the order `--sim-modules default` and `all` plug them: eeprom-module gets
/// bus 0 and sensor-module bus 1 either way.
pub static MODULES: [ModuleSpec; 4] = [EEPROM, SENSOR, SMBUS2, TEN_BIT];

/// The module's adapter name (sysfs `name`, BusInfo.name).
pub fn adapter_name(module: &str) -> String {
    format!("{PLATFORM_DEVICE} {module}")
}

/// The simulator's platform device in sysfs.
pub fn platform_devpath() -> String {
    format!("/devices/platform/{PLATFORM_DEVICE}")
}

/// The module's device in sysfs; its adapter is the child `i2c-N`.
pub fn module_devpath(module: &str) -> String {
    format!("{}/{module}", platform_devpath())
}

/// The stable id the service gives the module's adapter: its parent device below /devices,
/// with no adapter name since the module has exactly one adapter.
pub fn stable_id(module: &str) -> String {
    format!("platform/{PLATFORM_DEVICE}/{module}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_every_chip_address() {
        for module in &MODULES {
            for chip in module.chips {
                let address = format!("{:#04x}", chip.address);
                assert!(module.description.contains(&address), "{module:?} lacks {address}");
            }
        }
    }

    #[test]
    fn names_and_addresses_are_unique() {
        let mut names: Vec<&str> = MODULES.iter().map(|module| module.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MODULES.len());
        for module in &MODULES {
            let mut addresses: Vec<(u16, bool)> =
                module.chips.iter().map(|chip| (chip.address, chip.ten_bit)).collect();
            addresses.sort_unstable();
            addresses.dedup();
            assert_eq!(addresses.len(), module.chips.len(), "{module:?}");
        }
    }

    #[test]
    fn the_default_modules_come_first_so_their_bus_numbers_stay() {
        let defaults: Vec<&str> =
            MODULES.iter().filter(|module| module.default).map(|module| module.name).collect();
        assert_eq!(defaults, [EEPROM_MODULE, SENSOR_MODULE]);
        assert!(MODULES[..2].iter().all(|module| module.default));
    }

    #[test]
    fn chip_addresses_fit_their_kind() {
        for module in &MODULES {
            for chip in module.chips {
                let limit = if chip.ten_bit { 0x3ff } else { 0x77 };
                assert!(chip.address <= limit, "{chip:?}");
            }
        }
        // The 10-bit EEPROM's low bits name a 7-bit address that stays empty on its module.
        let low_bits = TEN_BIT_EEPROM_ADDRESS & 0x7f;
        assert!(!TEN_BIT.chips.iter().any(|chip| !chip.ten_bit && chip.address == low_bits));
    }

    #[test]
    fn the_documented_transforms() {
        assert_eq!(smbus2::process_call_answer(0x1234), 0x1235);
        assert_eq!(smbus2::process_call_answer(0xffff), 0x0000);
        assert_eq!(smbus2::block_process_call_answer(&[1, 2, 3]), vec![3, 2, 1]);
    }
}
