//! The accept loop and the [`Door`] every admitted connection is read through.

use super::frames::{self, FrameLimits, Violation, WirePosition};
use i2c_hal_binder::rpc::WIRE_VERSION;
use i2c_hal_binder::{io_error, BinderRef};
use log::{info, warn};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{recv, MsgFlags};
use rsbinder::rpc::transport::UnixTransport;
use rsbinder::rpc::{PeerIdentity, RpcError, RpcResult, RpcServer, RpcTransport};
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a connection may take to finish its handshake (rsbinder's default, set
/// here so that it does not change under the service): a peer that connects and says
/// nothing holds a thread, and a place under the connection caps, no longer than this.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// How long a send to a client may go without the client taking any of its bytes
/// before the service ends that client's session (rsbinder's reply timeout, which is
/// the session's send deadline). A client that stops reading while its socket is full
/// (a stopped process, a hostile one) would otherwise hold a callback thread for as
/// long as it likes, and enough of them hold every thread, so that nobody else hears
/// of a removal. Cut off, its connections close and its sessions end as for a dead
/// process, as the kernel binder driver refuses oneway work to a process whose async
/// space is full. Half a second: a socket fills only after hundreds of unread
/// callbacks, and a deadline this short leaves another client's callback waiting at
/// most about that long for a thread.
pub const SEND_DEADLINE: Duration = Duration::from_millis(500);

/// How long to wait before accepting again when the process is out of descriptors
/// (or memory): the shortage heals as connections close.
const EXHAUSTED_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `services`, each under its instance name as servicemanager would list it,
/// to the connections `listener` accepts, until the process ends or accepting fails
/// for good. `admit` sees each peer's uid (`SO_PEERCRED`) before
/// anything is read from it: None closes the connection at once; Some is held until
/// the connection's socket is closed.
pub fn serve<T: Send + Sync + 'static>(
    listener: UnixListener,
    services: Vec<(&str, BinderRef)>,
    max_threads: u32,
    frame_limits: FrameLimits,
    admit: impl Fn(u32) -> Option<T>,
) -> io::Result<()> {
    let server = server_without_listener()?;
    server.set_android13plus(WIRE_VERSION);
    server.set_max_threads(max_threads);
    server.set_handshake_timeout(Some(HANDSHAKE_DEADLINE));
    server.set_reply_timeout(Some(SEND_DEADLINE));
    // No idle timeout: a client waiting for callbacks sends nothing, which rsbinder's
    // idle judgment would end. What idle connections cost is bounded by the caps.
    for (name, binder) in services {
        server.add_service(name, binder).map_err(|e| io_error(&format!("add {name}"), e))?;
    }
    let mut exhausted = false;
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(err) => match accept_failure(&err) {
                AcceptFailure::Transient => continue,
                AcceptFailure::Exhausted => {
                    if !exhausted {
                        warn!("accepting RPC connections: {err}; retrying");
                        exhausted = true;
                    }
                    std::thread::sleep(EXHAUSTED_BACKOFF);
                    continue;
                }
                AcceptFailure::Fatal => return Err(io_error("RPC accept", err)),
            },
        };
        if std::mem::take(&mut exhausted) {
            info!("accepting RPC connections again");
        }
        if let Some(door) = open_door(stream, frame_limits, &admit) {
            server.serve_connection(Box::new(door));
        }
    }
}

enum AcceptFailure {
    Transient,
    Exhausted,
    Fatal,
}

/// The errors `accept(2)` documents as the peer's or a passing shortage, as rsbinder's
/// own accept loop classifies them; anything else means the listener is unusable.
fn accept_failure(err: &io::Error) -> AcceptFailure {
    let errno = err.raw_os_error().map(Errno::from_raw);
    match errno {
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM) => {
            AcceptFailure::Exhausted
        }
        Some(
            Errno::EINTR
            | Errno::ECONNABORTED
            | Errno::ECONNRESET
            | Errno::EPROTO
            | Errno::EPERM
            | Errno::ENETDOWN
            | Errno::ENETUNREACH
            | Errno::EHOSTUNREACH
            | Errno::ETIMEDOUT,
        ) => AcceptFailure::Transient,
        _ => AcceptFailure::Fatal,
    }
}

/// rsbinder serves a connection only through an `RpcServer`, which only binding a
/// listener of its own makes. This one is bound in a private directory (0700) and
/// unlinked at once, so no client can ever reach it, and its accept loop never runs;
/// rsbinder's tests serve their own transports the same way.
fn server_without_listener() -> io::Result<Arc<RpcServer>> {
    let template = std::env::temp_dir().join("i2c-hal-rpc.XXXXXX");
    let dir = nix::unistd::mkdtemp(&template)
        .map_err(|e| io_error(&format!("mkdtemp {}", template.display()), e))?;
    let path = dir.join("unused.sock");
    let server = RpcServer::setup_unix_server(&path);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir(&dir);
    server.map_err(|e| io_error("RPC server", e))
}

/// Admits an accepted connection and wraps it, or closes it (by dropping it).
fn open_door<T: Send + Sync + 'static>(
    stream: UnixStream,
    limits: FrameLimits,
    admit: &impl Fn(u32) -> Option<T>,
) -> Option<Door<UnixTransport>> {
    // A second descriptor of the same socket, for the reads inside a message.
    let socket = stream.try_clone().map_err(|e| warn!("RPC connection: {e}")).ok()?;
    let transport =
        UnixTransport::from_stream(stream).map_err(|e| warn!("RPC connection: {e}")).ok()?;
    // The SO_PEERCRED uid, which from_stream read: the identity calls are judged by.
    let PeerIdentity::Local { uid, .. } = transport.peer_identity() else {
        warn!("refusing an RPC connection whose peer has no uid (SO_PEERCRED failed)");
        return None;
    };
    let ticket = admit(uid)?;
    Some(Door::new(transport, socket, limits, Box::new(ticket)))
}

/// An accepted connection's transport: rsbinder's, plus the checks it lacks on what
/// the peer sends. It follows the connection's position in the wire format
/// ([`WirePosition`]) through every read: a message header that declares a body over
/// the limit closes the connection before rsbinder reads, or allocates, that body, and
/// so does a message that is not complete by its deadline. It also holds the
/// connection's admission, which is given back when rsbinder drops the transport.
///
/// A read at a message boundary is the inner transport's, under whatever deadline
/// rsbinder armed (its handshake deadline, or none between calls). A read inside a
/// message is this type's own: a non-blocking `recv` on a second descriptor of the
/// socket, and only when that finds nothing, a `poll` until the message's deadline.
/// Bytes of a call normally arrive together, so a bounded read costs the same single
/// system call as the unbounded one it replaces. The inner transport keeps no bytes
/// of its own between raw reads, so the two kinds of read can alternate.
///
/// Passing descriptors is not offered: no call of this service carries one, and a
/// descriptor-carrying read is one this type would have to reimplement.
pub(super) struct Door<I> {
    inner: I,
    socket: UnixStream,
    /// Reads on one connection never overlap (the binder library frames its messages
    /// by them); the lock is uncontended and never held across a blocking call.
    position: Mutex<WirePosition>,
    peer: String,
    /// The peer's uid, named to the log budget before each read and send, so that what
    /// the binder library logs on this thread counts against it.
    uid: Option<u32>,
    _ticket: Box<dyn Send + Sync>,
}

impl<I: RpcTransport> Door<I> {
    pub(super) fn new(
        inner: I,
        socket: UnixStream,
        limits: FrameLimits,
        ticket: Box<dyn Send + Sync>,
    ) -> Door<I> {
        let (peer, uid) = match inner.peer_identity() {
            PeerIdentity::Local { uid, pid } => (format!("uid {uid} (pid {pid})"), Some(uid)),
            other => (other.to_string(), None),
        };
        Door {
            inner,
            socket,
            position: Mutex::new(WirePosition::new(limits)),
            peer,
            uid,
            _ticket: ticket,
        }
    }

    fn position(&self) -> MutexGuard<'_, WirePosition> {
        i2c_hal_core::sync::lock(&self.position)
    }

    /// Tells the log budget whose bytes this thread handles now.
    fn handling(&self) {
        if let Some(uid) = self.uid {
            crate::log_budget::handling(uid);
        }
    }

    /// One read into `buf` that returns by `deadline`: `Timeout` if nothing came by
    /// then (rsbinder counts it, inside a message, as a deadline cut mid-frame).
    fn read_by(&self, buf: &mut [u8], deadline: Instant) -> RpcResult<usize> {
        let fd = self.socket.as_raw_fd();
        loop {
            match recv(fd, buf, MsgFlags::MSG_DONTWAIT) {
                Ok(n) => return Ok(n),
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => {}
                Err(errno) => return Err(RpcError::from(io::Error::from(errno))),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(RpcError::Timeout);
            }
            // Rounded up, so that the wait never ends just short of the deadline.
            let millis = left.as_micros().div_ceil(1000);
            let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
            match nix::poll::poll(&mut fds, timeout) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(errno) => return Err(RpcError::from(io::Error::from(errno))),
            }
        }
    }

    /// Ends the connection for `violation`; returns the error rsbinder's read gets.
    fn close_for(&self, violation: Violation) -> RpcError {
        frames::report(violation, &self.peer);
        // Shut down, not only failed: nothing of this connection may be read again.
        let _ = self.inner.shutdown();
        match violation {
            Violation::TooLarge { declared, max } => RpcError::FrameTooLarge { declared, max },
            Violation::Late { .. } => RpcError::Timeout,
        }
    }
}

impl<I: RpcTransport> RpcTransport for Door<I> {
    fn recv_raw(&self, buf: &mut [u8]) -> RpcResult<usize> {
        self.handling();
        let deadline = self.position().deadline();
        let n = match deadline {
            None => self.inner.recv_raw(buf)?,
            Some(deadline) => match self.read_by(buf, deadline) {
                Err(RpcError::Timeout) => {
                    let deadline = self.position().limits().deadline;
                    return Err(self.close_for(Violation::Late { deadline }));
                }
                other => other?,
            },
        };
        let judged = self.position().advance(&buf[..n], Instant::now);
        match judged {
            Ok(()) => Ok(n),
            Err(violation) => Err(self.close_for(violation)),
        }
    }

    /// Never used by a session; refused rather than read without the checks above.
    fn recv_frame(&self) -> RpcResult<Vec<u8>> {
        Err(RpcError::Protocol("length-prefixed frames are not read on this transport"))
    }

    fn send_frame(&self, buf: &[u8]) -> RpcResult<()> {
        self.handling();
        self.inner.send_frame(buf)
    }

    fn send_raw(&self, buf: &[u8]) -> RpcResult<()> {
        self.handling();
        self.inner.send_raw(buf)
    }

    fn send_raw_draining(
        &self,
        buf: &[u8],
        fds: &[std::os::fd::BorrowedFd<'_>],
        drain: &mut dyn FnMut() -> RpcResult<()>,
    ) -> RpcResult<()> {
        // The drain reads through this transport again, so its messages are judged too.
        self.handling();
        self.inner.send_raw_draining(buf, fds, drain)
    }

    fn peer_identity(&self) -> PeerIdentity {
        self.inner.peer_identity()
    }

    fn describe(&self) -> &str {
        self.inner.describe()
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> RpcResult<()> {
        self.inner.set_read_timeout(timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> RpcResult<()> {
        self.inner.set_write_timeout(timeout)
    }

    fn set_liveness(&self, timeout: Option<Duration>) -> RpcResult<()> {
        self.inner.set_liveness(timeout)
    }

    fn peer_closed(&self) -> Option<bool> {
        self.inner.peer_closed()
    }

    fn shutdown_handle(&self) -> Option<Box<dyn FnOnce() + Send>> {
        self.inner.shutdown_handle()
    }

    fn shutdown(&self) -> RpcResult<()> {
        self.inner.shutdown()
    }

    fn supports_fd_passing(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A transport over one end of a socket pair that counts its reads and shutdowns,
    /// in place of rsbinder's (whose reads are the same single `read`).
    struct Fake {
        stream: UnixStream,
        reads: Arc<AtomicUsize>,
        shut: Arc<AtomicBool>,
    }

    impl RpcTransport for Fake {
        fn send_frame(&self, _: &[u8]) -> RpcResult<()> {
            unreachable!("sessions send raw")
        }
        fn recv_frame(&self) -> RpcResult<Vec<u8>> {
            unreachable!("the door never asks")
        }
        fn peer_identity(&self) -> PeerIdentity {
            PeerIdentity::Local { uid: 4242, pid: 7 }
        }
        fn describe(&self) -> &str {
            "fake"
        }
        fn shutdown(&self) -> RpcResult<()> {
            self.shut.store(true, Ordering::SeqCst);
            Ok(self.stream.shutdown(std::net::Shutdown::Both)?)
        }
        fn recv_raw(&self, buf: &mut [u8]) -> RpcResult<usize> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok((&self.stream).read(buf)?)
        }
    }

    struct Harness {
        door: Door<Fake>,
        peer: UnixStream,
        inner_reads: Arc<AtomicUsize>,
        shut: Arc<AtomicBool>,
    }

    fn harness(limits: FrameLimits, ticket: Box<dyn Send + Sync>) -> Harness {
        let (ours, peer) = UnixStream::pair().unwrap();
        let (reads, shut) = (Arc::default(), Arc::default());
        let socket = ours.try_clone().unwrap();
        let fake = Fake { stream: ours, reads: Arc::clone(&reads), shut: Arc::clone(&shut) };
        Harness { door: Door::new(fake, socket, limits, ticket), peer, inner_reads: reads, shut }
    }

    /// Reads exactly `n` bytes through the door, as rsbinder's message reader does.
    fn read_exact(door: &Door<Fake>, n: usize) -> RpcResult<Vec<u8>> {
        let mut buf = vec![0; n];
        let mut got = 0;
        while got < n {
            match door.recv_raw(&mut buf[got..])? {
                0 => return Err(RpcError::EndOfStream),
                k => got += k,
            }
        }
        Ok(buf)
    }

    /// An outgoing connection's handshake: header (no session id), then the init.
    fn handshake() -> (Vec<u8>, Vec<u8>) {
        let mut header = vec![0u8; 16];
        header[..4].copy_from_slice(&WIRE_VERSION.to_le_bytes());
        (header, b"cci\0\0\0\0\0".to_vec())
    }

    fn message_header(body: u32) -> Vec<u8> {
        let mut header = vec![0u8; 16];
        header[4..8].copy_from_slice(&body.to_le_bytes());
        header
    }

    fn limits(max_body: usize, deadline: Duration) -> FrameLimits {
        FrameLimits { max_body, deadline }
    }

    fn connected(h: &mut Harness) {
        let (header, init) = handshake();
        h.peer.write_all(&header).unwrap();
        h.peer.write_all(&init).unwrap();
        assert_eq!(read_exact(&h.door, 16).unwrap(), header);
        assert_eq!(read_exact(&h.door, 8).unwrap(), init);
    }

    #[test]
    fn messages_pass_unchanged_and_reads_inside_one_bypass_the_inner_transport() {
        let mut h = harness(limits(1000, Duration::from_secs(10)), Box::new(()));
        connected(&mut h);
        let reads_before = h.inner_reads.load(Ordering::SeqCst);
        let body: Vec<u8> = (0..=255).cycle().take(1000).collect();
        h.peer.write_all(&message_header(1000)).unwrap();
        h.peer.write_all(&body).unwrap();
        assert_eq!(read_exact(&h.door, 16).unwrap(), message_header(1000));
        assert_eq!(read_exact(&h.door, 1000).unwrap(), body, "the limit itself is allowed");
        assert_eq!(
            h.inner_reads.load(Ordering::SeqCst),
            reads_before + 1,
            "only the read at the message boundary went through the inner transport"
        );
        assert!(!h.shut.load(Ordering::SeqCst));
    }

    #[test]
    fn a_declared_body_over_the_limit_closes_the_connection_unread() {
        let mut h = harness(limits(1000, Duration::from_secs(10)), Box::new(()));
        connected(&mut h);
        h.peer.write_all(&message_header(48 << 20)).unwrap();
        h.peer.write_all(&[0; 100]).unwrap();
        match read_exact(&h.door, 16) {
            Err(RpcError::FrameTooLarge { declared, max }) => {
                assert_eq!((declared, max), (48 << 20, 1000))
            }
            other => panic!("expected FrameTooLarge, got {other:?}"),
        }
        assert!(h.shut.load(Ordering::SeqCst), "the connection was shut down");
        let mut rest = Vec::new();
        h.peer.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "the peer reads the end of the stream");
    }

    #[test]
    fn a_message_that_stops_midway_is_closed_at_its_deadline() {
        let deadline = Duration::from_millis(200);
        let mut h = harness(limits(1000, deadline), Box::new(()));
        connected(&mut h);
        let started = Instant::now();
        h.peer.write_all(&message_header(100)).unwrap();
        h.peer.write_all(&[1; 10]).unwrap();
        read_exact(&h.door, 16).unwrap();
        match read_exact(&h.door, 100) {
            Err(RpcError::Timeout) => {}
            other => panic!("expected the deadline, got {other:?}"),
        }
        let waited = started.elapsed();
        assert!(waited >= deadline, "closed after {waited:?}, before the deadline");
        assert!(waited < Duration::from_secs(10), "the read was not bounded: {waited:?}");
        assert!(h.shut.load(Ordering::SeqCst));
    }

    #[test]
    fn a_slow_message_within_its_deadline_is_read_whole() {
        let mut h = harness(limits(1000, Duration::from_secs(30)), Box::new(()));
        connected(&mut h);
        h.peer.write_all(&message_header(20)).unwrap();
        h.peer.write_all(&[1; 5]).unwrap();
        let mut peer = h.peer.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            // Late enough that the reader most likely waits in poll for it; the
            // assertions hold whichever path the read takes.
            std::thread::sleep(Duration::from_millis(50));
            peer.write_all(&[2; 15]).unwrap();
        });
        read_exact(&h.door, 16).unwrap();
        let body = read_exact(&h.door, 20).unwrap();
        writer.join().unwrap();
        assert_eq!(body, [[1; 5].as_slice(), &[2; 15]].concat());
        assert!(!h.shut.load(Ordering::SeqCst));
    }

    #[test]
    fn the_admission_is_held_until_the_transport_is_dropped() {
        struct Held(Arc<AtomicBool>);
        impl Drop for Held {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let released = Arc::new(AtomicBool::new(false));
        let h = harness(FrameLimits::default(), Box::new(Held(Arc::clone(&released))));
        assert!(!released.load(Ordering::SeqCst));
        drop(h);
        assert!(released.load(Ordering::SeqCst));
    }
}
