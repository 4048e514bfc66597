//! i2c-hal-service: the only holder of /dev/i2c-N; apps get binder sessions instead.

use clap::Parser;
use i2c_hal_core::non_empty_var;
use i2c_hal_core::policy::Limits;
use i2c_hal_platform::unix_socket::{self, SocketAccess};
use i2c_hal_service::daemon::{self, Config, Platform, PolicySetting};
use i2c_hal_service::server::RpcOptions;
use i2c_hal_service::transport::admission::ConnectionLimits;
#[cfg(feature = "sim")]
use i2c_hal_sim::SimKernel;
use std::path::PathBuf;

/// The variable `--policy` falls back to.
const POLICY_ENV: &str = "I2C_HAL_POLICY";

// Soong sets no CARGO_PKG_* variables and AOSP's clap has no `env` feature: the texts are
// literals and the environment is read by hand (docs/android.md).
#[derive(Parser, Debug)]
#[command(
    name = "i2c-hal-service",
    version = i2c_hal_core::VERSION,
    about = "I2C HAL service: brokers access to hot-pluggable I2C buses over binder"
)]
struct Args {
    /// Serve RPC binder on this Unix socket [env: I2C_HAL_SOCKET] (default without a binder
    /// device: /run/i2c-hal/i2c-hal.sock for root, $XDG_RUNTIME_DIR/i2c-hal/i2c-hal.sock for
    /// another user)
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Mode of the RPC socket file, octal; o+w is refused (connecting needs write permission)
    #[arg(long, value_name = "OCTAL", default_value = "0660", value_parser = unix_socket::parse_mode)]
    socket_mode: u32,
    /// Group of the RPC socket file, by name or number (default: the service's own group)
    #[arg(long, value_name = "NAME|GID", value_parser = unix_socket::parse_group)]
    socket_group: Option<u32>,
    /// RPC connections open at once, from all uids together
    #[arg(long, value_name = "N", default_value_t = ConnectionLimits::default().max_connections)]
    max_connections: usize,
    /// RPC connections one uid may have open at once (a client process uses two)
    #[arg(long, value_name = "N", default_value_t = ConnectionLimits::default().max_per_uid)]
    max_connections_per_uid: usize,
    /// Of --max-connections, how many only administrators may use (root, and system on
    /// Android, and whom the policy names), so that they can always connect
    #[arg(long, value_name = "N", default_value_t = ConnectionLimits::default().admin_reserve)]
    admin_connections: usize,
    /// Use this kernel binder device instead of looking for /dev/binderfs/binder, /dev/binder
    #[arg(long, value_name = "PATH", conflicts_with = "socket")]
    binder_device: Option<PathBuf>,
    /// Serve simulated modules instead of the real i2c-dev buses
    #[cfg(feature = "sim")]
    #[arg(long)]
    sim: bool,
    /// Simulated modules to plug at start: comma-separated names, "default" (eeprom-module and
    /// sensor-module), "all" (every module, see `i2cctl sim list`) or "none"
    #[cfg(feature = "sim")]
    #[arg(long, value_name = "LIST", default_value = "default", requires = "sim")]
    sim_modules: String,
    /// Directory for the simulated sysfs tree (default: a temporary one, removed at exit)
    #[cfg(feature = "sim")]
    #[arg(long, value_name = "DIR", requires = "sim")]
    sim_root: Option<PathBuf>,
    /// sysfs mount point (real platform)
    #[arg(long, value_name = "DIR", default_value = "/sys")]
    sysfs_root: PathBuf,
    /// Directory holding the i2c-N device nodes (real platform)
    #[arg(long, value_name = "DIR", default_value = "/dev")]
    dev_root: PathBuf,
    #[cfg_attr(
        feature = "sim",
        arg(help = "The access policy file [env: I2C_HAL_POLICY] (default with --sim: the \
                    built-in development policy; otherwise /etc/i2c-hal/policy.toml, \
                    /vendor/etc/i2c-hal/policy.json on Android). SIGHUP re-reads it")
    )]
    #[cfg_attr(
        not(feature = "sim"),
        arg(help = "The access policy file [env: I2C_HAL_POLICY] (default: \
                    /etc/i2c-hal/policy.json, /vendor/etc/i2c-hal/policy.json on Android). \
                    SIGHUP re-reads it")
    )]
    #[arg(long, value_name = "PATH")]
    policy: Option<PathBuf>,
    /// Sessions one uid may hold at once
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_sessions_per_uid)]
    max_sessions_per_uid: usize,
    /// Log level (error, warn, info, debug, trace); RUST_LOG overrides
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    log_level: String,
}

#[cfg(feature = "sim")]
fn sim_modules(list: &str) -> Vec<String> {
    match list {
        "default" => SimKernel::default_module_names().into_iter().map(String::from).collect(),
        "all" => SimKernel::module_names().into_iter().map(String::from).collect(),
        "none" | "" => Vec::new(),
        names => names.split(',').map(|n| n.trim().to_string()).collect(),
    }
}

#[cfg(feature = "sim")]
fn simulated(args: &Args) -> Option<Platform> {
    args.sim.then(|| Platform::Simulated {
        root: args.sim_root.clone(),
        plugged: sim_modules(&args.sim_modules),
    })
}

/// The vendor build has no simulator: the real buses it is.
#[cfg(not(feature = "sim"))]
fn simulated(_: &Args) -> Option<Platform> {
    None
}

fn main() {
    let args = Args::parse();
    // stderr on hosts, logcat on Android (compat decides); panics go to the same log.
    i2c_hal_service::logging::init_logging(&args.log_level);
    daemon::install_panic_policy();

    let platform = simulated(&args)
        .unwrap_or(Platform::Linux { sysfs_root: args.sysfs_root, dev_root: args.dev_root });
    let limits = Limits { max_sessions_per_uid: args.max_sessions_per_uid, ..Limits::default() };
    let rpc = RpcOptions {
        access: SocketAccess::new(args.socket_mode, args.socket_group),
        limits: ConnectionLimits {
            max_connections: args.max_connections,
            max_per_uid: args.max_connections_per_uid,
            admin_reserve: args.admin_connections,
        },
    };
    let policy_arg = args.policy.or_else(|| non_empty_var(POLICY_ENV).map(PathBuf::from));
    let policy = match (policy_arg, &platform) {
        (Some(path), _) => PolicySetting::File(path),
        #[cfg(feature = "sim")]
        (None, Platform::Simulated { .. }) => PolicySetting::Development,
        (None, _) => PolicySetting::File(PathBuf::from(daemon::DEFAULT_POLICY_PATH)),
    };
    let endpoint = daemon::endpoint(args.socket, args.binder_device);
    if let Err(e) = daemon::run(Config { platform, endpoint, limits, policy, rpc }) {
        log::error!("i2c-hal-service: {e}");
        std::process::exit(1);
    }
}
