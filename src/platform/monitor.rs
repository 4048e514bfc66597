//! Turns uevents into registry changes: the one path by which adapters come and go, fed by the
//! kernel's netlink socket in production and by the simulator in `--sim` mode.

#![forbid(unsafe_code)]

use super::source::{SourceError, UeventSource};
use super::sysfs::{Sysfs, SysfsAdapter};
use super::uevent::{self, I2cEvent};
use crate::core::broker::Broker;
use crate::core::AdapterDescriptor;
use log::{debug, error, info, warn};
use std::sync::Arc;
use std::thread::JoinHandle;

pub struct Monitor {
    sysfs: Sysfs,
    broker: Arc<Broker>,
}

impl Monitor {
    pub fn new(sysfs: Sysfs, broker: Arc<Broker>) -> Monitor {
        Monitor { sysfs, broker }
    }

    /// Makes the registry match sysfs. Called at start-up (after the uevent source is open, so
    /// nothing falls between the scan and the first event) and after lost events.
    pub fn rescan(&self) {
        match self.sysfs.scan() {
            Ok(adapters) => {
                let descriptors = adapters.into_iter().map(|a| self.describe(a)).collect();
                self.broker.reconcile(descriptors);
            }
            Err(e) => error!("cannot scan {}: {e}", self.sysfs.root().display()),
        }
    }

    /// Applies one raw uevent. Anything malformed or unrelated is logged and ignored.
    pub fn handle(&self, raw: &[u8]) {
        let event = match uevent::parse(raw) {
            Ok(event) => event,
            Err(e) => {
                warn!("ignoring uevent: {e}");
                return;
            }
        };
        match uevent::classify(&event) {
            Some(I2cEvent::AdapterAdded { bus_number, devpath }) => {
                self.on_added(bus_number, &devpath)
            }
            Some(I2cEvent::AdapterRemoved { bus_number, devpath }) => {
                self.broker.adapter_removed(bus_number, &devpath);
            }
            None => debug!("uevent {} {} not for us", event.action.as_str(), event.devpath),
        }
    }

    fn on_added(&self, bus_number: u32, devpath: &str) {
        match self.sysfs.adapter(bus_number) {
            Ok(adapter) if adapter.devpath == devpath => {
                let descriptor = self.describe(adapter);
                self.broker.adapter_added(descriptor);
            }
            // Stale (the number was reused since) or forged: not believed. No rescan is needed:
            // the adapter sysfs shows at that number announces itself with an add of its own.
            Ok(adapter) => warn!(
                "add of bus {bus_number} at {devpath}, but sysfs shows {}: ignoring the event",
                adapter.devpath
            ),
            // The adapter may already be gone again, or i2c-dev may not be bound to it yet (the
            // adapter's own event comes first in that case; the i2c-dev one follows).
            Err(e) => debug!("add of bus {bus_number} not in sysfs yet: {e}"),
        }
    }

    /// Sysfs facts only: the broker asks the device for I2C_FUNCS, and only for an adapter it
    /// does not know yet (each plug reports twice, and every rescan lists known adapters).
    fn describe(&self, adapter: SysfsAdapter) -> AdapterDescriptor {
        AdapterDescriptor {
            stable_id: self.sysfs.stable_id(&adapter),
            bus_number: adapter.bus_number,
            devpath: adapter.devpath,
            name: adapter.name,
            functionality: 0,
        }
    }

    /// Reads events until the source closes. Lost events trigger a full rescan.
    pub fn run(self, mut source: Box<dyn UeventSource>) {
        loop {
            match source.next_event() {
                Ok(raw) => self.handle(&raw),
                Err(SourceError::Overrun) => {
                    warn!("uevents were lost: rescanning sysfs");
                    self.rescan();
                }
                Err(SourceError::Closed) => {
                    info!("uevent source closed; monitor stops");
                    return;
                }
                Err(e) => error!("{e}"),
            }
        }
    }

    /// Scans once, then follows events on a thread of its own.
    pub fn start(self, source: Box<dyn UeventSource>) -> std::io::Result<JoinHandle<()>> {
        self.rescan();
        std::thread::Builder::new().name("uevent-monitor".into()).spawn(move || self.run(source))
    }
}

// The simulator is the fake kernel these tests drive.
#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use crate::core::policy::{Limits, OpenPolicy};
    use crate::platform::sim::catalog::{adapter_name, stable_id, EEPROM_MODULE, SENSOR_MODULE};
    use crate::platform::sim::{SimKernel, SimSource};
    use crate::platform::uevent::{encode, Action, Uevent};
    use std::sync::mpsc;
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
        let broker = Arc::new(Broker::new(opener, Arc::new(OpenPolicy), Limits::default()));
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
}
