//! The service commands: each opens what it needs, makes its calls and prints.

use super::args::ServiceCommand;
use super::format::{bus_json, bus_line, event_json, event_line, selector_json};
use super::hold::HoldRequest;
use super::number::{format_value, read_op, value_json, write_op};
use super::transfer::{format_reads, parse_transfer, ParsedTransfer};
use super::{detect, emit, hold, CliError};
use crate::core::request::{SmbusOp, SmbusValue};
use crate::ipc::client::{Client, ClientResult, Session};
use serde_json::{json, Value};

/// A service command with everything i2cctl can check itself already checked, so that a usage
/// error is reported as one (exit 2) even when the service is down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Buses,
    Detect { bus: String },
    Get { bus: String, address: u16, op: SmbusOp },
    Set { bus: String, address: u16, op: SmbusOp },
    Transfer { bus: String, transfer: ParsedTransfer },
    Hold(HoldRequest),
    Watch,
    Revoke { bus: String },
}

impl Request {
    pub fn from_command(command: ServiceCommand) -> Result<Request, CliError> {
        Ok(match command {
            ServiceCommand::Buses => Request::Buses,
            ServiceCommand::Detect { bus } => Request::Detect { bus },
            ServiceCommand::Get { bus, address, register, size } => {
                Request::Get { bus, address, op: read_op(register, size) }
            }
            ServiceCommand::Set { bus, address, register, value, size } => {
                let op = write_op(register, value, size).map_err(CliError::Usage)?;
                Request::Set { bus, address, op }
            }
            ServiceCommand::Transfer { bus, messages } => {
                let transfer = parse_transfer(&messages, None).map_err(CliError::Usage)?;
                Request::Transfer { bus, transfer }
            }
            ServiceCommand::Hold { bus, address, exclusive, generation } => {
                Request::Hold(HoldRequest { bus, address, exclusive, generation })
            }
            ServiceCommand::Watch => Request::Watch,
            ServiceCommand::Revoke { bus } => Request::Revoke { bus },
        })
    }
}

/// Runs one request against a connected client.
pub fn run(client: &Client, request: Request, json: bool) -> Result<(), CliError> {
    match request {
        Request::Buses => buses(client, json),
        Request::Detect { bus } => detect::run(client, &bus, json),
        Request::Get { bus, address, op } => {
            let value = with_session(client, &bus, address, |s| s.smbus(&op))?;
            print_value(&value, json);
            Ok(())
        }
        Request::Set { bus, address, op } => {
            with_session(client, &bus, address, |s| s.smbus(&op))?;
            Ok(())
        }
        Request::Transfer { bus, transfer } => run_transfer(client, &bus, &transfer, json),
        Request::Hold(request) => hold::run(client, request, json),
        Request::Watch => watch(client, json),
        Request::Revoke { bus } => revoke(client, &bus, json),
    }
}

/// A shared session for one call, like i2c-tools' plain (unforced) I2C_SLAVE.
fn with_session<T>(
    client: &Client,
    bus: &str,
    address: u16,
    call: impl FnOnce(&Session) -> ClientResult<T>,
) -> ClientResult<T> {
    let session = client.open(bus, 0, address, false, Box::new(|_, _| {}))?;
    let outcome = call(&session);
    // The call's outcome is what the user asked for; a failed close cannot change it, and the
    // service reclaims a dropped session in any case.
    let _ = session.close();
    outcome
}

fn buses(client: &Client, json: bool) -> Result<(), CliError> {
    let buses = client.list_buses()?;
    if json {
        emit(Value::Array(buses.iter().map(bus_json).collect()));
    } else {
        buses.iter().map(bus_line).for_each(emit);
    }
    Ok(())
}

fn print_value(value: &SmbusValue, json: bool) {
    if json {
        emit(json!({ "value": value_json(value) }));
    } else {
        emit(format_value(value));
    }
}

fn run_transfer(
    client: &Client,
    bus: &str,
    transfer: &ParsedTransfer,
    json: bool,
) -> Result<(), CliError> {
    let done = with_session(client, bus, transfer.address, |s| s.transfer(&transfer.messages))?;
    let sent = transfer.messages.len();
    if json {
        emit(json!({ "reads": done.reads, "messages_completed": done.completed }));
    } else {
        format_reads(&done.reads).into_iter().for_each(emit);
    }
    if done.completed < sent {
        // Not an error the service raised: the adapter stopped early, and says so.
        eprintln!("i2cctl: the adapter completed {} of {sent} messages", done.completed);
    }
    Ok(())
}

/// Prints events until killed; the callback prints, this thread only keeps the Watch alive.
fn watch(client: &Client, json: bool) -> Result<(), CliError> {
    let _watch = client.watch(Box::new(move |event| {
        if json {
            emit(event_json(&event));
        } else {
            emit(event_line(&event));
        }
    }))?;
    loop {
        std::thread::park();
    }
}

fn revoke(client: &Client, bus: &str, json: bool) -> Result<(), CliError> {
    let revoked = client.revoke(bus)?;
    if json {
        emit(json!({ "bus": selector_json(bus), "revoked": revoked }));
    } else {
        emit(format!("revoked {revoked} session(s) on bus {bus}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{parse_from, Command};
    use crate::core::request::Message;

    fn request(line: &str) -> Result<Request, CliError> {
        match parse_from(std::iter::once("i2cctl").chain(line.split_whitespace()))?.command {
            Command::Service(command) => Request::from_command(command),
            #[cfg(feature = "sim")]
            Command::Sim(action) => panic!("not a service command: {action:?}"),
        }
    }

    #[test]
    fn usage_errors_are_found_before_any_connection() {
        for line in ["transfer 0 r4", "transfer 0 w1@0x50 1 r1@0x51", "set 0 0x50 0 0x100"] {
            match request(line) {
                Err(error @ CliError::Usage(_)) => assert_eq!(error.exit_code(), 2),
                other => panic!("{line}: expected a usage error, got {other:?}"),
            }
        }
    }

    #[test]
    fn commands_become_checked_requests() {
        assert_eq!(
            request("get 1 0x50 0x10 w").unwrap(),
            Request::Get { bus: "1".into(), address: 0x50, op: SmbusOp::ReadWordData(0x10) }
        );
        assert_eq!(
            request("set sid 0x50 0x10 0xbeef w").unwrap(),
            Request::Set {
                bus: "sid".into(),
                address: 0x50,
                op: SmbusOp::WriteWordData(0x10, 0xbeef)
            }
        );
        let expected = ParsedTransfer {
            address: 0x50,
            messages: vec![Message::Write(vec![0, 0x10]), Message::Read(4)],
        };
        assert_eq!(
            request("transfer 0 w2@0x50 0x00 0x10 r4").unwrap(),
            Request::Transfer { bus: "0".into(), transfer: expected }
        );
    }
}
