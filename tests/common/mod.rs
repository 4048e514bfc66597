//! Harness for integration tests that run the real `i2c-hal-service` binary in simulator mode and
//! talk to it over its RPC binder socket, in-process (the client API) or through `i2cctl`.
//!
//! Every wait is a bounded poll or a `recv_timeout` that fails with a message saying what was
//! awaited, plus the service's stderr, so that a failure explains itself.

#![allow(dead_code)] // Each test crate uses its own subset of the harness.

use i2c_hal_client::{Client, ClientResult, Endpoint};
use i2c_hal_core::{BusInfo, ErrorCode, LossReason};
use i2c_hal_sim::catalog;
use i2c_hal_sim::control::{socket_path_for, SimControl};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub const SERVICE_BIN: &str = env!("CARGO_BIN_EXE_i2c-hal-service");
pub const I2CCTL_BIN: &str = env!("CARGO_BIN_EXE_i2cctl");

/// How long the service may take to answer its first listBuses.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long any other awaited condition, callback or process may take.
pub use i2c_hal_testkit::WAIT_TIMEOUT;
/// How long a simulated unplug may wait for the service to close its fd before failing.
pub const UNPLUG_TIMEOUT: Duration = Duration::from_secs(10);

/// What the simulated modules hold, from the catalog the simulator builds them from.
#[allow(unused_imports)] // Each test crate uses its own subset, as with dead_code above.
pub use catalog::{
    smbus2, DRIVER_BOUND_ADDRESS, EEPROM_ADDRESS, EEPROM_ERASED, EEPROM_MODULE, EEPROM_SIGNATURE,
    LM75_ADDRESS, LM75_TEMPERATURE_WORD, SENSOR_MODULE, SMBUS2_DEVICE_ADDRESS, SMBUS2_MODULE,
    TEN_BIT_EEPROM_ADDRESS, TEN_BIT_EEPROM_SIGNATURE, TEN_BIT_MODULE,
};

/// A uid and gid that are neither root nor system: Debian's `nobody`.
pub const NOBODY: (u32, u32) = (65534, 65534);

/// Whether this process may run others as another user (the tests normally run as root).
pub fn can_switch_users() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[allow(unused_imports)] // Each test crate uses its own subset.
pub use i2c_hal_testkit::{poll_until, wait_until};

/// Asserts that a call failed with the service's `expected` code.
#[track_caller]
pub fn assert_code<T>(result: ClientResult<T>, expected: ErrorCode, context: &str) {
    match result {
        Err(error) => assert_eq!(
            error.code(),
            Some(expected),
            "{context}: expected {expected}, got error {error}"
        ),
        Ok(_) => panic!(
            "{context}: expected {expected}, but the call succeeded (returning a {})",
            std::any::type_name::<T>()
        ),
    }
}

/// A session-lost callback for `Client::open` and the receiving end of what it reports.
pub type LossCallback = Box<dyn Fn(LossReason, String) + Send + Sync>;

pub fn loss_channel() -> (LossCallback, Receiver<(LossReason, String)>) {
    let (sender, receiver) = mpsc::channel();
    let callback: LossCallback = Box::new(move |reason, message| {
        let _ = sender.send((reason, message));
    });
    (callback, receiver)
}

/// A callback for sessions whose loss a test does not watch.
pub fn ignore_loss() -> LossCallback {
    Box::new(|_, _| {})
}

/// Waits for one item on a callback channel.
#[track_caller]
pub fn expect_message<T>(receiver: &Receiver<T>, what: &str) -> T {
    match receiver.recv_timeout(WAIT_TIMEOUT) {
        Ok(item) => item,
        Err(RecvTimeoutError::Timeout) => panic!("no {what} within {WAIT_TIMEOUT:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("no {what}: the callback was dropped"),
    }
}

/// Whether `link` (a /proc/PID/fd target) names `path`, including after `path` was deleted.
fn link_names(link: &Path, path: &Path) -> bool {
    let deleted = format!("{} (deleted)", path.display());
    link == path || link.as_os_str() == deleted.as_str()
}

/// How many of process `pid`'s descriptors are open on `path`.
pub fn open_fds_on(pid: u32, path: &Path) -> usize {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| fs::read_link(entry.path()).ok())
        .filter(|link| link_names(link, path))
        .count()
}

/// Waits for a child with a deadline; kills it (and panics) if it does not exit in time.
pub fn wait_for_exit(child: &mut Child, what: &str, timeout: Duration) -> ExitStatus {
    let mut status = None;
    poll_until(timeout, || {
        status = child.try_wait().expect("try_wait on a child");
        status.is_some()
    });
    match status {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {timeout:?}");
        }
    }
}

/// Drains a pipe on a thread of its own into a channel of lines.
fn spawn_line_pump(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Drains a pipe to its end on a thread of its own.
fn spawn_text_pump(mut pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        let _ = sender.send(text);
    });
    receiver
}

// ------------------------------------------------------------------------------ service ----

fn spawn_service(
    modules: &str,
    socket: &Path,
    sim_root: &Path,
    stderr_path: &Path,
    extra_args: &[&str],
) -> Child {
    let stderr = fs::File::create(stderr_path).expect("service stderr file");
    Command::new(SERVICE_BIN)
        .arg("--sim")
        .arg("--sim-modules")
        .arg(modules)
        .arg("--sim-root")
        .arg(sim_root)
        .arg("--socket")
        .arg(socket)
        .arg("--log-level")
        .arg("debug")
        .args(extra_args)
        .env_remove("RUST_LOG")
        .env_remove("I2C_HAL_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn i2c-hal-service")
}

/// A running `i2c-hal-service --sim` in a temporary directory of its own, stopped on drop.
pub struct Service {
    child: Child,
    exit_status: Option<ExitStatus>,
    socket: PathBuf,
    sim_root: PathBuf,
    stderr_path: PathBuf,
    restarts: u32,
    // Last, so the directory outlives the process that uses it.
    dir: TempDir,
}

impl Service {
    /// The default modules plugged: eeprom-module as bus 0, sensor-module as bus 1.
    pub fn start() -> Service {
        Service::start_with_modules("default", 2)
    }

    /// Every module of the catalog plugged, in catalog order: eeprom-module as bus 0,
    /// sensor-module as bus 1, then the modules that are not plugged by default.
    pub fn start_all() -> Service {
        Service::start_with_modules("all", catalog::MODULES.len())
    }

    /// `modules` as `--sim-modules` takes it; waits until `expected_buses` buses are listed.
    pub fn start_with_modules(modules: &str, expected_buses: usize) -> Service {
        Service::spawn(modules, expected_buses, &[])
    }

    /// The default modules plugged, with `args` added to the service's command line.
    pub fn start_with_args(args: &[&str]) -> Service {
        Service::spawn("default", 2, args)
    }

    fn spawn(modules: &str, expected_buses: usize, extra_args: &[&str]) -> Service {
        let dir = tempfile::Builder::new().prefix("i2c-hal-test").tempdir().expect("tempdir");
        // Canonical, so that /proc/PID/fd links compare equal to the paths built here.
        let base = dir.path().canonicalize().expect("canonical tempdir");
        let socket = base.join("service.sock");
        let sim_root = base.join("sim");
        let stderr_path = base.join("service.stderr");
        let child = spawn_service(modules, &socket, &sim_root, &stderr_path, extra_args);
        let mut service =
            Service { child, exit_status: None, socket, sim_root, stderr_path, restarts: 0, dir };
        service.wait_until_ready(expected_buses);
        service
    }

    /// Starts a new service on the same socket after this one exited (as init restarts a
    /// crashed service), with a fresh simulator root; waits until it lists `expected_buses`.
    pub fn restart(&mut self, modules: &str, expected_buses: usize) {
        let status = self.wait_for_exit("i2c-hal-service before its restart");
        eprintln!("restarting i2c-hal-service after it exited with {status}");
        self.restarts += 1;
        self.sim_root = self.dir().join(format!("sim-{}", self.restarts));
        self.stderr_path = self.dir().join(format!("service-{}.stderr", self.restarts));
        self.child = spawn_service(modules, &self.socket, &self.sim_root, &self.stderr_path, &[]);
        self.exit_status = None;
        self.wait_until_ready(expected_buses);
    }

    /// Waits (WAIT_TIMEOUT at most) for the service to exit by itself; returns how.
    pub fn wait_for_exit(&mut self, what: &str) -> ExitStatus {
        if let Some(status) = self.exit_status {
            return status;
        }
        let status = wait_for_exit(&mut self.child, what, WAIT_TIMEOUT);
        self.exit_status = Some(status);
        status
    }

    fn wait_until_ready(&mut self, expected_buses: usize) {
        let mut last_answer = String::from("no answer yet");
        let ready = poll_until(READY_TIMEOUT, || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("i2c-hal-service exited ({status}) before it was ready:\n{}", self.stderr());
            }
            match Client::connect(&self.endpoint()).and_then(|client| client.list_buses()) {
                Ok(buses) => {
                    last_answer = format!("{} bus(es) listed", buses.len());
                    buses.len() >= expected_buses
                }
                Err(error) => {
                    last_answer = error.to_string();
                    false
                }
            }
        });
        assert!(
            ready,
            "i2c-hal-service did not list {expected_buses} bus(es) within {READY_TIMEOUT:?} \
             (last: {last_answer}); stderr:\n{}",
            self.stderr()
        );
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint::Socket(self.socket.clone())
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    pub fn control_socket(&self) -> PathBuf {
        socket_path_for(&self.socket)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A new connection to the service.
    pub fn client(&self) -> Client {
        Client::connect(&self.endpoint()).unwrap_or_else(|error| {
            panic!("cannot connect to the service: {error}; stderr:\n{}", self.stderr())
        })
    }

    /// The simulator's control socket, in-process.
    pub fn sim(&self) -> SimControl {
        SimControl::new(self.control_socket())
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_else(|e| format!("(unreadable: {e})"))
    }

    /// SIMROOT/dev/i2c-N, the node the service opens for bus N.
    pub fn dev_node(&self, bus_number: u32) -> PathBuf {
        self.sim_root.join("dev").join(format!("i2c-{bus_number}"))
    }

    /// How many descriptors the service process holds on SIMROOT/dev/i2c-N.
    pub fn fds_on_bus(&self, bus_number: u32) -> usize {
        open_fds_on(self.pid(), &self.dev_node(bus_number))
    }

    /// Polls `condition`; on timeout panics naming `what`, with the service's stderr.
    pub fn wait_until(&self, what: &str, condition: impl FnMut() -> bool) {
        if !poll_until(WAIT_TIMEOUT, condition) {
            panic!(
                "timed out after {WAIT_TIMEOUT:?} waiting until {what}; stderr:\n{}",
                self.stderr()
            );
        }
    }

    pub fn wait_for_fds_on_bus(&self, bus_number: u32, expected: usize) {
        self.wait_until(&format!("the service holds {expected} fd(s) on i2c-{bus_number}"), || {
            self.fds_on_bus(bus_number) == expected
        });
    }

    /// Waits until listBuses (on `client`) shows a bus that satisfies `predicate`; returns it.
    pub fn wait_for_bus(
        &self,
        client: &Client,
        what: &str,
        predicate: impl Fn(&BusInfo) -> bool,
    ) -> BusInfo {
        let mut found = None;
        self.wait_until(what, || {
            found = client.list_buses().ok().and_then(|buses| buses.into_iter().find(&predicate));
            found.is_some()
        });
        found.expect("found after the wait")
    }

    /// Waits until listBuses (on `client`) shows no bus that satisfies `predicate`.
    pub fn wait_for_no_bus(
        &self,
        client: &Client,
        what: &str,
        predicate: impl Fn(&BusInfo) -> bool,
    ) {
        self.wait_until(what, || {
            client.list_buses().is_ok_and(|buses| !buses.iter().any(&predicate))
        });
    }

    /// Plugs a module and waits until the service lists it; returns its bus as listed.
    pub fn plug(&self, client: &Client, module: &str) -> BusInfo {
        let bus_number = self
            .sim()
            .plug(module)
            .unwrap_or_else(|e| panic!("sim plug {module}: {e}; stderr:\n{}", self.stderr()));
        let name = sim_adapter_name(module);
        self.wait_for_bus(client, &format!("the service lists {module} as bus {bus_number}"), |b| {
            b.bus_number == bus_number && b.name == name
        })
    }

    /// Unplugs a module, which succeeds only once the service has closed its fd on the bus;
    /// then waits until the service no longer lists it. Returns how long the simulator waited.
    pub fn unplug(&self, client: &Client, module: &str) -> Duration {
        let waited = self
            .sim()
            .unplug(module, UNPLUG_TIMEOUT)
            .unwrap_or_else(|e| panic!("sim unplug {module}: {e}; stderr:\n{}", self.stderr()));
        let name = sim_adapter_name(module);
        self.wait_for_no_bus(client, &format!("the service no longer lists {module}"), |b| {
            b.name == name
        });
        waited
    }

    /// Runs a second `i2c-hal-service --sim` on this service's socket (with a simulator root
    /// of its own) until it exits; returns its exit status and stderr. Panics, killing it, if
    /// it keeps running.
    pub fn run_second_instance(&self) -> (ExitStatus, String) {
        let stderr_path = self.dir().join("second-instance.stderr");
        let sim_root = self.dir().join("second-instance-sim");
        let mut child = spawn_service("default", &self.socket, &sim_root, &stderr_path, &[]);
        let status =
            wait_for_exit(&mut child, "a second i2c-hal-service on the same socket", WAIT_TIMEOUT);
        let stderr =
            fs::read_to_string(&stderr_path).unwrap_or_else(|e| format!("(unreadable: {e})"));
        (status, stderr)
    }

    /// Sends SIGTERM and waits for the service to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        if let Some(status) = self.exit_status {
            return status;
        }
        self.signal(Signal::SIGTERM);
        let status = wait_for_exit(&mut self.child, "i2c-hal-service after SIGTERM", WAIT_TIMEOUT);
        self.exit_status = Some(status);
        status
    }

    /// Sends `signal` to the service (SIGHUP re-reads its policy).
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits i32"));
        let _ = kill(pid, signal);
    }

    /// Runs `i2cctl --socket <this service> ARGS...` to completion.
    pub fn i2cctl(&self, args: &[&str]) -> I2cctlOutput {
        run_i2cctl(Some(&self.socket), args)
    }

    /// Runs i2cctl as another user (uid, gid); see `let_other_users_in`.
    pub fn i2cctl_as(&self, user: (u32, u32), args: &[&str]) -> I2cctlOutput {
        run_i2cctl_as(Some(&self.socket), args, Some(user))
    }

    /// Like spawn_i2cctl, with its stderr captured for `BackgroundI2cctl::wait_for_exit`.
    pub fn spawn_i2cctl_capturing_stderr(&self, args: &[&str], stdin: Stdio) -> BackgroundI2cctl {
        BackgroundI2cctl::spawn_with_stderr(&self.socket, args, stdin, None, true)
    }

    /// Starts `i2cctl --socket <this service> ARGS...` with piped stdin/stdout, in the background.
    pub fn spawn_i2cctl(&self, args: &[&str], stdin: Stdio) -> BackgroundI2cctl {
        BackgroundI2cctl::spawn(&self.socket, args, stdin, None)
    }

    /// The same, as another user (uid, gid); see `let_other_users_in`.
    pub fn spawn_i2cctl_as(
        &self,
        user: (u32, u32),
        args: &[&str],
        stdin: Stdio,
    ) -> BackgroundI2cctl {
        BackgroundI2cctl::spawn(&self.socket, args, stdin, Some(user))
    }

    /// Lets other users reach the service socket: the socket lets in its group (start the
    /// service with `--socket-group`), but the temporary directory around it is private (0700)
    /// until this opens it for traversal.
    pub fn let_other_users_in(&self) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(self.dir(), fs::Permissions::from_mode(0o711))
            .expect("open the service directory for traversal");
    }

    /// The number of the bus a module's adapter has (by its adapter name), as listed now.
    pub fn bus_of(&self, client: &Client, module: &str) -> u32 {
        let name = sim_adapter_name(module);
        let buses = client.list_buses().expect("list_buses");
        buses
            .iter()
            .find(|bus| bus.name == name)
            .unwrap_or_else(|| panic!("{module} is not listed: {buses:#?}"))
            .bus_number
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if self.exit_status.is_some() {
            return;
        }
        self.signal(Signal::SIGTERM);
        let exited = poll_until(WAIT_TIMEOUT, || matches!(self.child.try_wait(), Ok(Some(_))));
        if !exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The adapter name the simulator gives a module (`name` in listBuses).
pub fn sim_adapter_name(module: &str) -> String {
    catalog::adapter_name(module)
}

/// An address as i2cctl takes it on the command line and prints it (`0x50`).
pub fn address_arg(address: u16) -> String {
    format!("{address:#04x}")
}

// ------------------------------------------------------------------------------- i2cctl ----

/// What a finished i2cctl run printed and returned.
#[derive(Debug)]
pub struct I2cctlOutput {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl I2cctlOutput {
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn success(&self) -> &str {
        assert_eq!(self.exit_code, Some(0), "i2cctl failed: {self:?}");
        &self.stdout
    }
}

/// Asserts a failed i2cctl run: exit code, nothing on stdout, exactly one stderr line with the
/// prefix (the one-line error format every i2cctl failure keeps).
#[track_caller]
pub fn assert_one_line_failure(output: &I2cctlOutput, exit_code: i32, stderr_prefix: &str) {
    assert_eq!(output.exit_code, Some(exit_code), "{output:?}");
    assert_eq!(output.stdout, "", "nothing on stdout on failure: {output:?}");
    let lines: Vec<&str> = output.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one stderr line: {output:?}");
    assert!(lines[0].starts_with(stderr_prefix), "want {stderr_prefix:?}: {output:?}");
}

/// Whether this process runs as root, which tests that act as other users need.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs i2cctl (with `--socket` when given) to completion, with a deadline.
pub fn run_i2cctl(socket: Option<&Path>, args: &[&str]) -> I2cctlOutput {
    run_i2cctl_as(socket, args, None)
}

/// Makes `command` run as `user` (uid, gid) when given. std drops supplementary groups too when
/// a root parent switches the uid, so the child holds nothing of root's.
fn run_as(command: &mut Command, user: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
}

/// Runs i2cctl as `user` (uid, gid) when given, otherwise as this process's user.
pub fn run_i2cctl_as(
    socket: Option<&Path>,
    args: &[&str],
    user: Option<(u32, u32)>,
) -> I2cctlOutput {
    let mut command = Command::new(I2CCTL_BIN);
    if let Some(socket) = socket {
        command.arg("--socket").arg(socket);
    }
    run_as(&mut command, user);
    let mut child = command
        .args(args)
        .env_remove("I2C_HAL_SOCKET")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn i2cctl");
    let stdout = spawn_text_pump(child.stdout.take().expect("piped stdout"));
    let stderr = spawn_text_pump(child.stderr.take().expect("piped stderr"));
    let status = wait_for_exit(&mut child, &format!("i2cctl {args:?}"), WAIT_TIMEOUT);
    let collect = |pipe: Receiver<String>| pipe.recv_timeout(WAIT_TIMEOUT).unwrap_or_default();
    I2cctlOutput { exit_code: status.code(), stdout: collect(stdout), stderr: collect(stderr) }
}

/// A long-running i2cctl (`hold`, `watch`), read line by line; killed on drop.
pub struct BackgroundI2cctl {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// All of stderr once it ends, when the caller asked for it (else stderr is inherited).
    stderr: Option<Receiver<String>>,
    seen: Vec<String>,
    description: String,
}

impl BackgroundI2cctl {
    fn spawn(
        socket: &Path,
        args: &[&str],
        stdin: Stdio,
        user: Option<(u32, u32)>,
    ) -> BackgroundI2cctl {
        Self::spawn_with_stderr(socket, args, stdin, user, false)
    }

    fn spawn_with_stderr(
        socket: &Path,
        args: &[&str],
        stdin: Stdio,
        user: Option<(u32, u32)>,
        capture_stderr: bool,
    ) -> BackgroundI2cctl {
        let mut command = Command::new(I2CCTL_BIN);
        run_as(&mut command, user);
        let mut child = command
            .arg("--socket")
            .arg(socket)
            .args(args)
            .env_remove("I2C_HAL_SOCKET")
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(if capture_stderr { Stdio::piped() } else { Stdio::inherit() })
            .spawn()
            .expect("spawn i2cctl");
        let lines = spawn_line_pump(child.stdout.take().expect("piped stdout"));
        let stderr = child.stderr.take().map(spawn_text_pump);
        let stdin = child.stdin.take();
        BackgroundI2cctl {
            child,
            stdin,
            lines,
            stderr,
            seen: Vec::new(),
            description: format!("i2cctl {}", args.join(" ")),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes raw bytes to its stdin (for input that is not text).
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("i2cctl was started with piped stdin");
        stdin.write_all(bytes).and_then(|()| stdin.flush()).expect("write to i2cctl stdin");
    }

    /// Waits for it to exit on its own; returns its status and (if captured) all its stderr.
    pub fn wait_for_exit(&mut self) -> (ExitStatus, String) {
        let status = wait_for_exit(&mut self.child, &self.description, WAIT_TIMEOUT);
        let stderr = match &self.stderr {
            Some(text) => text.recv_timeout(WAIT_TIMEOUT).expect("the stderr of i2cctl"),
            None => String::new(),
        };
        (status, stderr)
    }

    /// Writes one command line to its stdin.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("i2cctl was started with piped stdin");
        writeln!(stdin, "{line}").and_then(|()| stdin.flush()).expect("write to i2cctl stdin");
    }

    /// Waits for the next stdout line that satisfies `predicate` (earlier lines are skipped
    /// but kept for the failure message); returns it.
    #[track_caller]
    pub fn expect_line(&mut self, what: &str, predicate: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if predicate(&line) {
                        return line;
                    }
                }
                Err(error) => panic!(
                    "{}: no {what} ({error:?}); stdout so far: {:#?}",
                    self.description, self.seen
                ),
            }
        }
    }

    /// Waits for the very next stdout line; returns it.
    #[track_caller]
    pub fn next_line(&mut self) -> String {
        let line = self.lines.recv_timeout(WAIT_TIMEOUT).unwrap_or_else(|error| {
            panic!(
                "{}: no next line ({error:?}); stdout so far: {:#?}",
                self.description, self.seen
            )
        });
        self.seen.push(line.clone());
        line
    }

    /// The next line if one arrives within `timeout` (for polling loops with their own bound).
    pub fn line_within(&mut self, timeout: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// SIGKILL, then reaps it: the process gets no chance to close anything itself.
    pub fn kill_hard(&mut self) -> ExitStatus {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits i32"));
        kill(pid, Signal::SIGKILL).expect("SIGKILL i2cctl");
        wait_for_exit(&mut self.child, &self.description, WAIT_TIMEOUT)
    }
}

impl Drop for BackgroundI2cctl {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
