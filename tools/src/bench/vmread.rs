//! `vm-read`: the QEMU part (tests/vm/bench.sh). On a real kernel with kernel binder, one
//! register read on a real adapter (i2c-stub) directly through the i2cdev crate, against the
//! same read through the service, taking turns block by block in one run. Prints one line,
//! `BENCH-JSON: {...}`, which the host script picks out of the VM console.
//!
//! Beside them, the same read on the null server (`null-server --kernel-binder`: the service's
//! interfaces with empty bodies, on the same kernel binder) is the floor, so that the service's
//! cost on Android's own transport is a ratio to binder, not only a figure against a direct
//! ioctl; and the service's `getAddress` (no work behind it) shows what one round trip costs.

use super::null::kernel_name;
use super::stats::Samples;
use i2c_hal_binder::aidl::{
    II2cManager::II2cManager,
    II2cSession::II2cSession,
    II2cSessionCallback::{BnI2cSessionCallback, II2cSessionCallback},
    LossReason::LossReason,
};
use i2c_hal_binder::endpoint::{binder_device, SERVICE_NAME};
use i2c_hal_binder::{binder_object, check_service, BinderResult, Interface, Strong};
use i2c_hal_client::{Client, Endpoint};
use i2cdev::core::I2CDevice;
use i2cdev::linux::LinuxI2CDevice;
use serde_json::json;
use std::time::Instant;

/// A session callback that ignores its loss (the floor's session is never lost).
struct Quiet;

impl Interface for Quiet {}

impl II2cSessionCallback for Quiet {
    fn onSessionLost(&self, _: LossReason, _: &str) -> BinderResult<()> {
        Ok(())
    }
}

/// A session on the null server registered on kernel binder (`null-server --kernel-binder`).
fn null_session(bus: u32, address: u16) -> Result<Strong<dyn II2cSession>, String> {
    let name = kernel_name(SERVICE_NAME);
    let manager = check_service::<dyn II2cManager>(&name).map_err(|e| format!("{name}: {e}"))?;
    let callback = binder_object!(BnI2cSessionCallback, Quiet);
    manager
        .openSession(&bus.to_string(), 0, address.into(), 0, &callback)
        .map_err(|e| format!("null openSession: {e:?}"))
}

pub fn run(bus: u32, address: u16, calls: usize, block: usize) -> Result<(), String> {
    let path = format!("/dev/i2c-{bus}");
    let mut direct =
        LinuxI2CDevice::new(&path, address).map_err(|e| format!("{path}@{address:#x}: {e}"))?;
    let device = binder_device().ok_or("no binder device")?;
    let client = Client::connect(&Endpoint::KernelBinder(device)).map_err(|e| e.to_string())?;
    let session = client
        .open(&bus.to_string(), 0, address, false, Box::new(|_, _| {}))
        .map_err(|e| format!("open {bus}@{address:#x}: {e}"))?;
    let null = null_session(bus, address)?;
    let op = i2c_hal_core::request::SmbusOp::ReadByteData(0);
    let mut read_direct = || direct.smbus_read_byte_data(0).map(drop).map_err(|e| e.to_string());
    let read_service = || session.smbus(&op).map(drop).map_err(|e| e.to_string());
    let get_address = || session.address_from_service().map(drop).map_err(|e| e.to_string());
    let read_null = || null.smbusReadByteData(0).map(drop).map_err(|e| format!("null: {e:?}"));
    for _ in 0..calls / 10 {
        read_direct()?;
        read_service()?;
        read_null()?;
        get_address()?;
    }
    let (mut on_direct, mut on_service) = (Samples::default(), Samples::default());
    let (mut on_null, mut floor) = (Samples::default(), Samples::default());
    let mut left = calls;
    while left > 0 {
        let n = left.min(block.max(1));
        for _ in 0..n {
            let t = Instant::now();
            read_direct()?;
            on_direct.push(t.elapsed());
        }
        for _ in 0..n {
            let t = Instant::now();
            read_service()?;
            on_service.push(t.elapsed());
        }
        for _ in 0..n {
            let t = Instant::now();
            read_null()?;
            on_null.push(t.elapsed());
        }
        for _ in 0..n {
            let t = Instant::now();
            get_address()?;
            floor.push(t.elapsed());
        }
        left -= n;
    }
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let result = json!({
        "transport": "kernel binder",
        "adapter": format!("i2c-{bus}"),
        "address": address,
        "calls": calls,
        "kernel": kernel.trim(),
        "direct_i2cdev": {"p50_us": on_direct.median_us(), "p99_us": on_direct.p99_us()},
        "service": {"p50_us": on_service.median_us(), "p99_us": on_service.p99_us()},
        "service_get_address": {"p50_us": floor.median_us(), "p99_us": floor.p99_us()},
        "null_server": {"p50_us": on_null.median_us(), "p99_us": on_null.p99_us()},
        "ratio": on_service.median_us() / on_direct.median_us(),
        "ratio_to_null_server": on_service.median_us() / on_null.median_us(),
        "ratio_read_to_get_address": on_service.median_us() / floor.median_us(),
    });
    println!("BENCH-JSON: {result}");
    Ok(())
}
