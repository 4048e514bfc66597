//! Reads which I2C adapters exist from sysfs. The root is configurable so the simulator and the
//! tests can point it at a directory tree laid out like /sys.
//!
//! What is read (as the kernel lays it out):
//! - `ROOT/class/i2c-dev/i2c-N`: present while /dev/i2c-N exists (the i2c-dev class device).
//! - `ROOT/bus/i2c/devices/i2c-N`: a symlink to the adapter, e.g.
//!   `../../../devices/pci0000:00/0000:00:1f.3/i2c-0`; its target is the adapter's devpath.
//! - `ROOT/bus/i2c/devices/i2c-N/name`: the adapter's name attribute.
//! - For an adapter whose parent is a USB interface (it has `bInterfaceNumber`): the `serial`
//!   attribute of the USB device above that interface, for the stable id.
//!
//! The devpath (topology) and the name identify a physical adapter; the bus number does not,
//! since numbers are reused after removal. Sysfs is read defensively: entries vanish while we read
//! them (that is what hot-unplug looks like), so one bad entry never fails a whole scan.

#![forbid(unsafe_code)]

use i2c_hal_core::bus::{mux_channel_id, Mux};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The most characters of a USB serial number that go into a stable id. The kernel caches a
/// string descriptor of up to 126 UTF-16 units as up to 381 bytes of UTF-8
/// (`MAX_USB_STRING_SIZE` in drivers/usb/core/message.c), and a device may report anything
/// there; ids travel in every BusInfo, log line, dump and policy rule, so they stay short.
/// Serial numbers seen in practice are far shorter and are kept whole. Two serials that agree
/// in their first 64 characters share the suffix; the port part of the id still keeps live
/// modules apart.
const SERIAL_SLUG_MAX: usize = 64;

/// How long reading a USB device's `serial` may take before the id goes without it. The read
/// takes the USB device lock (`usb_string_attr` in drivers/usb/core/sysfs.c calls
/// `usb_lock_device_interruptible`), and `usb_disconnect()` (drivers/usb/core/hub.c) holds that
/// lock while the interface driver's disconnect runs `i2c_del_adapter()`, which waits until
/// the last /dev/i2c-N fd is closed. If this service held such an fd and its monitor thread
/// blocked here (a rescan racing a pull), nobody would ever close it. Normally the read answers
/// at once, or once the interface's probe returns.
const SERIAL_READ_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a channel's mux links may take to appear. i2c_mux_add_adapter()
/// (drivers/i2c/i2c-mux.c, Linux 6.1) registers the channel's adapter, which sends its uevents
/// and i2c-dev's, and only then creates `mux_device` and `channel-N`; the QEMU suite saw the
/// service read a channel between the two. The links follow in the same kernel call, so the
/// wait is short; if they never come, the topology rule names the adapter.
const MUX_LINK_WAIT: Duration = Duration::from_secs(1);
const MUX_LINK_POLL: Duration = Duration::from_millis(2);

/// The sysfs tree rooted at `/sys` in production, or at a directory built by a test.
#[derive(Clone, Debug)]
pub struct Sysfs {
    root: PathBuf,
    mux_link_wait: Duration,
}

/// One adapter with an i2c-dev node, as sysfs describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysfsAdapter {
    /// N of /dev/i2c-N.
    pub bus_number: u32,
    /// The adapter's devpath, e.g. `/devices/pci0000:00/0000:00:1f.3/i2c-0`.
    pub devpath: String,
    /// The adapter's name attribute, trimmed.
    pub name: String,
}

impl Sysfs {
    pub fn new(root: impl Into<PathBuf>) -> Sysfs {
        Sysfs { root: root.into(), mux_link_wait: MUX_LINK_WAIT }
    }

    /// Another bound for the wait for a channel's mux links (tests: see MUX_LINK_WAIT).
    pub fn with_mux_link_wait(self, mux_link_wait: Duration) -> Sysfs {
        Sysfs { mux_link_wait, ..self }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn i2c_dev_class_dir(&self) -> PathBuf {
        self.root.join("class/i2c-dev")
    }

    fn bus_device_path(&self, bus_number: u32) -> PathBuf {
        self.root.join("bus/i2c/devices").join(adapter_dir_name(bus_number))
    }

    /// Every adapter that has an i2c-dev node, sorted by bus number. Entries that cannot be read
    /// are skipped with a warning; a missing class directory (i2c-dev not loaded) means none.
    pub fn scan(&self) -> io::Result<Vec<SysfsAdapter>> {
        let class_dir = self.i2c_dev_class_dir();
        let entries = match fs::read_dir(&class_dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                log::debug!("{} does not exist: no i2c-dev adapters", class_dir.display());
                return Ok(Vec::new());
            }
            Err(err) => return Err(with_path(err, &class_dir)),
        };
        let mut adapters = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    log::warn!("skipping unreadable entry of {}: {err}", class_dir.display());
                    continue;
                }
            };
            let file_name = entry.file_name();
            let Some(bus_number) = file_name.to_str().and_then(parse_adapter_dir_name) else {
                log::warn!("skipping {:?} in {}: not i2c-<N>", file_name, class_dir.display());
                continue;
            };
            match self.adapter(bus_number) {
                Ok(adapter) => adapters.push(adapter),
                Err(err) => log::warn!("skipping i2c-{bus_number}: {err}"),
            }
        }
        adapters.sort_by_key(|adapter| adapter.bus_number);
        Ok(adapters)
    }

    /// One adapter by bus number; `NotFound` unless `ROOT/class/i2c-dev/i2c-N` exists.
    pub fn adapter(&self, bus_number: u32) -> io::Result<SysfsAdapter> {
        let class_entry = self.i2c_dev_class_dir().join(adapter_dir_name(bus_number));
        // symlink_metadata: the class entry's presence is what matters, not where it points.
        fs::symlink_metadata(&class_entry).map_err(|err| with_path(err, &class_entry))?;
        let devpath = self.devpath(bus_number)?;
        let name_path = self.bus_device_path(bus_number).join("name");
        let name = fs::read_to_string(&name_path).map_err(|err| with_path(err, &name_path))?;
        Ok(SysfsAdapter { bus_number, devpath, name: name.trim().to_string() })
    }

    /// The id that names this physical adapter across re-plugs (see `stable_id`), plus
    /// `/serial-<serial>` for a USB bridge whose device has a serial number: the port alone
    /// would give a different module plugged into the same port the same id.
    pub fn stable_id(&self, adapter: &SysfsAdapter) -> String {
        if let Some(channel) = self.mux_channel_once_linked(adapter) {
            let parent = self.stable_id(&channel.parent);
            let mux = match client_address(&channel.mux_device, channel.parent.bus_number) {
                Some(client) if client & CLIENT_TEN_BIT == CLIENT_TEN_BIT => {
                    Mux::Chip { address: client & 0x3ff, ten_bit: true }
                }
                Some(client) => Mux::Chip { address: client, ten_bit: false },
                None => Mux::Device(&serial_slug(&channel.mux_device)),
            };
            return mux_channel_id(&parent, mux, channel.chan);
        }
        let id =
            stable_id(&adapter.devpath, &adapter.name, self.has_sibling_adapters(&adapter.devpath));
        match self.usb_serial(&adapter.devpath) {
            Some(serial) => format!("{id}/serial-{}", serial_slug(&serial)),
            None => id,
        }
    }

    /// `mux_channel`, waiting up to `mux_link_wait` for the links of an adapter that hangs from
    /// another adapter (only i2c-mux.c registers such adapters) while its directory exists.
    fn mux_channel_once_linked(&self, adapter: &SysfsAdapter) -> Option<MuxChannel> {
        let hangs_from_adapter = parent_adapter(&adapter.devpath).is_some();
        let adapter_dir = self.root.join(adapter.devpath.trim_matches('/'));
        let deadline = Instant::now() + self.mux_link_wait;
        loop {
            let channel = self.mux_channel(adapter);
            if channel.is_some() || !hangs_from_adapter || !adapter_dir.exists() {
                return channel;
            }
            if Instant::now() >= deadline {
                log::warn!(
                    "i2c-{}: below another adapter but without mux links after {:?}",
                    adapter.bus_number,
                    self.mux_link_wait
                );
                return None;
            }
            std::thread::sleep(MUX_LINK_POLL);
        }
    }

    /// Where `adapter` is a channel of an I2C mux or gate. drivers/i2c/i2c-mux.c
    /// (i2c_mux_add_adapter, Linux 6.1) makes each channel an adapter whose parent device is
    /// the parent adapter, so it sits at `.../i2c-P/i2c-M`; it links `mux_device` in the
    /// channel's directory to the mux's device (for a chip such as a PCA954x, its I2C client
    /// `P-0070`) and `channel-<chan_id>` in that device's directory back to the channel. So the
    /// channel is named by its parent adapter's id, the mux and the channel number: no bus
    /// number, the same however the kernel numbered things this time, and nested muxes follow
    /// by recursion.
    fn mux_channel(&self, adapter: &SysfsAdapter) -> Option<MuxChannel> {
        let (parent_path, parent_bus, adapter_dir) = parent_adapter(&adapter.devpath)?;
        let channel_dir = self.root.join(adapter.devpath.trim_matches('/'));
        let mux_link = fs::read_link(channel_dir.join("mux_device")).ok()?;
        let mux_device = mux_link.file_name()?.to_str()?.to_string();
        // sysfs links are relative, so this stays below ROOT.
        let chan = fs::read_dir(channel_dir.join(&mux_link))
            .ok()?
            .filter_map(Result::ok)
            .find_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let chan = name.strip_prefix("channel-")?.parse::<u32>().ok()?;
                let target = fs::read_link(entry.path()).ok()?;
                (target.file_name()? == adapter_dir).then_some(chan)
            })?;
        let name_path = self.root.join(parent_path.trim_start_matches('/')).join("name");
        let name = fs::read_to_string(name_path).ok()?;
        let parent = SysfsAdapter {
            bus_number: parent_bus,
            devpath: parent_path.to_string(),
            name: name.trim().to_string(),
        };
        Some(MuxChannel { parent, mux_device, chan })
    }

    /// The serial number of the USB device an adapter belongs to: only where the adapter's
    /// parent is a USB interface (usbcore gives interfaces, and only them, `bInterfaceNumber`;
    /// drivers/usb/core/sysfs.c) and the USB device above it (the interface's parent) has a
    /// `serial` attribute, which usbcore creates only for devices that report a serial string.
    /// Surrounding whitespace (the newline sysfs adds, the padding some firmwares use) is no
    /// part of it; a blank serial counts as none.
    fn usb_serial(&self, devpath: &str) -> Option<String> {
        let adapter_dir = self.root.join(devpath.trim_start_matches('/'));
        let interface_dir = adapter_dir.parent()?;
        fs::symlink_metadata(interface_dir.join("bInterfaceNumber")).ok()?;
        let serial_path = interface_dir.parent()?.join("serial");
        let serial = read_with_timeout(&serial_path, SERIAL_READ_TIMEOUT)?;
        let serial = serial.trim();
        (!serial.is_empty()).then(|| serial.to_string())
    }

    /// Whether the adapter's parent device has other adapters too (i915's GMBUS pins, the
    /// channels of an i2c mux): then the topology alone does not tell them apart.
    fn has_sibling_adapters(&self, devpath: &str) -> bool {
        let Some((parent, _)) = devpath.trim_end_matches('/').rsplit_once('/') else {
            return false;
        };
        let parent_dir = self.root.join(parent.trim_start_matches('/'));
        let Ok(entries) = fs::read_dir(parent_dir) else { return false };
        let adapters = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_str().and_then(parse_adapter_dir_name).is_some())
            .count();
        adapters > 1
    }

    /// The adapter's devpath, from its `bus/i2c/devices/i2c-N` link (or directory).
    fn devpath(&self, bus_number: u32) -> io::Result<String> {
        let link = self.bus_device_path(bus_number);
        let metadata = fs::symlink_metadata(&link).map_err(|err| with_path(err, &link))?;
        let devpath = if metadata.file_type().is_symlink() {
            let target = fs::read_link(&link).map_err(|err| with_path(err, &link))?;
            self.devpath_from_link_target(&target)?
        } else if metadata.is_dir() {
            self.devpath_from_directory(&link)?
        } else {
            return Err(invalid_data(format!(
                "{} is neither a symlink nor a directory",
                link.display()
            )));
        };
        let expected_last = adapter_dir_name(bus_number);
        if devpath.rsplit('/').next() != Some(expected_last.as_str()) {
            return Err(invalid_data(format!(
                "{} resolves to {devpath}, which does not end in /{expected_last}",
                link.display()
            )));
        }
        Ok(devpath)
    }

    /// Real sysfs links are relative (`../../../devices/...`): dropping the leading `..` and `.`
    /// components leaves the path below the sysfs root. An absolute target must lie under ROOT.
    fn devpath_from_link_target(&self, target: &Path) -> io::Result<String> {
        let below_root: PathBuf = if target.is_absolute() {
            target
                .strip_prefix(&self.root)
                .map_err(|_| {
                    invalid_data(format!(
                        "link target {} is outside {}",
                        target.display(),
                        self.root.display()
                    ))
                })?
                .to_path_buf()
        } else {
            target
                .components()
                .skip_while(|c| matches!(c, Component::ParentDir | Component::CurDir))
                .collect()
        };
        devpath_string(&below_root)
    }

    fn devpath_from_directory(&self, dir: &Path) -> io::Result<String> {
        let resolved = fs::canonicalize(dir).map_err(|err| with_path(err, dir))?;
        let root = fs::canonicalize(&self.root).map_err(|err| with_path(err, &self.root))?;
        let below_root = resolved.strip_prefix(&root).map_err(|_| {
            invalid_data(format!("{} resolves outside {}", dir.display(), root.display()))
        })?;
        devpath_string(below_root)
    }
}

/// Reads a small sysfs attribute on a thread of its own, waiting at most `timeout`; `None` if
/// it is missing, unreadable or too slow (see SERIAL_READ_TIMEOUT). A read that timed out
/// leaves its thread blocked until the kernel lets the read finish; it then ends by itself.
fn read_with_timeout(path: &Path, timeout: Duration) -> Option<String> {
    let (tx, rx) = mpsc::sync_channel(1);
    let owned = path.to_path_buf();
    let spawned = std::thread::Builder::new().name("sysfs-read".into()).spawn(move || {
        // The receiver may have given up already; then the result is of no use to anyone.
        let _ = tx.send(fs::read(&owned));
    });
    if let Err(e) = spawned {
        log::warn!("cannot start a thread to read {}: {e}", path.display());
        return None;
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(bytes)) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Ok(Err(e)) => {
            if e.kind() != io::ErrorKind::NotFound {
                log::warn!("cannot read {}: {e}", path.display());
            }
            None
        }
        Err(_) => {
            log::warn!(
                "reading {} took longer than {timeout:?} (its USB device is locked, likely \
                 being disconnected): the stable id goes without the serial number",
                path.display()
            );
            None
        }
    }
}

/// A USB serial number as it goes into a stable id: the characters `[A-Za-z0-9._-]` as they
/// are, every other character (each one, not each byte) as `_`, so the id stays one path
/// component of plain ASCII; at most SERIAL_SLUG_MAX characters. Case is kept: serial numbers
/// are compared exactly.
fn serial_slug(serial: &str) -> String {
    serial
        .chars()
        .take(SERIAL_SLUG_MAX)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect()
}

/// `/` + the path below the sysfs root, refusing empty and non-UTF-8 paths.
fn devpath_string(below_root: &Path) -> io::Result<String> {
    let text = below_root
        .to_str()
        .ok_or_else(|| invalid_data(format!("devpath {} is not UTF-8", below_root.display())))?;
    let text = text.trim_matches('/');
    if text.is_empty() {
        return Err(invalid_data("empty devpath".to_string()));
    }
    Ok(format!("/{text}"))
}

/// A channel of a mux (see `Sysfs::mux_channel`).
struct MuxChannel {
    /// The adapter the channel hangs from.
    parent: SysfsAdapter,
    /// The name of the mux's device directory (`5-0070` for a chip on bus 5).
    mux_device: String,
    /// The channel's number at the mux (`chan_id`).
    chan: u32,
}

/// Where the adapter at `devpath` hangs from another adapter (`.../i2c-5/i2c-6`, as only
/// i2c-mux.c places them): that adapter's devpath and bus number, and the adapter's own
/// directory name.
fn parent_adapter(devpath: &str) -> Option<(&str, u32, &str)> {
    let (parent_path, adapter_dir) = devpath.trim_end_matches('/').rsplit_once('/')?;
    let parent_bus = parse_adapter_dir_name(parent_path.rsplit('/').next()?)?;
    Some((parent_path, parent_bus, adapter_dir))
}

/// The address in an I2C client's device name, `<bus>-<address %04x>` as i2c-core-base.c's
/// i2c_dev_set_name() writes it (0xa000 added for a 10-bit client), when `name` is a client on
/// bus `bus_number`.
fn client_address(name: &str, bus_number: u32) -> Option<u16> {
    let (bus, address) = name.split_once('-')?;
    if bus.parse::<u32>().ok()? != bus_number || address.len() != 4 {
        return None;
    }
    u16::from_str_radix(address, 16).ok()
}

/// The i2c-core flag a 10-bit client's name carries in its address (I2C_ADDR_OFFSET_TEN_BIT).
const CLIENT_TEN_BIT: u16 = 0xa000;

fn adapter_dir_name(bus_number: u32) -> String {
    format!("i2c-{bus_number}")
}

/// `i2c-<digits>` → the bus number; anything else (including overflow) → None.
fn parse_adapter_dir_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("i2c-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The id that names one physical adapter across re-plugs: its parent in the device topology
/// (the PCI function, USB interface or platform device the module brings). The bus number is
/// left out because the kernel reuses numbers, and so is the name where the topology suffices,
/// because names can carry addresses that change on re-plug (i801's "SMBus I801 adapter at
/// 0700" becomes "... at 1000" after a PCI rescan). The name is added only where the topology
/// cannot tell adapters apart: several adapters under one parent, or no parent at all.
///
/// `Sysfs::stable_id` adds the serial number of a USB bridge to this.
///
/// `("/devices/pci0000:00/0000:00:1f.3/i2c-0", _, false)` → `"pci0000:00/0000:00:1f.3"`;
/// `("/devices/i2c-1", "SMBus stub driver", _)` → `"virtual/smbus-stub-driver"`;
/// `("/devices/pci0000:00/0000:00:02.0/i2c-4", "i915 gmbus dpc", true)` →
/// `"pci0000:00/0000:00:02.0/i915-gmbus-dpc"`.
pub fn stable_id(devpath: &str, name: &str, has_siblings: bool) -> String {
    match devpath_parent(devpath) {
        "" => format!("virtual/{}", slug(name)),
        parent if has_siblings => format!("{parent}/{}", slug(name)),
        parent => parent.to_string(),
    }
}

fn devpath_parent(devpath: &str) -> &str {
    let below_devices = devpath
        .strip_prefix("/devices/")
        .unwrap_or_else(|| devpath.trim_start_matches('/'))
        .trim_end_matches('/');
    let parent = match below_devices.rsplit_once('/') {
        Some((parent, last)) if parse_adapter_dir_name(last).is_some() => parent,
        None if parse_adapter_dir_name(below_devices).is_some() => "",
        _ => below_devices,
    };
    parent
}

/// Lowercase; every run of characters outside [a-z0-9] becomes one `-`; no `-` at either end.
fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let trimmed_len = slug.trim_end_matches('-').len();
    slug.truncate(trimmed_len);
    if slug.is_empty() {
        "adapter".to_string()
    } else {
        slug
    }
}

fn with_path(err: io::Error, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{}: {err}", path.display()))
}

fn invalid_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Builds a tree the way the kernel lays out /sys for i2c adapters.
    struct FakeSysfs {
        dir: tempfile::TempDir,
    }

    impl FakeSysfs {
        fn new() -> FakeSysfs {
            let dir = tempfile::tempdir().unwrap();
            for sub in ["class/i2c-dev", "bus/i2c/devices", "devices"] {
                fs::create_dir_all(dir.path().join(sub)).unwrap();
            }
            FakeSysfs { dir }
        }

        fn root(&self) -> &Path {
            self.dir.path()
        }

        /// An adapter below `parent` (relative to ROOT/devices), with an i2c-dev node.
        fn add_adapter(&self, parent: &str, bus_number: u32, name: Option<&str>) {
            let below_devices = if parent.is_empty() {
                format!("i2c-{bus_number}")
            } else {
                format!("{parent}/i2c-{bus_number}")
            };
            let adapter_dir = self.root().join("devices").join(&below_devices);
            let i2c_dev_dir = adapter_dir.join(format!("i2c-dev/i2c-{bus_number}"));
            fs::create_dir_all(&i2c_dev_dir).unwrap();
            if let Some(name) = name {
                fs::write(adapter_dir.join("name"), format!("{name}\n")).unwrap();
            }
            symlink(
                format!("../../../devices/{below_devices}"),
                self.root().join(format!("bus/i2c/devices/i2c-{bus_number}")),
            )
            .unwrap();
            symlink(
                format!("../../devices/{below_devices}/i2c-dev/i2c-{bus_number}"),
                self.root().join(format!("class/i2c-dev/i2c-{bus_number}")),
            )
            .unwrap();
        }

        /// A USB device at `port` (relative to ROOT/devices, e.g. `.../usb1/1-2`) with interface
        /// `:1.0` as usbcore lays them out, and an i2c-tiny-usb style adapter on the interface.
        /// `serial`: the `serial` attribute's bytes as sysfs shows them (None: no attribute,
        /// as for a device without a serial string). Returns the interface's path below ROOT.
        fn add_usb_bridge(&self, port: &str, bus_number: u32, serial: Option<&str>) -> String {
            let device_dir = self.root().join("devices").join(port);
            let name = port.rsplit('/').next().unwrap();
            let interface = format!("{port}/{name}:1.0");
            let interface_dir = self.root().join("devices").join(&interface);
            fs::create_dir_all(&interface_dir).unwrap();
            fs::write(device_dir.join("idVendor"), "1c40\n").unwrap();
            fs::write(interface_dir.join("bInterfaceNumber"), "00\n").unwrap();
            if let Some(serial) = serial {
                fs::write(device_dir.join("serial"), serial).unwrap();
            }
            self.add_adapter(&interface, bus_number, Some("i2c-tiny-usb at bus 001 device 002"));
            interface
        }

        /// A mux whose device is `mux` (e.g. "5-0070", a chip on the parent) below the adapter
        /// at `parent` (its path below ROOT/devices), with a channel adapter per (chan_id, bus
        /// number), laid out as i2c-mux.c lays them out: each channel a child of the parent
        /// adapter, `mux_device` in it and `channel-N` in the mux's directory. Returns the
        /// path below ROOT/devices of the mux device.
        fn add_mux(&self, parent: &str, mux: &str, channels: &[(u32, u32)]) -> String {
            let mux_path = format!("{parent}/{mux}");
            let mux_dir = self.root().join("devices").join(&mux_path);
            fs::create_dir_all(&mux_dir).unwrap();
            let parent_bus = parent.rsplit('/').next().unwrap().trim_start_matches("i2c-");
            for (chan, bus) in channels {
                let name = format!("i2c-{parent_bus}-mux (chan_id {chan})");
                self.add_adapter(parent, *bus, Some(&name));
                let channel_dir =
                    self.root().join("devices").join(parent).join(format!("i2c-{bus}"));
                symlink(format!("../{mux}"), channel_dir.join("mux_device")).unwrap();
                symlink(format!("../i2c-{bus}"), mux_dir.join(format!("channel-{chan}"))).unwrap();
            }
            mux_path
        }

        fn id_of(&self, bus_number: u32) -> String {
            let reader = Sysfs::new(self.root());
            reader.stable_id(&reader.adapter(bus_number).unwrap())
        }
    }

    #[test]
    fn mux_channels_are_named_by_their_parent_the_chip_and_the_channel_not_by_numbers() {
        let sysfs = FakeSysfs::new();
        let interface = sysfs.add_usb_bridge(PORT_1, 5, Some("CAL0001\n"));
        let parent = format!("{interface}/i2c-5");
        sysfs.add_mux(&parent, "5-0070", &[(0, 6), (1, 7), (3, 9)]);
        let module = format!("{interface}/serial-CAL0001");
        assert_eq!(sysfs.id_of(5), module);
        assert_eq!(sysfs.id_of(6), format!("{module}/mux-0x70/chan-0"));
        assert_eq!(sysfs.id_of(7), format!("{module}/mux-0x70/chan-1"));
        assert_eq!(sysfs.id_of(9), format!("{module}/mux-0x70/chan-3"));
        // A gate inside a chip on a channel (nested): the same rule again.
        sysfs.add_mux(&format!("{parent}/i2c-7"), "7-0068", &[(0, 12)]);
        assert_eq!(sysfs.id_of(12), format!("{module}/mux-0x70/chan-1/mux-0x68/chan-0"));

        // The same module back with every number shifted: the same ids.
        let again = FakeSysfs::new();
        let interface = again.add_usb_bridge(PORT_1, 11, Some("CAL0001\n"));
        again.add_mux(&format!("{interface}/i2c-11"), "11-0070", &[(0, 14), (1, 13)]);
        assert_eq!(again.id_of(14), format!("{module}/mux-0x70/chan-0"));
        assert_eq!(again.id_of(13), format!("{module}/mux-0x70/chan-1"));
        // Another module on the same port: its channels' ids differ too.
        let other = FakeSysfs::new();
        let interface = other.add_usb_bridge(PORT_1, 5, Some("CAL0002\n"));
        other.add_mux(&format!("{interface}/i2c-5"), "5-0070", &[(0, 6)]);
        assert_eq!(other.id_of(6), format!("{interface}/serial-CAL0002/mux-0x70/chan-0"));
    }

    #[test]
    fn a_mux_at_a_10_bit_address_a_mux_that_is_no_chip_and_an_adapter_without_a_mux() {
        let sysfs = FakeSysfs::new();
        sysfs.add_adapter("pci0000:00/0000:00:1f.3", 0, Some("SMBus I801 adapter at 0700"));
        let i801 = "pci0000:00/0000:00:1f.3/i2c-0";
        sysfs.add_mux(i801, "0-a050", &[(2, 4)]);
        assert_eq!(sysfs.id_of(4), "pci0000:00/0000:00:1f.3/mux-ten_bit-0x050/chan-2");
        // A mux device that is no client of the parent (a GPIO mux's platform device): named
        // by its device name.
        sysfs.add_mux(i801, "i2c-mux-gpio.0", &[(1, 5)]);
        assert_eq!(sysfs.id_of(5), "pci0000:00/0000:00:1f.3/mux-i2c-mux-gpio.0/chan-1");
        // A client-like name on another bus is no chip on this parent.
        sysfs.add_mux(i801, "3-0070", &[(0, 6)]);
        assert_eq!(sysfs.id_of(6), "pci0000:00/0000:00:1f.3/mux-3-0070/chan-0");
        // An adapter below another adapter whose mux links never come: after the wait, the
        // topology rule.
        sysfs.add_adapter(i801, 8, Some("odd"));
        let reader = Sysfs::new(sysfs.root()).with_mux_link_wait(Duration::from_millis(20));
        assert_eq!(reader.stable_id(&reader.adapter(8).unwrap()), format!("{i801}/odd"));
    }

    #[test]
    fn a_channel_read_before_i2c_mux_links_it_gets_its_id_once_the_links_exist() {
        let sysfs = FakeSysfs::new();
        let interface = sysfs.add_usb_bridge(PORT_1, 5, Some("CAL0001\n"));
        let parent = format!("{interface}/i2c-5");
        sysfs.add_adapter(&parent, 6, Some("i2c-5-mux (chan_id 2)"));
        let (linked_tx, linked_rx) = mpsc::channel();
        let reader = {
            let root = sysfs.root().to_path_buf();
            std::thread::spawn(move || {
                // Bounded only so that a lost link fails the test instead of hanging it.
                let reader = Sysfs::new(&root).with_mux_link_wait(Duration::from_secs(300));
                let adapter = reader.adapter(6).unwrap();
                linked_tx.send(()).unwrap();
                reader.stable_id(&adapter)
            })
        };
        // The adapter is registered (and read) first; i2c-mux.c links it afterwards.
        linked_rx.recv().unwrap();
        let mux_dir = sysfs.root().join("devices").join(&parent).join("5-0070");
        fs::create_dir_all(&mux_dir).unwrap();
        let channel_dir = sysfs.root().join("devices").join(&parent).join("i2c-6");
        symlink("../5-0070", channel_dir.join("mux_device")).unwrap();
        symlink("../i2c-6", mux_dir.join("channel-2")).unwrap();
        assert_eq!(reader.join().unwrap(), format!("{interface}/serial-CAL0001/mux-0x70/chan-2"));
    }

    const PORT_1: &str = "pci0000:00/0000:00:14.0/usb1/1-1";
    const PORT_2: &str = "pci0000:00/0000:00:14.0/usb1/1-2";

    #[test]
    fn a_usb_bridge_with_a_serial_number_is_named_by_port_and_serial() {
        let sysfs = FakeSysfs::new();
        let interface = sysfs.add_usb_bridge(PORT_1, 10, Some("A1B2C3\n"));
        assert_eq!(sysfs.id_of(10), format!("{interface}/serial-A1B2C3"));
        assert_eq!(sysfs.id_of(10), "pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/serial-A1B2C3");

        // Another module on the same port: same port part, another id.
        let other = FakeSysfs::new();
        other.add_usb_bridge(PORT_1, 10, Some("Z9\n"));
        assert_eq!(other.id_of(10), format!("{interface}/serial-Z9"));
        // The same module on another port: another id too, so ids stay unique among live
        // bridges that share a serial number.
        sysfs.add_usb_bridge(PORT_2, 11, Some("A1B2C3\n"));
        assert_eq!(sysfs.id_of(11), "pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/serial-A1B2C3");
        // Surrounding whitespace is not part of the serial.
        let padded = FakeSysfs::new();
        padded.add_usb_bridge(PORT_1, 10, Some("  A1B2C3   \n"));
        assert_eq!(padded.id_of(10), sysfs.id_of(10));
    }

    #[test]
    fn a_usb_bridge_without_a_serial_number_keeps_the_port_id() {
        for serial in [None, Some("\n"), Some("   \n"), Some("")] {
            let sysfs = FakeSysfs::new();
            let interface = sysfs.add_usb_bridge(PORT_2, 10, serial);
            assert_eq!(sysfs.id_of(10), interface, "serial attribute {serial:?}");
            assert_eq!(sysfs.id_of(10), "pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0");
        }
    }

    #[test]
    fn odd_characters_in_a_serial_number_become_underscores_and_long_ones_are_cut() {
        let sysfs = FakeSysfs::new();
        let interface = sysfs.add_usb_bridge(PORT_1, 10, Some("SN 01/\u{e4}*x.y_z-9\n"));
        // One `_` per character, not per UTF-8 byte: 'ä' is two bytes.
        assert_eq!(sysfs.id_of(10), format!("{interface}/serial-SN_01___x.y_z-9"));

        let long = FakeSysfs::new();
        let serial = "0123456789abcdef".repeat(8);
        long.add_usb_bridge(PORT_1, 10, Some(&format!("{serial}\n")));
        let id = long.id_of(10);
        let slug = id.strip_prefix(&format!("{interface}/serial-")).unwrap();
        assert_eq!(slug, &serial[..SERIAL_SLUG_MAX]);

        // A serial never adds a path component or leaves ASCII.
        assert_eq!(serial_slug("../../etc"), ".._.._etc");
        assert_eq!(serial_slug("\u{1F600}a\tb"), "_a_b");
    }

    #[test]
    fn a_serial_attribute_off_a_usb_interface_changes_nothing() {
        // A `serial` two levels up, but the parent is no USB interface (no bInterfaceNumber):
        // not a USB bridge, the id is the topology's as always.
        let sysfs = FakeSysfs::new();
        fs::create_dir_all(sysfs.root().join("devices/platform/soc/3f804000.i2c")).unwrap();
        fs::write(sysfs.root().join("devices/platform/soc/serial"), "0000abcd\n").unwrap();
        sysfs.add_adapter("platform/soc/3f804000.i2c", 1, Some("bcm2835 (i2c@7e804000)"));
        assert_eq!(sysfs.id_of(1), "platform/soc/3f804000.i2c");
        // An adapter directly below a USB device (no interface in between) is no bridge either.
        fs::create_dir_all(sysfs.root().join("devices").join(PORT_1)).unwrap();
        fs::write(sysfs.root().join("devices").join(PORT_1).join("serial"), "X\n").unwrap();
        sysfs.add_adapter(PORT_1, 2, Some("odd"));
        assert_eq!(sysfs.id_of(2), PORT_1);
    }

    #[test]
    fn a_serial_that_cannot_be_read_in_time_leaves_the_port_id() {
        // A FIFO without a writer blocks open() the way a locked USB device blocks the read of
        // its `serial` during a disconnect.
        let sysfs = FakeSysfs::new();
        let interface = sysfs.add_usb_bridge(PORT_1, 10, None);
        let fifo = sysfs.root().join("devices").join(PORT_1).join("serial");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR)
            .unwrap();
        let started = std::time::Instant::now();
        assert_eq!(sysfs.id_of(10), interface);
        let waited = started.elapsed();
        assert!(waited >= SERIAL_READ_TIMEOUT, "{waited:?}");
        assert!(waited < SERIAL_READ_TIMEOUT * 5, "{waited:?}");
        // Let the reader thread finish: a writer that opens and closes gives it EOF.
        drop(fs::OpenOptions::new().write(true).open(&fifo).unwrap());
    }

    #[test]
    fn stable_ids_name_the_topology_and_add_the_name_only_to_disambiguate() {
        // The name is left out where the parent alone identifies the adapter: i801's name
        // carries an I/O port that moves when the PCI function is rescanned.
        for name in ["SMBus I801 adapter at 0700", "SMBus I801 adapter at 1000"] {
            assert_eq!(
                stable_id("/devices/pci0000:00/0000:00:1f.3/i2c-0", name, false),
                "pci0000:00/0000:00:1f.3"
            );
        }
        assert_eq!(
            stable_id("/devices/i2c-1", "SMBus stub driver", false),
            "virtual/smbus-stub-driver"
        );
        assert_eq!(
            stable_id("/devices/pci0000:00/0000:00:02.0/i2c-4", "i915 gmbus dpc", true),
            "pci0000:00/0000:00:02.0/i915-gmbus-dpc"
        );
        assert_eq!(
            stable_id("/devices/platform/soc/3f804000.i2c/i2c-12", "bcm2835 (i2c@7e804000)", true),
            "platform/soc/3f804000.i2c/bcm2835-i2c-7e804000"
        );
    }

    #[test]
    fn siblings_under_one_parent_are_told_apart_by_name() {
        let sysfs = FakeSysfs::new();
        sysfs.add_adapter("pci0000:00/0000:00:02.0", 4, Some("i915 gmbus dpc"));
        sysfs.add_adapter("pci0000:00/0000:00:02.0", 5, Some("i915 gmbus dpb"));
        sysfs.add_adapter("pci0000:00/0000:00:1f.3", 0, Some("SMBus I801 adapter at 0700"));
        let reader = Sysfs::new(sysfs.root());
        let ids: Vec<String> = reader.scan().unwrap().iter().map(|a| reader.stable_id(a)).collect();
        assert_eq!(
            ids,
            vec![
                "pci0000:00/0000:00:1f.3",
                "pci0000:00/0000:00:02.0/i915-gmbus-dpc",
                "pci0000:00/0000:00:02.0/i915-gmbus-dpb",
            ]
        );
    }

    #[test]
    fn slugs_collapse_runs_and_never_come_out_empty() {
        assert_eq!(slug("  --Foo__BAR--  "), "foo-bar");
        assert_eq!(slug("a  b"), "a-b");
        assert_eq!(slug(""), "adapter");
        assert_eq!(slug("***"), "adapter");
        assert_eq!(slug("Ünï 7"), "n-7");
    }

    #[test]
    fn only_i2c_digit_names_are_adapters() {
        assert_eq!(parse_adapter_dir_name("i2c-0"), Some(0));
        assert_eq!(parse_adapter_dir_name("i2c-17"), Some(17));
        for junk in ["i2c-", "i2c-x", "i2c-1x", "i2c--1", "i2c-+1", "spi-1", "i2c-99999999999"] {
            assert_eq!(parse_adapter_dir_name(junk), None, "{junk}");
        }
    }

    #[test]
    fn scan_reads_adapters_sorted_by_number_and_skips_bad_entries() {
        let sysfs = FakeSysfs::new();
        sysfs.add_adapter("pci0000:00/0000:00:1f.3", 0, Some("SMBus I801 adapter at 0700"));
        sysfs.add_adapter("", 2, Some("SMBus stub driver"));
        sysfs.add_adapter("pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0", 10, Some("i2c-tiny-usb"));
        sysfs.add_adapter("platform/greybus1/1-3.3", 9, Some("Greybus I2C adapter"));
        // Junk in the class directory: not i2c-<digits>, or an adapter without its bus link.
        for junk in ["i2c-abc", "i2c-", "foo", "i2c-1x"] {
            fs::create_dir(sysfs.root().join("class/i2c-dev").join(junk)).unwrap();
        }
        fs::create_dir(sysfs.root().join("class/i2c-dev/i2c-7")).unwrap();
        // An adapter whose name attribute vanished (as during removal).
        sysfs.add_adapter("platform/gone", 3, None);
        // An adapter in the bus directory without an i2c-dev node is not reachable: ignored.
        fs::create_dir_all(sysfs.root().join("devices/i2c-4")).unwrap();
        symlink("../../../devices/i2c-4", sysfs.root().join("bus/i2c/devices/i2c-4")).unwrap();

        let reader = Sysfs::new(sysfs.root());
        let adapters = reader.scan().unwrap();
        let numbers: Vec<u32> = adapters.iter().map(|a| a.bus_number).collect();
        assert_eq!(numbers, vec![0, 2, 9, 10]);
        assert_eq!(
            adapters[0],
            SysfsAdapter {
                bus_number: 0,
                devpath: "/devices/pci0000:00/0000:00:1f.3/i2c-0".into(),
                name: "SMBus I801 adapter at 0700".into(),
            }
        );
        assert_eq!(reader.stable_id(&adapters[0]), "pci0000:00/0000:00:1f.3");
        assert_eq!(adapters[1].devpath, "/devices/i2c-2");
        assert_eq!(reader.stable_id(&adapters[1]), "virtual/smbus-stub-driver");
        assert_eq!(adapters[3].devpath, "/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/i2c-10");
        assert_eq!(reader.stable_id(&adapters[3]), "pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0");
    }

    #[test]
    fn adapter_requires_the_i2c_dev_node() {
        let sysfs = FakeSysfs::new();
        sysfs.add_adapter("pci0000:00/0000:00:1f.3", 0, Some("SMBus I801 adapter at 0700"));
        let scanner = Sysfs::new(sysfs.root());
        assert_eq!(scanner.adapter(0).unwrap().name, "SMBus I801 adapter at 0700");
        assert_eq!(scanner.adapter(1).unwrap_err().kind(), io::ErrorKind::NotFound);
        fs::remove_file(sysfs.root().join("class/i2c-dev/i2c-0")).unwrap();
        assert_eq!(scanner.adapter(0).unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_bus_directory_instead_of_a_symlink_is_canonicalized_below_root() {
        let sysfs = FakeSysfs::new();
        let dir = sysfs.root().join("bus/i2c/devices/i2c-5");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("name"), "plain dir\n").unwrap();
        fs::create_dir(sysfs.root().join("class/i2c-dev/i2c-5")).unwrap();
        let adapter = Sysfs::new(sysfs.root()).adapter(5).unwrap();
        assert_eq!(adapter.devpath, "/bus/i2c/devices/i2c-5");
        assert_eq!(adapter.name, "plain dir");
    }

    #[test]
    fn links_that_do_not_end_in_the_adapter_are_refused() {
        let sysfs = FakeSysfs::new();
        fs::create_dir_all(sysfs.root().join("devices/elsewhere")).unwrap();
        fs::write(sysfs.root().join("devices/elsewhere/name"), "x").unwrap();
        symlink("../../../devices/elsewhere", sysfs.root().join("bus/i2c/devices/i2c-6")).unwrap();
        fs::create_dir(sysfs.root().join("class/i2c-dev/i2c-6")).unwrap();
        let scanner = Sysfs::new(sysfs.root());
        assert_eq!(scanner.adapter(6).unwrap_err().kind(), io::ErrorKind::InvalidData);
        assert!(scanner.scan().unwrap().is_empty());
    }

    #[test]
    fn a_missing_class_directory_means_no_adapters() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Sysfs::new(dir.path()).scan().unwrap().is_empty());
    }
}
