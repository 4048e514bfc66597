//! `hold`: keep one session open until killed, and drive it with commands on stdin. Tests and
//! demos use it to stand in for an app: it shows when the session is lost, and lets a script
//! see what calls on a dead session return.

use super::format::{held_line, lost_json, lost_line, session_json};
use super::number::{
    format_value, parse_number, parse_register, read_op, value_json, write_op, DataSize,
};
use super::transfer::{format_reads, parse_transfer};
use super::{emit, CliError};
use crate::core::request::{Message, SmbusOp, SmbusValue};
use crate::core::{BusInfo, LossReason};
use crate::ipc::client::{Client, Session};
use serde_json::{json, Value};
use std::io::BufRead;
use std::sync::mpsc::{self, Receiver};
use std::thread;

/// What `hold` was asked to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRequest {
    pub bus: String,
    pub address: u16,
    pub exclusive: bool,
    pub generation: Option<u64>,
}

/// One line of stdin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldCommand {
    Smbus { name: &'static str, op: SmbusOp },
    Transfer(Vec<Message>),
    Info,
    Close,
}

/// What a command returned, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldResult {
    Value { name: &'static str, value: SmbusValue },
    Reads(Vec<Vec<u8>>),
    Info { info: BusInfo, address: u16 },
    Closed,
}

const COMMANDS: &str = "get REG [b|w], set REG VALUE [b|w], transfer MSG..., info, close";

/// Parses one stdin line; blank lines are no command.
pub fn parse_hold_command(line: &str, session_address: u16) -> Result<Option<HoldCommand>, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&verb, args)) = words.split_first() else {
        return Ok(None);
    };
    let command = match verb {
        "get" => parse_get(args)?,
        "set" => parse_set(args)?,
        "transfer" => HoldCommand::Transfer(parse_transfer(args, Some(session_address))?.messages),
        "info" => no_arguments(verb, args, HoldCommand::Info)?,
        "close" => no_arguments(verb, args, HoldCommand::Close)?,
        _ => return Err(format!("unknown command '{verb}' (commands: {COMMANDS})")),
    };
    Ok(Some(command))
}

fn parse_get(args: &[&str]) -> Result<HoldCommand, String> {
    let (register, size) = match args {
        [register] => (register, "b"),
        [register, size] => (register, *size),
        _ => return Err("usage: get REG [b|w]".to_string()),
    };
    let op = read_op(parse_register(register)?, DataSize::parse(size)?);
    Ok(HoldCommand::Smbus { name: "get", op })
}

fn parse_set(args: &[&str]) -> Result<HoldCommand, String> {
    let (register, value, size) = match args {
        [register, value] => (register, value, "b"),
        [register, value, size] => (register, value, *size),
        _ => return Err("usage: set REG VALUE [b|w]".to_string()),
    };
    let size = DataSize::parse(size)?;
    let value = parse_number(value)?;
    let op = write_op(parse_register(register)?, value, size)?;
    Ok(HoldCommand::Smbus { name: "set", op })
}

fn no_arguments(verb: &str, args: &[&str], command: HoldCommand) -> Result<HoldCommand, String> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(format!("'{verb}' takes no arguments"))
    }
}

/// Runs one command on the session.
pub fn execute(session: &Session, command: HoldCommand) -> Result<HoldResult, CliError> {
    Ok(match command {
        HoldCommand::Smbus { name, op } => HoldResult::Value { name, value: session.smbus(&op)? },
        HoldCommand::Transfer(messages) => HoldResult::Reads(session.transfer(&messages)?.reads),
        HoldCommand::Info => {
            HoldResult::Info { info: session.bus_info()?, address: session.address() }
        }
        HoldCommand::Close => {
            session.close()?;
            HoldResult::Closed
        }
    })
}

/// The result line: `get` prints like i2cget, `set` prints `ok`, `transfer` prints its reads
/// like i2ctransfer but on one line (messages separated by ` | `, `ok` if none), `info`
/// repeats the held line, `close` prints `closed`. One line per command keeps scripts simple.
pub fn result_line(result: &HoldResult) -> String {
    match result {
        HoldResult::Value { value: SmbusValue::None, .. } => "ok".to_string(),
        HoldResult::Value { value, .. } => format_value(value),
        HoldResult::Reads(reads) if reads.is_empty() => "ok".to_string(),
        HoldResult::Reads(reads) => format_reads(reads).join(" | "),
        HoldResult::Info { info, address } => held_line(info, *address),
        HoldResult::Closed => "closed".to_string(),
    }
}

pub fn result_json(result: &HoldResult) -> Value {
    match result {
        HoldResult::Value { name, value: SmbusValue::None } => {
            json!({"event": "result", "command": name})
        }
        HoldResult::Value { name, value } => {
            json!({"event": "result", "command": name, "value": value_json(value)})
        }
        HoldResult::Reads(reads) => {
            json!({"event": "result", "command": "transfer", "reads": reads})
        }
        HoldResult::Info { info, address } => {
            let mut object = session_json("result", info, *address);
            object.insert("command".into(), json!("info"));
            Value::Object(object)
        }
        HoldResult::Closed => json!({"event": "result", "command": "close"}),
    }
}

pub fn error_line(error: &CliError) -> String {
    format!("error {}: {}", error.code_name(), error.message())
}

pub fn error_json(error: &CliError) -> Value {
    json!({"event": "error", "code": error.code_name(), "message": error.message()})
}

/// Opens the session, then serves stdin; at EOF keeps the session until the process is killed.
pub fn run(client: &Client, request: HoldRequest, json: bool) -> Result<(), CliError> {
    // The loss callback may fire before the held line is out; it only queues the loss, and a
    // printer started after the held line prints it, so `held` always comes first and the
    // callback never blocks a binder thread.
    let (lost_sender, lost_receiver) = mpsc::channel::<(LossReason, String)>();
    let on_lost = Box::new(move |reason, message| {
        let _ = lost_sender.send((reason, message));
    });
    let generation = request.generation.unwrap_or(0);
    let session =
        client.open(&request.bus, generation, request.address, request.exclusive, on_lost)?;
    let info = session.bus_info()?;
    if json {
        emit(Value::Object(session_json("held", &info, session.address())));
    } else {
        emit(held_line(&info, session.address()));
    }
    thread::spawn(move || print_losses(lost_receiver, json));
    serve_stdin(&session, json);
    park_forever(session)
}

fn print_losses(losses: Receiver<(LossReason, String)>, json: bool) {
    for (reason, message) in losses {
        if json {
            emit(lost_json(reason, &message));
        } else {
            emit(lost_line(reason, &message));
        }
    }
}

fn serve_stdin(session: &Session, json: bool) {
    // A read error (say, bytes that are not UTF-8 followed by EIO) would repeat forever;
    // stopping the command loop there still keeps the hold.
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let outcome = parse_hold_command(&line, session.address())
            .map_err(CliError::Usage)
            .and_then(|command| command.map(|command| execute(session, command)).transpose());
        match (outcome, json) {
            (Ok(None), _) => {}
            (Ok(Some(result)), false) => emit(result_line(&result)),
            (Ok(Some(result)), true) => emit(result_json(&result)),
            (Err(error), false) => emit(error_line(&error)),
            (Err(error), true) => emit(error_json(&error)),
        }
    }
}

/// Holding is the point: the session stays open (and its loss callback armed) until a signal.
fn park_forever(session: Session) -> ! {
    let _held = session;
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::format::tests::sample_bus;
    use crate::core::ErrorCode;
    use crate::ipc::client::ClientError;

    fn parse(line: &str) -> Result<Option<HoldCommand>, String> {
        parse_hold_command(line, 0x50)
    }

    #[test]
    fn blank_lines_are_no_command() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("   \t"), Ok(None));
    }

    #[test]
    fn get_and_set_parse_like_the_command_line() {
        assert_eq!(
            parse("get 0x10"),
            Ok(Some(HoldCommand::Smbus { name: "get", op: SmbusOp::ReadByteData(0x10) }))
        );
        assert_eq!(
            parse("get 16 w"),
            Ok(Some(HoldCommand::Smbus { name: "get", op: SmbusOp::ReadWordData(16) }))
        );
        assert_eq!(
            parse("set 0x10 0xab"),
            Ok(Some(HoldCommand::Smbus { name: "set", op: SmbusOp::WriteByteData(0x10, 0xab) }))
        );
        assert_eq!(
            parse("set 1 0x1234 w"),
            Ok(Some(HoldCommand::Smbus { name: "set", op: SmbusOp::WriteWordData(1, 0x1234) }))
        );
        assert!(parse("set 1 0x100").unwrap_err().contains("byte"));
        assert!(parse("get").unwrap_err().contains("usage"));
        assert!(parse("get 1 b extra").unwrap_err().contains("usage"));
        assert!(parse("get 0x100").unwrap_err().contains("register"));
        assert!(parse("get 1 q").unwrap_err().contains("mode"));
    }

    #[test]
    fn transfer_defaults_to_the_session_address() {
        assert_eq!(
            parse("transfer w1 0x00 r2"),
            Ok(Some(HoldCommand::Transfer(vec![Message::Write(vec![0]), Message::Read(2)])))
        );
        assert!(parse("transfer r2@0x51").unwrap_err().contains("same address"));
        assert!(parse("transfer").unwrap_err().contains("at least one message"));
    }

    #[test]
    fn info_close_and_unknown_commands() {
        assert_eq!(parse("info"), Ok(Some(HoldCommand::Info)));
        assert_eq!(parse(" close "), Ok(Some(HoldCommand::Close)));
        assert!(parse("close now").unwrap_err().contains("no arguments"));
        assert!(parse("quit").unwrap_err().contains("unknown command 'quit'"));
    }

    #[test]
    fn results_print_one_line_each() {
        let byte = HoldResult::Value { name: "get", value: SmbusValue::Byte(0x5) };
        assert_eq!(result_line(&byte), "0x05");
        let word = HoldResult::Value { name: "get", value: SmbusValue::Word(0xbeef) };
        assert_eq!(result_line(&word), "0xbeef");
        let written = HoldResult::Value { name: "set", value: SmbusValue::None };
        assert_eq!(result_line(&written), "ok");
        assert_eq!(result_line(&HoldResult::Reads(vec![])), "ok");
        assert_eq!(result_line(&HoldResult::Reads(vec![vec![1, 2], vec![3]])), "0x01 0x02 | 0x03");
        let info = HoldResult::Info { info: sample_bus(1), address: 0x50 };
        assert_eq!(result_line(&info), held_line(&sample_bus(1), 0x50));
        assert_eq!(result_line(&HoldResult::Closed), "closed");
    }

    #[test]
    fn results_as_json() {
        let byte = HoldResult::Value { name: "get", value: SmbusValue::Byte(0x5) };
        assert_eq!(result_json(&byte), json!({"event": "result", "command": "get", "value": 5}));
        let written = HoldResult::Value { name: "set", value: SmbusValue::None };
        assert_eq!(result_json(&written), json!({"event": "result", "command": "set"}));
        assert_eq!(
            result_json(&HoldResult::Reads(vec![vec![1, 2]])),
            json!({"event": "result", "command": "transfer", "reads": [[1, 2]]})
        );
        let info = result_json(&HoldResult::Info { info: sample_bus(1), address: 0x50 });
        assert_eq!(
            (info["event"].clone(), info["command"].clone()),
            (json!("result"), json!("info"))
        );
        assert_eq!(info["address"], 0x50);
        assert_eq!(
            result_json(&HoldResult::Closed),
            json!({"event": "result", "command": "close"})
        );
    }

    #[test]
    fn errors_print_their_code() {
        let closed = CliError::Client(ClientError::Service {
            code: ErrorCode::SessionClosed,
            message: "session was revoked".into(),
        });
        assert_eq!(error_line(&closed), "error SESSION_CLOSED: session was revoked");
        assert_eq!(
            error_json(&closed),
            json!({"event": "error", "code": "SESSION_CLOSED", "message": "session was revoked"})
        );
        let usage = CliError::Usage("bad".into());
        assert_eq!(error_line(&usage), "error INVALID_ARGUMENT: bad");
        let down = CliError::Client(ClientError::Transport("gone".into()));
        assert_eq!(error_line(&down), "error SERVICE_UNREACHABLE: gone");
    }
}
