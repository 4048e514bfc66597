//! The service commands: each opens what it needs, makes its calls and prints.

use super::args::{Addressing, ServiceCommand};
use super::format::{
    bus_json_among, bus_line_among, event_json, event_line, selector_json, status_json,
    status_lines,
};
use super::hold::HoldRequest;
use super::mode::{plan_block_call, plan_call, plan_get, plan_set, SmbusPlan};
use super::number::{check_address, format_value, value_json};
use super::transfer::{format_reads, parse_transfer, ParsedTransfer};
use super::{detect, emit, hold, CliError};
use i2c_hal_client::{Client, ClientResult, OpenOptions, Session};
use i2c_hal_core::request::SmbusValue;
use serde_json::{json, Value};

/// A service command with everything i2cctl can check itself already checked, so that a usage
/// error is reported as one (exit 2) even when the service is down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Buses,
    Detect {
        bus: String,
    },
    /// get, set, call and block-call: SMBus commands on one session.
    Smbus {
        bus: String,
        target: SessionAddress,
        plan: SmbusPlan,
        /// Print the last command's answer (get and the calls; set prints nothing).
        print: bool,
    },
    Transfer {
        bus: String,
        ten_bit: bool,
        transfer: ParsedTransfer,
    },
    Hold(HoldRequest),
    Watch,
    Revoke {
        bus: String,
    },
    Status,
    ReloadPolicy,
}

/// The address a one-shot command's session goes to, and how it is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionAddress {
    pub address: u16,
    pub ten_bit: bool,
}

impl SessionAddress {
    fn checked(address: u64, addressing: Addressing) -> Result<SessionAddress, CliError> {
        let address = check_address(address, addressing.ten_bit).map_err(CliError::Usage)?;
        Ok(SessionAddress { address, ten_bit: addressing.ten_bit })
    }
}

impl Request {
    pub fn from_command(command: ServiceCommand) -> Result<Request, CliError> {
        Ok(match command {
            ServiceCommand::Buses => Request::Buses,
            ServiceCommand::Detect { bus } => Request::Detect { bus },
            ServiceCommand::Get { bus, address, register, mode, length, addressing } => {
                let target = SessionAddress::checked(address, addressing)?;
                let plan = plan_get(register, mode.as_deref(), length.as_deref())?;
                Request::Smbus { bus, target, plan, print: true }
            }
            ServiceCommand::Set { bus, address, register, values, addressing } => {
                let target = SessionAddress::checked(address, addressing)?;
                let plan = plan_set(register, &values)?;
                Request::Smbus { bus, target, plan, print: false }
            }
            ServiceCommand::Call { bus, address, register, value, pec, addressing } => {
                let target = SessionAddress::checked(address, addressing)?;
                let plan = plan_call(register, &value, pec.as_deref())?;
                Request::Smbus { bus, target, plan, print: true }
            }
            ServiceCommand::BlockCall { bus, address, register, bytes, addressing } => {
                let target = SessionAddress::checked(address, addressing)?;
                let plan = plan_block_call(register, &bytes)?;
                Request::Smbus { bus, target, plan, print: true }
            }
            ServiceCommand::Transfer { bus, messages, addressing } => {
                let transfer = parse_transfer(&messages, None, addressing.ten_bit)?;
                Request::Transfer { bus, ten_bit: addressing.ten_bit, transfer }
            }
            ServiceCommand::Hold { bus, address, exclusive, generation, pec, addressing } => {
                let SessionAddress { address, ten_bit } =
                    SessionAddress::checked(address, addressing)?;
                // The contract's generation is an AIDL long: a larger one cannot be sent.
                if let Some(generation) = generation.filter(|g| i64::try_from(*g).is_err()) {
                    return Err(CliError::TooLarge(format!(
                        "generation {generation} is more than {} (the largest the service takes)",
                        i64::MAX
                    )));
                }
                Request::Hold(HoldRequest { bus, address, exclusive, generation, ten_bit, pec })
            }
            ServiceCommand::Watch => Request::Watch,
            ServiceCommand::Revoke { bus } => Request::Revoke { bus },
            ServiceCommand::Status => Request::Status,
            ServiceCommand::ReloadPolicy => Request::ReloadPolicy,
        })
    }
}

/// Runs one request against a connected client.
pub fn run(client: &Client, request: Request, json: bool) -> Result<(), CliError> {
    match request {
        Request::Buses => buses(client, json),
        Request::Detect { bus } => detect::run(client, &bus, json),
        Request::Smbus { bus, target, plan, print } => {
            let options =
                OpenOptions { ten_bit: target.ten_bit, pec: plan.pec, ..Default::default() };
            let value = with_session(client, &bus, target.address, &options, |session| {
                let mut last = SmbusValue::None;
                for op in &plan.ops {
                    last = session.smbus(op)?;
                }
                Ok(last)
            })?;
            if print {
                print_value(&value, json);
            }
            Ok(())
        }
        Request::Transfer { bus, ten_bit, transfer } => {
            run_transfer(client, &bus, ten_bit, &transfer, json)
        }
        Request::Hold(request) => hold::run(client, request, json),
        Request::Watch => watch(client, json),
        Request::Revoke { bus } => revoke(client, &bus, json),
        Request::Status => status(client, json),
        Request::ReloadPolicy => {
            let ended = client.admin()?.reload_policy()?;
            emit(if json {
                json!({ "reloaded": true, "sessions_ended": ended }).to_string()
            } else {
                format!("reloaded; {ended} session(s) ended")
            });
            Ok(())
        }
    }
}

/// A shared session for one command, like i2c-tools' plain (unforced) I2C_SLAVE.
fn with_session<T>(
    client: &Client,
    bus: &str,
    address: u16,
    options: &OpenOptions,
    call: impl FnOnce(&Session) -> ClientResult<T>,
) -> ClientResult<T> {
    let session = client.open_with(bus, address, options, Box::new(|_, _| {}))?;
    let outcome = call(&session);
    // The call's outcome is what the user asked for; a failed close cannot change it, and the
    // service reclaims a dropped session in any case.
    let _ = session.close();
    outcome
}

fn buses(client: &Client, json: bool) -> Result<(), CliError> {
    let buses = client.list_buses()?;
    if json {
        emit(Value::Array(buses.iter().map(|bus| bus_json_among(bus, &buses)).collect()));
    } else {
        buses.iter().map(|bus| bus_line_among(bus, &buses)).for_each(emit);
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
    ten_bit: bool,
    transfer: &ParsedTransfer,
    json: bool,
) -> Result<(), CliError> {
    let options = OpenOptions { ten_bit, ..OpenOptions::default() };
    let done =
        with_session(client, bus, transfer.address, &options, |s| s.transfer(&transfer.messages))?;
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

/// Prints events until killed, or until the service dies (then ServiceDied: exit 3). The
/// callback prints; this thread keeps the Watch alive and waits for the death notice.
fn watch(client: &Client, json: bool) -> Result<(), CliError> {
    let (_death_watch, died) = client.service_death_channel()?;
    let _watch = client.watch(Box::new(move |event| {
        if json {
            emit(event_json(&event));
        } else {
            emit(event_line(&event));
        }
    }))?;
    // The sender lives in the armed death watch: recv returns only on the service's death.
    let _ = died.recv();
    Err(CliError::ServiceDied)
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

fn status(client: &Client, json: bool) -> Result<(), CliError> {
    let status = client.admin()?.status()?;
    if json {
        emit(status_json(&status));
    } else {
        status_lines(&status).into_iter().for_each(emit);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{parse_from, Command};
    use i2c_hal_core::request::Message;

    fn request(line: &str) -> Result<Request, CliError> {
        match parse_from(std::iter::once("i2cctl").chain(line.split_whitespace()))?.command {
            Command::Service(command) => Request::from_command(command),
            #[cfg(feature = "sim")]
            Command::Sim(action) => panic!("not a service command: {action:?}"),
        }
    }

    #[test]
    fn usage_errors_are_found_before_any_connection() {
        for line in [
            "transfer 0 r4",
            "transfer 0 w1@0x50 1 r1@0x51",
            "set 0 0x50 0 0x100",
            "get 0 0x80 0",
            "get -t 0 0x400 0",
            "get 0 0x50 0 ip",
            "call 0 0x50 0 0x10000",
            "block-call 0 0x50 0 q",
            "hold 0 0x150",
        ] {
            match request(line) {
                Err(error @ CliError::Usage(_)) => assert_eq!(error.exit_code(), 2, "{line}"),
                other => panic!("{line}: expected a usage error, got {other:?}"),
            }
        }
        match request("get 0 0x80 0") {
            Err(CliError::Usage(message)) => assert!(message.contains("0x80"), "{message}"),
            other => panic!("{other:?}"),
        }
    }

    fn seven_bit(address: u16) -> SessionAddress {
        SessionAddress { address, ten_bit: false }
    }

    #[test]
    fn commands_become_checked_requests() {
        use i2c_hal_core::request::SmbusOp;
        let smbus = |ops: Vec<SmbusOp>, pec: bool, print: bool| Request::Smbus {
            bus: "1".into(),
            target: seven_bit(0x50),
            plan: SmbusPlan { ops, pec },
            print,
        };
        assert_eq!(
            request("get 1 0x50 0x10 w").unwrap(),
            smbus(vec![SmbusOp::ReadWordData(0x10)], false, true)
        );
        assert_eq!(
            request("get 1 0x50 0x10 cp").unwrap(),
            smbus(vec![SmbusOp::WriteByte(0x10), SmbusOp::ReadByte], true, true)
        );
        assert_eq!(
            request("set 1 0x50 0x10 0xbeef wp").unwrap(),
            smbus(vec![SmbusOp::WriteWordData(0x10, 0xbeef)], true, false)
        );
        assert_eq!(
            request("call 1 0x50 0x10 0x1234").unwrap(),
            smbus(vec![SmbusOp::ProcessCall(0x10, 0x1234)], false, true)
        );
        assert_eq!(
            request("block-call 1 0x50 0x20 1 2 p").unwrap(),
            smbus(vec![SmbusOp::BlockProcessCall(0x20, vec![1, 2])], true, true)
        );
        match request("get -t 1 0x150 0").unwrap() {
            Request::Smbus { target, .. } => {
                assert_eq!(target, SessionAddress { address: 0x150, ten_bit: true })
            }
            other => panic!("{other:?}"),
        }
        let expected = ParsedTransfer {
            address: 0x50,
            messages: vec![Message::Write(vec![0, 0x10]), Message::Read(4)],
        };
        assert_eq!(
            request("transfer 0 w2@0x50 0x00 0x10 r4").unwrap(),
            Request::Transfer { bus: "0".into(), ten_bit: false, transfer: expected }
        );
        match request("transfer -t 0 w1@0x150 0 r1").unwrap() {
            Request::Transfer { ten_bit, transfer, .. } => {
                assert!(ten_bit);
                assert_eq!(transfer.address, 0x150);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            request("hold -t 2 0x150 --pec").unwrap(),
            Request::Hold(HoldRequest {
                bus: "2".into(),
                address: 0x150,
                exclusive: false,
                generation: None,
                ten_bit: true,
                pec: true,
            })
        );
        assert_eq!(request("status").unwrap(), Request::Status);
        assert_eq!(request("reload-policy").unwrap(), Request::ReloadPolicy);
    }
}
