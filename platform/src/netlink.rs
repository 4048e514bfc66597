//! The kernel's uevent socket: AF_NETLINK / NETLINK_KOBJECT_UEVENT bound to multicast group 1.
//!
//! Group 1 carries the kernel's own `ACTION@DEVPATH\0KEY=VALUE\0...` messages. Group 2 is udev's
//! re-broadcast in the libudev format and is never joined. Any process can unicast a datagram to
//! a netlink socket whose port id it knows, so a datagram is trusted only when its sender port id
//! is 0, which only the kernel has.

#![forbid(unsafe_code)]

use super::source::{SourceError, UeventSource};
use nix::errno::Errno;
use nix::sys::socket::{
    bind, recvmsg, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag,
    SockProtocol, SockType,
};
use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// The multicast group the kernel sends uevents to (lib/kobject_uevent.c broadcasts to group 1).
const KERNEL_UEVENT_GROUP: u32 = 1;
/// The port id of the kernel's own netlink sockets.
const KERNEL_PORT_ID: u32 = 0;
/// Asked for so that a burst (a hub with many modules re-enumerating) does not overrun us.
const RECEIVE_BUFFER_BYTES: usize = 4 << 20;
/// A uevent's environment is bounded by UEVENT_BUFFER_SIZE (2048, include/linux/kobject.h) plus
/// the `ACTION@DEVPATH` header; 16 KiB leaves ample room, and truncation is detected anyway.
const DATAGRAM_BUFFER_BYTES: usize = 16 * 1024;

/// A blocking reader of kernel uevents.
#[derive(Debug)]
pub struct NetlinkSource {
    fd: OwnedFd,
    buffer: Vec<u8>,
    /// Datagrams dropped because they did not come from the kernel (kept for tests and logs).
    rejected: u64,
}

/// What to do with one received datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Accept,
    /// Sent by a process (port id != 0): forged or a re-broadcast, never trusted.
    NotFromKernel(u32),
    /// No sender address came with it; the sender cannot be checked.
    NoSender,
    /// Larger than our buffer: the tail is lost, so the event cannot be parsed reliably.
    Truncated,
}

/// The acceptance rule: only the kernel (port id 0) is trusted, and only whole datagrams.
fn judge_datagram(sender_port_id: Option<u32>, truncated: bool) -> Verdict {
    match sender_port_id {
        None => Verdict::NoSender,
        Some(port_id) if port_id != KERNEL_PORT_ID => Verdict::NotFromKernel(port_id),
        Some(_) if truncated => Verdict::Truncated,
        Some(_) => Verdict::Accept,
    }
}

impl NetlinkSource {
    /// Opens the socket, enlarges its receive buffer and joins the kernel's uevent group.
    pub fn open() -> io::Result<NetlinkSource> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkKObjectUEvent,
        )
        .map_err(|errno| io_error(errno, "socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)"))?;
        enlarge_receive_buffer(&fd);
        // Port id 0 in bind() asks the kernel to assign a unique one.
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, KERNEL_UEVENT_GROUP))
            .map_err(|errno| io_error(errno, "bind(NETLINK_KOBJECT_UEVENT, group 1)"))?;
        Ok(NetlinkSource { fd, buffer: vec![0; DATAGRAM_BUFFER_BYTES], rejected: 0 })
    }

    /// Makes `next_event` fail with `WouldBlock` after `timeout` (None: block forever). For
    /// tests and diagnostics only: the service blocks.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        // SO_RCVTIMEO of zero means "no timeout".
        let timeval = nix::sys::time::TimeVal::new(
            timeout.map_or(0, |t| t.as_secs() as libc::time_t),
            timeout.map_or(0, |t| t.subsec_micros() as libc::suseconds_t),
        );
        setsockopt(&self.fd, sockopt::ReceiveTimeout, &timeval)
            .map_err(|errno| io_error(errno, "setsockopt(SO_RCVTIMEO)"))
    }

    /// Receives one datagram into `self.buffer`: (length, sender port id, truncated).
    fn receive(&mut self) -> Result<(usize, Option<u32>, bool), Errno> {
        let mut iov = [IoSliceMut::new(&mut self.buffer)];
        let message =
            recvmsg::<NetlinkAddr>(self.fd.as_raw_fd(), &mut iov, None, MsgFlags::empty())?;
        let truncated = message.flags.contains(MsgFlags::MSG_TRUNC);
        Ok((message.bytes, message.address.map(|addr| addr.pid()), truncated))
    }
}

/// SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; SO_RCVBUF is capped.
fn enlarge_receive_buffer(fd: &OwnedFd) {
    match setsockopt(fd, sockopt::RcvBufForce, &RECEIVE_BUFFER_BYTES) {
        Ok(()) => {
            log::info!("uevent socket: SO_RCVBUFFORCE {RECEIVE_BUFFER_BYTES} bytes");
            return;
        }
        Err(errno) => {
            log::info!("uevent socket: SO_RCVBUFFORCE refused ({errno}), trying SO_RCVBUF")
        }
    }
    if let Err(errno) = setsockopt(fd, sockopt::RcvBuf, &RECEIVE_BUFFER_BYTES) {
        log::warn!(
            "uevent socket: SO_RCVBUF {RECEIVE_BUFFER_BYTES} failed ({errno}); default kept"
        );
        return;
    }
    // The kernel doubles the value and caps it at rmem_max: report what we actually got.
    match nix::sys::socket::getsockopt(fd, sockopt::RcvBuf) {
        Ok(granted) => log::info!(
            "uevent socket: SO_RCVBUF asked {RECEIVE_BUFFER_BYTES} bytes, got {granted} \
             (net.core.rmem_max may cap it)"
        ),
        Err(errno) => log::info!("uevent socket: SO_RCVBUF set, size unknown ({errno})"),
    }
}

impl UeventSource for NetlinkSource {
    fn next_event(&mut self) -> Result<Vec<u8>, SourceError> {
        loop {
            let (len, sender, truncated) = match self.receive() {
                Ok(received) => received,
                Err(Errno::EINTR) => continue,
                Err(Errno::ENOBUFS) => return Err(SourceError::Overrun),
                Err(errno) => return Err(SourceError::Io(io_error(errno, "recvmsg(uevent)"))),
            };
            match judge_datagram(sender, truncated) {
                Verdict::Accept => return Ok(self.buffer[..len].to_vec()),
                Verdict::NotFromKernel(port_id) => {
                    self.rejected += 1;
                    log::warn!("dropped a {len}-byte uevent datagram from port id {port_id}, not the kernel");
                }
                Verdict::NoSender => {
                    self.rejected += 1;
                    log::warn!("dropped a {len}-byte uevent datagram without a sender address");
                }
                Verdict::Truncated => {
                    log::warn!(
                        "dropped a uevent larger than {} bytes (truncated)",
                        self.buffer.len()
                    );
                }
            }
        }
    }
}

fn io_error(errno: Errno, what: &str) -> io::Error {
    let err = io::Error::from(errno);
    io::Error::new(err.kind(), format!("{what}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uevent::{self, Action};
    use nix::sys::socket::{getsockname, sendto};
    use std::time::Instant;

    #[test]
    fn only_whole_datagrams_from_port_id_zero_are_accepted() {
        assert_eq!(judge_datagram(Some(0), false), Verdict::Accept);
        assert_eq!(judge_datagram(Some(0), true), Verdict::Truncated);
        assert_eq!(judge_datagram(Some(1234), false), Verdict::NotFromKernel(1234));
        assert_eq!(judge_datagram(Some(1234), true), Verdict::NotFromKernel(1234));
        assert_eq!(judge_datagram(None, false), Verdict::NoSender);
    }

    /// Opens the real socket, or says why this machine cannot and returns None.
    fn open_or_explain() -> Option<NetlinkSource> {
        match NetlinkSource::open() {
            Ok(source) => Some(source),
            Err(err) => {
                eprintln!("SKIPPED: cannot open a NETLINK_KOBJECT_UEVENT socket here: {err}");
                None
            }
        }
    }

    /// Reads until the socket stays quiet for the timeout (or `deadline`), returning what came.
    fn drain(
        source: &mut NetlinkSource,
        deadline: Instant,
        stop: impl Fn(&[u8]) -> bool,
    ) -> Vec<Vec<u8>> {
        let mut events = Vec::new();
        while Instant::now() < deadline {
            match source.next_event() {
                Ok(event) => {
                    let done = stop(&event);
                    events.push(event);
                    if done {
                        break;
                    }
                }
                Err(SourceError::Io(err)) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(SourceError::Overrun) => continue,
                Err(err) => panic!("reading uevents: {err}"),
            }
        }
        events
    }

    #[test]
    fn datagrams_forged_by_a_process_are_not_returned() {
        let Some(mut source) = open_or_explain() else {
            return;
        };
        source.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let own: NetlinkAddr = getsockname(source.fd.as_raw_fd()).unwrap();
        assert_ne!(own.pid(), 0, "the kernel assigns a non-zero port id");

        let forger = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkKObjectUEvent,
        )
        .unwrap();
        bind(forger.as_raw_fd(), &NetlinkAddr::new(0, 0)).unwrap();
        let marker = format!("FORGED_BY_TEST={}", std::process::id());
        let forged =
            format!("remove@/devices/pci0000:00/i2c-0\0ACTION=remove\0DEVPATH=/devices/pci0000:00/i2c-0\0{marker}\0");
        let sent = sendto(
            forger.as_raw_fd(),
            forged.as_bytes(),
            &NetlinkAddr::new(own.pid(), 0),
            MsgFlags::empty(),
        );
        if let Err(errno) = sent {
            eprintln!("SKIPPED: cannot unicast to a uevent socket here: {errno}");
            return;
        }

        let events = drain(&mut source, Instant::now() + Duration::from_secs(5), |_| false);
        let marker_bytes = marker.as_bytes();
        assert!(
            events.iter().all(|e| !e.windows(marker_bytes.len()).any(|w| w == marker_bytes)),
            "a forged datagram was returned"
        );
        assert!(source.rejected >= 1, "the forged datagram was never seen and rejected");
    }

    #[test]
    fn a_synthetic_kernel_uevent_arrives() {
        let Some(mut source) = open_or_explain() else {
            return;
        };
        source.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        // A synthetic "change" uevent with a UUID (Documentation/ABI/testing/sysfs-uevent): it
        // changes nothing, and the SYNTH_UUID lets us recognise our own event among others.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let uuid =
            format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), nanos & 0xffff_ffff_ffff);
        let trigger = "/sys/devices/virtual/net/lo/uevent";
        if let Err(err) = std::fs::write(trigger, format!("change {uuid}")) {
            eprintln!("SKIPPED: cannot trigger a uevent by writing {trigger}: {err}");
            return;
        }
        let wanted = format!("SYNTH_UUID={uuid}");
        let is_ours =
            |event: &[u8]| event.split(|b| *b == 0).any(|field| field == wanted.as_bytes());
        let events = drain(&mut source, Instant::now() + Duration::from_secs(5), is_ours);
        let ours = events.iter().find(|e| is_ours(e)).unwrap_or_else(|| {
            panic!("no kernel uevent with {wanted} among {} events", events.len())
        });
        let parsed = uevent::parse(ours).unwrap();
        assert_eq!(parsed.action, Action::Change);
        assert_eq!(parsed.devpath, "/devices/virtual/net/lo");
        assert_eq!(parsed.subsystem(), Some("net"));
    }
}
