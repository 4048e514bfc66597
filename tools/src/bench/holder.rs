//! `holder`: a client process for the removal scenario. It holds sessions on one bus and
//! reports when their session-lost callbacks arrive, on CLOCK_MONOTONIC (the service's clock
//! for the removal event, on the same host).
//!
//! Protocol, one line each way: `open` (stdin) opens the sessions and answers `ready`; once
//! every one of them is lost it answers `lost NANOS`, the latest callback's time, and closes
//! them; end of input ends the process. A callback that never comes answers `timeout`.

use super::procs::monotonic_nanos;
use i2c_hal_client::{Client, Endpoint, Session};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Longer than any removal this benchmark can see; reached only when a callback is lost.
const LOSS_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Losses {
    count: usize,
    latest: u64,
}

pub fn run(socket: PathBuf, bus: String, address: u16, sessions: usize) {
    let client = Client::connect(&Endpoint::Socket(socket)).unwrap_or_else(|e| {
        eprintln!("holder: {e}");
        std::process::exit(3)
    });
    let losses = Arc::new((Mutex::new(Losses::default()), Condvar::new()));
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() != "open" {
            continue;
        }
        *losses.0.lock().unwrap() = Losses::default();
        let held: Vec<Session> = (0..sessions)
            .map(|_| {
                let losses = losses.clone();
                client
                    .open(
                        &bus,
                        0,
                        address,
                        false,
                        Box::new(move |_, _| {
                            let at = monotonic_nanos();
                            let (lock, cvar) = &*losses;
                            let mut l = lock.lock().unwrap();
                            l.count += 1;
                            l.latest = l.latest.max(at);
                            cvar.notify_all();
                        }),
                    )
                    .unwrap_or_else(|e| {
                        eprintln!("holder: open: {e}");
                        std::process::exit(1)
                    })
            })
            .collect();
        let _ = writeln!(out, "ready");
        let _ = out.flush();
        let (lock, cvar) = &*losses;
        let (l, timed_out) = cvar
            .wait_timeout_while(lock.lock().unwrap(), LOSS_TIMEOUT, |l| l.count < sessions)
            .unwrap();
        let answer = if timed_out.timed_out() {
            "timeout".to_string()
        } else {
            format!("lost {}", l.latest)
        };
        drop(l);
        for session in &held {
            // A lost session answers BUS_GONE to close too; closing frees it either way.
            let _ = session.close();
        }
        drop(held);
        let _ = writeln!(out, "{answer}");
        let _ = out.flush();
    }
}
