//! The on-disk half of the fake kernel: a sysfs-shaped tree (directories, attribute files and
//! relative symlinks laid out as the kernel lays them out) plus a dev directory standing in for
//! devtmpfs, and the uevents announcing their changes. The production scanner and parser read
//! these, so the simulator exercises the same code as real hardware.

use super::catalog;
use i2c_hal_platform::uevent::{Action, Uevent};
use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// The i2c-dev character major (I2C_MAJOR in include/linux/i2c-dev.h).
pub(super) const I2C_DEV_MAJOR: u32 = 89;
const TOP_DIRS: [&str; 4] = ["devices", "bus/i2c/devices", "class/i2c-dev", "dev"];

/// Where one plugged module's adapter lives, and everything derived from that.
#[derive(Clone, Copy, Debug)]
pub(super) struct AdapterNode<'a> {
    pub(super) module: &'a str,
    pub(super) bus_number: u32,
}

impl AdapterNode<'_> {
    fn module_devpath(&self) -> String {
        catalog::module_devpath(self.module)
    }

    pub(super) fn adapter_devpath(&self) -> String {
        format!("{}/i2c-{}", self.module_devpath(), self.bus_number)
    }

    pub(super) fn chardev_devpath(&self) -> String {
        format!("{}/i2c-dev/i2c-{}", self.adapter_devpath(), self.bus_number)
    }

    fn leaf(&self) -> String {
        format!("i2c-{}", self.bus_number)
    }

    /// The i2c-dev event, sent before the adapter's on add and on remove alike.
    pub(super) fn chardev_event(&self, action: Action) -> Uevent {
        Uevent::new(action, &self.chardev_devpath(), "i2c-dev")
            .with("MAJOR", I2C_DEV_MAJOR.to_string())
            .with("MINOR", self.bus_number.to_string())
            .with("DEVNAME", self.leaf())
    }

    pub(super) fn adapter_event(&self, action: Action) -> Uevent {
        Uevent::new(action, &self.adapter_devpath(), "i2c").with("DEVTYPE", "i2c_adapter")
    }
}

/// ROOT/dev/i2c-N: a regular file standing for the character device.
pub(super) fn dev_node(root: &Path, bus_number: u32) -> PathBuf {
    root.join("dev").join(format!("i2c-{bus_number}"))
}

fn sys_path(root: &Path, devpath: &str) -> PathBuf {
    root.join(devpath.trim_start_matches('/'))
}

/// Creates the top-level directories and clears what a previous simulator run left behind: a
/// fresh simulator has nothing plugged, and stale entries would show the scanner ghost adapters.
pub(super) fn prepare_root(root: &Path) -> io::Result<()> {
    for dir in TOP_DIRS {
        fs::create_dir_all(root.join(dir))?;
    }
    remove_dir_all_if_present(&sys_path(root, &catalog::platform_devpath()))?;
    let our_component = format!("/{}/", catalog::PLATFORM_DEVICE);
    for links in ["bus/i2c/devices", "class/i2c-dev"] {
        for entry in fs::read_dir(root.join(links))? {
            let path = entry?.path();
            let is_ours = fs::read_link(&path)
                .is_ok_and(|target| target.to_string_lossy().contains(&our_component));
            if is_ours {
                remove_if_present(&path)?;
            }
        }
    }
    for entry in fs::read_dir(root.join("dev"))? {
        let entry = entry?;
        let is_node_name = entry
            .file_name()
            .to_str()
            .and_then(|name| name.strip_prefix("i2c-"))
            .is_some_and(|number| number.parse::<u32>().is_ok());
        if is_node_name && entry.file_type()?.is_file() {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

/// Writes the adapter, its i2c-dev child, the bus and class links and the dev node.
pub(super) fn write_adapter(root: &Path, node: AdapterNode<'_>, name: &str) -> io::Result<()> {
    let leaf = node.leaf();
    let adapter = sys_path(root, &node.adapter_devpath());
    fs::create_dir_all(&adapter)?;
    fs::write(adapter.join("name"), format!("{name}\n"))?;
    fs::write(adapter.join("uevent"), "DEVTYPE=i2c_adapter\n")?;
    // The adapter dir is 5 levels below ROOT; its parent is the module's device.
    symlink(format!("../../{}", node.module), adapter.join("device"))?;
    symlink("../../../../../bus/i2c", adapter.join("subsystem"))?;

    let chardev = sys_path(root, &node.chardev_devpath());
    fs::create_dir_all(&chardev)?;
    fs::write(chardev.join("dev"), format!("{I2C_DEV_MAJOR}:{}\n", node.bus_number))?;
    fs::write(
        chardev.join("uevent"),
        format!("MAJOR={I2C_DEV_MAJOR}\nMINOR={}\nDEVNAME={leaf}\n", node.bus_number),
    )?;
    symlink(format!("../../../{leaf}"), chardev.join("device"))?;
    symlink("../../../../../../../class/i2c-dev", chardev.join("subsystem"))?;

    symlink(
        format!("../../..{}", node.adapter_devpath()),
        root.join("bus/i2c/devices").join(&leaf),
    )?;
    symlink(format!("../..{}", node.chardev_devpath()), root.join("class/i2c-dev").join(&leaf))?;
    fs::File::create(dev_node(root, node.bus_number))?;
    Ok(())
}

/// Removes what i2c-dev owns: the dev node, the class link and the char device's directory.
pub(super) fn remove_chardev(root: &Path, node: AdapterNode<'_>) -> io::Result<()> {
    remove_if_present(&dev_node(root, node.bus_number))?;
    remove_if_present(&root.join("class/i2c-dev").join(node.leaf()))?;
    remove_dir_all_if_present(&sys_path(root, &node.adapter_devpath()).join("i2c-dev"))
}

/// Removes the adapter, its bus link and the module device above it (the module is gone).
pub(super) fn remove_adapter(root: &Path, node: AdapterNode<'_>) -> io::Result<()> {
    remove_if_present(&root.join("bus/i2c/devices").join(node.leaf()))?;
    remove_dir_all_if_present(&sys_path(root, &node.module_devpath()))
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

fn remove_dir_all_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::catalog::{adapter_name, module_devpath, platform_devpath, EEPROM_MODULE};
    use super::*;

    fn node() -> AdapterNode<'static> {
        AdapterNode { module: EEPROM_MODULE, bus_number: 3 }
    }

    #[test]
    fn links_resolve_like_sysfs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        prepare_root(root).unwrap();
        write_adapter(root, node(), &adapter_name(EEPROM_MODULE)).unwrap();
        let module = sys_path(root, &module_devpath(EEPROM_MODULE));
        let adapter = module.join("i2c-3");
        let canonical = |p: PathBuf| fs::canonicalize(p).unwrap();
        assert_eq!(canonical(root.join("bus/i2c/devices/i2c-3")), canonical(adapter.clone()));
        assert_eq!(
            canonical(root.join("class/i2c-dev/i2c-3")),
            canonical(adapter.join("i2c-dev/i2c-3"))
        );
        assert_eq!(canonical(adapter.join("device")), canonical(module));
        assert_eq!(canonical(adapter.join("subsystem")), canonical(root.join("bus/i2c")));
        assert_eq!(
            canonical(adapter.join("i2c-dev/i2c-3/subsystem")),
            canonical(root.join("class/i2c-dev"))
        );
        assert_eq!(canonical(adapter.join("i2c-dev/i2c-3/device")), canonical(adapter.clone()));
        assert_eq!(fs::read_to_string(adapter.join("i2c-dev/i2c-3/dev")).unwrap(), "89:3\n");
    }

    #[test]
    fn prepare_root_clears_a_previous_run_but_keeps_foreign_entries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        prepare_root(root).unwrap();
        write_adapter(root, node(), "stale").unwrap();
        fs::write(root.join("dev/keep-me"), "").unwrap();
        symlink("../../../devices/elsewhere/i2c-9", root.join("bus/i2c/devices/i2c-9")).unwrap();
        prepare_root(root).unwrap();
        assert!(!sys_path(root, &platform_devpath()).exists());
        assert!(fs::symlink_metadata(root.join("bus/i2c/devices/i2c-3")).is_err());
        assert!(fs::symlink_metadata(root.join("class/i2c-dev/i2c-3")).is_err());
        assert!(!root.join("dev/i2c-3").exists());
        assert!(root.join("dev/keep-me").exists());
        assert!(fs::symlink_metadata(root.join("bus/i2c/devices/i2c-9")).is_ok());
    }
}
