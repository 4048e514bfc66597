//! Assembles the service: a platform (real i2c-dev + netlink, or the simulator with feature
//! `sim`), the broker, the uevent monitor, and a binder transport. `i2c-hal-service` is a thin
//! wrapper around `run`.

#![forbid(unsafe_code)]

use crate::notifier::Notifier;
use crate::server::{serve_kernel, serve_rpc, Instances, RpcOptions};
use crate::service::{AdminService, ManagerService};
use crate::transport::admission::Admission;
#[cfg(feature = "sim")]
use i2c_hal_binder::endpoint::default_service_socket;
use i2c_hal_binder::endpoint::Endpoint;
use i2c_hal_core::broker::Broker;
use i2c_hal_core::device::DeviceOpener;
use i2c_hal_core::policy::engine::{PolicyEngine, PolicyLoader, PolicySource};
use i2c_hal_core::policy::file::MAX_POLICY_BYTES;
#[cfg(feature = "sim")]
use i2c_hal_core::policy::rules::AccessPolicy;
use i2c_hal_core::policy::{Caller, Limits, Policy, UidScheme, AID_ROOT};
use i2c_hal_platform::i2cdev::I2cDevOpener;
use i2c_hal_platform::monitor::Monitor;
use i2c_hal_platform::netlink::NetlinkSource;
use i2c_hal_platform::source::UeventSource;
use i2c_hal_platform::sysfs::Sysfs;
use i2c_hal_platform::unix_socket;
#[cfg(feature = "sim")]
use i2c_hal_sim::{control, SimKernel, SimSource};
use log::{info, warn};
use nix::sys::signal::{SigSet, Signal};
use std::io;
use std::path::{Path, PathBuf};
#[cfg(feature = "sim")]
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the buses come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Platform {
    /// Real adapters: i2c-dev nodes under `dev_root`, sysfs under `sysfs_root`, kernel uevents.
    Linux { sysfs_root: PathBuf, dev_root: PathBuf },
    /// Simulated modules; `plugged` are plugged at start-up (through uevents, like hot-plug).
    #[cfg(feature = "sim")]
    Simulated { root: Option<PathBuf>, plugged: Vec<String> },
}

/// How the service is reached: the same decision i2cctl makes (`Endpoint::resolve`), except
/// that `--binder-device` names the kernel binder device explicitly when no socket is given.
pub fn endpoint(socket: Option<PathBuf>, binder_device: Option<PathBuf>) -> Endpoint {
    match (socket, binder_device) {
        (None, Some(device)) => Endpoint::KernelBinder(device),
        (socket, _) => Endpoint::resolve_for_service(socket),
    }
}

/// The simulator's control socket sits next to the service socket (or the default one).
#[cfg(feature = "sim")]
fn control_socket(endpoint: &Endpoint) -> PathBuf {
    match endpoint {
        Endpoint::Socket(path) => control::socket_path_for(path),
        Endpoint::KernelBinder(_) => control::socket_path_for(&default_service_socket()),
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub platform: Platform,
    pub endpoint: Endpoint,
    pub limits: Limits,
    /// Where the access policy comes from.
    pub policy: PolicySetting,
    /// Who may connect to the RPC socket, and how many at once (unused on kernel binder).
    pub rpc: RpcOptions,
}

/// Where the access policy comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySetting {
    /// A policy file, read at start (an invalid one stops the service) and at every reload.
    File(PathBuf),
    /// The built-in development policy (policy/development.toml): the simulator's default.
    #[cfg(feature = "sim")]
    Development,
}

/// Where Android.bp's `vendor.i2c-policy` installs the policy: the JSON form Soong makes of
/// android/policy.toml (xtask/src/android.rs checks that they agree).
pub const ANDROID_POLICY_PATH: &str = "/vendor/etc/i2c-hal/policy.json";

/// The policy file of a device when none is named: /vendor/etc on Android, /etc on hosts; in
/// TOML where the build reads it (feature `toml`), JSON otherwise.
pub const DEFAULT_POLICY_PATH: &str = if cfg!(target_os = "android") {
    ANDROID_POLICY_PATH
} else if cfg!(feature = "toml") {
    "/etc/i2c-hal/policy.toml"
} else {
    "/etc/i2c-hal/policy.json"
};

/// policy/development.toml, built in so that `--sim` needs no file (and left out of the vendor
/// build, which has no simulator).
#[cfg(feature = "sim")]
const DEVELOPMENT_POLICY: &str = include_str!("../../policy/development.toml");

/// Builds the access policy the broker consults.
fn access_policy(setting: &PolicySetting) -> io::Result<Arc<dyn Policy>> {
    match setting {
        #[cfg(feature = "sim")]
        PolicySetting::Development => {
            let policy = AccessPolicy::parse(DEVELOPMENT_POLICY)
                .map_err(|e| io::Error::other(format!("built-in development policy: {e}")))?;
            warn!(
                "access policy: the built-in DEVELOPMENT policy (every caller, everything, on \
                 the simulated modules); never use it on a device"
            );
            Ok(Arc::new(PolicyEngine::fixed(policy, "the built-in development policy")))
        }
        PolicySetting::File(path) => {
            let reader = path.clone();
            let loader: PolicyLoader = Box::new(move || read_policy_file(&reader));
            let origin = path.display().to_string();
            let source = PolicySource {
                origin: origin.clone(),
                loader,
                scheme: UidScheme::of_this_build(),
                groups: Some(Box::new(i2c_hal_platform::users::group_members)),
            };
            let engine = PolicyEngine::load(source).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "access policy {e} (default deny: the service needs a policy; see \
                         policy/example.toml, or pass --policy PATH)"
                    ),
                )
            })?;
            info!("access policy: {origin} ({} rule(s))", engine.current().rules.len());
            Ok(Arc::new(engine))
        }
    }
}

/// Reads a policy file, refusing one larger than any policy needs (a reload must not make
/// the service allocate without bound).
fn read_policy_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut text = String::new();
    file.take(MAX_POLICY_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(text)
}

/// What must be undone when the service stops, on an early error too (hence Drop).
#[derive(Default)]
struct Cleanup {
    /// Claimed socket paths (`platform::unix_socket`). Only a claim lets this process remove a
    /// path, so a second instance that fails to start leaves the first one's sockets alone.
    sockets: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for socket in &self.sockets {
            unix_socket::release(socket);
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

struct PlatformParts {
    opener: Arc<dyn DeviceOpener>,
    sysfs: Sysfs,
    source: Box<dyn UeventSource>,
    /// The fake kernel, and the modules to plug before the monitor's first scan.
    #[cfg(feature = "sim")]
    simulator: Option<(Arc<SimKernel>, Vec<String>)>,
}

fn linux_platform(sysfs_root: PathBuf, dev_root: PathBuf) -> io::Result<PlatformParts> {
    // Open the socket before the first scan, so no event falls between the two.
    let source = NetlinkSource::open()
        .map_err(|e| io::Error::new(e.kind(), format!("kernel uevent socket: {e}")))?;
    Ok(PlatformParts {
        opener: Arc::new(I2cDevOpener::new(dev_root)),
        sysfs: Sysfs::new(sysfs_root),
        source: Box::new(source),
        #[cfg(feature = "sim")]
        simulator: None,
    })
}

#[cfg(feature = "sim")]
fn simulated_platform(root: PathBuf, plugged: Vec<String>) -> io::Result<PlatformParts> {
    let (events, receiver) = mpsc::channel();
    let kernel = SimKernel::new(&root, events)?;
    Ok(PlatformParts {
        opener: kernel.opener(),
        sysfs: Sysfs::new(kernel.sysfs_root()),
        source: Box::new(SimSource::new(receiver)),
        simulator: Some((kernel, plugged)),
    })
}

/// The simulator's tree when --sim-root names none: `<control socket>.d`, beside the sockets
/// in their directory that only the service may write, private (0700), and removed at exit.
/// One left by an instance that was killed is removed first: the control socket's claim,
/// taken here, says no running instance uses it.
#[cfg(feature = "sim")]
fn default_sim_root(endpoint: &Endpoint, cleanup: &mut Cleanup) -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let control = control_socket(endpoint);
    unix_socket::claim(&control)?;
    cleanup.sockets.push(control.clone());
    let mut root = control.into_os_string();
    root.push(".d");
    let root = PathBuf::from(root);
    if std::fs::symlink_metadata(&root).is_ok() {
        warn!("removing the simulator tree {} left by an earlier instance", root.display());
        std::fs::remove_dir_all(&root)?;
    }
    std::fs::DirBuilder::new().mode(0o700).create(&root)?;
    cleanup.dirs.push(root.clone());
    Ok(root)
}

/// Plugs the start-up modules and opens the simulator's control socket.
#[cfg(feature = "sim")]
fn start_simulator(
    kernel: &Arc<SimKernel>,
    plugged: &[String],
    config: &Config,
    cleanup: &mut Cleanup,
) -> io::Result<()> {
    // Plugged before the monitor's first scan, so the service lists them from its first
    // answer on; their queued uevents then arrive as duplicates and are ignored.
    for module in plugged {
        match kernel.plug(module) {
            Ok(bus) => info!("simulated {module} plugged as bus {bus}"),
            Err(e) => warn!("cannot plug simulated {module}: {e}"),
        }
    }
    let path = control_socket(&config.endpoint);
    // The same doors as the service's socket: it can unplug modules and panic the service.
    control::serve(kernel.clone(), &path, config.rpc.access)?;
    cleanup.sockets.push(path.clone());
    info!("simulator control socket: {}", path.display());
    Ok(())
}

/// Runs the service until SIGINT/SIGTERM (or a fatal transport error).
pub fn run(config: Config) -> io::Result<()> {
    let signals = block_termination_signals()?;
    let mut cleanup = Cleanup::default();
    // First, so that a second instance on the same socket stops before it has started
    // anything; serve_rpc's own claim then finds the path already held by this process.
    if let Endpoint::Socket(path) = &config.endpoint {
        unix_socket::claim(path)?;
        cleanup.sockets.push(path.clone());
    }
    let parts = match &config.platform {
        Platform::Linux { sysfs_root, dev_root } => {
            linux_platform(sysfs_root.clone(), dev_root.clone())?
        }
        #[cfg(feature = "sim")]
        Platform::Simulated { root, plugged } => {
            let root = match root {
                Some(root) => root.clone(),
                None => default_sim_root(&config.endpoint, &mut cleanup)?,
            };
            info!("simulated modules under {}", root.display());
            simulated_platform(root, plugged.clone())?
        }
    };
    #[cfg(feature = "sim")]
    if let Some((kernel, plugged)) = &parts.simulator {
        start_simulator(kernel, plugged, &config, &mut cleanup)?;
    }

    let policy = access_policy(&config.policy)?;
    // Every callback goes through the notifier: a removal hands it its whole batch.
    let notifier = Notifier::start()?;
    let broker =
        Arc::new(Broker::new(parts.opener, policy.clone(), config.limits, notifier.clone()));
    Monitor::new(parts.sysfs, broker.clone()).start(parts.source)?;

    // The policy decides who administers, and so who may use the connections' reserve.
    let admission =
        Admission::new(config.rpc.limits, Box::new(move |uid| policy.is_administrator(uid)));
    let admin = match &config.endpoint {
        Endpoint::Socket(_) => AdminService::new(broker.clone()).with_transport(admission.clone()),
        Endpoint::KernelBinder(_) => AdminService::new(broker.clone()),
    };
    let instances = Instances {
        manager: ManagerService::new(broker.clone(), notifier.clone()).into_binder(),
        admin: admin.into_binder(),
    };
    let endpoint = config.endpoint.clone();
    let access = config.rpc.access;
    let transport_failure = Arc::new(Mutex::new(None));
    let failure_slot = transport_failure.clone();
    std::thread::Builder::new().name("binder-server".into()).spawn(move || {
        let result = match &endpoint {
            Endpoint::Socket(path) => serve_rpc(instances, path, access, admission),
            Endpoint::KernelBinder(device) => serve_kernel(instances, device),
        };
        if let Err(e) = result {
            *i2c_hal_core::sync::lock(&failure_slot) = Some(e);
            // Wake the main thread so the service stops instead of idling unreachable.
            // Process-directed, so the main thread's sigwait sees it.
            let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), Signal::SIGTERM);
        }
    })?;

    let signal = loop {
        match signals.wait().map_err(io::Error::from)? {
            // SIGHUP re-reads the policy, as II2cAdmin.reloadPolicy does.
            Signal::SIGHUP => match broker.reload_policy(Caller { uid: AID_ROOT, pid: 0 }) {
                Ok(ended) => info!("SIGHUP: policy reloaded, {ended} session(s) ended"),
                Err(e) => warn!("SIGHUP: policy not reloaded: {e}"),
            },
            other => break other,
        }
    };
    let failure = i2c_hal_core::sync::lock(&transport_failure).take();
    match &failure {
        // The error itself is what run returns.
        Some(_) => warn!("binder transport failed; shutting down"),
        None => info!("{signal:?}: shutting down"),
    }
    broker.shutdown();
    if !notifier.drain(Duration::from_secs(2)) {
        warn!("some shutdown callbacks were not delivered in time");
    }
    drop(cleanup);
    // A service that lost its transport did not stop cleanly; init must see that.
    match failure {
        Some(e) => Err(io::Error::new(e.kind(), format!("binder transport failed: {e}"))),
        None => Ok(()),
    }
}

/// A panic in any thread takes the whole process down. A service that lost one thread but
/// kept running would be half-alive: a dead monitor never sees a removal (so fds pin the
/// adapter again), a dead callback worker never tells its clients. Aborting lets init restart
/// the service whole; clients see their binder die and reconnect.
pub fn install_panic_policy() {
    std::panic::set_hook(Box::new(|panic| {
        log::error!("panic: {panic}; aborting so that the service restarts whole");
        log::logger().flush();
        std::process::abort();
    }));
}

/// Blocks SIGINT/SIGTERM (and SIGHUP, the reload) in this thread and every thread spawned
/// after it, so that the main thread can wait for them synchronously and act in order.
fn block_termination_signals() -> io::Result<SigSet> {
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGTERM);
    signals.add(Signal::SIGHUP);
    signals.thread_block().map_err(io::Error::from)?;
    Ok(signals)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every policy in the tree parses, and its JSON form (what Soong installs on a device)
    /// is the same policy.
    #[cfg(all(feature = "sim", feature = "toml"))]
    #[test]
    fn the_policies_in_the_tree_parse() {
        let development = AccessPolicy::parse(DEVELOPMENT_POLICY).unwrap();
        assert!(development.rules.iter().all(|r| r.name.contains("DEVELOPMENT ONLY")));
        for text in [
            DEVELOPMENT_POLICY,
            include_str!("../../policy/example.toml"),
            include_str!("../../tests/vm/policy.toml"),
            include_str!("../../android/policy.toml"),
        ] {
            let policy = AccessPolicy::parse(text).unwrap();
            assert!(!policy.rules.is_empty());
            let json = AccessPolicy::to_json(text, UidScheme::of_this_build()).unwrap();
            assert_eq!(AccessPolicy::parse(&json).unwrap(), policy, "{json}");
        }
    }

    #[test]
    fn a_policy_file_that_is_missing_or_invalid_stops_the_service() {
        let dir = tempfile::tempdir().unwrap();
        let missing = PolicySetting::File(dir.path().join("none.toml"));
        let err = access_policy(&missing).err().expect("missing file refused");
        assert!(err.to_string().contains("none.toml"), "{err}");
        let invalid = dir.path().join("bad.json");
        std::fs::write(&invalid, "{\n  \"rule\": [\n    { \"name\": 3 }\n  ]\n}\n").unwrap();
        let err = access_policy(&PolicySetting::File(invalid)).err().expect("invalid refused");
        // Which line, and why, is the core's to test (policy::engine); here: refused as data.
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        let huge = dir.path().join("huge.toml");
        std::fs::write(&huge, "#".repeat(MAX_POLICY_BYTES + 10)).unwrap();
        assert!(access_policy(&PolicySetting::File(huge)).is_err());
    }

    #[test]
    fn an_explicit_socket_always_means_rpc() {
        let socket = PathBuf::from("/tmp/x.sock");
        let device = Some(PathBuf::from("/dev/binder"));
        assert_eq!(endpoint(Some(socket.clone()), device.clone()), Endpoint::Socket(socket));
        assert_eq!(endpoint(None, device), Endpoint::KernelBinder(PathBuf::from("/dev/binder")));
    }

    #[cfg(feature = "sim")]
    #[test]
    fn the_control_socket_sits_next_to_the_service_socket() {
        let rpc = Endpoint::Socket(PathBuf::from("/run/x.sock"));
        assert_eq!(control_socket(&rpc), PathBuf::from("/run/x.sock.sim"));
        let kernel = Endpoint::KernelBinder(PathBuf::from("/dev/binder"));
        let expected = format!("{}.sim", default_service_socket().display());
        assert_eq!(control_socket(&kernel), PathBuf::from(expected));
    }
}
