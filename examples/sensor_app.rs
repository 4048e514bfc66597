//! An app's use of the service in Rust, with unmodified embedded-hal driver crates: read the
//! simulated module's 24C02 EEPROM with `eeprom24x` and its LM75 with `lm75`, follow the
//! session-lost notification, and carry on with a new session when the module is back.
//!
//! ```sh
//! ./run-service --sim                                  # another terminal
//! cargo run --example sensor_app -- [--socket PATH] [READS]
//! ```
//!
//! It reads the temperature READS times (default 10), one second apart. Unplug the sensor
//! module meanwhile (`i2cctl sim unplug sensor-module`, then `i2cctl sim plug sensor-module`)
//! to see the loss and the reopen. docs/app-developers.md walks through this file.

use eeprom24x::{Eeprom24x, SlaveAddr};
use i2c_hal_client::{Client, ClientError, Endpoint, OpenOptions, SessionLost};
use lm75::{Address, Lm75};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::Receiver;
use std::time::Duration;

// ANCHOR: find
/// The simulated modules' stable ids (on a device: the ids `i2cctl buses` shows).
const EEPROM_BUS: &str = "platform/i2c-hal-sim/eeprom-module";
const SENSOR_BUS: &str = "platform/i2c-hal-sim/sensor-module";

fn connect(socket: Option<PathBuf>) -> Result<Client, ClientError> {
    match socket {
        // An RPC socket given explicitly (hosts).
        Some(path) => Client::connect(&Endpoint::Socket(path)),
        // Else as i2cctl does: $I2C_HAL_SOCKET, kernel binder's service manager, the default
        // socket.
        None => Client::connect_default(),
    }
}
// ANCHOR_END: find

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut socket = None;
    let mut reads = 10;
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--socket", Some(path)) => socket = Some(PathBuf::from(path)),
            (count, None) if count.parse::<u32>().is_ok() => reads = count.parse().unwrap_or(10),
            _ => {
                eprintln!("usage: sensor_app [--socket PATH] [READS]");
                return ExitCode::from(2);
            }
        }
    }
    match run(socket, reads) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sensor_app: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(socket: Option<PathBuf>, reads: u32) -> Result<(), Box<dyn std::error::Error>> {
    let client = connect(socket)?;
    // ANCHOR: death
    // The service's own death: a binder death notification, no polling.
    let _death = client.on_service_death(|| {
        eprintln!("sensor_app: the service died");
        std::process::exit(3);
    })?;
    // ANCHOR_END: death

    // ANCHOR: eeprom
    let session =
        client.open_with(EEPROM_BUS, 0x50, &OpenOptions::default(), Box::new(|_, _| {}))?;
    let mut eeprom = Eeprom24x::new_24x02(session, SlaveAddr::default());
    let mut id = [0u8; 18];
    eeprom.read_data(0, &mut id).map_err(eeprom_error)?;
    println!("eeprom says {:?}", String::from_utf8_lossy(&id));
    // ANCHOR_END: eeprom

    // ANCHOR: sensor
    let (session, lost) = client.open_channel(SENSOR_BUS, 0x48, &OpenOptions::default())?;
    let mut bus = session.bus_info()?;
    let mut sensor = Lm75::new(session, Address::default());
    let mut lost: Receiver<SessionLost> = lost;
    for _ in 0..reads {
        match sensor.read_temperature() {
            Ok(celsius) => println!("{celsius:.1} °C (bus generation {})", bus.generation),
            Err(error) => println!("read failed: {}", sensor_error(error)),
        }
        // The loss arrives once; the dead session answers BUS_GONE from then on.
        if let Ok(SessionLost { reason, message }) = lost.recv_timeout(Duration::from_secs(1)) {
            println!("session lost ({}): {message}; waiting for the module", reason.name());
            // A new session on the same module (same stable id, newer generation).
            let (session, new_lost) =
                client.reopen(&bus, 0x48, &OpenOptions::default(), Duration::from_secs(60))?;
            bus = session.bus_info()?;
            sensor = Lm75::new(session, Address::default());
            lost = new_lost;
        }
    }
    // ANCHOR_END: sensor
    Ok(())
}

/// The drivers wrap the bus's error (here the session's ClientError) in their own.
fn eeprom_error(error: eeprom24x::Error<ClientError>) -> String {
    match error {
        eeprom24x::Error::I2C(error) => error.to_string(),
        other => format!("eeprom24x refused: {other:?}"),
    }
}

fn sensor_error(error: lm75::Error<ClientError>) -> String {
    match error {
        lm75::Error::I2C(error) => error.to_string(),
        other => format!("lm75 refused: {other:?}"),
    }
}
