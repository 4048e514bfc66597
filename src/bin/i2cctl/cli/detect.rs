//! `detect`: i2cdetect's default scan, one shared session per address, and its grid.

use super::format::selector_json;
use super::CliError;
use i2c_hal_client::{Client, ClientError};
use i2c_hal_core::request::func::I2C_FUNC_SMBUS_QUICK;
use i2c_hal_core::request::{SmbusOp, FIRST_ADDRESS, LAST_ADDRESS};
use i2c_hal_core::{ErrorCode, Generation};
use serde_json::{json, Value};
use std::ops::RangeInclusive;

/// What the scan found at one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressState {
    /// Nothing answered (`--`).
    Absent,
    /// Another session or a kernel driver has it (`UU`).
    Busy,
    /// A device acknowledged (the address in hex).
    Present,
}

pub const SCAN_RANGE: RangeInclusive<u16> = FIRST_ADDRESS..=LAST_ADDRESS;

/// i2cdetect's default ("auto") probe: a quick write can lock up EEPROMs (0x50-0x5f) and
/// confuse some chips at 0x30-0x37, so those are read instead; adapters without QUICK are
/// read everywhere.
pub fn probe_op(address: u16, functionality: u64) -> SmbusOp {
    let reads_safer = (0x30..=0x37).contains(&address) || (0x50..=0x5f).contains(&address);
    if reads_safer || functionality & I2C_FUNC_SMBUS_QUICK == 0 {
        SmbusOp::ReadByte
    } else {
        SmbusOp::Quick { read: false }
    }
}

/// How a failed open reads in the grid; errors that say nothing about the address abort.
pub fn classify_open_error(error: ClientError) -> Result<AddressState, ClientError> {
    match error.code() {
        Some(ErrorCode::AddressBusy) => Ok(AddressState::Busy),
        Some(ErrorCode::AddressNack) => Ok(AddressState::Absent),
        _ => Err(error),
    }
}

/// How a failed probe reads in the grid. As in i2cdetect a device that fails the probe is
/// absent; but a bus that went away or a lost session aborts, rather than painting `--`.
pub fn classify_probe_error(error: ClientError) -> Result<AddressState, ClientError> {
    match error.code() {
        Some(ErrorCode::AddressNack | ErrorCode::IoError | ErrorCode::Timeout) => {
            Ok(AddressState::Absent)
        }
        _ => Err(error),
    }
}

/// The scan. The first session tells us the adapter's generation and functionality; later
/// opens ask for that generation, so a replug during the scan aborts instead of mixing buses.
pub fn scan(client: &Client, bus: &str) -> Result<Vec<(u16, AddressState)>, ClientError> {
    let mut adapter: Option<(Generation, u64)> = None;
    let mut found = Vec::new();
    for address in SCAN_RANGE {
        let generation = adapter.map_or(0, |(generation, _)| generation.0);
        let session = match client.open(bus, generation, address, false, Box::new(|_, _| {})) {
            Ok(session) => session,
            Err(error) => {
                found.push((address, classify_open_error(error)?));
                continue;
            }
        };
        let (_, functionality) = match adapter {
            Some(known) => known,
            None => {
                let info = session.bus_info()?;
                *adapter.insert((info.generation, info.functionality))
            }
        };
        let state = match session.smbus(&probe_op(address, functionality)) {
            Ok(_) => AddressState::Present,
            Err(error) => classify_probe_error(error)?,
        };
        // The probe's answer is in hand; a failed close changes nothing about it, and the
        // service reclaims a session whose handle is dropped anyway.
        let _ = session.close();
        found.push((address, state));
    }
    Ok(found)
}

/// i2cdetect's grid, cell for cell (each cell is followed by a space, as i2cdetect prints it).
pub fn render_grid(found: &[(u16, AddressState)]) -> Vec<String> {
    let mut cells: [Option<AddressState>; 128] = [None; 128];
    for (address, state) in found {
        if SCAN_RANGE.contains(address) {
            cells[usize::from(*address)] = Some(*state);
        }
    }
    let header = "     0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f".to_string();
    let rows = (0..128usize).step_by(16).map(|row| {
        let mut line = format!("{row:02x}: ");
        for (address, cell) in cells.iter().enumerate().skip(row).take(16) {
            line.push_str(&render_cell(address, *cell));
            line.push(' ');
        }
        line
    });
    std::iter::once(header).chain(rows).collect()
}

fn render_cell(address: usize, cell: Option<AddressState>) -> String {
    match cell {
        None => "  ".to_string(),
        Some(AddressState::Absent) => "--".to_string(),
        Some(AddressState::Busy) => "UU".to_string(),
        Some(AddressState::Present) => format!("{address:02x}"),
    }
}

pub fn detect_json(bus: &str, found: &[(u16, AddressState)]) -> Value {
    let with_state = |wanted: AddressState| -> Vec<String> {
        found
            .iter()
            .filter(|(_, state)| *state == wanted)
            .map(|(address, _)| format!("{address:#04x}"))
            .collect()
    };
    json!({
        "bus": selector_json(bus),
        "present": with_state(AddressState::Present),
        "busy": with_state(AddressState::Busy),
    })
}

/// Runs `detect` and prints the grid or JSON.
pub fn run(client: &Client, bus: &str, json: bool) -> Result<(), CliError> {
    let found = scan(client, bus)?;
    if json {
        super::emit(detect_json(bus, &found));
    } else {
        render_grid(&found).iter().for_each(super::emit);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service_error(code: ErrorCode) -> ClientError {
        ClientError::Service { code, message: "m".into() }
    }

    #[test]
    fn probes_follow_i2cdetect_auto_mode() {
        let all = u64::MAX;
        assert_eq!(probe_op(0x08, all), SmbusOp::Quick { read: false });
        assert_eq!(probe_op(0x2f, all), SmbusOp::Quick { read: false });
        assert_eq!(probe_op(0x30, all), SmbusOp::ReadByte);
        assert_eq!(probe_op(0x37, all), SmbusOp::ReadByte);
        assert_eq!(probe_op(0x38, all), SmbusOp::Quick { read: false });
        assert_eq!(probe_op(0x50, all), SmbusOp::ReadByte);
        assert_eq!(probe_op(0x5f, all), SmbusOp::ReadByte);
        assert_eq!(probe_op(0x60, all), SmbusOp::Quick { read: false });
        assert_eq!(probe_op(0x08, all & !I2C_FUNC_SMBUS_QUICK), SmbusOp::ReadByte);
    }

    #[test]
    fn open_errors_are_busy_absent_or_fatal() {
        assert_eq!(
            classify_open_error(service_error(ErrorCode::AddressBusy)),
            Ok(AddressState::Busy)
        );
        assert_eq!(
            classify_open_error(service_error(ErrorCode::AddressNack)),
            Ok(AddressState::Absent)
        );
        for fatal in [ErrorCode::NoSuchBus, ErrorCode::BusGone, ErrorCode::PermissionDenied] {
            assert_eq!(classify_open_error(service_error(fatal)), Err(service_error(fatal)));
        }
        let unreachable = ClientError::Transport("down".into());
        assert_eq!(classify_open_error(unreachable.clone()), Err(unreachable));
    }

    #[test]
    fn probe_failures_of_the_device_are_absent_others_abort() {
        for absent in [ErrorCode::AddressNack, ErrorCode::IoError, ErrorCode::Timeout] {
            assert_eq!(classify_probe_error(service_error(absent)), Ok(AddressState::Absent));
        }
        for fatal in [ErrorCode::BusGone, ErrorCode::SessionClosed, ErrorCode::NotSupported] {
            assert!(classify_probe_error(service_error(fatal)).is_err());
        }
    }

    fn full_scan(state_of: impl Fn(u16) -> AddressState) -> Vec<(u16, AddressState)> {
        SCAN_RANGE.map(|address| (address, state_of(address))).collect()
    }

    #[test]
    fn grid_matches_i2cdetect_for_an_empty_bus() {
        let grid = render_grid(&full_scan(|_| AddressState::Absent));
        assert_eq!(grid.len(), 9);
        assert_eq!(grid[0], "     0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f");
        assert_eq!(grid[1], format!("00: {}{}", "   ".repeat(8), "-- ".repeat(8)));
        assert_eq!(grid[2], format!("10: {}", "-- ".repeat(16)));
        assert_eq!(grid[8], format!("70: {}{}", "-- ".repeat(8), "   ".repeat(8)));
    }

    #[test]
    fn grid_shows_present_and_busy_addresses() {
        let grid = render_grid(&full_scan(|address| match address {
            0x08 => AddressState::Present,
            0x50 => AddressState::Present,
            0x51 => AddressState::Busy,
            0x77 => AddressState::Present,
            _ => AddressState::Absent,
        }));
        assert_eq!(grid[1], format!("00: {}08 {}", "   ".repeat(8), "-- ".repeat(7)));
        assert_eq!(grid[6], format!("50: 50 UU {}", "-- ".repeat(14)));
        assert_eq!(grid[8], format!("70: {}77 {}", "-- ".repeat(7), "   ".repeat(8)));
    }

    #[test]
    fn grid_leaves_addresses_outside_the_scan_blank() {
        let grid = render_grid(&[(0x03, AddressState::Present), (0x7a, AddressState::Busy)]);
        assert_eq!(grid[1], format!("00: {}", "   ".repeat(16)));
        assert_eq!(grid[8], format!("70: {}", "   ".repeat(16)));
    }

    #[test]
    fn detect_json_lists_present_and_busy() {
        let found = [
            (0x08, AddressState::Absent),
            (0x1a, AddressState::Busy),
            (0x50, AddressState::Present),
            (0x68, AddressState::Present),
        ];
        assert_eq!(
            detect_json("1", &found),
            json!({"bus": 1, "present": ["0x50", "0x68"], "busy": ["0x1a"]})
        );
    }
}
