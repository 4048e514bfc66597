//! The cable: the kernel's USB/IP virtual host controller (vhci_hcd, drivers/usb/usbip/).
//!
//! Why USB/IP and not a gadget on dummy_hcd: i2c-tiny-usb sends its I2C messages as vendor
//! requests *to the interface* with wIndex = the I2C address. A configfs gadget's FunctionFS
//! function never sees them: composite_setup() (drivers/usb/gadget/composite.c) offers an
//! interface request to a function only when ffs_func_req_match() maps wIndex's low byte to
//! one of the function's interface numbers (ffs_func_revmap_intf() in
//! drivers/usb/gadget/function/f_fs.c takes a u8 and finds only interface numbers below
//! MAX_CONFIG_INTERFACES, 16), and ffs_func_setup() rewrites wIndex to the function's own
//! interface index before user space reads the event. So a message to 0x50 is stalled and
//! the driver reports -EIO; only the probe's requests (wIndex 0) would get through. Debian
//! 12's kernel has no raw_gadget, and gadgetfs allows one gadget per system. vhci_hcd instead
//! hands every URB, SETUP packet included, unmodified to a user-space peer, on as many ports
//! as needed, and the host side is the same usbcore, hub and i2c-tiny-usb code a real bridge
//! meets.
//!
//! Plugging in: write "PORT SOCKFD DEVID SPEED" to /sys/devices/platform/vhci_hcd.0/attach
//! (attach_store() in vhci_sysfs.c); the kernel takes its own reference to the socket (only
//! SOCK_STREAM is checked, so one end of a Unix socketpair will do) and announces a connection
//! on root-hub port PORT+1. HS ports are 0..VHCI_HC_PORTS-1 (15 in Debian's config) of
//! controller 0; PORT/30 picks the controller.
//!
//! Pulling the cable: either side may. The host writes PORT to .../detach
//! (vhci_port_disconnect()), or this process closes its end (is killed): vhci_rx sees the
//! connection closed. Both queue VDEV_EVENT_DOWN, whose handler shuts the socket down and
//! reports the port disconnected (vhci_shutdown_connection(), rh_port_disconnect()); the hub
//! driver then removes the device as for any unplug (hub_event() -> usb_disconnect()).
//!
//! Wire format (usbip_common.h, fields big-endian): a 48-byte header, `usbip_header_basic`
//! (command, seqnum, devid, direction, ep) and a 28-byte union. CMD_SUBMIT carries
//! transfer_flags, transfer_buffer_length, start_frame, number_of_packets, interval and the
//! SETUP packet, followed by the OUT data; RET_SUBMIT answers with status (a negative errno,
//! -EPIPE for a STALL), actual_length, start_frame, number_of_packets, error_count, followed
//! by the IN data (usbip_recv_xbuff() reads actual_length bytes). CMD_UNLINK names a seqnum
//! to cancel; RET_UNLINK answers with status 0 when that URB had already completed, which is
//! always the case here because every URB is answered before the next header is read.

use crate::usb::{Reply, Setup, UsbDevice};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

const USBIP_CMD_SUBMIT: u32 = 1;
const USBIP_CMD_UNLINK: u32 = 2;
const USBIP_RET_SUBMIT: u32 = 3;
const USBIP_RET_UNLINK: u32 = 4;
const USBIP_DIR_OUT: u32 = 0;
const HEADER_LEN: usize = 48;
const EPIPE: i32 = 32;
/// More than any control transfer i2c-dev can cause (I2C_RDWR messages are at most 8192 bytes).
const MAX_TRANSFER: usize = 64 * 1024;

/// enum usb_device_speed (include/uapi/linux/usb/ch9.h).
#[derive(Clone, Copy, Debug)]
pub enum Speed {
    Low = 1,
    Full = 2,
}

/// A parsed CMD_SUBMIT or CMD_UNLINK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsbipCommand {
    Submit { seqnum: u32, out: bool, ep: u32, length: usize, setup: [u8; 8] },
    Unlink { seqnum: u32, victim: u32 },
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

pub fn parse_header(header: &[u8; HEADER_LEN]) -> Result<UsbipCommand, String> {
    let command = be32(header, 0);
    let seqnum = be32(header, 4);
    match command {
        USBIP_CMD_SUBMIT => {
            let length = be32(header, 24) as i32;
            let length = usize::try_from(length)
                .ok()
                .filter(|&length| length <= MAX_TRANSFER)
                .ok_or_else(|| format!("CMD_SUBMIT {seqnum}: transfer length {length}"))?;
            Ok(UsbipCommand::Submit {
                seqnum,
                out: be32(header, 12) == USBIP_DIR_OUT,
                ep: be32(header, 16),
                length,
                setup: header[40..48].try_into().expect("8 bytes"),
            })
        }
        USBIP_CMD_UNLINK => Ok(UsbipCommand::Unlink { seqnum, victim: be32(header, 20) }),
        other => Err(format!("unknown USB/IP command {other} (seqnum {seqnum})")),
    }
}

/// RET_SUBMIT; the basic header's devid, direction and ep are zero as usbip-host sends them.
/// `actual` is the number of bytes transferred in either direction (for OUT the driver checks
/// it too: usb_control_msg() returns it and usb_write() in i2c-tiny-usb compares it with the
/// message length); `data` follows only for IN.
pub fn ret_submit(seqnum: u32, status: i32, actual: usize, data: &[u8]) -> Vec<u8> {
    let mut pdu = vec![0u8; HEADER_LEN];
    pdu[0..4].copy_from_slice(&USBIP_RET_SUBMIT.to_be_bytes());
    pdu[4..8].copy_from_slice(&seqnum.to_be_bytes());
    pdu[20..24].copy_from_slice(&status.to_be_bytes());
    let actual = u32::try_from(actual).expect("bounded by MAX_TRANSFER");
    pdu[24..28].copy_from_slice(&actual.to_be_bytes());
    pdu.extend_from_slice(data);
    pdu
}

pub fn ret_unlink(seqnum: u32) -> Vec<u8> {
    let mut pdu = vec![0u8; HEADER_LEN];
    pdu[0..4].copy_from_slice(&USBIP_RET_UNLINK.to_be_bytes());
    pdu[4..8].copy_from_slice(&seqnum.to_be_bytes());
    pdu
}

/// Plugs into vhci port `port`; returns this side of the connection.
pub fn attach(vhci: &Path, port: u32, devid: u32, speed: Speed) -> io::Result<File> {
    let (ours, kernels) =
        socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::SOCK_CLOEXEC)?;
    let line = format!("{port} {} {devid} {}", kernels.as_raw_fd(), speed as u32);
    let attach = vhci.join("attach");
    // One write: a sysfs store sees exactly the bytes of one write() call.
    fs::write(&attach, line)
        .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", attach.display())))?;
    // attach_store() took its own reference (sockfd_lookup()); ours can go.
    drop(kernels);
    Ok(File::from(ours))
}

/// What ended the connection.
#[derive(Debug)]
pub enum End {
    /// The host shut the socket down: a detach, or vhci gave up on the device.
    HostClosed,
    Error(io::Error),
}

/// Serves URBs until the connection ends. `after` runs after each answered URB with the
/// device and the SETUP of that URB (for logging and saving state).
pub fn serve(
    link: &mut (impl Read + Write),
    device: &mut UsbDevice,
    mut after: impl FnMut(&mut UsbDevice, &Setup, &Reply),
) -> End {
    let mut header = [0u8; HEADER_LEN];
    loop {
        match link.read_exact(&mut header) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return End::HostClosed,
            Err(err) => return End::Error(err),
        }
        let command = match parse_header(&header) {
            Ok(command) => command,
            Err(why) => return End::Error(io::Error::new(io::ErrorKind::InvalidData, why)),
        };
        let answer = match command {
            UsbipCommand::Submit { seqnum, out, ep, length, setup } => {
                let mut data = vec![0u8; if out { length } else { 0 }];
                if let Err(err) = link.read_exact(&mut data) {
                    return End::Error(err);
                }
                if ep != 0 {
                    // There is no endpoint but 0; usbcore never submits to one.
                    ret_submit(seqnum, -EPIPE, 0, &[])
                } else {
                    let setup = Setup::from_bytes(setup);
                    let reply = device.control(&setup, &data);
                    let pdu = match &reply {
                        Reply::In(bytes) => {
                            let bytes = &bytes[..bytes.len().min(length)];
                            ret_submit(seqnum, 0, bytes.len(), bytes)
                        }
                        Reply::Out => ret_submit(seqnum, 0, data.len(), &[]),
                        Reply::Stall => ret_submit(seqnum, -EPIPE, 0, &[]),
                    };
                    after(device, &setup, &reply);
                    pdu
                }
            }
            UsbipCommand::Unlink { seqnum, .. } => ret_unlink(seqnum),
        };
        if let Err(err) = link.write_all(&answer) {
            // A detach can land between our read and our answer.
            return match err.kind() {
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => End::HostClosed,
                _ => End::Error(err),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit_header(seqnum: u32, direction: u32, length: i32, setup: [u8; 8]) -> [u8; 48] {
        let mut header = [0u8; 48];
        header[0..4].copy_from_slice(&USBIP_CMD_SUBMIT.to_be_bytes());
        header[4..8].copy_from_slice(&seqnum.to_be_bytes());
        header[12..16].copy_from_slice(&direction.to_be_bytes());
        header[24..28].copy_from_slice(&length.to_be_bytes());
        header[40..48].copy_from_slice(&setup);
        header
    }

    #[test]
    fn headers_parse_big_endian() {
        let setup = [0x41, 0x07, 0, 0, 0x50, 0, 1, 0];
        let header = submit_header(7, USBIP_DIR_OUT, 1, setup);
        assert_eq!(
            parse_header(&header),
            Ok(UsbipCommand::Submit { seqnum: 7, out: true, ep: 0, length: 1, setup })
        );
        let mut unlink = [0u8; 48];
        unlink[0..4].copy_from_slice(&USBIP_CMD_UNLINK.to_be_bytes());
        unlink[4..8].copy_from_slice(&9u32.to_be_bytes());
        unlink[20..24].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(parse_header(&unlink), Ok(UsbipCommand::Unlink { seqnum: 9, victim: 7 }));
        assert!(parse_header(&submit_header(1, 1, -1, setup)).is_err());
        assert!(parse_header(&[0u8; 48]).unwrap_err().contains("unknown"));
    }

    /// The host side of one connection, scripted: what vhci_tx sends, what vhci_rx expects.
    #[test]
    fn serve_answers_out_in_and_unlink_then_ends_when_the_host_closes() {
        use crate::bridge::Bridge;
        use crate::devices::{Bus, I2cDevice};
        use crate::usb::Identity;
        use std::os::unix::net::UnixStream;

        let (mut host, mut module) = UnixStream::pair().unwrap();
        let server = std::thread::spawn(move || {
            let bus = Bus::new(vec![I2cDevice::parse("eeprom@0x50").unwrap()], None).unwrap();
            let identity = Identity { vendor: 0x1c40, product: 0x0534, serial: None };
            let mut device = UsbDevice::new(identity, Bridge::new(bus, true));
            let mut setups = Vec::new();
            let end = serve(&mut module, &mut device, |_, setup, _| setups.push(setup.request));
            (matches!(end, End::HostClosed), setups)
        });
        let mut reply = [0u8; 48];
        // CMD_I2C_IO | BEGIN, OUT, to 0x50, one byte: the pointer.
        host.write_all(&submit_header(1, USBIP_DIR_OUT, 1, [0x41, 5, 0, 0, 0x50, 0, 1, 0]))
            .unwrap();
        host.write_all(&[0x10]).unwrap();
        host.read_exact(&mut reply).unwrap();
        assert_eq!((be32(&reply, 4), be32(&reply, 20), be32(&reply, 24)), (1, 0, 1));
        // CMD_I2C_IO | END, IN, I2C_M_RD, two bytes.
        host.write_all(&submit_header(2, 1, 2, [0xc1, 6, 1, 0, 0x50, 0, 2, 0])).unwrap();
        let mut read = [0u8; 50];
        host.read_exact(&mut read).unwrap();
        assert_eq!((be32(&read, 4), be32(&read, 24), &read[48..]), (2, 2, &[0x10u8, 0x11][..]));
        // An unknown standard request stalls.
        host.write_all(&submit_header(3, 1, 2, [0x80, 0x33, 0, 0, 0, 0, 2, 0])).unwrap();
        host.read_exact(&mut reply).unwrap();
        assert_eq!(be32(&reply, 20) as i32, -EPIPE);
        let mut unlink = [0u8; 48];
        unlink[0..4].copy_from_slice(&USBIP_CMD_UNLINK.to_be_bytes());
        unlink[4..8].copy_from_slice(&4u32.to_be_bytes());
        unlink[20..24].copy_from_slice(&2u32.to_be_bytes());
        host.write_all(&unlink).unwrap();
        host.read_exact(&mut reply).unwrap();
        assert_eq!((be32(&reply, 0), be32(&reply, 4), be32(&reply, 20)), (USBIP_RET_UNLINK, 4, 0));
        drop(host);
        let (closed, setups) = server.join().unwrap();
        assert!(closed, "EOF is the host closing the connection");
        assert_eq!(setups, vec![5, 6, 0x33]);
    }

    #[test]
    fn replies_carry_status_length_and_data() {
        let pdu = ret_submit(5, -EPIPE, 0, &[]);
        assert_eq!(pdu.len(), 48);
        assert_eq!(be32(&pdu, 0), USBIP_RET_SUBMIT);
        assert_eq!(be32(&pdu, 4), 5);
        assert_eq!(be32(&pdu, 20) as i32, -32);
        let pdu = ret_submit(6, 0, 3, &[1, 2, 3]);
        assert_eq!((pdu.len(), be32(&pdu, 24), &pdu[48..]), (51, 3, &[1u8, 2, 3][..]));
        let out = ret_submit(7, 0, 8, &[]);
        assert_eq!((out.len(), be32(&out, 24)), (48, 8), "OUT: length counted, no data sent");
        let unlink = ret_unlink(8);
        assert_eq!((be32(&unlink, 0), be32(&unlink, 4), be32(&unlink, 20)), (4, 8, 0));
    }
}
