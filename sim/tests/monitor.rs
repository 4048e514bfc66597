//! The uevent monitor (the platform's `monitor`) driven by the simulator, a fake kernel: plugs
//! and unplugs flow through the production parser into the registry.

use i2c_hal_core::broker::{Broker, DirectSink};
use i2c_hal_core::policy::{Limits, OpenPolicy};
use i2c_hal_platform::monitor::Monitor;
use i2c_hal_platform::source::{SourceError, UeventSource};
use i2c_hal_platform::sysfs::Sysfs;
use i2c_hal_platform::uevent::{encode, Action, Uevent};
use i2c_hal_sim::catalog::{adapter_name, stable_id, EEPROM_MODULE, SENSOR_MODULE};
use i2c_hal_sim::{SimKernel, SimSource};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

struct Rig {
    _dir: tempfile::TempDir,
    kernel: Arc<SimKernel>,
    events: mpsc::Receiver<Vec<u8>>,
    broker: Arc<Broker>,
    monitor: Monitor,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let (tx, events) = mpsc::channel();
    let kernel = SimKernel::new(dir.path(), tx).unwrap();
    let opener = kernel.opener();
    let broker = Arc::new(Broker::new(
        opener,
        Arc::new(OpenPolicy),
        Limits::default(),
        Arc::new(DirectSink),
    ));
    let monitor = Monitor::new(Sysfs::new(kernel.sysfs_root()), broker.clone());
    Rig { _dir: dir, kernel, events, broker, monitor }
}

impl Rig {
    /// Feeds what the fake kernel emitted through the production parser and registry.
    fn pump(&self) -> usize {
        let mut count = 0;
        while let Ok(raw) = self.events.try_recv() {
            self.monitor.handle(&raw);
            count += 1;
        }
        count
    }
}

#[test]
fn plug_and_unplug_flow_through_parser_and_registry() {
    let rig = rig();
    let bus = rig.kernel.plug(EEPROM_MODULE).unwrap();
    assert_eq!(rig.pump(), 2, "i2c-dev and i2c adapter events");
    let buses = rig.broker.list_buses();
    assert_eq!(buses.len(), 1, "the duplicate add is ignored");
    assert_eq!(buses[0].bus_number, bus);
    assert_eq!(buses[0].stable_id, stable_id(EEPROM_MODULE));
    assert_ne!(buses[0].functionality, 0, "I2C_FUNCS learned at add");

    // Nothing holds the bus, so removal completes without the monitor's help.
    rig.kernel.unplug(EEPROM_MODULE, Duration::from_secs(5)).unwrap();
    rig.pump();
    assert!(rig.broker.list_buses().is_empty());
}

#[test]
fn a_rescan_finds_what_was_plugged_before_start_and_drops_what_left() {
    let rig = rig();
    rig.kernel.plug(EEPROM_MODULE).unwrap();
    rig.kernel.plug(SENSOR_MODULE).unwrap();
    while rig.events.try_recv().is_ok() {} // events lost
    rig.monitor.rescan();
    let names: Vec<String> = rig.broker.list_buses().into_iter().map(|b| b.name).collect();
    assert_eq!(names, vec![adapter_name(EEPROM_MODULE), adapter_name(SENSOR_MODULE)]);

    rig.kernel.unplug(EEPROM_MODULE, Duration::from_secs(5)).unwrap();
    while rig.events.try_recv().is_ok() {}
    rig.monitor.rescan();
    let names: Vec<String> = rig.broker.list_buses().into_iter().map(|b| b.name).collect();
    assert_eq!(names, vec![adapter_name(SENSOR_MODULE)]);
}

#[test]
fn forged_or_stale_adds_do_not_create_buses() {
    let rig = rig();
    // An add for a bus sysfs does not show is ignored.
    let ghost = Uevent::new(Action::Add, "/devices/platform/x/i2c-9/i2c-dev/i2c-9", "i2c-dev");
    rig.monitor.handle(&encode(&ghost));
    // An add whose devpath disagrees with sysfs is not believed either.
    rig.kernel.plug(EEPROM_MODULE).unwrap();
    while rig.events.try_recv().is_ok() {}
    let liar = Uevent::new(Action::Add, "/devices/elsewhere/i2c-0", "i2c");
    rig.monitor.handle(&encode(&liar));
    rig.monitor.handle(b"garbage without header");
    assert!(rig.broker.list_buses().is_empty());
}

/// Replays a fixed script of source results, then reports Closed.
struct ScriptedSource(std::collections::VecDeque<Result<Vec<u8>, SourceError>>);

impl UeventSource for ScriptedSource {
    fn next_event(&mut self) -> Result<Vec<u8>, SourceError> {
        self.0.pop_front().unwrap_or(Err(SourceError::Closed))
    }
}

#[test]
fn lost_events_make_the_monitor_rescan_and_reconcile() {
    let rig = rig();
    rig.kernel.plug(EEPROM_MODULE).unwrap();
    rig.pump();
    // While events are being lost, eeprom-module leaves and sensor-module arrives.
    rig.kernel.unplug(EEPROM_MODULE, Duration::from_secs(5)).unwrap();
    rig.kernel.plug(SENSOR_MODULE).unwrap();
    while rig.events.try_recv().is_ok() {}
    let Rig { monitor, broker, _dir, kernel, .. } = rig;
    let script = vec![
        Err(SourceError::Io(std::io::Error::other("a passing fault is only logged"))),
        Err(SourceError::Overrun),
    ];
    monitor.run(Box::new(ScriptedSource(script.into())));
    let names: Vec<String> = broker.list_buses().into_iter().map(|b| b.name).collect();
    assert_eq!(names, vec![adapter_name(SENSOR_MODULE)]);
    drop(kernel);
}

#[test]
fn the_monitor_thread_follows_the_source_until_it_closes() {
    let rig = rig();
    // The simulator's opener keeps its kernel (and so its sender) alive, so feed the thread
    // through a channel this test owns and can close.
    let (tx, rx) = mpsc::channel();
    let Rig { kernel, events, broker, monitor, _dir } = rig;
    let thread = monitor.start(Box::new(SimSource::new(rx))).unwrap();
    kernel.plug(SENSOR_MODULE).unwrap();
    for raw in events.try_iter() {
        tx.send(raw).unwrap();
    }
    drop(tx);
    thread.join().unwrap();
    assert_eq!(broker.list_buses().len(), 1);
}
