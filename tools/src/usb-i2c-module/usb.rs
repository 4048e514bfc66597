//! The USB device around the bridge: descriptors and the standard requests of USB 2.0
//! chapter 9 that usbcore sends while it enumerates and configures a device
//! (drivers/usb/core/hub.c hub_port_init(), usb_new_device(); message.c
//! usb_set_configuration(), usb_string()), plus the dispatch of vendor requests to the bridge.
//!
//! The device looks like the original i2c-tiny-usb: a low-speed USB 1.1 device (an AVR running
//! a software USB stack, so endpoint 0 is 8 bytes), one configuration with one vendor-specific
//! interface and no endpoints besides endpoint 0. The driver matches on VID:PID only
//! (i2c_tiny_usb_table: 0x0403:0xc631, first donated by FTDI, and 0x1c40:0x0534, later bought
//! from EZPrototypes); the default here is the latter.

use crate::bridge::Bridge;

pub const USB_DIR_IN: u8 = 0x80;
pub const USB_TYPE_MASK: u8 = 0x60;
pub const USB_TYPE_STANDARD: u8 = 0x00;
pub const USB_TYPE_VENDOR: u8 = 0x40;
/// What the driver sends its requests to; the firmware does not check it.
#[cfg(test)]
pub const USB_RECIP_INTERFACE: u8 = 0x01;

const USB_REQ_GET_STATUS: u8 = 0;
const USB_REQ_CLEAR_FEATURE: u8 = 1;
const USB_REQ_SET_FEATURE: u8 = 3;
const USB_REQ_SET_ADDRESS: u8 = 5;
const USB_REQ_GET_DESCRIPTOR: u8 = 6;
const USB_REQ_GET_CONFIGURATION: u8 = 8;
pub const USB_REQ_SET_CONFIGURATION: u8 = 9;
const USB_REQ_GET_INTERFACE: u8 = 10;
const USB_REQ_SET_INTERFACE: u8 = 11;

const USB_DT_DEVICE: u8 = 1;
const USB_DT_CONFIG: u8 = 2;
const USB_DT_STRING: u8 = 3;
const USB_DT_INTERFACE: u8 = 4;

const LANGID_EN_US: u16 = 0x0409;
const STRING_MANUFACTURER: u8 = 1;
const STRING_PRODUCT: u8 = 2;
const STRING_SERIAL: u8 = 3;
const CONFIGURATION_VALUE: u8 = 1;

/// The 8-byte SETUP packet, fields in host order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    pub request_type: u8,
    pub request: u8,
    pub value: u16,
    pub index: u16,
    pub length: u16,
}

impl Setup {
    /// The wire form: wValue, wIndex and wLength are little-endian (USB 2.0 §9.3).
    pub fn from_bytes(bytes: [u8; 8]) -> Setup {
        Setup {
            request_type: bytes[0],
            request: bytes[1],
            value: u16::from_le_bytes([bytes[2], bytes[3]]),
            index: u16::from_le_bytes([bytes[4], bytes[5]]),
            length: u16::from_le_bytes([bytes[6], bytes[7]]),
        }
    }

    pub fn is_in(&self) -> bool {
        self.request_type & USB_DIR_IN != 0
    }
}

/// How a control request ends: IN data, a successful OUT/no-data request, or a STALL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    In(Vec<u8>),
    Out,
    Stall,
}

/// What the command line says the module is.
#[derive(Clone, Debug)]
pub struct Identity {
    pub vendor: u16,
    pub product: u16,
    pub serial: Option<String>,
}

/// The emulated USB device: its identity, its configuration, and the bridge behind it.
pub struct UsbDevice {
    identity: Identity,
    configuration: u8,
    pub bridge: Bridge,
}

impl UsbDevice {
    pub fn new(identity: Identity, bridge: Bridge) -> UsbDevice {
        UsbDevice { identity, configuration: 0, bridge }
    }

    pub fn configuration(&self) -> u8 {
        self.configuration
    }

    /// One control transfer on endpoint 0. IN replies are cut to wLength, as a device does.
    pub fn control(&mut self, setup: &Setup, out: &[u8]) -> Reply {
        let reply = match setup.request_type & USB_TYPE_MASK {
            USB_TYPE_STANDARD => self.standard(setup),
            // The firmware does not look at the recipient bits; the driver always sends
            // USB_RECIP_INTERFACE.
            USB_TYPE_VENDOR => self.bridge.vendor_request(setup, out),
            _ => Reply::Stall,
        };
        match reply {
            Reply::In(mut data) => {
                data.truncate(usize::from(setup.length));
                Reply::In(data)
            }
            other => other,
        }
    }

    fn standard(&mut self, setup: &Setup) -> Reply {
        match (setup.request_type, setup.request) {
            (0x80, USB_REQ_GET_DESCRIPTOR) => self.descriptor(setup.value, setup.index),
            // The host controller handles SET_ADDRESS to a new device itself (vhci_hcd answers
            // it locally, see vhci_urb_enqueue()); should one arrive, accept it.
            (0x00, USB_REQ_SET_ADDRESS) => Reply::Out,
            (0x00, USB_REQ_SET_CONFIGURATION) => match u8::try_from(setup.value) {
                Ok(value @ (0 | CONFIGURATION_VALUE)) => {
                    self.configuration = value;
                    Reply::Out
                }
                _ => Reply::Stall,
            },
            (0x80, USB_REQ_GET_CONFIGURATION) => Reply::In(vec![self.configuration]),
            // Bus powered, no remote wakeup, no halted endpoints: all status words are zero.
            (0x80..=0x82, USB_REQ_GET_STATUS) => Reply::In(vec![0, 0]),
            (0x00..=0x02, USB_REQ_CLEAR_FEATURE | USB_REQ_SET_FEATURE) => Reply::Out,
            (0x81, USB_REQ_GET_INTERFACE) if setup.index == 0 => Reply::In(vec![0]),
            (0x01, USB_REQ_SET_INTERFACE) if setup.index == 0 && setup.value == 0 => Reply::Out,
            _ => Reply::Stall,
        }
    }

    fn descriptor(&self, value: u16, language: u16) -> Reply {
        let [index, kind] = value.to_le_bytes();
        match (kind, index) {
            (USB_DT_DEVICE, 0) => Reply::In(self.device_descriptor()),
            (USB_DT_CONFIG, 0) => Reply::In(configuration_descriptor()),
            (USB_DT_STRING, 0) => Reply::In(string_descriptor_raw(&LANGID_EN_US.to_le_bytes())),
            (USB_DT_STRING, _) if language == LANGID_EN_US => match self.string(index) {
                Some(text) => Reply::In(string_descriptor(text)),
                None => Reply::Stall,
            },
            // Device qualifier, BOS, other speed: a USB 1.1 device has none and stalls.
            _ => Reply::Stall,
        }
    }

    fn string(&self, index: u8) -> Option<&str> {
        match index {
            STRING_MANUFACTURER => Some("i2c-hal project"),
            STRING_PRODUCT => Some("i2c-tiny-usb (emulated)"),
            STRING_SERIAL => self.identity.serial.as_deref(),
            _ => None,
        }
    }

    fn device_descriptor(&self) -> Vec<u8> {
        let [vendor_lo, vendor_hi] = self.identity.vendor.to_le_bytes();
        let [product_lo, product_hi] = self.identity.product.to_le_bytes();
        let serial = if self.identity.serial.is_some() { STRING_SERIAL } else { 0 };
        vec![
            18,
            USB_DT_DEVICE,
            0x10, // bcdUSB 1.10: no BOS, no device qualifier is asked for
            0x01,
            0x00, // bDeviceClass: per interface
            0x00,
            0x00,
            8, // bMaxPacketSize0: a low-speed device's only choice
            vendor_lo,
            vendor_hi,
            product_lo,
            product_hi,
            0x04, // bcdDevice 1.04; the driver prints it as "version 1.04 found at ..."
            0x01,
            STRING_MANUFACTURER,
            STRING_PRODUCT,
            serial,
            1, // bNumConfigurations
        ]
    }
}

/// Configuration 1: bus powered, 100 mA, one interface of class 0xff (vendor specific) with
/// no endpoints. i2c_tiny_usb_probe() refuses an interface only when it sits in an interface
/// association of a class other than vendor specific; there is none here.
fn configuration_descriptor() -> Vec<u8> {
    let total: u16 = 9 + 9;
    let [total_lo, total_hi] = total.to_le_bytes();
    vec![
        9,
        USB_DT_CONFIG,
        total_lo,
        total_hi,
        1, // bNumInterfaces
        CONFIGURATION_VALUE,
        0,    // iConfiguration
        0x80, // bmAttributes: bus powered
        50,   // bMaxPower in 2 mA units
        9,
        USB_DT_INTERFACE,
        0, // bInterfaceNumber
        0, // bAlternateSetting
        0, // bNumEndpoints
        0xff,
        0x00,
        0x00,
        0, // iInterface
    ]
}

fn string_descriptor(text: &str) -> Vec<u8> {
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    string_descriptor_raw(&utf16)
}

/// bLength is one byte: at most 126 UTF-16 units fit, longer strings are cut.
fn string_descriptor_raw(body: &[u8]) -> Vec<u8> {
    let body = &body[..body.len().min(252)];
    let mut descriptor = vec![u8::try_from(body.len() + 2).expect("at most 254"), USB_DT_STRING];
    descriptor.extend_from_slice(body);
    descriptor
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{Bus, I2cDevice};

    fn device(serial: Option<&str>) -> UsbDevice {
        let bus = Bus::new(vec![I2cDevice::parse("eeprom@0x50").unwrap()], None).unwrap();
        let identity =
            Identity { vendor: 0x1c40, product: 0x0534, serial: serial.map(str::to_string) };
        UsbDevice::new(identity, Bridge::new(bus, true))
    }

    fn get(
        device: &mut UsbDevice,
        request_type: u8,
        request: u8,
        value: u16,
        index: u16,
        length: u16,
    ) -> Reply {
        device.control(&Setup { request_type, request, value, index, length }, &[])
    }

    #[test]
    fn setup_packets_are_little_endian() {
        let setup = Setup::from_bytes([0xc1, 0x04, 0x11, 0x00, 0xa0, 0x02, 0x08, 0x00]);
        assert_eq!(
            setup,
            Setup { request_type: 0xc1, request: 4, value: 0x11, index: 0x2a0, length: 8 }
        );
        assert!(setup.is_in());
    }

    #[test]
    fn enumeration_requests() {
        let mut device = device(Some("MOD-A"));
        let Reply::In(first) = get(&mut device, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 64) else {
            panic!("device descriptor")
        };
        assert_eq!(first.len(), 18);
        assert_eq!(&first[8..12], &[0x40, 0x1c, 0x34, 0x05]);
        assert_eq!(first[16], STRING_SERIAL);
        let short = get(&mut device, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0200, 0, 9);
        assert_eq!(short, Reply::In(configuration_descriptor()[..9].to_vec()));
        let Reply::In(config) = get(&mut device, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0200, 0, 255)
        else {
            panic!("configuration descriptor")
        };
        assert_eq!((config.len(), config[2], config[14]), (18, 18, 0xff));
        let langs = get(&mut device, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0300, 0, 255);
        assert_eq!(langs, Reply::In(vec![4, 3, 0x09, 0x04]));
        let serial = get(&mut device, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0303, 0x0409, 255);
        assert_eq!(serial, Reply::In(vec![12, 3, b'M', 0, b'O', 0, b'D', 0, b'-', 0, b'A', 0]));
        assert_eq!(get(&mut device, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0600, 0, 10), Reply::Stall);
        assert_eq!(get(&mut device, 0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0), Reply::Out);
        assert_eq!(device.configuration(), 1);
        assert_eq!(get(&mut device, 0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 1), Reply::In(vec![1]));
        assert_eq!(get(&mut device, 0x00, USB_REQ_SET_CONFIGURATION, 2, 0, 0), Reply::Stall);
        assert_eq!(get(&mut device, 0x80, USB_REQ_GET_STATUS, 0, 0, 2), Reply::In(vec![0, 0]));
    }

    #[test]
    fn without_a_serial_there_is_no_serial_string() {
        let mut device = device(None);
        let Reply::In(descriptor) = get(&mut device, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 18)
        else {
            panic!("device descriptor")
        };
        assert_eq!(descriptor[16], 0);
        assert_eq!(
            get(&mut device, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0303, 0x0409, 255),
            Reply::Stall
        );
    }

    #[test]
    fn vendor_requests_go_to_the_bridge() {
        let mut device = device(None);
        let funcs = get(&mut device, 0xc1, crate::bridge::CMD_GET_FUNC, 0, 0, 4);
        assert_eq!(funcs, Reply::In(vec![0x0b, 0x00, 0xff, 0x0e]));
        assert_eq!(get(&mut device, 0xa1, 0x01, 0, 0, 4), Reply::Stall, "class requests");
    }
}
