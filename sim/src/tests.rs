//! Behaviour of the fake kernel as the service sees it: tree, uevents, bus numbers, handles and
//! blocking removal.

use super::catalog::*;
use super::*;
use i2c_hal_core::device::{BusDevice, FaultKind, Target};
use i2c_hal_core::request::{func, MessageRef, SmbusOp, SmbusValue};
use i2c_hal_platform::uevent::{classify, parse, I2cEvent};
use i2c_hal_testkit::wait_until;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(10);

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    kernel: Arc<SimKernel>,
    uevents: Receiver<Vec<u8>>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(dir.path()).unwrap().join("sim");
    let (tx, uevents) = mpsc::channel();
    let kernel = SimKernel::new(&root, tx).unwrap();
    Fixture { _dir: dir, root, kernel, uevents }
}

fn state_of(kernel: &SimKernel, module: &str) -> ModuleState {
    kernel.modules().into_iter().find(|m| m.name == module).unwrap().state
}

fn handles_of(kernel: &SimKernel, module: &str) -> usize {
    kernel.modules().into_iter().find(|m| m.name == module).unwrap().open_handles
}

/// Where a sysfs devpath lives below the simulator's ROOT.
fn sys_dir(root: &Path, devpath: &str) -> PathBuf {
    root.join(devpath.trim_start_matches('/'))
}

fn drain_events(rx: &Receiver<Vec<u8>>) -> Vec<Vec<u8>> {
    rx.try_iter().collect()
}

/// Open fds of this process that refer to `path` (also once it is unlinked).
fn fds_on(path: &Path) -> usize {
    let wanted = path.to_string_lossy().into_owned();
    fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| {
            let target = target.to_string_lossy();
            target == wanted.as_str() || target == format!("{wanted} (deleted)")
        })
        .count()
}

#[test]
fn plug_writes_the_sysfs_tree_and_unplug_removes_it() {
    let f = fixture();
    assert_eq!(f.kernel.sysfs_root(), f.root);
    assert_eq!(f.kernel.plug(EEPROM_MODULE), Ok(0));
    let module = sys_dir(&f.root, &module_devpath(EEPROM_MODULE));
    let adapter = module.join("i2c-0");
    let name_line = format!("{}\n", adapter_name(EEPROM_MODULE));
    assert_eq!(fs::read_to_string(adapter.join("name")).unwrap(), name_line);
    assert_eq!(fs::read_to_string(adapter.join("i2c-dev/i2c-0/dev")).unwrap(), "89:0\n");
    assert_eq!(
        fs::read_link(f.root.join("bus/i2c/devices/i2c-0")).unwrap(),
        PathBuf::from(format!("../../..{}/i2c-0", module_devpath(EEPROM_MODULE)))
    );
    assert_eq!(
        fs::read_link(f.root.join("class/i2c-dev/i2c-0")).unwrap(),
        PathBuf::from(format!("../..{}/i2c-0/i2c-dev/i2c-0", module_devpath(EEPROM_MODULE)))
    );
    assert_eq!(fs::read_to_string(f.root.join("bus/i2c/devices/i2c-0/name")).unwrap(), name_line);
    assert_eq!(fs::read_to_string(f.root.join("class/i2c-dev/i2c-0/dev")).unwrap(), "89:0\n");
    assert!(f.root.join("dev/i2c-0").is_file());

    assert_eq!(f.kernel.unplug(EEPROM_MODULE, LONG), Ok(Duration::ZERO));
    assert!(!module.exists());
    assert!(fs::symlink_metadata(f.root.join("bus/i2c/devices/i2c-0")).is_err());
    assert!(fs::symlink_metadata(f.root.join("class/i2c-dev/i2c-0")).is_err());
    assert!(!f.root.join("dev/i2c-0").exists());
}

#[test]
fn uevents_parse_and_classify_in_kernel_order() {
    let f = fixture();
    f.kernel.plug(SENSOR_MODULE).unwrap();
    f.kernel.unplug(SENSOR_MODULE, LONG).unwrap();
    let events: Vec<_> = drain_events(&f.uevents).iter().map(|b| parse(b).unwrap()).collect();
    let subsystems: Vec<_> = events.iter().map(|e| e.subsystem().unwrap()).collect();
    assert_eq!(subsystems, ["i2c-dev", "i2c", "i2c-dev", "i2c"]);

    let devpath = format!("{}/i2c-0", module_devpath(SENSOR_MODULE));
    let added = I2cEvent::AdapterAdded { bus_number: 0, devpath: devpath.clone() };
    let removed = I2cEvent::AdapterRemoved { bus_number: 0, devpath: devpath.clone() };
    let classified: Vec<_> = events.iter().map(|e| classify(e).unwrap()).collect();
    assert_eq!(classified, [added.clone(), added, removed.clone(), removed]);

    let chardev = &events[0];
    assert_eq!(chardev.devpath, format!("{devpath}/i2c-dev/i2c-0"));
    assert_eq!(chardev.get("DEVNAME"), Some("i2c-0"));
    assert_eq!(chardev.get("MAJOR"), Some("89"));
    assert_eq!(chardev.get("MINOR"), Some("0"));
    assert_eq!(events[1].get("DEVTYPE"), Some("i2c_adapter"));
    let seqnums: Vec<u64> =
        events.iter().map(|e| e.get("SEQNUM").unwrap().parse().unwrap()).collect();
    assert!(seqnums.windows(2).all(|w| w[0] < w[1]), "{seqnums:?}");
}

#[test]
fn sysfs_is_written_before_the_add_event() {
    let f = fixture();
    f.kernel.plug(EEPROM_MODULE).unwrap();
    // By the time the event can be received, the node it names must be openable.
    let first = parse(&f.uevents.recv_timeout(LONG).unwrap()).unwrap();
    assert_eq!(first.get("DEVNAME"), Some("i2c-0"));
    assert!(f.root.join("dev/i2c-0").exists());
    assert!(f.kernel.opener().open(0).is_ok());
}

#[test]
fn bus_numbers_are_lowest_free_and_reused() {
    let f = fixture();
    assert_eq!(f.kernel.plug(EEPROM_MODULE), Ok(0));
    assert_eq!(f.kernel.plug(SENSOR_MODULE), Ok(1));
    assert_eq!(
        f.kernel.plug(EEPROM_MODULE),
        Err(SimKernelError::AlreadyPlugged(EEPROM_MODULE.into()))
    );
    f.kernel.unplug(EEPROM_MODULE, LONG).unwrap();
    assert_eq!(f.kernel.plug(EEPROM_MODULE), Ok(0), "a re-plug gets the freed number");

    f.kernel.unplug(EEPROM_MODULE, LONG).unwrap();
    f.kernel.unplug(SENSOR_MODULE, LONG).unwrap();
    assert_eq!(f.kernel.plug(SENSOR_MODULE), Ok(0), "a different adapter reuses bus 0");
    assert_eq!(f.kernel.plug(EEPROM_MODULE), Ok(1));
    assert_eq!(
        fs::read_to_string(f.root.join("bus/i2c/devices/i2c-0/name")).unwrap(),
        format!("{}\n", adapter_name(SENSOR_MODULE))
    );
}

#[test]
fn unplug_blocks_until_another_thread_drops_the_handle() {
    let f = fixture();
    f.kernel.plug(EEPROM_MODULE).unwrap();
    let mut handle = f.kernel.opener().open(0).unwrap();
    assert_eq!(handles_of(&f.kernel, EEPROM_MODULE), 1);

    let (done_tx, done_rx) = mpsc::channel();
    let kernel = Arc::clone(&f.kernel);
    let unplugger =
        thread::spawn(move || done_tx.send(kernel.unplug(EEPROM_MODULE, LONG)).unwrap());
    wait_until("the node to disappear", || !f.root.join("dev/i2c-0").exists());
    assert_eq!(state_of(&f.kernel, EEPROM_MODULE), ModuleState::Removing { bus_number: 0 });
    // The held fd keeps working while removal waits, as in the kernel.
    let reads = handle
        .transfer(
            Target::seven_bit(EEPROM_ADDRESS),
            &[MessageRef::Write(&[0]), MessageRef::Read(3)],
        )
        .unwrap();
    assert_eq!(reads.reads, vec![EEPROM_SIGNATURE[..3].to_vec()]);
    assert!(done_rx.try_recv().is_err(), "unplug returned while a handle was open");

    drop(handle);
    let waited = done_rx.recv_timeout(LONG).expect("unplug did not return after the drop");
    assert!(waited.is_ok(), "{waited:?}");
    unplugger.join().unwrap();
    assert_eq!(state_of(&f.kernel, EEPROM_MODULE), ModuleState::Unplugged);
    assert_eq!(handles_of(&f.kernel, EEPROM_MODULE), 0);
}

#[test]
fn unplug_times_out_and_finishes_when_the_last_handle_drops() {
    let f = fixture();
    f.kernel.plug(EEPROM_MODULE).unwrap();
    let first = f.kernel.opener().open(0).unwrap();
    let second = f.kernel.opener().open(0).unwrap();

    let err = f.kernel.unplug(EEPROM_MODULE, Duration::from_millis(30)).unwrap_err();
    let SimKernelError::RemovalBlocked { module, bus_number, open_handles, waited } = err.clone()
    else {
        panic!("expected RemovalBlocked, got {err:?}");
    };
    assert_eq!((module.as_str(), bus_number, open_handles), (EEPROM_MODULE, 0, 2));
    assert!(waited >= Duration::from_millis(30), "{waited:?}");
    assert!(err.to_string().contains("2 open handle(s)"), "{err}");

    // Still reserved: neither re-pluggable nor openable, and its number is not handed out.
    assert_eq!(state_of(&f.kernel, EEPROM_MODULE), ModuleState::Removing { bus_number: 0 });
    assert_eq!(
        f.kernel.plug(EEPROM_MODULE),
        Err(SimKernelError::AlreadyPlugged(EEPROM_MODULE.into()))
    );
    assert_eq!(f.kernel.opener().open(0).err().and_then(|e| e.errno), Some(libc::ENOENT));
    assert_eq!(f.kernel.plug(SENSOR_MODULE), Ok(1));

    drop(first);
    assert_eq!(state_of(&f.kernel, EEPROM_MODULE), ModuleState::Removing { bus_number: 0 });
    drop(second);
    assert_eq!(state_of(&f.kernel, EEPROM_MODULE), ModuleState::Unplugged);
    assert_eq!(f.kernel.plug(EEPROM_MODULE), Ok(0));
}

#[test]
fn unplug_again_waits_for_a_pending_removal() {
    let f = fixture();
    f.kernel.plug(SENSOR_MODULE).unwrap();
    let handle = f.kernel.opener().open(0).unwrap();
    assert!(f.kernel.unplug(SENSOR_MODULE, Duration::ZERO).is_err());
    let events_after_first = drain_events(&f.uevents).len();

    let (done_tx, done_rx) = mpsc::channel();
    let kernel = Arc::clone(&f.kernel);
    thread::spawn(move || done_tx.send(kernel.unplug(SENSOR_MODULE, LONG)).unwrap());
    assert!(done_rx.recv_timeout(Duration::from_millis(20)).is_err(), "second unplug did not wait");
    drop(handle);
    assert!(done_rx.recv_timeout(LONG).unwrap().is_ok());
    assert_eq!(events_after_first, 4);
    assert!(drain_events(&f.uevents).is_empty(), "remove events were sent twice");
}

#[test]
fn handles_hold_a_real_fd_until_dropped() {
    let f = fixture();
    f.kernel.plug(EEPROM_MODULE).unwrap();
    let node = f.root.join("dev/i2c-0");
    assert_eq!(fds_on(&node), 0);
    let handle = f.kernel.opener().open(0).unwrap();
    assert_eq!(fds_on(&node), 1);
    assert!(f.kernel.unplug(EEPROM_MODULE, Duration::ZERO).is_err());
    assert_eq!(fds_on(&node), 1, "the fd outlives the node, like an unlinked char device");
    drop(handle);
    assert_eq!(fds_on(&node), 0);
}

#[test]
fn opening_needs_a_plugged_module() {
    let f = fixture();
    let opener = f.kernel.opener();
    let err = opener.open(0).err().unwrap();
    assert_eq!(err.errno, Some(libc::ENOENT));
    assert_eq!(err.kind, FaultKind::Gone, "mapped as the i2c-dev backend maps a failed open");
    assert_eq!(err.context, format!("{}: no such device node", f.root.join("dev/i2c-0").display()));
    assert_eq!(opener.functionality(0).unwrap_err().errno, Some(libc::ENOENT));

    f.kernel.plug(EEPROM_MODULE).unwrap();
    f.kernel.plug(SENSOR_MODULE).unwrap();
    // Emulated SMBus without PEC: that bit was advertised once, yet every PEC session refused.
    let emulated = func::I2C_FUNC_SMBUS_EMUL & !func::I2C_FUNC_SMBUS_PEC;
    assert_eq!(opener.functionality(0), Ok(func::I2C_FUNC_I2C | emulated));
    let sensor = opener.functionality(1).unwrap();
    assert_eq!(sensor & func::I2C_FUNC_I2C, 0);
    assert_ne!(sensor & func::I2C_FUNC_SMBUS_READ_BLOCK_DATA, 0);
    assert_eq!(opener.open(2).err().unwrap().errno, Some(libc::ENOENT));
    assert_eq!(handles_of(&f.kernel, EEPROM_MODULE), 0, "functionality keeps no handle");
}

#[test]
fn devices_answer_through_the_opener() {
    let f = fixture();
    f.kernel.plug(EEPROM_MODULE).unwrap();
    f.kernel.plug(SENSOR_MODULE).unwrap();
    let opener = f.kernel.opener();

    let mut eeprom: Box<dyn BusDevice> = opener.open(0).unwrap();
    assert_eq!(eeprom.functionality(), opener.functionality(0).unwrap(), "I2C_FUNCS on the fd");
    eeprom.claim(Target::seven_bit(EEPROM_ADDRESS)).unwrap();
    eeprom
        .transfer(Target::seven_bit(EEPROM_ADDRESS), &[MessageRef::Write(&[0x10, 0xde, 0xad])])
        .unwrap();
    assert_eq!(
        eeprom.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadWordData(0x10)),
        Ok(SmbusValue::Word(0xadde))
    );
    // A second handle sees the same chip.
    let mut again = opener.open(0).unwrap();
    assert_eq!(
        again.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadByteData(0x11)),
        Ok(SmbusValue::Byte(0xad))
    );
    let nack = again.smbus(Target::seven_bit(EEPROM_ADDRESS + 1), &SmbusOp::ReadByte).unwrap_err();
    assert_eq!(nack.errno, Some(libc::ENXIO));
    assert!(nack.context.starts_with("i2c-0: "), "{}", nack.context);

    let mut sensor = opener.open(1).unwrap();
    assert_eq!(
        sensor.smbus(Target::seven_bit(LM75_ADDRESS), &SmbusOp::ReadWordData(0)),
        Ok(SmbusValue::Word(LM75_TEMPERATURE_WORD))
    );
    assert_eq!(
        sensor.claim(Target::seven_bit(DRIVER_BOUND_ADDRESS)).unwrap_err().errno,
        Some(libc::EBUSY)
    );
    assert_eq!(sensor.claim(Target::seven_bit(0x4a)), Ok(()));
    assert_eq!(
        sensor.transfer(Target::seven_bit(LM75_ADDRESS), &[MessageRef::Read(2)]).unwrap_err().errno,
        Some(libc::EOPNOTSUPP)
    );
    assert_eq!(
        eeprom
            .smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadBlockData(0))
            .unwrap_err()
            .errno,
        Some(libc::EOPNOTSUPP)
    );
    drop((eeprom, again, sensor));
    assert!(f.kernel.modules().iter().all(|m| m.open_handles == 0));
}

#[test]
fn eeprom_content_survives_a_replug() {
    let f = fixture();
    f.kernel.plug(EEPROM_MODULE).unwrap();
    let mut eeprom = f.kernel.opener().open(0).unwrap();
    eeprom.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::WriteByteData(0x90, 0x42)).unwrap();
    drop(eeprom);
    f.kernel.unplug(EEPROM_MODULE, LONG).unwrap();
    f.kernel.plug(EEPROM_MODULE).unwrap();
    let mut eeprom = f.kernel.opener().open(0).unwrap();
    assert_eq!(
        eeprom.smbus(Target::seven_bit(EEPROM_ADDRESS), &SmbusOp::ReadByteData(0x90)),
        Ok(SmbusValue::Byte(0x42))
    );
}

#[test]
fn a_gone_receiver_does_not_break_plugging() {
    let f = fixture();
    drop(f.uevents);
    assert_eq!(f.kernel.plug(EEPROM_MODULE), Ok(0));
    assert!(f.kernel.unplug(EEPROM_MODULE, LONG).is_ok());
    assert_eq!(f.kernel.plug(EEPROM_MODULE), Ok(0));
}

#[test]
fn unknown_modules_are_named_in_the_error() {
    let f = fixture();
    assert_eq!(
        SimKernel::module_names(),
        [EEPROM_MODULE, SENSOR_MODULE, SMBUS2_MODULE, TEN_BIT_MODULE]
    );
    assert_eq!(SimKernel::default_module_names(), [EEPROM_MODULE, SENSOR_MODULE]);
    let err = f.kernel.plug("toaster").unwrap_err();
    assert_eq!(err, SimKernelError::UnknownModule("toaster".into()));
    assert_eq!(
        err.to_string(),
        format!(
            "unknown module 'toaster' (known modules: {EEPROM_MODULE}, {SENSOR_MODULE}, \
             {SMBUS2_MODULE}, {TEN_BIT_MODULE})"
        )
    );
    assert_eq!(
        f.kernel.unplug("toaster", LONG),
        Err(SimKernelError::UnknownModule("toaster".into()))
    );
    assert_eq!(
        f.kernel.unplug(SENSOR_MODULE, LONG),
        Err(SimKernelError::NotPlugged(SENSOR_MODULE.into()))
    );
}

#[test]
fn sim_source_delivers_events_then_reports_closed() {
    use i2c_hal_platform::source::{SourceError, UeventSource};
    let f = fixture();
    let mut source = SimSource::new(f.uevents);
    f.kernel.plug(EEPROM_MODULE).unwrap();
    let first = parse(&source.next_event().unwrap()).unwrap();
    assert_eq!(first.subsystem(), Some("i2c-dev"));
    assert_eq!(parse(&source.next_event().unwrap()).unwrap().subsystem(), Some("i2c"));
    drop(f.kernel);
    assert!(matches!(source.next_event(), Err(SourceError::Closed)));
}

#[test]
fn the_production_sysfs_scanner_reads_the_tree() {
    use i2c_hal_platform::sysfs::{Sysfs, SysfsAdapter};
    let f = fixture();
    let sysfs = Sysfs::new(f.kernel.sysfs_root());
    assert_eq!(sysfs.scan().unwrap(), vec![]);
    f.kernel.plug(SENSOR_MODULE).unwrap();
    f.kernel.plug(EEPROM_MODULE).unwrap();
    let sensor = SysfsAdapter {
        bus_number: 0,
        devpath: format!("{}/i2c-0", module_devpath(SENSOR_MODULE)),
        name: adapter_name(SENSOR_MODULE),
    };
    let eeprom = SysfsAdapter {
        bus_number: 1,
        devpath: format!("{}/i2c-1", module_devpath(EEPROM_MODULE)),
        name: adapter_name(EEPROM_MODULE),
    };
    assert_eq!(sysfs.scan().unwrap(), vec![sensor.clone(), eeprom.clone()]);
    assert_eq!(sysfs.adapter(1).unwrap(), eeprom);

    // While the removal is blocked by a handle, the adapter is already gone from sysfs.
    let handle = f.kernel.opener().open(0).unwrap();
    assert!(f.kernel.unplug(SENSOR_MODULE, Duration::ZERO).is_err());
    assert_eq!(sysfs.scan().unwrap(), vec![eeprom]);
    assert_eq!(sysfs.adapter(0).unwrap_err().kind(), std::io::ErrorKind::NotFound);
    drop(handle);
}
