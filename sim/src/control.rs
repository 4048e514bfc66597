//! The simulator's control socket: how i2cctl plugs and unplugs simulated modules in a running
//! `i2c-hal-service --sim`. One connection carries one request and its reply.
//!
//! Protocol (UTF-8 text, `\n`-terminated lines):
//! - request `list` → `ok <count>` then `count` lines
//!   `<name>\t<unplugged|plugged|removing>\t<bus number or ->\t<open handles>\t<description>`
//! - request `plug <module>` → `ok <bus number>`
//! - request `unplug <module> <timeout in ms>` → `ok <microseconds waited>`
//! - any failure → `err <message>` (one line)

use super::{ModuleState, ModuleStatus, SimKernel};
use i2c_hal_platform::unix_socket::{self, SocketAccess, TrustedServers};
use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A request line longer than this is not ours.
const MAX_REQUEST_LEN: u64 = 1024;
/// A client that neither sends its request nor reads its reply in this time is dropped.
const SERVER_IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a client allows for a reply beyond the unplug timeout it asked for.
const CLIENT_REPLY_MARGIN: Duration = Duration::from_secs(10);

/// "<service socket path>.sim"
pub fn socket_path_for(service_socket: &Path) -> PathBuf {
    let mut path = OsString::from(service_socket.as_os_str());
    path.push(".sim");
    PathBuf::from(path)
}

/// Serves the control protocol on `path` from a background thread, one thread per connection
/// so that a long unplug does not hold up `list`. The path is claimed first (see
/// `platform::unix_socket`): another running instance's socket is left alone, a stale one is
/// replaced, and any other kind of file at `path` is an error rather than something to delete.
/// `unix_socket::release(path)` removes it again.
pub fn serve(
    kernel: Arc<SimKernel>,
    path: &Path,
    access: SocketAccess,
) -> io::Result<JoinHandle<()>> {
    unix_socket::claim(path)?;
    let listener =
        unix_socket::bind_listener(path, access).inspect_err(|_| unix_socket::release(path))?;
    let shown = path.display().to_string();
    log::info!("sim: control socket listening on {shown}");
    thread::Builder::new().name("sim-control".into()).spawn(move || {
        for connection in listener.incoming() {
            match connection {
                Ok(stream) => spawn_connection(Arc::clone(&kernel), stream),
                Err(err) => log::warn!("sim: accepting on {shown}: {err}"),
            }
        }
    })
}

fn spawn_connection(kernel: Arc<SimKernel>, stream: UnixStream) {
    let spawned = thread::Builder::new().name("sim-control-conn".into()).spawn(move || {
        if let Err(err) = answer(&kernel, stream) {
            log::warn!("sim: control connection: {err}");
        }
    });
    if let Err(err) = spawned {
        log::warn!("sim: cannot start a control connection thread: {err}");
    }
}

fn answer(kernel: &SimKernel, stream: UnixStream) -> io::Result<()> {
    stream.set_read_timeout(Some(SERVER_IO_TIMEOUT))?;
    stream.set_write_timeout(Some(SERVER_IO_TIMEOUT))?;
    let mut line = Vec::new();
    BufReader::new((&stream).take(MAX_REQUEST_LEN)).read_until(b'\n', &mut line)?;
    let line = String::from_utf8_lossy(&line);
    let reply = match execute(kernel, line.trim_end_matches(['\n', '\r'])) {
        Ok(body) => format!("ok {body}\n"),
        Err(message) => format!("err {}\n", message.replace('\n', " ")),
    };
    (&stream).write_all(reply.as_bytes())
}

/// Runs one request; the reply body follows "ok ".
fn execute(kernel: &SimKernel, request: &str) -> Result<String, String> {
    let words: Vec<&str> = request.split_whitespace().collect();
    match words.as_slice() {
        ["list"] => Ok(format_list(&kernel.modules())),
        // A fault injector for the test of the panic policy: a panic in any service thread
        // must take the whole process down (so init restarts it), never leave it half-alive.
        ["panic"] => panic!("deliberate panic requested through the simulator's control socket"),
        ["plug", module] => kernel.plug(module).map(|n| n.to_string()).map_err(|e| e.to_string()),
        ["unplug", module, timeout_ms] => {
            let timeout_ms: u64 = timeout_ms.parse().map_err(|_| {
                format!("bad unplug timeout '{timeout_ms}' (milliseconds expected)")
            })?;
            kernel
                .unplug(module, Duration::from_millis(timeout_ms))
                .map(|waited| waited.as_micros().to_string())
                .map_err(|e| e.to_string())
        }
        _ => Err(format!(
            "bad request '{}' (expected 'list', 'plug <module>', 'unplug <module> <ms>' or \
             'panic')",
            request.chars().take(80).collect::<String>()
        )),
    }
}

fn format_list(modules: &[ModuleStatus]) -> String {
    let mut out = modules.len().to_string();
    for module in modules {
        let (state, bus) = match module.state {
            ModuleState::Unplugged => ("unplugged", "-".to_string()),
            ModuleState::Plugged { bus_number } => ("plugged", bus_number.to_string()),
            ModuleState::Removing { bus_number } => ("removing", bus_number.to_string()),
        };
        out.push_str(&format!(
            "\n{}\t{state}\t{bus}\t{}\t{}",
            module.name, module.open_handles, module.description
        ));
    }
    out
}

fn parse_module_line(line: &str) -> Result<ModuleStatus, String> {
    let bad = || format!("malformed module line from the simulator: '{line}'");
    let fields: Vec<&str> = line.splitn(5, '\t').collect();
    let [name, state, bus, handles, description] = fields.as_slice() else {
        return Err(bad());
    };
    let bus_number = || bus.parse::<u32>().map_err(|_| bad());
    let state = match *state {
        "unplugged" => ModuleState::Unplugged,
        "plugged" => ModuleState::Plugged { bus_number: bus_number()? },
        "removing" => ModuleState::Removing { bus_number: bus_number()? },
        _ => return Err(bad()),
    };
    Ok(ModuleStatus {
        name: name.to_string(),
        description: description.to_string(),
        state,
        open_handles: handles.parse().map_err(|_| bad())?,
    })
}

/// Why a control request failed: the simulator said no (its message), or it could not be
/// reached at all. i2cctl reports the first as a usage error and the second as unreachable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlError {
    Refused(String),
    Unreachable(String),
    /// The control socket is served by a uid the client does not trust; nothing was sent.
    Untrusted(String),
}

impl ControlError {
    pub fn message(&self) -> &str {
        match self {
            ControlError::Refused(message)
            | ControlError::Unreachable(message)
            | ControlError::Untrusted(message) => message,
        }
    }
}

/// Callers that only report the failure (tests, the benchmark) keep a plain message.
impl From<ControlError> for String {
    fn from(error: ControlError) -> String {
        error.message().to_string()
    }
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// The client side, used by i2cctl.
pub struct SimControl {
    path: PathBuf,
    /// Who may serve the socket: root, this user, and $I2C_HAL_SERVER_UID's (or why that
    /// variable cannot be read).
    trusted: Result<TrustedServers, String>,
}

impl SimControl {
    /// The control socket at `path`, served by a uid `TrustedServers::from_env` trusts.
    pub fn new(path: impl Into<PathBuf>) -> SimControl {
        SimControl { path: path.into(), trusted: TrustedServers::from_env() }
    }

    /// The same, also trusting a server running as `uid` (i2cctl's --server-uid).
    pub fn trusting(self, uid: u32) -> SimControl {
        SimControl { trusted: self.trusted.map(|t| t.with(uid)), ..self }
    }

    pub fn plug(&self, module: &str) -> Result<u32, ControlError> {
        let body = self.request(&format!("plug {module}"), CLIENT_REPLY_MARGIN)?;
        body.trim().parse().map_err(|_| self.garbled(&body))
    }

    /// Waits up to `timeout` for open handles to close; the error says if removal is blocked.
    pub fn unplug(&self, module: &str, timeout: Duration) -> Result<Duration, ControlError> {
        let request = format!("unplug {module} {}", timeout.as_millis());
        let body = self.request(&request, timeout.saturating_add(CLIENT_REPLY_MARGIN))?;
        body.trim().parse().map(Duration::from_micros).map_err(|_| self.garbled(&body))
    }

    /// Makes the service panic on its control thread (a test of the panic policy). The
    /// service is expected to die without answering, so an error here is the normal outcome.
    pub fn request_panic(&self) -> Result<String, ControlError> {
        self.request("panic", CLIENT_REPLY_MARGIN)
    }

    pub fn list(&self) -> Result<Vec<ModuleStatus>, ControlError> {
        let body = self.request("list", CLIENT_REPLY_MARGIN)?;
        let mut lines = body.lines();
        let count: usize = lines
            .next()
            .and_then(|first| first.trim().parse().ok())
            .ok_or_else(|| self.garbled(&body))?;
        let modules = lines
            .map(parse_module_line)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ControlError::Unreachable)?;
        if modules.len() != count {
            return Err(self.garbled(&body));
        }
        Ok(modules)
    }

    /// Sends one request and returns the reply after "ok ", or the server's error message.
    /// A simulator that answers something other than "ok" or "err" (or nothing) counts as
    /// unreachable: nothing a user typed can be blamed for it.
    fn request(&self, line: &str, reply_timeout: Duration) -> Result<String, ControlError> {
        if line.contains(['\n', '\r']) {
            let message = format!("invalid request {line:?}: line breaks are not allowed");
            return Err(ControlError::Refused(message));
        }
        let mut stream = UnixStream::connect(&self.path).map_err(|err| {
            ControlError::Unreachable(format!(
                "cannot connect to simulator control socket {}: {} (is the service running \
                 with --sim?)",
                self.path.display(),
                err.kind()
            ))
        })?;
        let trusted = self.trusted.as_ref().map_err(|e| ControlError::Untrusted(e.clone()))?;
        trusted.check(&stream, &self.path).map_err(ControlError::Untrusted)?;
        let io_error = |err: io::Error| {
            ControlError::Unreachable(format!(
                "simulator control socket {}: {}",
                self.path.display(),
                err.kind()
            ))
        };
        stream.set_read_timeout(Some(reply_timeout)).map_err(io_error)?;
        stream.write_all(format!("{line}\n").as_bytes()).map_err(io_error)?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).map_err(io_error)?;
        let reply = reply.strip_suffix('\n').unwrap_or(&reply);
        if let Some(body) = reply.strip_prefix("ok ") {
            Ok(body.to_string())
        } else if let Some(message) = reply.strip_prefix("err ") {
            Err(ControlError::Refused(message.to_string()))
        } else {
            Err(self.garbled(reply))
        }
    }

    fn garbled(&self, reply: &str) -> ControlError {
        ControlError::Unreachable(format!(
            "unexpected reply from simulator control socket {}: '{}'",
            self.path.display(),
            reply.chars().take(200).collect::<String>()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::{EEPROM, EEPROM_MODULE, MODULES, SENSOR_MODULE};
    use super::*;
    use std::fs;
    use std::os::unix::net::UnixListener;
    use std::sync::mpsc;

    fn serve_in(dir: &Path) -> (Arc<SimKernel>, SimControl, mpsc::Receiver<Vec<u8>>) {
        let (tx, rx) = mpsc::channel();
        let kernel = SimKernel::new(&dir.join("sys"), tx).unwrap();
        let socket = socket_path_for(&dir.join("i2c.sock"));
        serve(Arc::clone(&kernel), &socket, SocketAccess::new(0o660, None)).unwrap();
        (kernel, SimControl::new(socket), rx)
    }

    #[test]
    fn socket_path_appends_sim() {
        assert_eq!(socket_path_for(Path::new("/tmp/x.sock")), PathBuf::from("/tmp/x.sock.sim"));
    }

    #[test]
    fn plug_list_unplug_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (kernel, control, _rx) = serve_in(dir.path());
        assert_eq!(control.plug(SENSOR_MODULE), Ok(0));
        assert_eq!(control.plug(EEPROM_MODULE), Ok(1));
        let listed = control.list().unwrap();
        assert_eq!(listed, kernel.modules());
        assert_eq!(listed[1].state, ModuleState::Plugged { bus_number: 0 });
        assert_eq!(listed[0].description, EEPROM.description);

        let handle = kernel.opener().open(0).unwrap();
        let err = control.unplug(SENSOR_MODULE, Duration::from_millis(20)).unwrap_err();
        assert!(
            err.message().contains("blocked") && err.message().contains("1 open handle"),
            "{err}"
        );
        let listed = control.list().unwrap();
        assert_eq!(listed[1].state, ModuleState::Removing { bus_number: 0 });
        assert_eq!(listed[1].open_handles, 1);
        drop(handle);
        assert_eq!(control.list().unwrap()[1].state, ModuleState::Unplugged);
        assert!(control.unplug(EEPROM_MODULE, Duration::from_secs(5)).is_ok());
    }

    #[test]
    fn errors_are_readable() {
        let dir = tempfile::tempdir().unwrap();
        let (_kernel, control, _rx) = serve_in(dir.path());
        let err = control.plug("toaster").unwrap_err();
        assert!(err.message().contains("unknown module 'toaster'"), "{err}");
        assert!(err.message().contains(&format!("{EEPROM_MODULE}, {SENSOR_MODULE}")), "{err}");
        let err = control.unplug(EEPROM_MODULE, Duration::from_millis(1)).unwrap_err();
        assert_eq!(err, ControlError::Refused(format!("module '{EEPROM_MODULE}' is not plugged")));
        assert!(control.plug("bad\nline").unwrap_err().message().contains("line breaks"));
    }

    #[test]
    fn bad_requests_get_an_error_reply() {
        let dir = tempfile::tempdir().unwrap();
        let (_kernel, control, _rx) = serve_in(dir.path());
        let bad_timeout = format!("unplug {EEPROM_MODULE} soon");
        for request in ["", "dance", "plug", &bad_timeout, "list extra"] {
            let mut stream = UnixStream::connect(&control.path).unwrap();
            stream.write_all(format!("{request}\n").as_bytes()).unwrap();
            let mut reply = String::new();
            stream.read_to_string(&mut reply).unwrap();
            assert!(reply.starts_with("err "), "{request:?} got {reply:?}");
        }
        // Binary junk without a newline: still an answer, and the server keeps serving.
        let mut stream = UnixStream::connect(&control.path).unwrap();
        stream.write_all(&[0xff, 0x00, 0xfe]).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("err bad request"), "{reply:?}");
        assert_eq!(control.list().unwrap().len(), MODULES.len());
    }

    #[test]
    fn missing_service_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.sock.sim");
        let err = SimControl::new(&path).list().unwrap_err();
        assert!(matches!(err, ControlError::Unreachable(_)), "{err:?}");
        assert!(err.message().starts_with(&format!(
            "cannot connect to simulator control socket {}",
            path.display()
        )));
        assert!(err.message().ends_with("(is the service running with --sim?)"), "{err}");
    }

    #[test]
    fn serve_replaces_a_stale_socket_but_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, _rx) = mpsc::channel();
        let kernel = SimKernel::new(&dir.path().join("sys"), tx).unwrap();
        let socket = dir.path().join("stale.sim");
        drop(UnixListener::bind(&socket).unwrap());
        serve(Arc::clone(&kernel), &socket, SocketAccess::new(0o660, None)).unwrap();
        assert_eq!(SimControl::new(&socket).list().unwrap().len(), MODULES.len());
        let file = dir.path().join("precious");
        fs::write(&file, "data").unwrap();
        let access = SocketAccess::new(0o660, None);
        assert_eq!(serve(kernel, &file, access).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&file).unwrap(), "data");
    }
}
