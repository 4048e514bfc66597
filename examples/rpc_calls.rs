//! A client that makes N calls of one kind on a running service and exits: the load for
//! counting, with callgrind on the service, what the service's own code does per call.
//!
//! ```sh
//! valgrind --tool=callgrind --collect-atstart=no \
//!     --toggle-collect='*SessionService*II2cSession*transfer*' \
//!     target/release/i2c-hal-service --sim --socket /tmp/x.sock &
//! target/release/examples/rpc_calls /tmp/x.sock transfer42 1000
//! ```
//!
//! Kinds: `address` (getAddress), `register` (smbusReadByteData), `transfer42` (21 one-byte
//! writes and 21 one-byte reads in one transfer), `open` (openSession and close, with
//! `--hold K` sessions held meanwhile), `hold` (holds the `--hold K` sessions until stdin
//! closes), `latency` (CALLS register reads, timed: p50 and p99) and `hammer` (42-message
//! transfers from `--hold K` threads until stdin closes), the two sides of a fairness check.
//! The sessions are on the simulated EEPROM (bus 0, 0x50).

use i2c_hal_client::{Client, Endpoint};
use i2c_hal_core::request::{Message, SmbusOp};
use std::path::PathBuf;

fn usage() -> ! {
    eprintln!("usage: rpc_calls SOCKET address|register|transfer42|open|hold|latency|hammer CALLS [--hold K]");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [socket, kind, calls, rest @ ..] = args.as_slice() else { usage() };
    let calls: usize = calls.parse().unwrap_or_else(|_| usage());
    let hold: usize = match rest {
        [] => 0,
        [flag, k] if flag == "--hold" => k.parse().unwrap_or_else(|_| usage()),
        _ => usage(),
    };
    let client = Client::connect(&Endpoint::Socket(PathBuf::from(socket))).expect("connect");
    let open = || client.open("0", 0, 0x50, false, Box::new(|_, _| {})).expect("open");
    let held: Vec<_> = (0..hold).map(|_| open()).collect();
    let session = open();
    let messages: Vec<Message> =
        (0..21u8).flat_map(|i| [Message::Write(vec![i]), Message::Read(1)]).collect();
    for _ in 0..calls {
        match kind.as_str() {
            "address" => {
                session.address_from_service().expect("getAddress");
            }
            "register" => {
                session.smbus(&SmbusOp::ReadByteData(0)).expect("read byte data");
            }
            "transfer42" => {
                session.transfer(&messages).expect("transfer");
            }
            "open" => open().close().expect("close"),
            "hold" | "latency" | "hammer" => break,
            _ => usage(),
        }
    }
    if kind == "latency" {
        // The victim of a fairness check: CALLS register reads, timed one by one.
        let mut samples: Vec<std::time::Duration> = (0..calls)
            .map(|_| {
                let start = std::time::Instant::now();
                session.smbus(&SmbusOp::ReadByteData(0)).expect("read byte data");
                start.elapsed()
            })
            .collect();
        samples.sort_unstable();
        let at = |q: usize| samples[(samples.len() - 1) * q / 100].as_secs_f64() * 1e6;
        println!("register read over {calls} calls: p50 {:.1} us, p99 {:.1} us", at(50), at(99));
    }
    if kind == "hammer" {
        // The other side of a fairness check: 42-message transfers from `--hold` threads, each
        // on its own session of the same bus, until stdin closes.
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            for _ in 0..hold.max(1) {
                let own = open();
                let (stop, messages) = (&stop, &messages);
                scope.spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        own.transfer(messages).expect("transfer");
                    }
                });
            }
            println!("hammering");
            std::io::copy(&mut std::io::stdin(), &mut std::io::sink()).expect("stdin");
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        return;
    }
    if kind == "hold" {
        // Keeps the sessions until stdin closes, so the service's memory can be read meanwhile.
        println!("holding {} sessions", held.len() + 1);
        std::io::copy(&mut std::io::stdin(), &mut std::io::sink()).expect("stdin");
    }
    drop(held);
}
