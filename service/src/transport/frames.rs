//! Where a connection's incoming bytes are in RPC binder's wire format, so that the transport
//! can judge each message by its header before the binder library reads the body: a declared
//! size above [`MAX_MESSAGE_BODY`] closes the connection before anything that size is
//! allocated (rsbinder allocates a message's whole declared body at once, up to 64 MiB), and a
//! message whose last byte does not follow its first within [`MESSAGE_DEADLINE`] closes it too.
//!
//! What the service's end of a connection reads, in the android13+ profile (AOSP
//! `RpcWireFormat.h`; rsbinder `wire_android13::server_accept_deferred_init`):
//!
//! 1. `RpcConnectionHeader`, 16 bytes: `u32 version`, `u8 options` (bit 0: the connection is
//!    the client's incoming one, for callbacks), `u8` fd mode, 8 reserved, `u16 sessionIdSize`;
//!    then that many bytes of session id.
//! 2. On an outgoing connection (one the client calls over), `RpcOutgoingConnectionInit`,
//!    8 bytes. An incoming one reads nothing more before its messages.
//! 3. Messages: `RpcWireHeader`, 16 bytes (`u32 command`, `u32 bodySize`, 8 reserved), then
//!    `bodySize` bytes of body.
//!
//! The connection phase (1 and 2) has a deadline of its own, the binder library's handshake
//! deadline; the deadline here covers messages. Between messages a connection may stay silent
//! as long as it likes: a client waiting for callbacks sends nothing for hours.
//!
//! This module only follows the position and judges; the transport in `compat` reads.

use log::warn;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CONNECTION_HEADER_LEN: usize = 16;
const CONNECTION_INIT_LEN: usize = 8;
const MESSAGE_HEADER_LEN: usize = 16;
/// `RPC_CONNECTION_OPTION_INCOMING`.
const OPTION_INCOMING: u8 = 1;

/// The largest message body the service reads: 1 MiB. A valid call moves at most
/// MAX_TRANSFER_BYTES (4096) bytes; the largest call a client can make within i2c-dev's own
/// limits, 42 messages of 8192 bytes, is a body of 336 to 337 KiB (tests/transport.rs sends
/// it), and the service still reads it so as to answer it with a typed TOO_LARGE rather than a
/// lost connection. A peer can make the service hold 1 MiB per connection at most instead of
/// rsbinder's 64 MiB.
pub const MAX_MESSAGE_BODY: usize = 1 << 20;

/// How long a message may take from its first byte to its last: 10 s. A local client writes a
/// whole call in microseconds; only one that stopped mid-message, by accident or on purpose,
/// comes near this. The binder library's own handshake deadline has the same value.
pub const MESSAGE_DEADLINE: Duration = Duration::from_secs(10);

/// What the transport enforces on the messages it reads: constants, MAX_MESSAGE_BODY and
/// MESSAGE_DEADLINE, except in tests (docs/limits.md lists every limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLimits {
    pub max_body: usize,
    pub deadline: Duration,
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits { max_body: MAX_MESSAGE_BODY, deadline: MESSAGE_DEADLINE }
    }
}

/// Why a connection is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A message header declared a body larger than `max`.
    TooLarge { declared: usize, max: usize },
    /// A message was still incomplete `deadline` after its first byte.
    Late { deadline: Duration },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TooLarge { declared, max } => {
                write!(f, "it declared a {declared}-byte message (at most {max} are read)")
            }
            Violation::Late { deadline } => {
                write!(f, "it did not finish a message within {deadline:?} of its first byte")
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Stage {
    ConnectionHeader {
        got: usize,
        head: [u8; CONNECTION_HEADER_LEN],
    },
    SessionId {
        left: usize,
        incoming: bool,
    },
    ConnectionInit {
        left: usize,
    },
    /// `started` is when the header's first byte arrived; None before it did.
    MessageHeader {
        got: usize,
        head: [u8; MESSAGE_HEADER_LEN],
        started: Option<Instant>,
    },
    Body {
        left: usize,
        started: Instant,
    },
}

impl Stage {
    fn message_header() -> Stage {
        Stage::MessageHeader { got: 0, head: [0; MESSAGE_HEADER_LEN], started: None }
    }

    /// What follows the session id: the client's init on an outgoing connection.
    fn after_session_id(incoming: bool) -> Stage {
        if incoming {
            Stage::message_header()
        } else {
            Stage::ConnectionInit { left: CONNECTION_INIT_LEN }
        }
    }
}

/// The position in one connection's incoming bytes.
#[derive(Debug)]
pub struct WirePosition {
    stage: Stage,
    limits: FrameLimits,
}

impl WirePosition {
    /// A connection whose first byte is yet to come.
    pub fn new(limits: FrameLimits) -> WirePosition {
        WirePosition {
            stage: Stage::ConnectionHeader { got: 0, head: [0; CONNECTION_HEADER_LEN] },
            limits,
        }
    }

    pub fn limits(&self) -> FrameLimits {
        self.limits
    }

    /// When the message being read must be complete; None between messages and during the
    /// connection phase, where the next read may wait as long as the binder library lets it.
    pub fn deadline(&self) -> Option<Instant> {
        let started = match self.stage {
            Stage::MessageHeader { started, .. } => started?,
            Stage::Body { started, .. } => started,
            _ => return None,
        };
        // A deadline too far out for an Instant is no deadline.
        started.checked_add(self.limits.deadline)
    }

    /// Moves past `bytes`, just read; `now` tells the time, asked only when a message starts
    /// (a clock read per read would be most of this type's cost). Fails when a message header
    /// declares more than the limit; the connection must then be closed, as the position past
    /// it is meaningless.
    pub fn advance(
        &mut self,
        mut bytes: &[u8],
        now: impl Fn() -> Instant,
    ) -> Result<(), Violation> {
        while !bytes.is_empty() {
            let taken = match &mut self.stage {
                Stage::ConnectionHeader { got, head } => {
                    let n = fill(&mut head[*got..], bytes);
                    *got += n;
                    if *got == CONNECTION_HEADER_LEN {
                        let incoming = head[4] & OPTION_INCOMING != 0;
                        let id_len = usize::from(u16::from_le_bytes([head[14], head[15]]));
                        self.stage = match id_len {
                            0 => Stage::after_session_id(incoming),
                            left => Stage::SessionId { left, incoming },
                        };
                    }
                    n
                }
                Stage::SessionId { left, incoming } => {
                    let n = (*left).min(bytes.len());
                    *left -= n;
                    if *left == 0 {
                        self.stage = Stage::after_session_id(*incoming);
                    }
                    n
                }
                Stage::ConnectionInit { left } => {
                    let n = (*left).min(bytes.len());
                    *left -= n;
                    if *left == 0 {
                        self.stage = Stage::message_header();
                    }
                    n
                }
                Stage::MessageHeader { got, head, started } => {
                    let started = *started.get_or_insert_with(&now);
                    let n = fill(&mut head[*got..], bytes);
                    *got += n;
                    if *got == MESSAGE_HEADER_LEN {
                        let declared = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
                        // A u32 always fits a usize on the targets this builds for.
                        let declared = usize::try_from(declared).unwrap_or(usize::MAX);
                        if declared > self.limits.max_body {
                            return Err(Violation::TooLarge {
                                declared,
                                max: self.limits.max_body,
                            });
                        }
                        self.stage = match declared {
                            0 => Stage::message_header(),
                            left => Stage::Body { left, started },
                        };
                    }
                    n
                }
                Stage::Body { left, .. } => {
                    let n = (*left).min(bytes.len());
                    *left -= n;
                    if *left == 0 {
                        self.stage = Stage::message_header();
                    }
                    n
                }
            };
            bytes = &bytes[taken..];
        }
        Ok(())
    }
}

/// Copies what fits of `bytes` into `into`; returns how much.
fn fill(into: &mut [u8], bytes: &[u8]) -> usize {
    let n = into.len().min(bytes.len());
    into[..n].copy_from_slice(&bytes[..n]);
    n
}

/// At most one line per interval, so that a peer breaking the rules in a loop (each time on a
/// new connection) cannot flood the log; the next line says how many were held back.
#[derive(Debug)]
struct LogThrottle {
    last: Option<Instant>,
    held_back: u64,
}

/// The interval between two lines about closed connections.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

impl LogThrottle {
    const fn new() -> LogThrottle {
        LogThrottle { last: None, held_back: 0 }
    }

    /// Some(lines held back before this one) when a line may be written at `now`.
    fn allow(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < LOG_INTERVAL => {
                self.held_back += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.held_back))
            }
        }
    }
}

static VIOLATIONS: Mutex<LogThrottle> = Mutex::new(LogThrottle::new());

/// Logs that the connection from `peer` is closed for `violation` (rate-limited).
pub fn report(violation: Violation, peer: &str) {
    let allowed = i2c_hal_core::sync::lock(&VIOLATIONS).allow(Instant::now());
    match allowed {
        Some(0) => warn!("closing the RPC connection from {peer}: {violation}"),
        Some(held_back) => warn!(
            "closing the RPC connection from {peer}: {violation} ({held_back} more such \
             connection(s) closed since the last line)"
        ),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: FrameLimits = FrameLimits { max_body: 1000, deadline: Duration::from_secs(5) };

    fn connection_header(incoming: bool, id_len: u16) -> Vec<u8> {
        let mut head = vec![0u8; CONNECTION_HEADER_LEN];
        head[..4].copy_from_slice(&2u32.to_le_bytes());
        head[4] = if incoming { OPTION_INCOMING } else { 0 };
        head[14..].copy_from_slice(&id_len.to_le_bytes());
        head
    }

    fn message_header(body: u32) -> Vec<u8> {
        let mut head = vec![0u8; MESSAGE_HEADER_LEN];
        head[4..8].copy_from_slice(&body.to_le_bytes());
        head
    }

    /// A new outgoing connection: header, no session id, init.
    fn connected(position: &mut WirePosition, now: Instant) {
        position.advance(&connection_header(false, 0), || now).unwrap();
        position.advance(&[0; CONNECTION_INIT_LEN], || now).unwrap();
    }

    #[test]
    fn the_connection_phase_has_no_message_deadline() {
        let t0 = Instant::now();
        for (incoming, id_len, init) in [(false, 0, true), (false, 32, true), (true, 32, false)] {
            let mut position = WirePosition::new(LIMITS);
            let mut bytes = connection_header(incoming, id_len);
            bytes.extend(vec![7u8; usize::from(id_len)]);
            if init {
                bytes.extend([0u8; CONNECTION_INIT_LEN]);
            }
            // A byte at a time, as a slow peer would send it.
            for byte in &bytes {
                position.advance(std::slice::from_ref(byte), || t0).unwrap();
                assert_eq!(position.deadline(), None, "incoming={incoming} id={id_len}");
            }
            // Now at a message boundary: the next header byte starts the clock.
            let header = message_header(0);
            position.advance(&header[..1], || t0).unwrap();
            assert_eq!(position.deadline(), Some(t0 + LIMITS.deadline), "{incoming} {id_len}");
        }
    }

    #[test]
    fn a_message_is_timed_from_its_first_byte_to_its_last() {
        let t0 = Instant::now();
        let mut position = WirePosition::new(LIMITS);
        connected(&mut position, t0);
        let later = t0 + Duration::from_secs(100);
        let header = message_header(10);
        position.advance(&header[..3], || later).unwrap();
        let deadline = Some(later + LIMITS.deadline);
        assert_eq!(position.deadline(), deadline);
        // The rest of the header and part of the body later on keep the first byte's clock.
        position.advance(&header[3..], || later + Duration::from_secs(1)).unwrap();
        position.advance(&[1; 4], || later + Duration::from_secs(2)).unwrap();
        assert_eq!(position.deadline(), deadline);
        position.advance(&[1; 6], || later + Duration::from_secs(3)).unwrap();
        assert_eq!(position.deadline(), None, "between messages nothing is timed");
    }

    #[test]
    fn the_clock_is_read_once_per_message() {
        let t0 = Instant::now();
        let asked = std::cell::Cell::new(0);
        let clock = || {
            asked.set(asked.get() + 1);
            t0
        };
        let mut position = WirePosition::new(LIMITS);
        position.advance(&connection_header(false, 0), clock).unwrap();
        position.advance(&[0; CONNECTION_INIT_LEN], clock).unwrap();
        assert_eq!(asked.get(), 0, "the connection phase is not timed here");
        for _ in 0..3 {
            let header = message_header(100);
            position.advance(&header[..8], clock).unwrap();
            position.advance(&header[8..], clock).unwrap();
            position.advance(&[0; 60], clock).unwrap();
            position.advance(&[0; 40], clock).unwrap();
        }
        assert_eq!(asked.get(), 3);
    }

    #[test]
    fn headers_are_judged_however_the_bytes_are_split() {
        let t0 = Instant::now();
        let mut stream = message_header(4);
        stream.extend([9; 4]);
        stream.extend(message_header(0)); // an empty body is a whole message
        stream.extend(message_header(1000));
        stream.extend([9; 1000]);
        for chunk in [1, 3, 16, 17, 5000] {
            let mut position = WirePosition::new(LIMITS);
            connected(&mut position, t0);
            for piece in stream.chunks(chunk) {
                position.advance(piece, || t0).unwrap();
            }
            assert_eq!(position.deadline(), None, "chunks of {chunk}: all messages complete");
        }
    }

    #[test]
    fn a_body_over_the_limit_is_refused_at_its_header() {
        let t0 = Instant::now();
        let mut position = WirePosition::new(LIMITS);
        connected(&mut position, t0);
        let header = message_header(1001);
        position.advance(&header[..15], || t0).unwrap();
        assert_eq!(
            position.advance(&header[15..], || t0),
            Err(Violation::TooLarge { declared: 1001, max: 1000 })
        );

        let mut position = WirePosition::new(FrameLimits::default());
        connected(&mut position, t0);
        let huge = message_header(48 << 20);
        let refused = position.advance(&huge, || t0).unwrap_err();
        assert_eq!(refused, Violation::TooLarge { declared: 48 << 20, max: MAX_MESSAGE_BODY });
        assert!(refused.to_string().contains("50331648-byte message"), "{refused}");
    }

    #[test]
    fn a_session_id_is_not_mistaken_for_a_message() {
        // An id whose bytes look like a huge message header must not be judged as one.
        let t0 = Instant::now();
        let mut position = WirePosition::new(LIMITS);
        position.advance(&connection_header(false, 32), || t0).unwrap();
        position.advance(&[0xff; 32], || t0).unwrap();
        position.advance(&[0xff; CONNECTION_INIT_LEN], || t0).unwrap();
        assert_eq!(position.deadline(), None);
        position.advance(&message_header(8), || t0).unwrap();
        assert!(position.deadline().is_some());
    }

    #[test]
    fn the_log_throttle_lets_one_line_through_per_interval() {
        let t0 = Instant::now();
        let mut throttle = LogThrottle::new();
        assert_eq!(throttle.allow(t0), Some(0));
        assert_eq!(throttle.allow(t0 + Duration::from_secs(1)), None);
        assert_eq!(throttle.allow(t0 + Duration::from_secs(9)), None);
        assert_eq!(throttle.allow(t0 + LOG_INTERVAL), Some(2), "two lines were held back");
        assert_eq!(throttle.allow(t0 + LOG_INTERVAL * 3), Some(0));
    }
}
