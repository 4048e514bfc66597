//! The simulated modules, described once. The simulator builds its modules from this catalog,
//! and every test that expects something of them (names, addresses, contents, readings) takes
//! it from here, so changing a module cannot leave a test checking the old one.

/// The simulator's platform device: every module hangs below it in sysfs, and every adapter's
/// name starts with it.
pub const PLATFORM_DEVICE: &str = "i2c-hal-sim";

pub const EEPROM_MODULE: &str = "eeprom-module";
pub const SENSOR_MODULE: &str = "sensor-module";

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

/// What the bus controller can put on the wire by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Controller {
    /// A full I2C controller; the kernel emulates SMBus on top of plain messages.
    I2c,
    /// An SMBus-only controller such as Intel's i801: no I2C_RDWR at all.
    SmbusOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChipModel {
    /// A 256-byte EEPROM holding EEPROM_SIGNATURE, then EEPROM_ERASED bytes.
    Eeprom24c02,
    /// A temperature sensor reading LM75_TEMPERATURE.
    Lm75,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChipSpec {
    pub address: u16,
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
}

pub const EEPROM: ModuleSpec = ModuleSpec {
    name: EEPROM_MODULE,
    description: "full I2C adapter; 24C02 EEPROM at 0x50",
    controller: Controller::I2c,
    chips: &[ChipSpec {
        address: EEPROM_ADDRESS,
        model: ChipModel::Eeprom24c02,
        bound_driver: None,
    }],
};

pub const SENSOR: ModuleSpec = ModuleSpec {
    name: SENSOR_MODULE,
    description: "SMBus-only adapter (i801-like); LM75 at 0x48, 0x49 bound to a kernel driver",
    controller: Controller::SmbusOnly,
    chips: &[
        ChipSpec { address: LM75_ADDRESS, model: ChipModel::Lm75, bound_driver: None },
        ChipSpec {
            address: DRIVER_BOUND_ADDRESS,
            model: ChipModel::Lm75,
            bound_driver: Some(BOUND_DRIVER),
        },
    ],
};

/// Every module, in the order `--sim-modules all` plugs them (so eeprom-module gets bus 0).
pub static MODULES: [ModuleSpec; 2] = [EEPROM, SENSOR];

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
        assert_ne!(MODULES[0].name, MODULES[1].name);
        for module in &MODULES {
            let mut addresses: Vec<u16> = module.chips.iter().map(|chip| chip.address).collect();
            addresses.sort_unstable();
            addresses.dedup();
            assert_eq!(addresses.len(), module.chips.len(), "{module:?}");
        }
    }
}
