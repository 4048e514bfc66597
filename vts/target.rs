//! Which service the suite checks, what is behind its buses, and how (or whether) a bus can be
//! unplugged there. Everything comes from the environment, so the same binary runs against a
//! simulator on a host, the real kernel in QEMU and a phone:
//!
//! - `I2C_HAL_VTS_TARGET`: `socket:PATH` (RPC binder on a Unix socket; `$I2C_HAL_SOCKET` means
//!   the same) or `binder` (the service manager on kernel binder, the default on Android).
//!   Unset on a Linux host, the suite starts `i2c-hal-service --sim --sim-modules all` itself
//!   and configures everything below from the simulator's catalog.
//! - `I2C_HAL_VTS_DEVICES`: the devices behind the buses (`spec.rs`). Unset: every check that
//!   needs a device is skipped, saying so.
//! - `I2C_HAL_VTS_REMOVABLE` (`BUS@ADDR`, a device of the list on a bus that can be unplugged),
//!   `I2C_HAL_VTS_UNPLUG` and `I2C_HAL_VTS_REPLUG` (shell commands): how to unplug and replug
//!   it. Unset (a phone): the removal checks are skipped, saying so.
//! - `I2C_HAL_VTS_UNPRIVILEGED_UID`: the uid the admin check calls from (default: `nobody`,
//!   65534 on Linux, AID_NOBODY 9999 on Android).

use crate::spec::{self, DeviceSpec, Presence};
use i2c_hal_client::{Client, Endpoint};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

pub const TARGET_ENV: &str = "I2C_HAL_VTS_TARGET";
pub const DEVICES_ENV: &str = "I2C_HAL_VTS_DEVICES";
pub const REMOVABLE_ENV: &str = "I2C_HAL_VTS_REMOVABLE";
pub const UNPLUG_ENV: &str = "I2C_HAL_VTS_UNPLUG";
pub const REPLUG_ENV: &str = "I2C_HAL_VTS_REPLUG";
pub const UNPRIVILEGED_ENV: &str = "I2C_HAL_VTS_UNPRIVILEGED_UID";

/// How long an unplug or replug command, or the service reacting to it, may take.
pub const REMOVAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Android's AID_NOBODY (system/core/libcutils/include/private/android_filesystem_config.h).
#[cfg(target_os = "android")]
const DEFAULT_UNPRIVILEGED_UID: u32 = 9999;
/// Debian's nobody.
#[cfg(not(target_os = "android"))]
const DEFAULT_UNPRIVILEGED_UID: u32 = 65534;

/// A way to unplug (or replug) the removable bus.
pub enum Action {
    /// A shell command that returns once the kernel has removed (or added) the adapter.
    Shell(String),
    /// The simulator's control socket (the self-started simulator).
    #[cfg(all(feature = "sim", not(target_os = "android")))]
    Sim { control: PathBuf, module: String, plug: bool },
}

impl Action {
    pub fn describe(&self) -> String {
        match self {
            Action::Shell(command) => format!("`{command}`"),
            #[cfg(all(feature = "sim", not(target_os = "android")))]
            Action::Sim { module, plug, .. } => {
                format!("simulator {} {module}", if *plug { "plug" } else { "unplug" })
            }
        }
    }

    /// Runs it to completion; Err says what went wrong.
    pub fn run(&self) -> Result<(), String> {
        match self {
            Action::Shell(command) => {
                let status = Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .status()
                    .map_err(|e| format!("cannot run sh: {e}"))?;
                if status.success() {
                    Ok(())
                } else {
                    Err(format!("`{command}` failed ({status})"))
                }
            }
            #[cfg(all(feature = "sim", not(target_os = "android")))]
            Action::Sim { control, module, plug } => {
                let sim = i2c_hal_sim::control::SimControl::new(control.clone());
                let done = if *plug {
                    sim.plug(module).map(|_| ())
                } else {
                    sim.unplug(module, REMOVAL_TIMEOUT).map(|_| ())
                };
                done.map_err(|error| error.to_string())
            }
        }
    }
}

/// How this environment unplugs a bus.
pub struct Removal {
    /// The device the suite holds a session on while its bus goes.
    pub device: DeviceSpec,
    pub unplug: Action,
    pub replug: Option<Action>,
}

/// The service under test and what the suite knows about its environment.
pub struct Target {
    pub endpoint: Endpoint,
    pub description: String,
    pub devices: Option<Vec<DeviceSpec>>,
    pub removal: Result<Removal, String>,
    pub unprivileged_uid: u32,
    /// The environment a child of the suite needs to reach the same service.
    pub child_env: Vec<(String, String)>,
}

impl Target {
    pub fn connect(&self) -> Client {
        Client::connect(&self.endpoint)
            .unwrap_or_else(|e| panic!("cannot reach the service ({}): {e}", self.description))
    }

    /// The configured devices of one presence; None when no device list was given.
    pub fn devices(&self, presence: Presence) -> Option<Vec<DeviceSpec>> {
        let Some(devices) = &self.devices else {
            return None;
        };
        Some(devices.iter().filter(|d| d.presence == presence).cloned().collect())
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn from_environment() -> Result<Option<Target>, String> {
    let endpoint = match var(TARGET_ENV) {
        Some(target) if target == "binder" => {
            match i2c_hal_binder::endpoint::binder_device() {
                Some(device) => Endpoint::KernelBinder(device),
                // libbinder opens its own device on Android; the path is not used there.
                None if cfg!(target_os = "android") => Endpoint::KernelBinder("/dev/binder".into()),
                None => return Err(format!("{TARGET_ENV}=binder but no binder device exists")),
            }
        }
        Some(target) => match target.strip_prefix("socket:") {
            Some(path) => Endpoint::Socket(PathBuf::from(path)),
            None => return Err(format!("{TARGET_ENV}={target}: want `socket:PATH` or `binder`")),
        },
        None => match var(i2c_hal_client::SOCKET_ENV) {
            Some(path) => Endpoint::Socket(PathBuf::from(path)),
            None if cfg!(target_os = "android") => Endpoint::KernelBinder("/dev/binder".into()),
            None => return Ok(None),
        },
    };
    let devices = var(DEVICES_ENV).map(|text| spec::parse(&text)).transpose()?;
    let removal = match (var(REMOVABLE_ENV), var(UNPLUG_ENV)) {
        (Some(device), Some(unplug)) => {
            let mut parsed = spec::parse(&device)?;
            if parsed.len() != 1 {
                return Err(format!("{REMOVABLE_ENV}={device}: want one BUS@ADDR"));
            }
            Ok(Removal {
                device: parsed.remove(0),
                unplug: Action::Shell(unplug),
                replug: var(REPLUG_ENV).map(Action::Shell),
            })
        }
        _ => Err(format!(
            "this environment cannot unplug a bus for the suite ({REMOVABLE_ENV} and \
             {UNPLUG_ENV} are not set; a phone's buses cannot be unplugged on command)"
        )),
    };
    let unprivileged_uid = match var(UNPRIVILEGED_ENV) {
        Some(uid) => uid.parse().map_err(|_| format!("{UNPRIVILEGED_ENV}={uid}: not a uid"))?,
        None => DEFAULT_UNPRIVILEGED_UID,
    };
    let description = match &endpoint {
        Endpoint::Socket(path) => format!("RPC binder on {}", path.display()),
        Endpoint::KernelBinder(device) => format!("kernel binder ({})", device.display()),
    };
    let child_env = [TARGET_ENV, DEVICES_ENV, UNPRIVILEGED_ENV]
        .iter()
        .filter_map(|name| var(name).map(|v| (name.to_string(), v)))
        .chain(match &endpoint {
            Endpoint::Socket(path) => {
                Some((TARGET_ENV.to_string(), format!("socket:{}", path.display())))
            }
            Endpoint::KernelBinder(_) => None,
        })
        .collect();
    Ok(Some(Target { endpoint, description, devices, removal, unprivileged_uid, child_env }))
}

static TARGET: OnceLock<Result<Target, String>> = OnceLock::new();

/// The service under test, found (or started) once per process.
pub fn target() -> &'static Target {
    let target = TARGET.get_or_init(|| match from_environment() {
        Ok(Some(target)) => Ok(target),
        Ok(None) => self_started(),
        Err(why) => Err(why),
    });
    match target {
        Ok(target) => {
            static ONCE: OnceLock<()> = OnceLock::new();
            ONCE.get_or_init(|| eprintln!("vts: checking the service over {}", target.description));
            target
        }
        Err(why) => panic!("vts: no service to check: {why}"),
    }
}

/// Whether the suite started the service itself (a plain `cargo test` on a host).
#[cfg(not(target_os = "android"))]
pub fn is_self_started() -> bool {
    target();
    SELF_STARTED.get().is_some()
}

#[cfg(not(target_os = "android"))]
static SELF_STARTED: OnceLock<()> = OnceLock::new();

#[cfg(not(all(feature = "sim", not(target_os = "android"))))]
fn self_started() -> Result<Target, String> {
    Err(format!("{TARGET_ENV} is not set, and this build cannot start a simulator (feature `sim`)"))
}

#[cfg(all(feature = "sim", not(target_os = "android")))]
fn self_started() -> Result<Target, String> {
    let target = crate::simulator::start()?;
    let _ = SELF_STARTED.set(());
    Ok(target)
}

/// Checks that change what other checks see (a revoke, an unplug) run alone; the others share.
static DISRUPTION: RwLock<()> = RwLock::new(());

/// Held by a check that only uses the buses.
pub fn shared() -> RwLockReadGuard<'static, ()> {
    // A check that failed while holding the lock poisons it; the next one still runs.
    DISRUPTION.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held by a check that revokes or unplugs a bus.
pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    DISRUPTION.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Lists the buses, failing the check with `what` if the service cannot.
pub fn list(client: &Client, what: &str) -> Vec<i2c_hal_core::BusInfo> {
    client.list_buses().unwrap_or_else(|e| panic!("{what}: listBuses failed: {e}"))
}
