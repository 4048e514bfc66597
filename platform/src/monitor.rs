//! Turns uevents into registry changes: the one path by which adapters come and go, fed by the
//! kernel's netlink socket in production and by the simulator in `--sim` mode.

#![forbid(unsafe_code)]

use super::source::{SourceError, UeventSource};
use super::sysfs::{Sysfs, SysfsAdapter};
use super::uevent::{self, I2cEvent};
use i2c_hal_core::broker::Broker;
use i2c_hal_core::AdapterDescriptor;
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

// Its tests drive it with the simulator, a fake kernel: sim/tests/monitor.rs.
