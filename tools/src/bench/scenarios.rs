//! The measurements, in the order `run` makes them. Each returns its raw figures; `report`
//! turns them into the table, the JSON and the targets.

use super::procs::{cpus, monotonic_nanos, pin_this_thread, pinned, Server, TempDir};
use super::report::{self, Report};
use super::stats::Samples;
use super::RunArgs;
use i2c_hal_client::{Client, Session};
use i2c_hal_core::request::{Message, SmbusOp};
use i2c_hal_sim::control::{socket_path_for, SimControl};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// The simulated EEPROM every call scenario talks to (bus 0 at start), and the sensor on bus 1.
const EEPROM: u16 = 0x50;
const SENSOR: u16 = 0x48;
const EEPROM_MODULE: &str = "eeprom-module";
const EEPROM_ID: &str = "platform/i2c-hal-sim/eeprom-module";
/// The contract's largest transfer: 42 messages (MAX_MESSAGES), here 21 pairs of a one-byte
/// register write and a four-byte read.
const TRANSFER_MESSAGES: usize = 42;

/// The calls compared with the null server, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    GetAddress,
    ReadRegister,
    WriteRead,
    Transfer42,
}

impl Call {
    pub const ALL: [Call; 4] =
        [Call::GetAddress, Call::ReadRegister, Call::WriteRead, Call::Transfer42];

    pub fn name(self) -> &'static str {
        match self {
            Call::GetAddress => "getAddress",
            Call::ReadRegister => "register read (smbusReadByteData)",
            Call::WriteRead => "writeRead (1 out, 8 in)",
            Call::Transfer42 => "transfer, 42 messages",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Call::GetAddress => "get_address",
            Call::ReadRegister => "read_register",
            Call::WriteRead => "write_read",
            Call::Transfer42 => "transfer_42",
        }
    }

    /// One call; a failure ends the run (the service must answer every one of these).
    fn once(self, session: &Session, messages: &[Message]) {
        let outcome = match self {
            Call::GetAddress => session.address_from_service().map(drop),
            Call::ReadRegister => session.smbus(&SmbusOp::ReadByteData(0)).map(drop),
            Call::WriteRead => session.write_read(&[0], 8).map(drop),
            Call::Transfer42 => session.transfer(messages).map(drop),
        };
        if let Err(e) = outcome {
            panic!("{}: {e}", self.name());
        }
    }
}

fn transfer_messages() -> Vec<Message> {
    (0..TRANSFER_MESSAGES / 2)
        .flat_map(|i| [Message::Write(vec![(i * 4) as u8]), Message::Read(4)])
        .collect()
}

fn open(client: &Client, bus: &str, address: u16) -> Session {
    client
        .open(bus, 0, address, false, Box::new(|_, _| {}))
        .unwrap_or_else(|e| panic!("open {bus}@{address:#x}: {e}"))
}

pub fn run(args: &RunArgs) -> Result<(), String> {
    let started = Instant::now();
    if !args.service.exists() {
        return Err(format!("{}: no such service binary (build it first)", args.service.display()));
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let dir = TempDir::new()?;
    let (server_cpu, client_cpu) = cpus();
    pin_this_thread(client_cpu);
    let mut report = Report::new(args, server_cpu, client_cpu);

    eprintln!("bench: memory (idle service)");
    report.memory_idle(memory_idle(args, dir.path()));

    let null = Server::null(dir.path());
    let service = Server::service(&args.service, dir.path(), "service");

    eprintln!("bench: calls ({} per figure, interleaved with the null server)", args.calls);
    report.calls(calls(args, &service, &null));

    eprintln!("bench: throughput ({:?} client threads, 2 buses)", args.threads);
    report.throughput(throughput(args, &service, &null));

    eprintln!("bench: fairness (a victim's register reads while another client hammers)");
    // The same on the null server: what the machine's scheduling alone does to the victim.
    report.fairness(fairness(args, &service), fairness(args, &null));

    eprintln!("bench: session open cost at {:?} open sessions", args.open_levels);
    report.opens(opens(args, dir.path()));
    report.connections(connections(args, &service));
    drop(service);
    drop(null);

    eprintln!(
        "bench: removal ({} sessions in {} holder processes, {} removals per variant)",
        args.holders * args.sessions_per_holder,
        args.holders,
        args.removals
    );
    let removal_service = Server::service(&args.service, dir.path(), "removal");
    let removal_null = Server::null(dir.path());
    report.removal(removal(args, &removal_service, &removal_null)?);
    drop(removal_service);
    drop(removal_null);

    report.vm(std::fs::read_to_string(&args.vm_results).ok());
    report.finish(started.elapsed(), &args.out)
}

// ---------------------------------------------------------------------------------- turns ----

/// `total` calls cut into blocks of at most `block`: (turn number, calls in that block).
fn blocks(total: usize, block: usize) -> impl Iterator<Item = (usize, usize)> {
    let block = block.max(1);
    (0..total.div_ceil(block)).map(move |turn| (turn, block.min(total - turn * block)))
}

/// The order in which `parties` servers go in `turn`: the first to go rotates, so that drift
/// on the machine falls on every one of them alike.
fn in_turn(turn: usize, parties: usize) -> impl Iterator<Item = usize> {
    (0..parties).map(move |k| (turn + k) % parties)
}

// ---------------------------------------------------------------------------------- calls ----

/// Each call kind against both servers, in blocks, the servers taking turns (the first to go
/// alternates too), after a warm-up of a tenth of the calls.
fn calls(args: &RunArgs, service: &Server, null: &Server) -> Vec<(Call, Samples, Samples)> {
    let messages = transfer_messages();
    let clients = [service.connect().expect("service"), null.connect().expect("null server")];
    let sessions = [open(&clients[0], "0", EEPROM), open(&clients[1], "0", EEPROM)];
    let mut results: Vec<(Call, Samples, Samples)> =
        Call::ALL.iter().map(|&c| (c, Samples::default(), Samples::default())).collect();
    for (call, _, _) in &results {
        for session in &sessions {
            for _ in 0..args.calls / 10 {
                call.once(session, &messages);
            }
        }
    }
    for (turn, n) in blocks(args.calls, args.block) {
        for (call, on_service, on_null) in &mut results {
            for which in in_turn(turn, 2) {
                let samples = if which == 0 { &mut *on_service } else { &mut *on_null };
                for _ in 0..n {
                    let t = Instant::now();
                    call.once(&sessions[which], &messages);
                    samples.push(t.elapsed());
                }
            }
        }
    }
    results
}

// ----------------------------------------------------------------------------- throughput ----

pub struct Throughput {
    pub threads: usize,
    pub service_per_s: f64,
    pub null_per_s: f64,
}

/// Rounds per thread count: the servers take turns round by round (which goes first
/// alternates), so that load from elsewhere on the machine falls on both alike.
const THROUGHPUT_ROUNDS: usize = 4;

/// `calls` register reads shared among N client threads, each with its own connection and a
/// session on bus `i % 2`: the time from the start barrier to the last thread's end.
fn timed_round(server: &Server, threads: usize, calls: usize) -> (usize, Duration) {
    let per_thread = (calls / threads).max(1);
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let client = server.connect().expect("connect");
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                pin_this_thread(cpus().1);
                let (bus, address) = if i % 2 == 0 { ("0", EEPROM) } else { ("1", SENSOR) };
                let session = open(&client, bus, address);
                for _ in 0..per_thread / 10 {
                    Call::ReadRegister.once(&session, &[]);
                }
                barrier.wait();
                for _ in 0..per_thread {
                    Call::ReadRegister.once(&session, &[]);
                }
                Instant::now()
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let end = handles.into_iter().map(|h| h.join().expect("client thread")).max().unwrap_or(start);
    (per_thread * threads, end.duration_since(start))
}

fn throughput(args: &RunArgs, service: &Server, null: &Server) -> Vec<Throughput> {
    args.threads
        .iter()
        .map(|&threads| {
            let threads = threads.max(1);
            let per_round = (args.calls / THROUGHPUT_ROUNDS).max(threads);
            let mut totals = [(0usize, Duration::ZERO); 2];
            for round in 0..THROUGHPUT_ROUNDS {
                for which in in_turn(round, 2) {
                    let server = if which == 0 { service } else { null };
                    let (calls, took) = timed_round(server, threads, per_round);
                    totals[which].0 += calls;
                    totals[which].1 += took;
                }
            }
            let rate = |(calls, took): (usize, Duration)| calls as f64 / took.as_secs_f64();
            Throughput { threads, service_per_s: rate(totals[0]), null_per_s: rate(totals[1]) }
        })
        .collect()
}

// ------------------------------------------------------------------------------- fairness ----

pub struct Fairness {
    pub solo: Samples,
    pub hammered: Samples,
    pub hammer_calls: u64,
}

/// A victim's register reads on bus 0, in blocks alone and blocks while a second client (its
/// own connection and session on the same bus) loops 42-message transfers, alternating.
fn fairness(args: &RunArgs, service: &Server) -> Fairness {
    let victim_client = service.connect().expect("connect");
    let victim = open(&victim_client, "0", EEPROM);
    let hammering = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let hammer = {
        let client = service.connect().expect("connect");
        let (hammering, stop) = (hammering.clone(), stop.clone());
        std::thread::spawn(move || {
            pin_this_thread(cpus().1);
            let session = open(&client, "0", EEPROM);
            let messages = transfer_messages();
            let mut calls = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if hammering.load(Ordering::Relaxed) {
                    Call::Transfer42.once(&session, &messages);
                    calls += 1;
                } else {
                    std::thread::park_timeout(Duration::from_millis(1));
                }
            }
            calls
        })
    };
    let mut fairness =
        Fairness { solo: Samples::default(), hammered: Samples::default(), hammer_calls: 0 };
    for _ in 0..args.calls / 10 {
        Call::ReadRegister.once(&victim, &[]);
    }
    let block = args.block.max(1);
    let mut left = args.calls;
    while left > 0 {
        let n = left.min(block);
        for loaded in [false, true] {
            hammering.store(loaded, Ordering::Relaxed);
            hammer.thread().unpark();
            let samples = if loaded { &mut fairness.hammered } else { &mut fairness.solo };
            for _ in 0..n {
                let t = Instant::now();
                Call::ReadRegister.once(&victim, &[]);
                samples.push(t.elapsed());
            }
        }
        left -= n;
    }
    stop.store(true, Ordering::Relaxed);
    hammer.thread().unpark();
    fairness.hammer_calls = hammer.join().expect("hammer");
    fairness
}

// ---------------------------------------------------------------------------------- opens ----

pub struct OpenLevel {
    pub open_sessions: usize,
    pub samples: Samples,
    pub rss: u64,
}

/// One service per level, each holding that many sessions (one client), pinned like every
/// server. Then `open_calls` more are opened and closed one at a time on each, timing the open,
/// the services taking turns in blocks (the first to go rotates), so that the drift of a
/// shared VM's cross-CPU wake-ups, which is most of an open's wall time, hits every level
/// alike: measured one level after the other, the same build's ratio moved widely between runs
/// (docs/perf.md, 'Session open levels'). RSS of each service gives the per-session memory.
fn opens(args: &RunArgs, dir: &std::path::Path) -> Vec<OpenLevel> {
    let mut levels = args.open_levels.clone();
    levels.sort_unstable();
    let servers: Vec<Server> = levels
        .iter()
        .map(|level| Server::service(&args.service, dir, &format!("open-{level}")))
        .collect();
    let clients: Vec<Client> = servers.iter().map(|s| s.connect().expect("connect")).collect();
    let _held: Vec<Vec<Session>> = levels
        .iter()
        .zip(&clients)
        .map(|(&level, client)| (0..level).map(|_| open(client, "0", EEPROM)).collect())
        .collect();
    let open_once = |client: &Client| {
        let t = Instant::now();
        let session = open(client, "0", EEPROM);
        let took = t.elapsed();
        let _ = session.close();
        took
    };
    for client in &clients {
        for _ in 0..args.open_calls / 10 {
            open_once(client);
        }
    }
    let mut samples: Vec<Samples> = levels.iter().map(|_| Samples::default()).collect();
    for (turn, n) in blocks(args.open_calls, args.block) {
        for which in in_turn(turn, clients.len()) {
            (0..n).for_each(|_| samples[which].push(open_once(&clients[which])));
        }
    }
    settle();
    levels
        .into_iter()
        .zip(samples)
        .zip(&servers)
        .map(|((open_sessions, samples), server)| OpenLevel {
            open_sessions,
            samples,
            rss: server.rss(),
        })
        .collect()
}

/// Lets the service finish what the last calls started (freeing, reaping) before /proc is read.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

// --------------------------------------------------------------------------------- memory ----

pub struct IdleMemory {
    pub rss: u64,
    pub threads: u64,
}

/// A service of its own, started and left alone: RSS and threads with no client connected.
fn memory_idle(args: &RunArgs, dir: &std::path::Path) -> IdleMemory {
    let service = Server::service(&args.service, dir, "idle");
    // The readiness check's connection is gone; give the service a moment to let go of it.
    settle();
    IdleMemory { rss: service.rss(), threads: service.threads() }
}

pub struct Connections {
    pub count: usize,
    pub rss_before: u64,
    pub rss_after: u64,
    pub threads_before: u64,
    pub threads_after: u64,
}

/// `connections` client connections (one RPC session each: a socket it calls over and one for
/// callbacks), each having made one call.
fn connections(args: &RunArgs, service: &Server) -> Connections {
    settle();
    let (rss_before, threads_before) = (service.rss(), service.threads());
    let clients: Vec<Client> = (0..args.connections)
        .map(|_| {
            let client = service.connect().expect("connect");
            client.list_buses().expect("listBuses");
            client
        })
        .collect();
    settle();
    let result = Connections {
        count: clients.len(),
        rss_before,
        rss_after: service.rss(),
        threads_before,
        threads_after: service.threads(),
    };
    drop(clients);
    result
}

// -------------------------------------------------------------------------------- removal ----

struct Holder {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Holder {
    fn start(server: &Server, sessions: usize) -> Holder {
        let mut command = Command::new(std::env::current_exe().expect("own path"));
        let mut child = pinned(&mut command, cpus().1)
            .arg("holder")
            .arg("--socket")
            .arg(&server.socket)
            .args(["--bus", EEPROM_ID, "--address", &EEPROM.to_string()])
            .args(["--sessions", &sessions.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start a holder");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Holder { child, stdin, stdout }
    }

    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("holder gone");
    }

    fn answer(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("holder output");
        assert!(!line.is_empty(), "holder {} ended", self.child.id());
        line.trim().to_string()
    }

    /// The latest callback's CLOCK_MONOTONIC time, or None if one never came.
    fn lost(&mut self) -> Option<u64> {
        let answer = self.answer();
        answer.strip_prefix("lost ").and_then(|n| n.parse().ok())
    }

    fn signal(&self, signal: Signal) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), signal);
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.signal(Signal::SIGCONT);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One variant's removals: microseconds from the removal event to each milestone.
#[derive(Default)]
pub struct RemovalRuns {
    pub fd_closed: Samples,
    pub dispatched: Samples,
    pub received: Samples,
    pub failures: Vec<String>,
}

pub struct Removal {
    pub all_running: RemovalRuns,
    pub one_stopped: RemovalRuns,
    /// The null server telling as many held callbacks in a plain loop: the transport's floor.
    pub floor: RemovalRuns,
}

/// A server whose holders lose their sessions, round after round.
struct Rig {
    holders: Vec<Holder>,
    admin: i2c_hal_client::Admin,
    /// The service loses its bus by a module's unplug; the null server has no modules and
    /// tells its held callbacks when revoked instead.
    modules: Option<SimControl>,
    plugged: bool,
    client: Client,
}

impl Rig {
    fn new(args: &RunArgs, server: &Server, modules: Option<SimControl>) -> Result<Rig, String> {
        let client = server.connect()?;
        let admin = client.admin().map_err(|e| e.to_string())?;
        let holders = (0..args.holders.max(1))
            .map(|_| Holder::start(server, args.sessions_per_holder))
            .collect();
        Ok(Rig { holders, admin, modules, plugged: true, client })
    }

    /// The bus back (after the previous round's unplug) and every holder's sessions open.
    fn open_sessions(&mut self) -> Result<(), String> {
        if let (Some(modules), false) = (&self.modules, self.plugged) {
            modules.plug(EEPROM_MODULE)?;
            self.plugged = true;
            // The plug returns once its uevent is sent; the service adds the bus after that.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !self
                .client
                .list_buses()
                .map_err(|e| e.to_string())?
                .iter()
                .any(|b| b.stable_id == EEPROM_ID)
            {
                if Instant::now() > deadline {
                    return Err(format!("{EEPROM_MODULE} plugged but never listed"));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        self.holders.iter_mut().for_each(|h| h.send("open"));
        for h in &mut self.holders {
            let ready = h.answer();
            if ready != "ready" {
                return Err(format!("a holder answered {ready:?} to open"));
            }
        }
        Ok(())
    }

    fn remove_bus(&mut self) -> Result<(), String> {
        match &self.modules {
            Some(modules) => {
                self.plugged = false;
                modules.unplug(EEPROM_MODULE, Duration::from_secs(10))?;
                Ok(())
            }
            // Bus 0, as the EEPROM's on the service: the callbacks say the same.
            None => self.admin.revoke("0").map(drop).map_err(|e| e.to_string()),
        }
    }

    /// One removal with every holder's sessions on the bus; with `stop_one`, the first holder
    /// is stopped (SIGSTOP) through it, and the others must not wait for it.
    fn round(
        &mut self,
        round: usize,
        stop_one: bool,
        runs: &mut RemovalRuns,
    ) -> Result<(), String> {
        self.open_sessions()?;
        if stop_one {
            self.holders[0].signal(Signal::SIGSTOP);
        }
        let before = monotonic_nanos();
        self.remove_bus()?;
        let mut latest = None;
        let mut missing = 0;
        for h in self.holders.iter_mut().skip(usize::from(stop_one)) {
            match h.lost() {
                Some(at) => latest = latest.max(Some(at)),
                None => missing += 1,
            }
        }
        // Admin only (root or system): without it the service-side figures stay unmeasured
        // and "received" counts from the unplug request instead of the event.
        let status = self.admin.status();
        if stop_one {
            self.holders[0].signal(Signal::SIGCONT);
            // Its callbacks arrive now; what matters is that the others did not wait for them.
            self.holders[0].lost();
        }
        let event = match &status {
            Ok(status) => status.recent_removals.last().filter(|r| r.sessions_lost > 0).cloned(),
            Err(e) => {
                runs.failures.push(format!("removal {round}: getStatus: {e}"));
                None
            }
        };
        let Some(event) = event else {
            if status.is_ok() {
                runs.failures.push(format!("removal {round}: not in the status"));
            }
            if let (0, Some(at)) = (missing, latest) {
                runs.received.push(Duration::from_nanos(at.saturating_sub(before)));
            }
            return Ok(());
        };
        let event_clock = event.event_clock_nanos.unwrap_or(before);
        if self.modules.is_some() {
            runs.fd_closed.push(event.latency);
        }
        match event.last_callback {
            Some(d) => runs.dispatched.push(d),
            None => runs.failures.push(format!("removal {round}: no callback dispatch time")),
        }
        if missing > 0 {
            runs.failures.push(format!("removal {round}: {missing} holder(s) got no callback"));
        } else if let Some(at) = latest {
            runs.received.push(Duration::from_nanos(at.saturating_sub(event_clock)));
        }
        Ok(())
    }
}

/// The service's removals, both variants taking turns with the null server's fan-out, so that
/// drift hits all three alike.
fn removal(args: &RunArgs, service: &Server, null: &Server) -> Result<Removal, String> {
    let modules = SimControl::new(socket_path_for(&service.socket));
    let mut through_service = Rig::new(args, service, Some(modules))?;
    let mut floor = Rig::new(args, null, None)?;
    let mut result = Removal {
        all_running: RemovalRuns::default(),
        one_stopped: RemovalRuns::default(),
        floor: RemovalRuns::default(),
    };
    for round in 0..args.removals {
        through_service.round(round, false, &mut result.all_running)?;
        floor.round(round, false, &mut result.floor)?;
        through_service.round(round, true, &mut result.one_stopped)?;
    }
    Ok(result)
}

/// The QEMU part's JSON (tests/vm/bench.sh) as it stands, or None.
pub fn vm_json(text: Option<String>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

/// The run's settings as the JSON records them.
pub fn config_json(args: &RunArgs, server_cpu: usize, client_cpu: usize) -> Value {
    json!({
        "calls_per_figure": args.calls,
        "block": args.block,
        "open_levels": args.open_levels,
        "open_calls": args.open_calls,
        "holders": args.holders,
        "sessions_per_holder": args.sessions_per_holder,
        "removals_per_variant": args.removals,
        "connections": args.connections,
        "threads": args.threads,
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
        "cpus": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "transport": "RPC binder over a Unix socket (rsbinder, android13+ wire profile)",
        "report_version": report::VERSION,
    })
}

#[cfg(test)]
mod tests {
    use super::{blocks, in_turn};

    #[test]
    fn blocks_cover_the_total_once_with_a_short_last_block() {
        assert_eq!(blocks(1_250, 500).collect::<Vec<_>>(), [(0, 500), (1, 500), (2, 250)]);
        assert_eq!(blocks(3, 0).collect::<Vec<_>>(), [(0, 1), (1, 1), (2, 1)], "block 0 means 1");
        assert_eq!(blocks(0, 500).count(), 0);
    }

    #[test]
    fn the_first_to_go_rotates_and_everyone_goes_each_turn() {
        let order = |turn| in_turn(turn, 3).collect::<Vec<_>>();
        assert_eq!(
            [order(0), order(1), order(2), order(3)],
            [vec![0, 1, 2], vec![1, 2, 0], vec![2, 0, 1], vec![0, 1, 2]]
        );
        assert_eq!(in_turn(1, 2).collect::<Vec<_>>(), [1, 0], "two servers alternate");
    }
}
