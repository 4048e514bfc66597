//! The suite's own service on a Linux host: `i2c-hal-service --sim --sim-modules all` on a
//! socket of its own, configured from the simulator's catalog (sim/src/catalog.rs),
//! so that a plain `cargo test` runs every check, removal included.

use crate::spec;
use crate::target::{Action, Removal, Target, DEVICES_ENV, TARGET_ENV};
use i2c_hal_client::{Client, Endpoint};
use i2c_hal_sim::catalog::{self, smbus2};
use i2c_hal_sim::control::socket_path_for;
use i2c_hal_testkit::poll_until;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

/// How long the service may take to list every module.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The device list for the catalog's modules as `--sim-modules all` plugs them (eeprom-module
/// 0, sensor-module 1, smbus2-module 2, ten-bit-module 3), each named the way a test of the
/// real kernel would name it: the eeprom by its stable id (it is the one that gets unplugged,
/// and a replugged module need not get its number back), the others by number.
pub fn catalog_devices() -> String {
    let eeprom = catalog::stable_id(catalog::EEPROM_MODULE);
    let lm75 = catalog::LM75_ADDRESS;
    let ten_bit = catalog::TEN_BIT_EEPROM_ADDRESS;
    let smbus2_device = catalog::SMBUS2_DEVICE_ADDRESS;
    let smbus2_items = format!(
        "byte={id:#x}:{idv:#x},byte-rw={scratch:#x},word-rw={word:#x},\
         pcall={inc:#x}:0x1234:{pout:#x},bpcall={rev:#x}:010203:{bout},block={rev:#x}:0a0b0c:0c0b0a",
        id = smbus2::REG_ID,
        idv = smbus2::ID,
        scratch = smbus2::REG_SCRATCH,
        word = smbus2::REG_WORD,
        inc = smbus2::REG_INCREMENT,
        pout = smbus2::process_call_answer(0x1234),
        rev = smbus2::REG_REVERSE,
        bout = smbus2::block_process_call_answer(&[1, 2, 3])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    [
        format!("{eeprom}@{:#x},mem=0x80", catalog::EEPROM_ADDRESS),
        format!("{eeprom}@0x30,absent"),
        format!("1@{lm75:#x},word=0x00:{:#06x}", catalog::LM75_TEMPERATURE_WORD),
        format!("1@{:#x},busy", catalog::DRIVER_BOUND_ADDRESS),
        format!("2@{smbus2_device:#x},{smbus2_items}"),
        format!("2@{smbus2_device:#x},pec,{smbus2_items}"),
        format!(
            "3@{ten_bit:#x},10bit,byte=0x00:{:#x},mem=0x80",
            catalog::TEN_BIT_EEPROM_SIGNATURE[0]
        ),
        format!("3@{:#x},absent", catalog::EEPROM_ADDRESS),
    ]
    .join(";")
}

/// What the atexit handler stops and removes.
struct Started {
    pid: u32,
    dir: PathBuf,
}

static STARTED: OnceLock<Started> = OnceLock::new();

/// Stops the service and removes its directory when the test process exits (libtest has no
/// teardown; statics are never dropped).
extern "C" fn stop_at_exit() {
    if let Some(started) = STARTED.get() {
        let Ok(pid) = i32::try_from(started.pid) else { return };
        let pid = nix::unistd::Pid::from_raw(pid);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        // The service exits within its 2 s drain; waiting keeps its files from being
        // removed under it.
        poll_until(Duration::from_secs(5), || {
            matches!(
                nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)),
                Ok(nix::sys::wait::WaitStatus::Exited(..)
                    | nix::sys::wait::WaitStatus::Signaled(..))
                    | Err(_)
            )
        });
        let _ = std::fs::remove_dir_all(&started.dir);
    }
}

/// Spawns the service from a thread that lives as long as the process: the child's parent-death
/// signal fires when the thread that forked it ends, so that thread must never end, and then a
/// test process that is killed outright still takes its service down with it.
fn spawn(service: &Path, dir: &Path, socket: &Path) -> Result<u32, String> {
    let (sender, receiver) = mpsc::channel();
    let (service, dir, socket) = (service.to_owned(), dir.to_owned(), socket.to_owned());
    std::thread::Builder::new()
        .name("vts-simulator".into())
        .spawn(move || {
            let stderr = std::fs::File::create(dir.join("service.stderr"));
            let mut command = Command::new(&service);
            command
                .args(["--sim", "--sim-modules", "all", "--log-level", "info", "--socket"])
                .arg(&socket)
                .arg("--sim-root")
                .arg(dir.join("sim"))
                .env_remove("I2C_HAL_SOCKET")
                .stdin(Stdio::null())
                .stdout(Stdio::null());
            if let Ok(stderr) = stderr {
                command.stderr(stderr);
            }
            // SAFETY: the closure runs in the forked child before exec and only calls
            // prctl(2), which is async-signal-safe, and allocates nothing.
            unsafe {
                command.pre_exec(|| {
                    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                        .map_err(std::io::Error::from)
                });
            }
            let spawned = command.spawn().map(|child| child.id());
            let _ = sender.send(spawned.map_err(|e| format!("spawn {}: {e}", service.display())));
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    receiver.recv().map_err(|_| "the spawning thread died".to_string())?
}

pub fn start() -> Result<Target, String> {
    let service = option_env!("CARGO_BIN_EXE_i2c-hal-service")
        .ok_or("this build does not know where i2c-hal-service is (build it with cargo)")?;
    let dir = std::env::temp_dir().join(format!("i2c-hal-vts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    let socket = dir.join("service.sock");
    let pid = spawn(Path::new(service), &dir, &socket)?;
    let _ = STARTED.set(Started { pid, dir: dir.clone() });
    // SAFETY: atexit(3) only records the function pointer. stop_at_exit takes nothing and
    // cannot unwind into libc's exit(): nothing in it panics (every fallible call's Result is
    // ignored).
    unsafe {
        libc::atexit(stop_at_exit);
    }
    let endpoint = Endpoint::Socket(socket.clone());
    let mut last = String::from("no answer yet");
    let ready = poll_until(READY_TIMEOUT, || {
        match Client::connect(&endpoint).and_then(|c| c.list_buses()) {
            Ok(buses) => {
                last = format!("{} bus(es)", buses.len());
                buses.len() >= catalog::MODULES.len()
            }
            Err(e) => {
                last = e.to_string();
                false
            }
        }
    });
    if !ready {
        let stderr = std::fs::read_to_string(dir.join("service.stderr")).unwrap_or_default();
        return Err(format!("the simulator did not list every module ({last}):\n{stderr}"));
    }
    let devices = catalog_devices();
    let eeprom = catalog::stable_id(catalog::EEPROM_MODULE);
    let removable = spec::parse(&format!("{eeprom}@{:#x},mem=0x80", catalog::EEPROM_ADDRESS))?;
    let control = socket_path_for(&socket);
    let module = catalog::EEPROM_MODULE.to_string();
    Ok(Target {
        description: format!(
            "RPC binder on {} (i2c-hal-service --sim, started by the suite)",
            socket.display()
        ),
        endpoint,
        devices: Some(spec::parse(&devices)?),
        removal: Ok(Removal {
            device: removable[0].clone(),
            unplug: Action::Sim { control: control.clone(), module: module.clone(), plug: false },
            replug: Some(Action::Sim { control, module, plug: true }),
        }),
        unprivileged_uid: 65534,
        child_env: vec![
            (TARGET_ENV.to_string(), format!("socket:{}", socket.display())),
            (DEVICES_ENV.to_string(), devices),
        ],
    })
}
