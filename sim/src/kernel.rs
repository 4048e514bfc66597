//! The fake kernel: plugs and unplugs modules, keeps bus numbers the way idr_alloc does, writes
//! the sysfs tree, emits uevents, and blocks removal until every open handle is closed, as
//! i2c_del_adapter() does.

use super::adapter::SimAdapter;
use super::catalog::{self, ModuleSpec};
use super::handle::SimHandle;
use super::tree::{self, AdapterNode};
use super::{ModuleState, ModuleStatus, SimKernelError};
use i2c_hal_core::device::{BusDevice, DeviceFault, DeviceOpener};
use i2c_hal_core::sync::lock;
use i2c_hal_platform::i2cdev::open_fault;
use i2c_hal_platform::uevent::{encode, Action, Uevent};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Longer waits are treated as "forever"; this keeps deadline arithmetic away from overflow.
const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Unplugged,
    /// The bus number is reserved and the tree is being written; not openable yet.
    Plugging {
        bus_number: u32,
    },
    Plugged {
        bus_number: u32,
    },
    /// Removal has begun. Only once `tree_removed` may the last handle's drop finish it, so a
    /// re-plug can never race with the deletion of the old entries.
    Removing {
        bus_number: u32,
        tree_removed: bool,
    },
}

impl Phase {
    fn bus_number(self) -> Option<u32> {
        match self {
            Phase::Unplugged => None,
            Phase::Plugging { bus_number }
            | Phase::Plugged { bus_number }
            | Phase::Removing { bus_number, .. } => Some(bus_number),
        }
    }

    fn public(self) -> ModuleState {
        match self {
            Phase::Unplugged => ModuleState::Unplugged,
            Phase::Plugging { bus_number } | Phase::Plugged { bus_number } => {
                ModuleState::Plugged { bus_number }
            }
            Phase::Removing { bus_number, .. } => ModuleState::Removing { bus_number },
        }
    }
}

struct ModuleSlot {
    spec: &'static ModuleSpec,
    /// The module's hardware lives as long as the kernel: EEPROM contents survive a re-plug.
    hardware: Arc<Mutex<SimAdapter>>,
    phase: Phase,
    open_handles: usize,
    /// Bumped on every plug, so a waiter can tell "removed" from "removed and plugged again".
    plug_count: u64,
}

impl ModuleSlot {
    /// Completes a removal once the tree is gone and no handle pins the adapter.
    fn finish_removal_if_released(&mut self) -> bool {
        let releasable = matches!(self.phase, Phase::Removing { tree_removed: true, .. })
            && self.open_handles == 0;
        if releasable {
            self.phase = Phase::Unplugged;
        }
        releasable
    }

    fn status(&self) -> ModuleStatus {
        ModuleStatus {
            name: self.spec.name.to_string(),
            description: self.spec.description.to_string(),
            state: self.phase.public(),
            open_handles: self.open_handles,
        }
    }
}

struct UeventEmitter {
    sender: Sender<Vec<u8>>,
    next_seqnum: u64,
    receiver_gone_reported: bool,
}

/// The simulated kernel. See the crate documentation (sim/src/lib.rs).
pub struct SimKernel {
    root: PathBuf,
    modules: Mutex<Vec<ModuleSlot>>,
    /// Signalled whenever a handle closes or a removal finishes.
    released: Condvar,
    /// Its own lock so seqnums reach the channel in increasing order.
    uevents: Mutex<UeventEmitter>,
}

impl SimKernel {
    /// Creates ROOT/{devices, bus/i2c/devices, class/i2c-dev, dev} and knows the modules of
    /// the catalog (none plugged).
    pub fn new(root: &Path, uevents: Sender<Vec<u8>>) -> std::io::Result<Arc<SimKernel>> {
        tree::prepare_root(root)?;
        let modules = catalog::MODULES
            .iter()
            .map(|spec| ModuleSlot {
                spec,
                hardware: Arc::new(Mutex::new(SimAdapter::new(spec))),
                phase: Phase::Unplugged,
                open_handles: 0,
                plug_count: 0,
            })
            .collect();
        Ok(Arc::new(SimKernel {
            root: root.to_path_buf(),
            modules: Mutex::new(modules),
            released: Condvar::new(),
            uevents: Mutex::new(UeventEmitter {
                sender: uevents,
                next_seqnum: 1,
                receiver_gone_reported: false,
            }),
        }))
    }

    /// ROOT, to give to `platform::sysfs::Sysfs::new`.
    pub fn sysfs_root(&self) -> PathBuf {
        self.root.clone()
    }

    pub fn module_names() -> Vec<&'static str> {
        catalog::MODULES.iter().map(|spec| spec.name).collect()
    }

    /// The modules `--sim-modules default` plugs, in catalog order.
    pub fn default_module_names() -> Vec<&'static str> {
        catalog::MODULES.iter().filter(|spec| spec.default).map(|spec| spec.name).collect()
    }

    pub fn modules(&self) -> Vec<ModuleStatus> {
        lock(&self.modules).iter().map(ModuleSlot::status).collect()
    }

    /// Plugs a module: lowest free bus number (a number stays taken while its removal is
    /// pending), writes sysfs and the dev node, then emits the add uevents. Returns the number.
    pub fn plug(&self, module: &str) -> Result<u32, SimKernelError> {
        let (index, bus_number) = self.reserve_bus_number(module)?;
        let (name, hardware) = {
            let modules = lock(&self.modules);
            (modules[index].spec.name, Arc::clone(&modules[index].hardware))
        };
        lock(&hardware).power_on();
        let node = AdapterNode { module: name, bus_number };
        if let Err(err) = tree::write_adapter(&self.root, node, &catalog::adapter_name(name)) {
            self.abandon_plug(index, node);
            return Err(SimKernelError::Io(format!(
                "writing the sysfs tree of i2c-{bus_number}: {err}"
            )));
        }
        lock(&self.modules)[index].phase = Phase::Plugged { bus_number };
        // Openable before announced: a monitor reacting to the event can open at once.
        self.emit(node.chardev_event(Action::Add));
        self.emit(node.adapter_event(Action::Add));
        log::info!("sim: plugged {name} as i2c-{bus_number}");
        Ok(bus_number)
    }

    fn reserve_bus_number(&self, module: &str) -> Result<(usize, u32), SimKernelError> {
        let mut modules = lock(&self.modules);
        let index = find_module(&modules, module)?;
        if modules[index].phase != Phase::Unplugged {
            return Err(SimKernelError::AlreadyPlugged(module.to_string()));
        }
        let taken: Vec<u32> = modules.iter().filter_map(|slot| slot.phase.bus_number()).collect();
        // idr_alloc hands out the lowest free number, so numbers get reused by other adapters.
        let bus_number = (0..).find(|n| !taken.contains(n)).unwrap_or(0);
        let slot = &mut modules[index];
        slot.phase = Phase::Plugging { bus_number };
        slot.plug_count += 1;
        Ok((index, bus_number))
    }

    fn abandon_plug(&self, index: usize, node: AdapterNode<'_>) {
        let cleanup =
            tree::remove_chardev(&self.root, node).and(tree::remove_adapter(&self.root, node));
        if let Err(err) = cleanup {
            log::warn!("sim: cleaning up the half-written i2c-{}: {err}", node.bus_number);
        }
        lock(&self.modules)[index].phase = Phase::Unplugged;
    }

    /// Unplugs: removes the sysfs entries and dev node, emits the remove uevents, then waits
    /// (like i2c_del_adapter) until every open handle on the bus is dropped, up to `timeout`.
    /// Returns the time waited. On timeout the module stays `Removing` (bus number reserved)
    /// and completes by itself when the last handle drops. Unplugging a module that is already
    /// `Removing` just waits again.
    pub fn unplug(&self, module: &str, timeout: Duration) -> Result<Duration, SimKernelError> {
        let (index, bus_number, plug_count, must_remove_tree) = self.begin_removal(module)?;
        if must_remove_tree {
            let name = lock(&self.modules)[index].spec.name;
            self.remove_tree(AdapterNode { module: name, bus_number });
            let finished = {
                let mut modules = lock(&self.modules);
                modules[index].phase = Phase::Removing { bus_number, tree_removed: true };
                modules[index].finish_removal_if_released()
            };
            self.released.notify_all();
            if finished {
                log::info!("sim: unplugged {name} (i2c-{bus_number}); no handle was open");
                return Ok(Duration::ZERO);
            }
        }
        self.wait_for_release(index, bus_number, plug_count, timeout)
    }

    /// Returns the module's index, bus number and plug count, and whether this call must
    /// remove the tree (false when a removal is already pending).
    fn begin_removal(&self, module: &str) -> Result<(usize, u32, u64, bool), SimKernelError> {
        let mut modules = lock(&self.modules);
        let index = find_module(&modules, module)?;
        let slot = &mut modules[index];
        match slot.phase {
            Phase::Plugged { bus_number } => {
                slot.phase = Phase::Removing { bus_number, tree_removed: false };
                Ok((index, bus_number, slot.plug_count, true))
            }
            Phase::Removing { bus_number, .. } => Ok((index, bus_number, slot.plug_count, false)),
            Phase::Unplugged | Phase::Plugging { .. } => {
                Err(SimKernelError::NotPlugged(module.to_string()))
            }
        }
    }

    /// Kernel order: i2c-dev's char device goes first (node, then its event), then the adapter.
    fn remove_tree(&self, node: AdapterNode<'_>) {
        if let Err(err) = tree::remove_chardev(&self.root, node) {
            log::warn!("sim: removing the i2c-dev entries of i2c-{}: {err}", node.bus_number);
        }
        self.emit(node.chardev_event(Action::Remove));
        if let Err(err) = tree::remove_adapter(&self.root, node) {
            log::warn!("sim: removing the adapter entries of i2c-{}: {err}", node.bus_number);
        }
        self.emit(node.adapter_event(Action::Remove));
    }

    fn wait_for_release(
        &self,
        index: usize,
        bus_number: u32,
        plug_count: u64,
        timeout: Duration,
    ) -> Result<Duration, SimKernelError> {
        let started = Instant::now();
        let modules = lock(&self.modules);
        let still_removing = |modules: &mut Vec<ModuleSlot>| {
            let slot = &modules[index];
            slot.plug_count == plug_count && matches!(slot.phase, Phase::Removing { .. })
        };
        // A poisoned wait is recovered like every lock (see core::sync::lock for why).
        let (mut modules, _) = self
            .released
            .wait_timeout_while(modules, timeout.min(LONGEST_WAIT), still_removing)
            .unwrap_or_else(PoisonError::into_inner);
        let waited = started.elapsed();
        if !still_removing(&mut modules) {
            log::info!("sim: i2c-{bus_number} released after {waited:?}");
            return Ok(waited);
        }
        let slot = &modules[index];
        log::warn!(
            "sim: removal of {} (i2c-{bus_number}) blocked by {} open handle(s)",
            slot.spec.name,
            slot.open_handles
        );
        Err(SimKernelError::RemovalBlocked {
            module: slot.spec.name.to_string(),
            bus_number,
            open_handles: slot.open_handles,
            waited,
        })
    }

    fn emit(&self, event: Uevent) {
        let mut emitter = lock(&self.uevents);
        let seqnum = emitter.next_seqnum;
        emitter.next_seqnum += 1;
        let bytes = encode(&event.with("SEQNUM", seqnum.to_string()));
        if emitter.sender.send(bytes).is_err() && !emitter.receiver_gone_reported {
            emitter.receiver_gone_reported = true;
            log::warn!(
                "sim: nobody receives uevents any more; dropping them (from SEQNUM {seqnum})"
            );
        }
    }

    /// Counts a new handle on a plugged bus and returns the module's hardware.
    pub(super) fn acquire(
        &self,
        bus_number: u32,
    ) -> Result<(usize, Arc<Mutex<SimAdapter>>), DeviceFault> {
        let mut modules = lock(&self.modules);
        let index = self.plugged_index(&modules, bus_number)?;
        modules[index].open_handles += 1;
        Ok((index, Arc::clone(&modules[index].hardware)))
    }

    /// The handle's fd is closed: the adapter may now go, like the kernel's final put_device.
    pub(super) fn release(&self, index: usize) {
        let finished = {
            let mut modules = lock(&self.modules);
            let Some(slot) = modules.get_mut(index) else {
                return;
            };
            slot.open_handles = slot.open_handles.saturating_sub(1);
            slot.finish_removal_if_released().then_some(slot.spec.name)
        };
        self.released.notify_all();
        if let Some(name) = finished {
            log::info!("sim: last handle closed; removal of {name} completed");
        }
    }

    fn functionality(&self, bus_number: u32) -> Result<u64, DeviceFault> {
        let hardware = {
            let modules = lock(&self.modules);
            let index = self.plugged_index(&modules, bus_number)?;
            Arc::clone(&modules[index].hardware)
        };
        let functionality = lock(&hardware).functionality();
        Ok(functionality)
    }

    fn plugged_index(&self, modules: &[ModuleSlot], bus_number: u32) -> Result<usize, DeviceFault> {
        modules.iter().position(|slot| slot.phase == Phase::Plugged { bus_number }).ok_or_else(
            || {
                open_fault(
                    libc::ENOENT,
                    format!("{}: no such device node", self.dev_node(bus_number).display()),
                )
            },
        )
    }

    pub(super) fn dev_node(&self, bus_number: u32) -> PathBuf {
        tree::dev_node(&self.root, bus_number)
    }

    pub fn opener(self: &Arc<Self>) -> Arc<dyn DeviceOpener> {
        Arc::new(SimOpener { kernel: Arc::clone(self) })
    }
}

fn find_module(modules: &[ModuleSlot], name: &str) -> Result<usize, SimKernelError> {
    modules
        .iter()
        .position(|slot| slot.spec.name == name)
        .ok_or_else(|| SimKernelError::UnknownModule(name.to_string()))
}

/// Opens simulated /dev/i2c-N nodes for the core.
struct SimOpener {
    kernel: Arc<SimKernel>,
}

impl DeviceOpener for SimOpener {
    fn open(&self, bus_number: u32) -> Result<Box<dyn BusDevice>, DeviceFault> {
        let handle = SimHandle::open(&self.kernel, bus_number)?;
        Ok(Box::new(handle))
    }

    fn functionality(&self, bus_number: u32) -> Result<u64, DeviceFault> {
        self.kernel.functionality(bus_number)
    }
}
