//! The i2c-tiny-usb bridge: the vendor control requests its firmware answers on endpoint 0,
//! as the kernel driver drivers/i2c/busses/i2c-tiny-usb.c (Linux 6.1) sends them.
//!
//! What the driver relies on, and so what this emulates:
//! - Every request is a vendor request to the interface (`USB_TYPE_VENDOR |
//!   USB_RECIP_INTERFACE`, IN or OUT) on endpoint 0; the driver has no other endpoint
//!   (usb_read()/usb_write() are its only USB calls, both usb_control_msg()).
//! - Request codes (the driver's "must match command ids in the firmware" list): CMD_ECHO 0,
//!   CMD_GET_FUNC 1, CMD_SET_DELAY 2, CMD_GET_STATUS 3, CMD_I2C_IO 4, to which
//!   CMD_I2C_IO_BEGIN (1) and CMD_I2C_IO_END (2) are added for the first and last message of
//!   a transfer: the firmware sends START before the first message and a repeated START
//!   before the others, and STOP after the last.
//! - Probe: CMD_SET_DELAY with wValue = the `delay` module parameter (bit delay in µs) and no
//!   data; the probe fails unless it succeeds. Then i2c_add_adapter().
//! - usb_func(): CMD_GET_FUNC reads 4 bytes, the I2C_FUNC_* mask little-endian.
//! - usb_xfer(): per message one CMD_I2C_IO request with wValue = the message's flags
//!   (I2C_M_RD 0x0001, I2C_M_TEN 0x0010 as in include/uapi/linux/i2c.h), wIndex = its
//!   address and wLength = its length; the data stage carries the bytes (IN for reads, OUT
//!   for writes) and must move exactly wLength bytes, or the driver fails the transfer with
//!   -EIO. Then CMD_GET_STATUS reads 1 byte: STATUS_ADDRESS_NAK (2) makes the driver stop
//!   and return -ENXIO; STATUS_IDLE (0) and STATUS_ADDRESS_ACK (1) let it go on.
//! - So an address NAK is not a USB error: the firmware completes the data stage (reads
//!   return filler bytes, written bytes are dropped) and reports the NAK only through the
//!   status byte, which is why the emulator answers an absent address that way. A stalled
//!   request would instead surface as -EIO, which the service would call an I/O error.
//! - The adapter has the I2C_AQ_NO_ZERO_LEN_READ quirk, so zero-length reads never arrive;
//!   zero-length writes (SMBus quick write, i2cdetect) do.
//!
//! The firmware's functionality word is I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL. This emulator adds
//! I2C_FUNC_10BIT_ADDR by default (the original AVR firmware has no 10-bit addressing) so
//! that a device at a 10-bit address can exist; `--firmware-funcs` drops it again.
//! CMD_ECHO is the firmware's link test: it returns the two bytes of wValue. The driver never
//! sends it.

use crate::devices::{Address, Bus};
use crate::usb::{Reply, Setup};

pub const CMD_ECHO: u8 = 0;
pub const CMD_GET_FUNC: u8 = 1;
pub const CMD_SET_DELAY: u8 = 2;
pub const CMD_GET_STATUS: u8 = 3;
pub const CMD_I2C_IO: u8 = 4;
pub const CMD_I2C_IO_BEGIN: u8 = 1 << 0;
pub const CMD_I2C_IO_END: u8 = 1 << 1;

pub const STATUS_IDLE: u8 = 0;
pub const STATUS_ADDRESS_ACK: u8 = 1;
pub const STATUS_ADDRESS_NAK: u8 = 2;

pub const I2C_M_RD: u16 = 0x0001;
pub const I2C_M_TEN: u16 = 0x0010;

pub const I2C_FUNC_I2C: u32 = 0x0000_0001;
pub const I2C_FUNC_10BIT_ADDR: u32 = 0x0000_0002;
/// include/uapi/linux/i2c.h: QUICK | BYTE | BYTE_DATA | WORD_DATA | PROC_CALL |
/// WRITE_BLOCK_DATA | I2C_BLOCK | PEC, what the core can build from plain I2C messages.
pub const I2C_FUNC_SMBUS_EMUL: u32 = 0x0eff_0008;

/// What the bridge did with one I2C message, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageLog {
    pub begin: bool,
    pub end: bool,
    pub read: bool,
    pub address: Option<Address>,
    pub len: usize,
    pub acked: bool,
}

pub struct Bridge {
    bus: Bus,
    functionality: u32,
    status: u8,
    delay_us: u16,
    /// Set when a write changed a device's memory; the caller saves state and clears it.
    pub dirty: bool,
    pub last_message: Option<MessageLog>,
}

impl Bridge {
    pub fn new(bus: Bus, ten_bit: bool) -> Bridge {
        let functionality =
            I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL | if ten_bit { I2C_FUNC_10BIT_ADDR } else { 0 };
        Bridge {
            bus,
            functionality,
            status: STATUS_IDLE,
            delay_us: 0,
            dirty: false,
            last_message: None,
        }
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub fn delay_us(&self) -> u16 {
        self.delay_us
    }

    /// A vendor request; `out` is the OUT data stage (empty for IN requests).
    pub fn vendor_request(&mut self, setup: &Setup, out: &[u8]) -> Reply {
        self.last_message = None;
        match setup.request {
            CMD_ECHO if setup.is_in() => Reply::In(setup.value.to_le_bytes().to_vec()),
            CMD_GET_FUNC if setup.is_in() => Reply::In(self.functionality.to_le_bytes().to_vec()),
            CMD_SET_DELAY if !setup.is_in() => {
                self.delay_us = setup.value;
                Reply::Out
            }
            CMD_GET_STATUS if setup.is_in() => Reply::In(vec![self.status]),
            request if request & !(CMD_I2C_IO_BEGIN | CMD_I2C_IO_END) == CMD_I2C_IO => {
                self.i2c_io(request, setup, out)
            }
            _ => Reply::Stall,
        }
    }

    fn i2c_io(&mut self, request: u8, setup: &Setup, out: &[u8]) -> Reply {
        let flags = setup.value;
        let read = flags & I2C_M_RD != 0;
        if read != setup.is_in() {
            // The driver sends reads as IN and writes as OUT; anything else is not its traffic.
            return Reply::Stall;
        }
        let address = self.decode_address(flags, setup.index);
        let len = usize::from(setup.length);
        let answer = address.and_then(|address| {
            if read {
                self.bus.read(address, len).map(Reply::In)
            } else {
                let changed = self.bus.write(address, out)?;
                self.dirty |= changed;
                Some(Reply::Out)
            }
        });
        let acked = answer.is_some();
        self.status = if acked { STATUS_ADDRESS_ACK } else { STATUS_ADDRESS_NAK };
        // Nobody drove SDA: a read clocks in the bus's idle level, all ones.
        let reply = answer.unwrap_or(if read { Reply::In(vec![0xff; len]) } else { Reply::Out });
        self.last_message = Some(MessageLog {
            begin: request & CMD_I2C_IO_BEGIN != 0,
            end: request & CMD_I2C_IO_END != 0,
            read,
            address,
            len,
            acked,
        });
        reply
    }

    /// wIndex is the message's address; I2C_M_TEN in wValue says it is a 10-bit one. A 7-bit
    /// address above 0x7f, or a 10-bit one when 10-bit support is off, reaches no device.
    fn decode_address(&self, flags: u16, index: u16) -> Option<Address> {
        if flags & I2C_M_TEN != 0 {
            (self.functionality & I2C_FUNC_10BIT_ADDR != 0 && index <= 0x3ff)
                .then_some(Address { value: index, ten_bit: true })
        } else {
            (index <= 0x7f).then_some(Address { value: index, ten_bit: false })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::I2cDevice;
    use crate::usb::{USB_DIR_IN, USB_RECIP_INTERFACE, USB_TYPE_VENDOR};

    const VENDOR_IN: u8 = USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_INTERFACE;
    const VENDOR_OUT: u8 = USB_TYPE_VENDOR | USB_RECIP_INTERFACE;

    fn bridge(ten_bit: bool) -> Bridge {
        let devices = ["eeprom@0x50", "regs@0x48", "regs@0x2a0:a5"]
            .iter()
            .map(|spec| I2cDevice::parse(spec).unwrap())
            .collect();
        Bridge::new(Bus::new(devices, None).unwrap(), ten_bit)
    }

    fn setup(request_type: u8, request: u8, value: u16, index: u16, length: u16) -> Setup {
        Setup { request_type, request, value, index, length }
    }

    fn status(bridge: &mut Bridge) -> Reply {
        bridge.vendor_request(&setup(VENDOR_IN, CMD_GET_STATUS, 0, 0, 1), &[])
    }

    /// One message the way usb_xfer() sends it.
    fn io(bridge: &mut Bridge, cmd: u8, flags: u16, address: u16, out: &[u8], len: u16) -> Reply {
        let request_type = if flags & I2C_M_RD != 0 { VENDOR_IN } else { VENDOR_OUT };
        bridge.vendor_request(&setup(request_type, CMD_I2C_IO | cmd, flags, address, len), out)
    }

    #[test]
    fn probe_and_functionality() {
        let mut bridge = bridge(true);
        assert_eq!(status(&mut bridge), Reply::In(vec![STATUS_IDLE]));
        assert_eq!(
            bridge.vendor_request(&setup(VENDOR_OUT, CMD_SET_DELAY, 10, 0, 0), &[]),
            Reply::Out
        );
        assert_eq!(bridge.delay_us(), 10);
        let funcs = bridge.vendor_request(&setup(VENDOR_IN, CMD_GET_FUNC, 0, 0, 4), &[]);
        assert_eq!(funcs, Reply::In(vec![0x0b, 0x00, 0xff, 0x0e]));
        let firmware = bridge_funcs(false);
        assert_eq!(firmware & I2C_FUNC_10BIT_ADDR, 0);
        assert_eq!(firmware, I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL);
        let echo = bridge.vendor_request(&setup(VENDOR_IN, CMD_ECHO, 0x1234, 0, 2), &[]);
        assert_eq!(echo, Reply::In(vec![0x34, 0x12]));
        assert_eq!(bridge.vendor_request(&setup(VENDOR_IN, 9, 0, 0, 1), &[]), Reply::Stall);
        assert_eq!(
            bridge.vendor_request(&setup(VENDOR_OUT, CMD_GET_FUNC, 0, 0, 0), &[]),
            Reply::Stall
        );
    }

    fn bridge_funcs(ten_bit: bool) -> u32 {
        match bridge(ten_bit).vendor_request(&setup(VENDOR_IN, CMD_GET_FUNC, 0, 0, 4), &[]) {
            Reply::In(bytes) => u32::from_le_bytes(bytes.try_into().unwrap()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn write_read_with_repeated_start_reads_the_eeprom_from_the_pointer() {
        let mut bridge = bridge(true);
        assert_eq!(io(&mut bridge, CMD_I2C_IO_BEGIN, 0, 0x50, &[0x10], 1), Reply::Out);
        assert_eq!(status(&mut bridge), Reply::In(vec![STATUS_ADDRESS_ACK]));
        let read = io(&mut bridge, CMD_I2C_IO_END, I2C_M_RD, 0x50, &[], 4);
        assert_eq!(read, Reply::In(vec![0x10, 0x11, 0x12, 0x13]));
        let log = bridge.last_message.clone().unwrap();
        assert!(log.end && !log.begin && log.read && log.acked && log.len == 4);
        assert!(!bridge.dirty);
        io(&mut bridge, CMD_I2C_IO_BEGIN | CMD_I2C_IO_END, 0, 0x50, &[0x20, 0xab], 2);
        assert!(bridge.dirty, "a changed byte asks for the state to be saved");
    }

    #[test]
    fn an_absent_address_completes_the_data_stage_and_reports_nak_in_the_status() {
        let mut bridge = bridge(true);
        let read = io(&mut bridge, CMD_I2C_IO_BEGIN | CMD_I2C_IO_END, I2C_M_RD, 0x51, &[], 3);
        assert_eq!(read, Reply::In(vec![0xff; 3]), "full length, or the driver says -EIO");
        assert_eq!(status(&mut bridge), Reply::In(vec![STATUS_ADDRESS_NAK]));
        assert_eq!(io(&mut bridge, CMD_I2C_IO_BEGIN | CMD_I2C_IO_END, 0, 0x51, &[], 0), Reply::Out);
        assert_eq!(status(&mut bridge), Reply::In(vec![STATUS_ADDRESS_NAK]));
        io(&mut bridge, CMD_I2C_IO_BEGIN | CMD_I2C_IO_END, 0, 0x48, &[], 0);
        assert_eq!(status(&mut bridge), Reply::In(vec![STATUS_ADDRESS_ACK]), "quick write ACK");
        // A 7-bit message to a number only a 10-bit address can have.
        io(&mut bridge, CMD_I2C_IO_BEGIN | CMD_I2C_IO_END, I2C_M_RD, 0x2a0, &[], 1);
        assert_eq!(status(&mut bridge), Reply::In(vec![STATUS_ADDRESS_NAK]));
    }

    #[test]
    fn ten_bit_messages_reach_the_ten_bit_device_only_when_supported() {
        let mut extended = bridge(true);
        let read = io(
            &mut extended,
            CMD_I2C_IO_BEGIN | CMD_I2C_IO_END,
            I2C_M_RD | I2C_M_TEN,
            0x2a0,
            &[],
            1,
        );
        assert_eq!(read, Reply::In(vec![0xa5]));
        assert_eq!(status(&mut extended), Reply::In(vec![STATUS_ADDRESS_ACK]));
        let mut firmware = bridge(false);
        io(&mut firmware, CMD_I2C_IO_BEGIN | CMD_I2C_IO_END, I2C_M_RD | I2C_M_TEN, 0x2a0, &[], 1);
        assert_eq!(status(&mut firmware), Reply::In(vec![STATUS_ADDRESS_NAK]));
    }

    #[test]
    fn a_read_flag_on_an_out_request_is_not_driver_traffic() {
        let mut bridge = bridge(true);
        let odd = bridge.vendor_request(&setup(VENDOR_OUT, CMD_I2C_IO, I2C_M_RD, 0x50, 1), &[0]);
        assert_eq!(odd, Reply::Stall);
    }
}
