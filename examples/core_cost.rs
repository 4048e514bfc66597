//! What the service's own code costs per call, without binder and without a device: the broker
//! over a device that does nothing. Meant for `valgrind --tool=callgrind`, whose instruction
//! counts are stable on a loaded machine where wall times are not; only `measured` is counted:
//!
//! ```sh
//! cargo build --release --example core_cost
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='core_cost::measured*' \
//!     target/release/examples/core_cost open 10000 1000
//! ```
//!
//! Forms (CALLS operations each, SESSIONS sessions held by other uids beforehand):
//! - `open SESSIONS CALLS`: open and close one session (the scaling of open with the table);
//! - `transfer42 SESSIONS CALLS`: a 42-message transfer, 21 one-byte writes and 21 reads;
//! - `register SESSIONS CALLS`: an SMBus read byte data;
//! - `address SESSIONS CALLS`: what getAddress asks of the broker;
//! - `rss SESSIONS`: prints VmRSS before and after opening SESSIONS sessions (no callgrind).

use i2c_hal_core::broker::{Broker, DirectSink, OpenRequest, SessionId, SessionObserver};
use i2c_hal_core::device::{BusDevice, DeviceFault, DeviceOpener, Target, Transferred};
use i2c_hal_core::policy::{Caller, Limits, OpenPolicy};
use i2c_hal_core::request::{func, MessageRef, SmbusOp, SmbusValue};
use i2c_hal_core::{AdapterDescriptor, BusSelector, LossReason};
use std::hint::black_box;
use std::sync::Arc;

/// A device that answers at once: reads are zeros.
struct NullDevice;

impl BusDevice for NullDevice {
    fn claim(&mut self, _: Target) -> Result<(), DeviceFault> {
        Ok(())
    }

    fn transfer(
        &mut self,
        _: Target,
        messages: &[MessageRef<'_>],
    ) -> Result<Transferred, DeviceFault> {
        let reads = messages
            .iter()
            .filter_map(|m| match m {
                MessageRef::Read(len) => Some(vec![0; *len]),
                MessageRef::Write(_) => None,
            })
            .collect();
        Ok(Transferred { completed: messages.len(), reads })
    }

    fn smbus(&mut self, _: Target, _: &SmbusOp) -> Result<SmbusValue, DeviceFault> {
        Ok(SmbusValue::Byte(0))
    }

    fn functionality(&self) -> u64 {
        func::I2C_FUNC_I2C | func::I2C_FUNC_SMBUS_EMUL
    }
}

struct NullOpener;

impl DeviceOpener for NullOpener {
    fn open(&self, _: u32) -> Result<Box<dyn BusDevice>, DeviceFault> {
        Ok(Box::new(NullDevice))
    }

    fn functionality(&self, _: u32) -> Result<u64, DeviceFault> {
        Ok(NullDevice.functionality())
    }
}

struct Ignore;

impl SessionObserver for Ignore {
    fn session_lost(&self, _: LossReason, _: &str) {}
}

/// Sessions held per uid while the table is filled (well under the per-uid quota).
const SESSIONS_PER_UID: usize = 100;

fn request(address: i64) -> OpenRequest {
    OpenRequest {
        bus: BusSelector::Number(0),
        generation: None,
        address,
        exclusive: false,
        ten_bit: false,
        pec: false,
    }
}

fn setup(sessions: usize) -> (Broker, Arc<dyn SessionObserver>) {
    let (opener, policy) = (Arc::new(NullOpener), Arc::new(OpenPolicy));
    let broker = Broker::new(opener, policy, Limits::default(), Arc::new(DirectSink));
    broker.adapter_added(AdapterDescriptor {
        bus_number: 0,
        devpath: "/devices/platform/null/i2c-0".into(),
        name: "null adapter".into(),
        stable_id: "platform/null".into(),
        functionality: 0,
    });
    let observer: Arc<dyn SessionObserver> = Arc::new(Ignore);
    for n in 0..sessions {
        let caller = Caller { uid: 20_000 + (n / SESSIONS_PER_UID) as u32, pid: 1 };
        let address = 0x08 + (n % 0x70) as i64;
        broker.open_session(caller, &request(address), observer.clone()).expect("fill");
    }
    (broker, observer)
}

const APP: Caller = Caller { uid: 10_001, pid: 2 };

#[inline(never)]
fn measured(
    form: &str,
    broker: &Broker,
    observer: &Arc<dyn SessionObserver>,
    session: SessionId,
    calls: usize,
) {
    // As the service passes them: borrowed from the request.
    let data: Vec<u8> = (0..21).collect();
    let messages: Vec<MessageRef<'_>> =
        data.chunks(1).flat_map(|byte| [MessageRef::Write(byte), MessageRef::Read(1)]).collect();
    for _ in 0..calls {
        match form {
            "open" => {
                let (id, _) =
                    broker.open_session(APP, &request(0x51), observer.clone()).expect("open");
                broker.close_session(id);
            }
            "transfer42" => {
                black_box(broker.transfer(session, black_box(&messages)).expect("transfer"));
            }
            "register" => {
                black_box(broker.smbus(session, &SmbusOp::ReadByteData(0)).expect("smbus"));
            }
            "address" => {
                black_box(broker.session_target(session).expect("address"));
            }
            _ => usage(),
        }
    }
}

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn usage() -> ! {
    eprintln!("usage: core_cost open|transfer42|register|address SESSIONS CALLS | rss SESSIONS");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number =
        |i: usize| -> usize { args.get(i).and_then(|a| a.parse().ok()).unwrap_or_else(|| usage()) };
    let form = args.first().map(String::as_str).unwrap_or_else(|| usage());
    if form == "rss" {
        let before = vm_rss_kib();
        let (broker, _observer) = setup(number(1));
        let after = vm_rss_kib();
        let per = (after - before) as f64 * 1024.0 / number(1).max(1) as f64;
        println!("VmRSS {before} kB -> {after} kB: {per:.0} bytes per session (broker only)");
        drop(broker);
        return;
    }
    let (broker, observer) = setup(number(1));
    let (session, _) = broker.open_session(APP, &request(0x50), observer.clone()).expect("open");
    measured(form, &broker, &observer, session, number(2));
}
