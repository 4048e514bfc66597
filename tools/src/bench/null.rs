//! The benchmark's floor: a server with the service's own interfaces (`II2cManager`,
//! `II2cSession`, `II2cAdmin`) whose methods do nothing, served through the same RPC transport
//! (`i2c_hal_service::server::serve_rpc`: the same socket doors, admission and frame checks). A call to it costs
//! what binder costs and nothing of the service, so a ratio against it isolates the service.
//!
//! Bodies are empty but replies keep the service's shape (a read of N bytes answers N zero
//! bytes, a transfer answers one read result per read message), so that both sides move the
//! same bytes over the wire and the ratio does not credit the service with a shorter reply.
//! Nothing is checked: the floor is what binder costs for a well-formed call.

use i2c_hal_binder::aidl::{
    BusInfo::BusInfo,
    I2cMessage::I2cMessage,
    I2cReadResult::I2cReadResult,
    IBusListener::IBusListener,
    II2cAdmin::{BnI2cAdmin, II2cAdmin},
    II2cManager::{BnI2cManager, II2cManager},
    II2cSession::{BnI2cSession, II2cSession},
    II2cSessionCallback::II2cSessionCallback,
    LossReason::LossReason,
    ServiceStatus::ServiceStatus,
    TransferResult::TransferResult,
};
use i2c_hal_binder::endpoint::{ADMIN_SERVICE_NAME, SERVICE_NAME};
use i2c_hal_binder::{binder_object, BinderResult, Interface, Strong};
use i2c_hal_core::broker::loss_message;
use i2c_hal_core::stats::RemovalEvent;
use i2c_hal_core::sync::lock;
use i2c_hal_core::Generation;
use i2c_hal_platform::sched::{set_this_thread_nice, this_thread_nice};
use i2c_hal_service::convert::removal_to_aidl;
use i2c_hal_service::notifier::CALLBACK_NICE;
use i2c_hal_service::server::{self, Instances, RpcOptions};
use i2c_hal_service::transport::admission::Admission;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The address every null session reports (the simulated EEPROM's, as the benchmark opens).
const NULL_ADDRESS: i32 = 0x50;

/// What the floor of a removal needs: the callbacks of every open null session, and the
/// last fan-out, recorded as the service records a removal (and reported the same way).
#[derive(Default)]
struct Callbacks {
    held: Mutex<Vec<Strong<dyn II2cSessionCallback>>>,
    last_fan_out: Mutex<Option<RemovalEvent>>,
    fan_outs: AtomicU64,
}

/// This thread at the service's delivery threads' priority while it lives, so that the floor
/// and the service compete alike with the clients' reactions; back to where it was after.
struct Favoured(Option<i32>);

impl Favoured {
    fn like_callback_threads() -> Favoured {
        // Only a value it can restore: a pool thread left at -20 would skew later calls.
        let before = this_thread_nice().ok();
        if before.is_some() {
            let _ = set_this_thread_nice(CALLBACK_NICE);
        }
        Favoured(before)
    }
}

impl Drop for Favoured {
    fn drop(&mut self) {
        // Back to a higher (or the same) nice value: always allowed.
        if let Some(before) = self.0 {
            let _ = set_this_thread_nice(before);
        }
    }
}

struct NullManager {
    callbacks: Arc<Callbacks>,
}
struct NullSession;
struct NullAdmin {
    callbacks: Arc<Callbacks>,
}

impl Interface for NullManager {}
impl Interface for NullSession {}
impl Interface for NullAdmin {}

/// `length` zero bytes; a negative length (never sent by the benchmark) answers none.
fn zeros(length: i32) -> Vec<u8> {
    vec![0; usize::try_from(length).unwrap_or(0)]
}

impl II2cManager for NullManager {
    fn listBuses(&self) -> BinderResult<Vec<BusInfo>> {
        Ok(vec![BusInfo::default()])
    }

    fn openSession(
        &self,
        _bus: &str,
        _generation: i64,
        _address: i32,
        _flags: i32,
        callback: &Strong<dyn II2cSessionCallback>,
    ) -> BinderResult<Strong<dyn II2cSession>> {
        lock(&self.callbacks.held).push(callback.clone());
        Ok(binder_object!(BnI2cSession, NullSession))
    }

    fn registerBusListener(&self, _listener: &Strong<dyn IBusListener>) -> BinderResult<()> {
        Ok(())
    }

    fn unregisterBusListener(&self, _listener: &Strong<dyn IBusListener>) -> BinderResult<()> {
        Ok(())
    }
}

impl II2cSession for NullSession {
    fn transfer(&self, messages: &[I2cMessage]) -> BinderResult<TransferResult> {
        let reads = messages
            .iter()
            .filter(|m| m.read)
            .map(|m| I2cReadResult { data: zeros(m.readLength) })
            .collect();
        Ok(TransferResult { messagesCompleted: messages.len() as i32, reads })
    }

    fn writeRead(&self, _write_data: &[u8], read_length: i32) -> BinderResult<Vec<u8>> {
        Ok(zeros(read_length))
    }

    fn smbusQuick(&self, _read_bit: bool) -> BinderResult<()> {
        Ok(())
    }

    fn smbusReadByte(&self) -> BinderResult<i32> {
        Ok(0)
    }

    fn smbusWriteByte(&self, _value: i32) -> BinderResult<()> {
        Ok(())
    }

    fn smbusReadByteData(&self, _command: i32) -> BinderResult<i32> {
        Ok(0)
    }

    fn smbusWriteByteData(&self, _command: i32, _value: i32) -> BinderResult<()> {
        Ok(())
    }

    fn smbusReadWordData(&self, _command: i32) -> BinderResult<i32> {
        Ok(0)
    }

    fn smbusWriteWordData(&self, _command: i32, _value: i32) -> BinderResult<()> {
        Ok(())
    }

    fn smbusProcessCall(&self, _command: i32, _value: i32) -> BinderResult<i32> {
        Ok(0)
    }

    fn smbusBlockProcessCall(&self, _command: i32, data: &[u8]) -> BinderResult<Vec<u8>> {
        Ok(vec![0; data.len()])
    }

    fn smbusReadBlockData(&self, _command: i32) -> BinderResult<Vec<u8>> {
        Ok(Vec::new())
    }

    fn smbusWriteBlockData(&self, _command: i32, _data: &[u8]) -> BinderResult<()> {
        Ok(())
    }

    fn smbusReadI2cBlockData(&self, _command: i32, length: i32) -> BinderResult<Vec<u8>> {
        Ok(zeros(length))
    }

    fn smbusWriteI2cBlockData(&self, _command: i32, _data: &[u8]) -> BinderResult<()> {
        Ok(())
    }

    fn getBusInfo(&self) -> BinderResult<BusInfo> {
        Ok(BusInfo::default())
    }

    fn getAddress(&self) -> BinderResult<i32> {
        Ok(NULL_ADDRESS)
    }

    fn getAllowedOperations(&self) -> BinderResult<i32> {
        Ok(0)
    }

    fn close(&self) -> BinderResult<()> {
        Ok(())
    }
}

impl II2cAdmin for NullAdmin {
    /// The floor of a removal's callbacks: every held callback told in a plain loop on this
    /// thread, with nothing of the service's (no queues, no per-client order, no protection
    /// from a client that stopped reading). Every session opened since the last revoke
    /// counts, whatever its bus: the benchmark opens sessions on its removal floor's null
    /// server for nothing else. Answers how many were told, as the service does.
    fn revokeBus(&self, bus: &str) -> BinderResult<i32> {
        let held = std::mem::take(&mut *lock(&self.callbacks.held));
        let _favoured = Favoured::like_callback_threads();
        let started = Instant::now();
        // The service's own text for a removal (same length, same cost to marshal), with a
        // generation that grows as the service's does.
        let generation = Generation(self.callbacks.fan_outs.fetch_add(1, Ordering::Relaxed) + 1);
        let bus_number = bus.parse().unwrap_or(0);
        let message = loss_message(bus_number, generation, "removed");
        let mut last_started = started;
        for callback in &held {
            last_started = Instant::now();
            let _ = callback.onSessionLost(LossReason::REVOKED, &message);
        }
        // From the revoke to the start of its last callback, as the service measures a removal.
        *lock(&self.callbacks.last_fan_out) = Some(RemovalEvent {
            bus_number,
            stable_id: String::new(),
            generation,
            latency: Duration::ZERO,
            sessions_lost: held.len(),
            at: Instant::now(),
            started,
            last_callback: Some(last_started - started),
            event_clock_nanos: None,
        });
        Ok(i32::try_from(held.len()).unwrap_or(i32::MAX))
    }

    fn reloadPolicy(&self) -> BinderResult<i32> {
        Ok(0)
    }

    fn getStatus(&self) -> BinderResult<ServiceStatus> {
        let recent_removals =
            lock(&self.callbacks.last_fan_out).iter().map(removal_to_aidl).collect();
        Ok(ServiceStatus { recentRemovals: recent_removals, ..Default::default() })
    }
}

/// The instance names the null server registers under on kernel binder: beside the service's
/// own (`default`), so that one client can call both through the same service manager.
pub const KERNEL_INSTANCE: &str = "null";

/// The null interfaces with their own (empty) callback bookkeeping.
fn instances() -> Instances {
    let callbacks = Arc::new(Callbacks::default());
    Instances {
        manager: binder_object!(BnI2cManager, NullManager { callbacks: callbacks.clone() }),
        admin: binder_object!(BnI2cAdmin, NullAdmin { callbacks }),
    }
}

/// Serves the null interfaces on kernel binder, registered with the service manager as
/// `vendor.i2c.II2cManager/null` and `vendor.i2c.II2cAdmin/null`, until the process ends: the
/// floor of the QEMU part, where the service itself is on kernel binder too.
pub fn serve_kernel_binder(device: &Path) -> io::Result<()> {
    let instances = instances();
    i2c_hal_binder::init_process(device, MAX_THREADS)?;
    let (manager, admin) = (kernel_name(SERVICE_NAME), kernel_name(ADMIN_SERVICE_NAME));
    i2c_hal_binder::add_service(&manager, instances.manager.as_binder())?;
    i2c_hal_binder::add_service(&admin, instances.admin.as_binder())?;
    i2c_hal_binder::join_thread_pool()
}

/// The null server's name for one of the service's instance names ("vendor.i2c.X/default").
pub fn kernel_name(service_name: &str) -> String {
    let interface = service_name.split_once('/').map_or(service_name, |(interface, _)| interface);
    format!("{interface}/{KERNEL_INSTANCE}")
}

/// Binder threads of the kernel-binder null server, as many as the service's.
const MAX_THREADS: u32 = 8;

/// Serves the null interfaces on the RPC socket at `path` until the process ends, through the
/// service's own `serve_rpc` and `options`.
pub fn serve(path: &Path, options: &RpcOptions) -> io::Result<()> {
    let instances = instances();
    let admission = Admission::new(options.limits, Box::new(|uid| uid == 0));
    server::serve_rpc(instances, path, options.access, admission)
}
