//! Soak: many clients doing transfers while modules are unplugged and replugged again and again,
//! client processes are killed at random, and two clients stop reading altogether. Afterwards
//! the service must have no panic and no deadlock, its fds, threads and memory must be back near
//! where they started, and every session must have either worked to the end or died with
//! exactly one session-lost callback.
//!
//! CI runs a short version (SOAK_CYCLES defaults to 20). On demand: `./run-soak` (200 cycles,
//! release build), or SOAK_CYCLES / SOAK_CLIENTS / SOAK_SEED with `cargo test --test soak`.

mod common;

use common::*;
use i2c_hal_client::{Client, ClientError, Session};
use i2c_hal_core::request::SmbusOp;
use i2c_hal_core::ErrorCode;
use i2c_hal_sim::catalog::{self, LM75_ADDRESS, SENSOR_MODULE};
use std::fs;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A small deterministic generator, so a failing run can be repeated with its seed.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

/// What the service process holds, from /proc.
#[derive(Clone, Copy, Debug)]
struct Footprint {
    fds: usize,
    threads: usize,
    rss_kib: usize,
}

fn footprint(pid: u32) -> Footprint {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("service status");
    let field = |name: &str| -> usize {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    let fds = fs::read_dir(format!("/proc/{pid}/fd")).expect("service fds").count();
    Footprint { fds, threads: field("Threads:"), rss_kib: field("VmRSS:") }
}

#[derive(Default)]
struct Tally {
    sessions_opened: AtomicU64,
    sessions_worked: AtomicU64,
    sessions_died: AtomicU64,
    operations_ok: AtomicU64,
    opens_refused: AtomicU64,
    /// Sessions whose callback count was wrong, with what was seen.
    violations: Mutex<Vec<String>>,
}

impl Tally {
    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }
}

/// One module and how to exercise a session on it.
#[derive(Clone, Copy)]
struct Target {
    module: &'static str,
    address: u16,
}

impl Target {
    fn operate(self, session: &Session) -> Result<(), ClientError> {
        if self.address == LM75_ADDRESS {
            session.smbus(&SmbusOp::ReadWordData(0)).map(|_| ())
        } else {
            let read = session.write_read(&[0], catalog::EEPROM_SIGNATURE.len())?;
            assert_eq!(read, catalog::EEPROM_SIGNATURE, "the EEPROM's bytes, intact");
            Ok(())
        }
    }
}

const TARGETS: [Target; 2] = [
    Target { module: catalog::EEPROM_MODULE, address: catalog::EEPROM_ADDRESS },
    Target { module: SENSOR_MODULE, address: LM75_ADDRESS },
];

/// A client that opens a session, works it until it dies, checks that exactly one callback
/// came, and opens the next one; until told to stop.
fn client_loop(client: Client, target: Target, stop: Arc<AtomicBool>, tally: Arc<Tally>) {
    let stable_id = catalog::stable_id(target.module);
    while !stop.load(Ordering::Relaxed) {
        let callbacks = Arc::new(AtomicUsize::new(0));
        let counter = callbacks.clone();
        let opened = client.open(
            &stable_id,
            0,
            target.address,
            false,
            Box::new(move |_, _| {
                counter.fetch_add(1, Ordering::SeqCst);
            }),
        );
        let session = match opened {
            Ok(session) => session,
            Err(e) if matches!(e.code(), Some(ErrorCode::NoSuchBus | ErrorCode::BusGone)) => {
                // Unplugged right now: wait for the module to come back.
                tally.opens_refused.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(2));
                continue;
            }
            Err(e) => return tally.violation(format!("open on {}: {e}", target.module)),
        };
        tally.sessions_opened.fetch_add(1, Ordering::Relaxed);
        let died = loop {
            if stop.load(Ordering::Relaxed) {
                // The last unplug may have ended this session after its last operation, and
                // only the service knows. Nothing is unplugged once `stop` is set, so its
                // answer is final.
                break session.bus_info().is_err_and(|e| e.code() == Some(ErrorCode::BusGone));
            }
            match target.operate(&session) {
                Ok(()) => tally.operations_ok.fetch_add(1, Ordering::Relaxed),
                Err(e) if e.code() == Some(ErrorCode::BusGone) => break true,
                Err(e) => {
                    tally.violation(format!("operation on {}: {e}", target.module));
                    break false;
                }
            };
        };
        if died {
            let told = poll_until(WAIT_TIMEOUT, || callbacks.load(Ordering::SeqCst) >= 1);
            if !told {
                tally.violation(format!("a dead session on {} was never told", target.module));
            }
            tally.sessions_died.fetch_add(1, Ordering::Relaxed);
        } else {
            tally.sessions_worked.fetch_add(1, Ordering::Relaxed);
        }
        let _ = session.close();
        // Checked after close: a duplicate callback would have been queued before it.
        let expected = usize::from(died);
        let seen = callbacks.load(Ordering::SeqCst);
        if seen != expected {
            tally.violation(format!(
                "a session on {} that {} got {seen} callbacks",
                target.module,
                if died { "died" } else { "worked" }
            ));
        }
    }
}

#[test]
fn soak_plug_cycles_kills_and_stopped_clients_leave_nothing_behind() {
    let cycles = env_number("SOAK_CYCLES", 20);
    let clients = env_number("SOAK_CLIENTS", 32) as usize;
    let seed = env_number("SOAK_SEED", 0x5eed);
    let mut random = Random(seed | 1);
    // Every client here runs as this test's uid, so the per-uid connection cap (two
    // connections a client) is raised to let them all in; tests/transport.rs tests the cap.
    let service = Service::start_with_args(&["--max-connections-per-uid", "512"]);
    let baseline = footprint(service.pid());
    let started = Instant::now();

    // Two clients that stop reading: a bus listener and a session holder.
    let mut stopped = vec![
        service.spawn_i2cctl(&["watch"], Stdio::null()),
        service.spawn_i2cctl(
            &["hold", &catalog::stable_id(catalog::EEPROM_MODULE), "0x51"],
            Stdio::null(),
        ),
    ];
    stopped[1].expect_line("held line", |line| line.starts_with("held bus="));
    for client in &stopped {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(client.pid() as i32),
            nix::sys::signal::Signal::SIGSTOP,
        )
        .expect("SIGSTOP");
    }

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let (client, stop, tally) = (service.client(), stop.clone(), tally.clone());
            thread::spawn(move || client_loop(client, TARGETS[i % 2], stop, tally))
        })
        .collect();

    // Client processes holding sessions, killed at random.
    let spawn_holder = |target: Target| {
        let address = format!("{:#04x}", target.address);
        service.spawn_i2cctl(&["hold", &catalog::stable_id(target.module), &address], Stdio::null())
    };
    let mut holders: Vec<_> = (0..4).map(|i| spawn_holder(TARGETS[i % 2])).collect();
    let mut kills = 0;

    let watcher = service.client();
    for cycle in 0..cycles {
        let target = TARGETS[cycle as usize % 2];
        let waited = service.unplug(&watcher, target.module);
        assert!(waited < UNPLUG_TIMEOUT, "cycle {cycle}: removal was held up ({waited:?})");
        let victim = random.below(holders.len());
        holders[victim].kill_hard();
        kills += 1;
        service.plug(&watcher, target.module);
        holders[victim] = spawn_holder(TARGETS[random.below(2)]);
    }

    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("a client thread panicked");
    }
    for holder in holders.iter_mut().chain(stopped.iter_mut()) {
        holder.kill_hard();
    }
    drop(watcher);

    // The service lives, answers, and let go of everything the clients had.
    let client = service.client();
    let buses = client.list_buses().expect("the service still answers");
    assert_eq!(buses.len(), 2, "both modules back: {buses:#?}");
    drop(client);
    let stderr = service.stderr();
    assert!(!stderr.contains("panic"), "the service panicked:\n{stderr}");
    let mut last = footprint(service.pid());
    let settled = poll_until(Duration::from_secs(30), || {
        last = footprint(service.pid());
        last.fds <= baseline.fds + 2
            && last.threads <= baseline.threads + 2
            && last.rss_kib <= baseline.rss_kib + 16 * 1024
    });

    let violations = tally.violations.lock().unwrap().clone();
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    println!(
        "soak: seed={seed} cycles={cycles} clients={clients} in {:?}: sessions opened={} \
         worked={} died-with-one-callback={} operations={} opens-refused-while-unplugged={} \
         holders-killed={kills} violations={}; service fds {}->{}, threads {}->{}, \
         rss {}->{} KiB",
        started.elapsed(),
        load(&tally.sessions_opened),
        load(&tally.sessions_worked),
        load(&tally.sessions_died),
        load(&tally.operations_ok),
        load(&tally.opens_refused),
        violations.len(),
        baseline.fds,
        last.fds,
        baseline.threads,
        last.threads,
        baseline.rss_kib,
        last.rss_kib,
    );
    assert!(violations.is_empty(), "{violations:#?}");
    assert!(settled, "the service kept resources: {baseline:?} -> {last:?}");
    assert!(load(&tally.sessions_died) >= cycles, "every cycle killed sessions");
    assert!(load(&tally.operations_ok) > 0);
}
