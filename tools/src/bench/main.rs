//! i2c-hal-bench: what the service costs on top of binder itself, measured in one run against
//! a null server (the service's own AIDL interfaces with empty bodies, on the same RPC
//! transport). `./run-bench` builds it and runs `i2c-hal-bench run`; see docs/perf.md for what each figure means and the targets it is judged by.
//!
//! Subcommands: `run` (the benchmark), and two it starts as processes of its own:
//! `null-server` (the floor) and `holder` (a client holding sessions through a removal).

mod holder;
mod null;
mod procs;
mod report;
mod scenarios;
mod stats;
mod vmread;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
// A later flag overrides an earlier one: run-bench passes BENCH_* variables as flags first.
#[command(
    name = "i2c-hal-bench",
    about = "Benchmark i2c-hal-service against a null server",
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// Every count can be lowered for a quick look (the test suite's smoke run uses tiny ones).
#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    /// The service binary under test.
    #[arg(long, default_value = "target/release/i2c-hal-service")]
    pub service: PathBuf,
    /// Where bench.json and latency.svg go.
    #[arg(long, default_value = "docs/bench")]
    pub out: PathBuf,
    /// Timed calls per figure (each call kind, each server).
    #[arg(long, default_value_t = 20_000)]
    pub calls: usize,
    /// Calls per block; the servers take turns block by block so that drift hits both.
    #[arg(long, default_value_t = 500)]
    pub block: usize,
    /// Open sessions at which the cost of one more open is measured (the highest also gives
    /// the memory per session).
    #[arg(long, value_delimiter = ',', default_value = "10,1000,10000")]
    pub open_levels: Vec<usize>,
    /// Timed opens per level.
    #[arg(long, default_value_t = 5_000)]
    pub open_calls: usize,
    /// Client processes holding sessions through a removal.
    #[arg(long, default_value_t = 100)]
    pub holders: usize,
    /// Sessions each holder keeps on the bus.
    #[arg(long, default_value_t = 10)]
    pub sessions_per_holder: usize,
    /// Removals per variant (all holders running; one of them stopped).
    #[arg(long, default_value_t = 30)]
    pub removals: usize,
    /// Client connections held for the per-connection memory figure.
    #[arg(long, default_value_t = 100)]
    pub connections: usize,
    /// Client thread counts for the throughput figure.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
    pub threads: Vec<usize>,
    /// Results of the QEMU part (tests/vm/bench.sh) to include, if that file exists.
    #[arg(long, default_value = "target/vm-bench/vm.json")]
    pub vm_results: PathBuf,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the benchmark: prints a table, writes OUT/bench.json and OUT/latency.svg.
    Run(RunArgs),
    /// Serve the null interfaces on SOCKET (started by `run`).
    NullServer {
        /// Serve RPC binder on this socket (the host part).
        #[arg(long, required_unless_present = "kernel_binder")]
        socket: Option<PathBuf>,
        /// Serve on kernel binder instead, as vendor.i2c.II2cManager/null (the QEMU part).
        #[arg(long, conflicts_with = "socket")]
        kernel_binder: bool,
    },
    /// Hold sessions through removals, driven over stdin/stdout (started by `run`).
    Holder {
        #[arg(long)]
        socket: PathBuf,
        #[arg(long)]
        bus: String,
        #[arg(long, value_parser = parse_address)]
        address: u16,
        #[arg(long)]
        sessions: usize,
    },
    /// The QEMU part: direct i2cdev register reads against the service's (tests/vm/bench.sh).
    VmRead {
        #[arg(long)]
        bus: u32,
        #[arg(long, value_parser = parse_address)]
        address: u16,
        #[arg(long, default_value_t = 5_000)]
        calls: usize,
        #[arg(long, default_value_t = 100)]
        block: usize,
    },
}

fn parse_address(text: &str) -> Result<u16, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|e| format!("{text}: {e}"))
}

fn main() {
    match Cli::parse().command {
        Cmd::Run(args) => {
            if let Err(e) = scenarios::run(&args) {
                eprintln!("i2c-hal-bench: {e}");
                std::process::exit(1);
            }
        }
        Cmd::NullServer { kernel_binder: true, .. } => {
            let served = i2c_hal_binder::endpoint::binder_device()
                .ok_or_else(|| std::io::Error::other("no binder device"))
                .and_then(|device| crate::null::serve_kernel_binder(&device));
            if let Err(e) = served {
                eprintln!("null-server: {e}");
                std::process::exit(1);
            }
        }
        Cmd::NullServer { socket: Some(socket), .. } => {
            let options = i2c_hal_service::server::RpcOptions {
                access: i2c_hal_platform::unix_socket::SocketAccess::new(0o660, None),
                limits: i2c_hal_service::transport::admission::ConnectionLimits {
                    max_connections: 1024,
                    max_per_uid: 512,
                    admin_reserve: 8,
                },
            };
            if let Err(e) = crate::null::serve(&socket, &options) {
                eprintln!("null-server: {e}");
                std::process::exit(1);
            }
        }
        Cmd::NullServer { socket: None, .. } => unreachable!("clap requires --socket here"),
        Cmd::Holder { socket, bus, address, sessions } => {
            holder::run(socket, bus, address, sessions)
        }
        Cmd::VmRead { bus, address, calls, block } => {
            if let Err(e) = vmread::run(bus, address, calls, block) {
                eprintln!("vm-read: {e}");
                std::process::exit(1);
            }
        }
    }
}
