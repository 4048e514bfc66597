//! What a small RPC call costs, round trip, against one or more builds of i2c-hal-service: to
//! tell what a change to the service's transport adds to every call.
//!
//! ```sh
//! cargo run --release --example rpc_call_cost -- BEFORE_BIN AFTER_BIN [--calls N] [--block B]
//! ```
//!
//! All the binaries run at once (`--sim`, a private socket each), each with one session on the
//! simulated EEPROM. After a warm-up, calls are timed one by one in blocks of B, the binaries
//! taking turns block by block, so that load from elsewhere on the machine falls on all of them
//! alike; each gets N timed calls of each kind: `getAddress` (a session call with next to no
//! work behind it) and `getBusInfo` (a little more reply). It prints, per binary and kind, the
//! 10th percentile and the median, and each one's ratio to the first binary's.

use i2c_hal_client::{Client, Endpoint, Session};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EEPROM_ADDRESS: u16 = 0x50;
const READY_TIMEOUT: Duration = Duration::from_secs(20);

struct Options {
    binaries: Vec<PathBuf>,
    calls: usize,
    block: usize,
}

fn options() -> Options {
    let mut options = Options { binaries: Vec::new(), calls: 20_000, block: 200 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> usize {
            let value = args.next().unwrap_or_else(|| usage(&format!("{name} needs a number")));
            value.parse().unwrap_or_else(|_| usage(&format!("{name} {value}: not a number")))
        };
        match arg.as_str() {
            "--calls" => options.calls = number("--calls").max(1),
            "--block" => options.block = number("--block").max(1),
            _ if arg.starts_with("--") => usage(&format!("unknown option {arg}")),
            _ => options.binaries.push(PathBuf::from(arg)),
        }
    }
    if options.binaries.is_empty() {
        usage("name at least one i2c-hal-service binary");
    }
    options
}

fn usage(problem: &str) -> ! {
    eprintln!("rpc_call_cost: {problem}");
    eprintln!("usage: rpc_call_cost SERVICE_BIN... [--calls N] [--block B]");
    std::process::exit(2)
}

/// A service under measurement, killed on drop.
struct Running {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(binary: &Path) -> (Running, Client) {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("service.sock");
    let child = Command::new(binary)
        .arg("--sim")
        .arg("--sim-root")
        .arg(dir.path().join("sim"))
        .arg("--socket")
        .arg(&socket)
        .args(["--log-level", "warn"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let running = Running { child, _dir: dir };
    let endpoint = Endpoint::Socket(socket);
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(client) = Client::connect(&endpoint) {
            if client.list_buses().is_ok_and(|buses| !buses.is_empty()) {
                return (running, client);
            }
        }
        assert!(Instant::now() < deadline, "{} never answered", binary.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `per_mille`th quantile of `samples`.
fn quantile(samples: &mut [Duration], per_mille: usize) -> Duration {
    samples.sort_unstable();
    samples[(samples.len() - 1) * per_mille / 1000]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// One binary under measurement: its service, session and samples of each kind.
struct Subject {
    binary: PathBuf,
    _running: Running,
    _client: Client,
    session: Session,
    address: Vec<Duration>,
    bus_info: Vec<Duration>,
}

impl Subject {
    fn new(binary: &Path) -> Subject {
        let (running, client) = start(binary);
        let session = client
            .open("0", 0, EEPROM_ADDRESS, false, Box::new(|_, _| {}))
            .expect("open a session on the EEPROM");
        Subject {
            binary: binary.to_path_buf(),
            _running: running,
            _client: client,
            session,
            address: Vec::new(),
            bus_info: Vec::new(),
        }
    }

    fn get_address(&self) {
        assert_eq!(self.session.address_from_service().expect("getAddress"), EEPROM_ADDRESS);
    }

    fn get_bus_info(&self) {
        self.session.bus_info().expect("getBusInfo");
    }

    /// `calls` timed calls of each kind.
    fn block(&mut self, calls: usize) {
        for _ in 0..calls {
            let start = Instant::now();
            self.get_address();
            self.address.push(start.elapsed());
        }
        for _ in 0..calls {
            let start = Instant::now();
            self.get_bus_info();
            self.bus_info.push(start.elapsed());
        }
    }
}

fn main() {
    let options = options();
    let mut subjects: Vec<Subject> = options.binaries.iter().map(|b| Subject::new(b)).collect();
    for subject in &subjects {
        for _ in 0..options.calls / 10 {
            subject.get_address();
            subject.get_bus_info();
        }
    }
    let mut left = options.calls;
    while left > 0 {
        let calls = left.min(options.block);
        for subject in &mut subjects {
            subject.block(calls);
        }
        left -= calls;
    }
    let stats: Vec<[Duration; 4]> = subjects
        .iter_mut()
        .map(|s| {
            [
                quantile(&mut s.address, 100),
                quantile(&mut s.address, 500),
                quantile(&mut s.bus_info, 100),
                quantile(&mut s.bus_info, 500),
            ]
        })
        .collect();
    println!(
        "{} calls of each kind per binary, in blocks of {}, binaries taking turns (µs):",
        options.calls, options.block
    );
    println!("{:>26}  {:>26}  binary", "getAddress p10 / median", "getBusInfo p10 / median");
    for (stat, subject) in stats.iter().zip(&subjects) {
        let cell = |i: usize| {
            let ratio = |j: usize| micros(stat[j]) / micros(stats[0][j]);
            format!("{:.2} / {:.2} ({:.3}x)", micros(stat[i]), micros(stat[i + 1]), ratio(i + 1))
        };
        println!("{:>26}  {:>26}  {}", cell(0), cell(2), subject.binary.display());
    }
}
