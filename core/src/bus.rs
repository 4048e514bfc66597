//! Identity of adapters: the stable id (topology) and the generation (which plug-in).

use std::fmt;

/// Which plug-in of an adapter a session belongs to. Grows on every add, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Generation(pub u64);

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the platform layer reports about an adapter that appeared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterDescriptor {
    /// N of /dev/i2c-N and i2c-N in sysfs.
    pub bus_number: u32,
    /// The adapter's sysfs devpath, e.g. /devices/pci0000:00/0000:00:1f.3/i2c-0.
    pub devpath: String,
    /// The adapter's name attribute.
    pub name: String,
    /// Derived from the devpath's parent, the name and, for a USB bridge, its serial number;
    /// see platform::sysfs::Sysfs::stable_id.
    pub stable_id: String,
    /// I2C_FUNCS, or 0 when it could not be read yet.
    pub functionality: u64,
}

/// A live adapter as clients see it (mirrors the AIDL BusInfo).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusInfo {
    pub bus_number: u32,
    pub name: String,
    pub stable_id: String,
    pub generation: Generation,
    pub functionality: u64,
}

/// Where a mux channel's part of a stable id begins: a channel is named
/// `<parent's id>/mux-<mux>/chan-<n>` (`platform::sysfs` builds it).
pub const MUX_CHANNEL: &str = "/mux-";

/// What names a mux in its channels' ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mux<'a> {
    /// A mux chip that is an I2C client on the parent adapter (PCA954x, a sensor's gate): its
    /// address, `0x70`, or `ten_bit-0x050` for a chip at a 10-bit address.
    Chip { address: u16, ten_bit: bool },
    /// Any other mux device (a GPIO-driven mux, a bridge's own switch): its device name, made
    /// safe for an id by the caller.
    Device(&'a str),
}

/// A mux channel's stable id: its parent adapter's id, the mux and the channel's number.
pub fn mux_channel_id(parent: &str, mux: Mux<'_>, channel: u32) -> String {
    let mux = match mux {
        Mux::Chip { address, ten_bit: true } => format!("ten_bit-{address:#05x}"),
        Mux::Chip { address, ten_bit: false } => format!("{address:#04x}"),
        Mux::Device(name) => name.to_string(),
    };
    format!("{parent}{MUX_CHANNEL}{mux}/chan-{channel}")
}

/// The stable id of the bus a mux channel hangs from; None for a bus that is no channel.
pub fn mux_parent_id(stable_id: &str) -> Option<&str> {
    stable_id.rsplit_once(MUX_CHANNEL).map(|(parent, _)| parent)
}

/// How a client names a bus: "3" is a bus number, anything else a stable id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusSelector {
    Number(u32),
    StableId(String),
}

impl BusSelector {
    pub fn parse(text: &str) -> BusSelector {
        let trimmed = text.trim();
        match trimmed.parse::<u32>() {
            Ok(n) => BusSelector::Number(n),
            Err(_) => BusSelector::StableId(trimmed.to_string()),
        }
    }

    pub fn matches(&self, info: &BusInfo) -> bool {
        match self {
            BusSelector::Number(n) => info.bus_number == *n,
            BusSelector::StableId(id) => info.stable_id == *id,
        }
    }
}

impl fmt::Display for BusSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BusSelector::Number(n) => write!(f, "bus {n}"),
            BusSelector::StableId(id) => write!(f, "bus '{id}'"),
        }
    }
}

/// Why a session died (mirrors the AIDL LossReason).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum LossReason {
    Removed = 1,
    Revoked = 2,
    Shutdown = 3,
    /// The access-control policy was reloaded and no longer allows the session.
    PolicyChanged = 4,
}

impl LossReason {
    pub const ALL: [LossReason; 4] =
        [LossReason::Removed, LossReason::Revoked, LossReason::Shutdown, LossReason::PolicyChanged];

    pub fn name(self) -> &'static str {
        match self {
            LossReason::Removed => "REMOVED",
            LossReason::Revoked => "REVOKED",
            LossReason::Shutdown => "SHUTDOWN",
            LossReason::PolicyChanged => "POLICY_CHANGED",
        }
    }

    pub fn from_i32(value: i32) -> Option<LossReason> {
        Self::ALL.into_iter().find(|r| *r as i32 == value)
    }
}

impl fmt::Display for LossReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_tell_numbers_from_stable_ids() {
        assert_eq!(BusSelector::parse("3"), BusSelector::Number(3));
        assert_eq!(BusSelector::parse(" 12 "), BusSelector::Number(12));
        assert_eq!(
            BusSelector::parse("pci0000:00/0000:00:1f.3"),
            BusSelector::StableId("pci0000:00/0000:00:1f.3".into())
        );
        assert_eq!(BusSelector::parse("-1"), BusSelector::StableId("-1".into()));
    }
}
