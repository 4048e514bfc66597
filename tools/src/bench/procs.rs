//! The processes under measurement: the service, the null server and the holder clients, and
//! what /proc says about them.

use i2c_hal_client::{Client, Endpoint};
use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The CPU the servers run on and the one clients run on: apart where there are two, so that
/// a client's spinning never takes the server's CPU (the "client and server pinned").
///
/// Read once, from the CPUs this process was allowed at its first call (`run` calls it before
/// pinning anything): asked again after the main thread pinned itself to the client CPU, the
/// calling thread's mask held one CPU, and servers and clients ended up sharing it.
pub fn cpus() -> (usize, usize) {
    static CPUS: OnceLock<(usize, usize)> = OnceLock::new();
    *CPUS.get_or_init(|| {
        let allowed: Vec<usize> = sched_getaffinity(Pid::from_raw(0))
            .map(|set| {
                (0..CpuSet::count()).filter(|&cpu| set.is_set(cpu).unwrap_or(false)).collect()
            })
            .unwrap_or_default();
        match (allowed.first(), allowed.last()) {
            (Some(&first), Some(&last)) => (last, first),
            _ => (0, 0),
        }
    })
}

/// The set holding `cpu` alone, or None for a CPU number past what a set can hold.
fn only(cpu: usize) -> Option<CpuSet> {
    let mut set = CpuSet::new();
    set.set(cpu).ok().map(|()| set)
}

/// Pins the calling thread to `cpu`. A failure (a CPU set the container forbids) is reported
/// and the run goes on unpinned: the figures stay valid, only noisier.
pub fn pin_this_thread(cpu: usize) {
    let Some(set) = only(cpu) else { return };
    if let Err(e) = sched_setaffinity(Pid::from_raw(0), &set) {
        eprintln!("bench: cannot pin a thread to CPU {cpu} ({e}); running unpinned");
    }
}

/// Makes `command`'s process start on `cpu` alone, so that every thread it ever creates is
/// pinned too: pinning a running process by pid moves its main thread only, and the threads
/// it had already started (a server's binder and callback threads) stayed free to run on the
/// clients' CPU, which is what the figures were meant to keep apart.
pub fn pinned(command: &mut Command, cpu: usize) -> &mut Command {
    use std::os::unix::process::CommandExt;
    let Some(set) = only(cpu) else { return command };
    // SAFETY: the hook runs in the forked child before exec, where only async-signal-safe
    // work is allowed; it makes one sched_setaffinity(2) syscall on a set built beforehand,
    // allocates nothing and takes no lock. A failure is ignored (the run goes unpinned, as
    // `pin_this_thread` does).
    unsafe {
        command.pre_exec(move || {
            let _ = sched_setaffinity(Pid::from_raw(0), &set);
            Ok(())
        })
    }
}

/// A server process, killed on drop.
pub struct Server {
    child: Child,
    pub socket: PathBuf,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The service under test with the simulated modules; caps raised so that the benchmark's
    /// 100 holders and 10,000 sessions are admitted (the defaults guard a device, not a bench).
    pub fn service(binary: &Path, dir: &Path, name: &str) -> Server {
        let socket = dir.join(format!("{name}.sock"));
        let mut command = Command::new(binary);
        command
            .arg("--sim")
            .arg("--sim-root")
            .arg(dir.join(format!("{name}-sim")))
            .arg("--socket")
            .arg(&socket)
            .args(["--max-connections", "1024", "--max-connections-per-uid", "512"])
            .args(["--max-sessions-per-uid", "100000", "--log-level", "error"]);
        Server::start(command, socket)
    }

    /// The null server: this binary's `null-server` subcommand.
    pub fn null(dir: &Path) -> Server {
        let socket = dir.join("null.sock");
        let mut command = Command::new(std::env::current_exe().expect("own path"));
        command.arg("null-server").arg("--socket").arg(&socket);
        Server::start(command, socket)
    }

    fn start(mut command: Command, socket: PathBuf) -> Server {
        let child = pinned(&mut command, cpus().0)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let server = Server { child, socket };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if server.connect().ok().is_some_and(|c| c.list_buses().is_ok()) {
                return server;
            }
            assert!(Instant::now() < deadline, "{command:?} never answered");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn connect(&self) -> Result<Client, String> {
        Client::connect(&Endpoint::Socket(self.socket.clone())).map_err(|e| e.to_string())
    }

    /// VmRSS in bytes.
    pub fn rss(&self) -> u64 {
        status_field(self.pid(), "VmRSS:").map_or(0, |kb| kb * 1024)
    }

    pub fn threads(&self) -> u64 {
        status_field(self.pid(), "Threads:").unwrap_or(0)
    }
}

impl Drop for Server {
    /// SIGTERM first, so the server takes its own shutdown path (and a profiler wrapping it,
    /// such as callgrind, writes its output); SIGKILL if it has not exited within 10 s.
    fn drop(&mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                _ => return,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A number field of /proc/PID/status (kB for the memory ones).
fn status_field(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// CLOCK_MONOTONIC now in nanoseconds: the clock the service stamps removal events with.
pub fn monotonic_nanos() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| (t.tv_sec() as u64) * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// A private directory for the servers' sockets and simulator trees, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Result<TempDir, String> {
        let template = std::env::temp_dir().join("i2c-hal-bench.XXXXXX");
        nix::unistd::mkdtemp(&template)
            .map(TempDir)
            .map_err(|e| format!("mkdtemp {}: {e}", template.display()))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
