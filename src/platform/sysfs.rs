//! Reads which I2C adapters exist from sysfs. The root is configurable so the simulator and the
//! tests can point it at a directory tree laid out like /sys.
//!
//! What is read (as the kernel lays it out):
//! - `ROOT/class/i2c-dev/i2c-N`: present while /dev/i2c-N exists (the i2c-dev class device).
//! - `ROOT/bus/i2c/devices/i2c-N`: a symlink to the adapter, e.g.
//!   `../../../devices/pci0000:00/0000:00:1f.3/i2c-0`; its target is the adapter's devpath.
//! - `ROOT/bus/i2c/devices/i2c-N/name`: the adapter's name attribute.
//!
//! The devpath (topology) and the name identify a physical adapter; the bus number does not,
//! since numbers are reused after removal. Sysfs is read defensively: entries vanish while we read
//! them (that is what hot-unplug looks like), so one bad entry never fails a whole scan.

#![forbid(unsafe_code)]

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The sysfs tree rooted at `/sys` in production, or at a directory built by a test.
#[derive(Clone, Debug)]
pub struct Sysfs {
    root: PathBuf,
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
        Sysfs { root: root.into() }
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

    /// The id that names this physical adapter across re-plugs (see `stable_id`).
    pub fn stable_id(&self, adapter: &SysfsAdapter) -> String {
        stable_id(&adapter.devpath, &adapter.name, self.has_sibling_adapters(&adapter.devpath))
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
