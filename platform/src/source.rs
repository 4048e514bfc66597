//! Where raw uevents come from: the kernel's netlink socket in production, the simulator's
//! channel in `--sim` mode. Both hand the same bytes to the same parser.

#![forbid(unsafe_code)]

use std::fmt;

/// Why a source could not deliver the next event.
#[derive(Debug)]
pub enum SourceError {
    /// Events were lost (ENOBUFS on netlink): the only safe recovery is a full sysfs rescan.
    Overrun,
    /// The source is gone for good (service shutting down, simulator dropped).
    Closed,
    /// Anything else; the monitor logs it and keeps reading.
    Io(std::io::Error),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::Overrun => f.write_str("uevents were lost (receive buffer overrun)"),
            SourceError::Closed => f.write_str("uevent source closed"),
            SourceError::Io(e) => write!(f, "uevent source: {e}"),
        }
    }
}

impl std::error::Error for SourceError {}

/// A blocking stream of raw uevent datagrams (`ACTION@DEVPATH\0KEY=VALUE\0...`).
pub trait UeventSource: Send {
    fn next_event(&mut self) -> Result<Vec<u8>, SourceError>;
}
