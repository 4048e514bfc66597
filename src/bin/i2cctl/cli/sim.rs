//! `sim`: plug and unplug the simulator's virtual modules through its control socket, which
//! lives next to the service socket.

use super::args::SimAction;
use super::{emit, CliError};
use i2c_hal_binder::endpoint::{default_client_socket, socket_from_env};
use i2c_hal_sim::control::{socket_path_for, ControlError, SimControl};
use i2c_hal_sim::{ModuleState, ModuleStatus};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// The service socket the simulator serves next to: --socket, else $I2C_HAL_SOCKET, else the
/// default socket. A service on kernel binder keeps its control socket next to the default
/// socket too, so no binder device needs probing to find it.
pub fn service_socket(socket_arg: Option<PathBuf>) -> PathBuf {
    socket_arg.or_else(socket_from_env).unwrap_or_else(default_client_socket)
}

pub fn run(
    action: SimAction,
    socket_arg: Option<PathBuf>,
    server_uid: Option<u32>,
    json: bool,
) -> Result<(), CliError> {
    let mut control = SimControl::new(socket_path_for(&service_socket(socket_arg)));
    if let Some(uid) = server_uid {
        control = control.trusting(uid);
    }
    match action {
        SimAction::Plug { module } => {
            let bus = control.plug(&module).map_err(control_error)?;
            emit(plugged_output(&module, bus, json));
        }
        SimAction::Unplug { module, timeout_ms } => {
            let timeout = Duration::from_millis(timeout_ms);
            let took = control.unplug(&module, timeout).map_err(control_error)?;
            emit(unplugged_output(&module, took, json));
        }
        SimAction::List => {
            let modules = control.list().map_err(control_error)?;
            if json {
                emit(Value::Array(modules.iter().map(module_json).collect()));
            } else {
                modules.iter().map(module_line).for_each(emit);
            }
        }
    }
    Ok(())
}

fn control_error(error: ControlError) -> CliError {
    match error {
        ControlError::Refused(message) => CliError::SimRefused(message),
        ControlError::Unreachable(message) => CliError::SimUnreachable(message),
        ControlError::Untrusted(message) => CliError::SimUntrusted(message),
    }
}

fn plugged_output(module: &str, bus: u32, json: bool) -> String {
    if json {
        json!({"module": module, "bus": bus}).to_string()
    } else {
        format!("plugged {module} as bus {bus}")
    }
}

fn unplugged_output(module: &str, took: Duration, json: bool) -> String {
    let millis = took.as_millis();
    if json {
        json!({"module": module, "elapsed_ms": millis as u64}).to_string()
    } else {
        format!("unplugged {module} in {millis} ms")
    }
}

fn state_text(state: ModuleState) -> String {
    match state {
        ModuleState::Plugged { bus_number } => format!("plugged bus={bus_number}"),
        ModuleState::Removing { bus_number } => format!("removing bus={bus_number}"),
        ModuleState::Unplugged => "unplugged".to_string(),
    }
}

/// One `sim list` line: name, state, open handles, description, tab separated.
pub fn module_line(module: &ModuleStatus) -> String {
    format!(
        "{}\t{}\topen-handles={}\t{}",
        module.name,
        state_text(module.state),
        module.open_handles,
        module.description
    )
}

pub fn module_json(module: &ModuleStatus) -> Value {
    let (state, bus) = match module.state {
        ModuleState::Plugged { bus_number } => ("plugged", Some(bus_number)),
        ModuleState::Removing { bus_number } => ("removing", Some(bus_number)),
        ModuleState::Unplugged => ("unplugged", None),
    };
    json!({
        "name": module.name,
        "description": module.description,
        "state": state,
        "bus": bus,
        "open_handles": module.open_handles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use i2c_hal_sim::catalog::EEPROM_MODULE;

    fn module(state: ModuleState, open_handles: usize) -> ModuleStatus {
        ModuleStatus {
            name: EEPROM_MODULE.into(),
            description: "I2C adapter with a 24C02 at 0x50".into(),
            state,
            open_handles,
        }
    }

    #[test]
    fn list_lines_show_state_and_handles() {
        assert_eq!(
            module_line(&module(ModuleState::Plugged { bus_number: 4 }, 1)),
            format!(
                "{EEPROM_MODULE}\tplugged bus=4\topen-handles=1\tI2C adapter with a 24C02 at 0x50"
            )
        );
        assert!(module_line(&module(ModuleState::Removing { bus_number: 4 }, 2))
            .contains("\tremoving bus=4\topen-handles=2\t"));
        assert!(module_line(&module(ModuleState::Unplugged, 0)).contains("\tunplugged\t"));
    }

    #[test]
    fn list_json_has_state_and_bus() {
        assert_eq!(
            module_json(&module(ModuleState::Removing { bus_number: 7 }, 1)),
            json!({
                "name": EEPROM_MODULE, "description": "I2C adapter with a 24C02 at 0x50",
                "state": "removing", "bus": 7, "open_handles": 1
            })
        );
        assert_eq!(module_json(&module(ModuleState::Unplugged, 0))["bus"], Value::Null);
    }

    #[test]
    fn plug_and_unplug_reports() {
        assert_eq!(plugged_output("m", 3, false), "plugged m as bus 3");
        let parsed = |text: String| serde_json::from_str::<Value>(&text).unwrap();
        assert_eq!(parsed(plugged_output("m", 3, true)), json!({"module": "m", "bus": 3}));
        assert_eq!(
            unplugged_output("m", Duration::from_micros(12_900), false),
            "unplugged m in 12 ms"
        );
        assert_eq!(
            parsed(unplugged_output("m", Duration::from_millis(40), true)),
            json!({"module": "m", "elapsed_ms": 40})
        );
    }

    #[test]
    fn the_control_socket_sits_next_to_the_service_socket() {
        assert_eq!(service_socket(Some("/tmp/s.sock".into())), PathBuf::from("/tmp/s.sock"));
        let default = socket_from_env().unwrap_or_else(default_client_socket);
        assert_eq!(service_socket(None), default);
        assert_eq!(
            socket_path_for(&service_socket(None)),
            PathBuf::from(format!("{}.sim", default.display()))
        );
    }
}
