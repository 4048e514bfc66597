//! `hold`: keep one session open until killed, and drive it with commands on stdin. Tests and
//! demos use it to stand in for an app: it shows when the session is lost, and lets a script
//! see what calls on a dead session return.

use super::format::{held_line, lost_json, lost_line, operation_names, session_json, SessionMode};
use super::mode::{plan_block_call, plan_call, plan_get, plan_set, SmbusPlan};
use super::number::{format_value, parse_register, value_json};
use super::transfer::{format_reads, parse_transfer};
use super::{emit, CliError, InputRefusal};
use i2c_hal_client::{Client, OpenOptions, Session};
use i2c_hal_core::request::{Message, OperationSet, SmbusOp, SmbusValue};
use i2c_hal_core::{BusInfo, LossReason};
use serde_json::{json, Value};
use std::io::BufRead;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;

/// What `hold` was asked to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldRequest {
    pub bus: String,
    pub address: u16,
    pub exclusive: bool,
    pub generation: Option<u64>,
    pub ten_bit: bool,
    pub pec: bool,
}

impl HoldRequest {
    fn mode(&self) -> SessionMode {
        SessionMode {
            address: self.address,
            exclusive: self.exclusive,
            ten_bit: self.ten_bit,
            pec: self.pec,
        }
    }
}

/// One line of stdin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldCommand {
    /// get, set, call, block-call: SMBus commands in order; the last one's answer is printed.
    Smbus {
        name: &'static str,
        ops: Vec<SmbusOp>,
    },
    Transfer(Vec<Message>),
    Info,
    Allowed,
    Close,
}

/// What a command returned, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldResult {
    Value { name: &'static str, value: SmbusValue },
    Reads(Vec<Vec<u8>>),
    Info { info: BusInfo, mode: SessionMode },
    Allowed(OperationSet),
    Closed,
}

const COMMANDS: &str = "get REG [MODE [LENGTH]], set REG VALUE... [MODE], call REG VALUE [p], \
                        block-call REG BYTE... [p], transfer MSG..., info, allowed, close";

/// Parses one stdin line for the session `mode` describes; blank lines are no command. PEC is
/// chosen when the session opens (`hold --pec`): in such a session every SMBus command carries
/// it, with or without a `p`, and elsewhere a `p` is refused rather than quietly ignored.
pub fn parse_hold_command(
    line: &str,
    mode: &SessionMode,
) -> Result<Option<HoldCommand>, InputRefusal> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&verb, args)) = words.split_first() else {
        return Ok(None);
    };
    let smbus = |name: &'static str, plan: Result<SmbusPlan, InputRefusal>| {
        let plan = plan?;
        if plan.pec && !mode.pec {
            return Err(InputRefusal::from("this session was opened without PEC (hold --pec)"));
        }
        Ok(HoldCommand::Smbus { name, ops: plan.ops })
    };
    let register = |usage: &str| match args.first() {
        Some(register) => parse_register(register),
        None => Err(format!("usage: {usage}")),
    };
    let command = match verb {
        "get" => {
            const USAGE: &str = "get REG [MODE [LENGTH]]";
            if args.len() > 3 {
                return Err(format!("usage: {USAGE}").into());
            }
            let plan = plan_get(register(USAGE)?, args.get(1).copied(), args.get(2).copied());
            smbus("get", plan)?
        }
        "set" => {
            const USAGE: &str = "set REG VALUE... [MODE]";
            if args.len() < 2 {
                return Err(format!("usage: {USAGE}").into());
            }
            smbus("set", plan_set(register(USAGE)?, &args[1..]))?
        }
        "call" => {
            const USAGE: &str = "call REG VALUE [p]";
            let (value, suffix) = match args {
                [_, value] => (value, None),
                [_, value, suffix] => (value, Some(*suffix)),
                _ => return Err(format!("usage: {USAGE}").into()),
            };
            smbus("call", plan_call(register(USAGE)?, value, suffix))?
        }
        "block-call" => {
            const USAGE: &str = "block-call REG BYTE... [p]";
            if args.len() < 2 {
                return Err(format!("usage: {USAGE}").into());
            }
            smbus("block-call", plan_block_call(register(USAGE)?, &args[1..]))?
        }
        "transfer" => {
            HoldCommand::Transfer(parse_transfer(args, Some(mode.address), mode.ten_bit)?.messages)
        }
        "info" => no_arguments(verb, args, HoldCommand::Info)?,
        "allowed" => no_arguments(verb, args, HoldCommand::Allowed)?,
        "close" => no_arguments(verb, args, HoldCommand::Close)?,
        _ => return Err(format!("unknown command '{verb}' (commands: {COMMANDS})").into()),
    };
    Ok(Some(command))
}

fn no_arguments(
    verb: &str,
    args: &[&str],
    command: HoldCommand,
) -> Result<HoldCommand, InputRefusal> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(format!("'{verb}' takes no arguments").into())
    }
}

/// Runs one command on the session.
pub fn execute(
    session: &Session,
    mode: &SessionMode,
    command: HoldCommand,
) -> Result<HoldResult, CliError> {
    Ok(match command {
        HoldCommand::Smbus { name, ops } => {
            let mut value = SmbusValue::None;
            for op in &ops {
                value = session.smbus(op)?;
            }
            HoldResult::Value { name, value }
        }
        HoldCommand::Transfer(messages) => HoldResult::Reads(session.transfer(&messages)?.reads),
        HoldCommand::Info => HoldResult::Info { info: session.bus_info()?, mode: *mode },
        HoldCommand::Allowed => HoldResult::Allowed(session.allowed_operations()?),
        HoldCommand::Close => {
            session.close()?;
            HoldResult::Closed
        }
    })
}

/// The result line: `get` and the calls print like i2cget, `set` prints `ok`, `transfer`
/// prints its reads like i2ctransfer but on one line (messages separated by ` | `, `ok` if
/// none), `info` repeats the held line, `allowed` lists the session's operation classes,
/// `close` prints `closed`. One line per command keeps scripts simple.
pub fn result_line(result: &HoldResult) -> String {
    match result {
        HoldResult::Value { value: SmbusValue::None, .. } => "ok".to_string(),
        HoldResult::Value { value, .. } => format_value(value),
        HoldResult::Reads(reads) if reads.is_empty() => "ok".to_string(),
        HoldResult::Reads(reads) => format_reads(reads).join(" | "),
        HoldResult::Info { info, mode } => held_line(info, mode),
        HoldResult::Allowed(set) => {
            std::iter::once("allowed").chain(operation_names(*set)).collect::<Vec<_>>().join(" ")
        }
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
        HoldResult::Info { info, mode } => {
            let mut object = session_json("result", info, mode);
            object.insert("command".into(), json!("info"));
            Value::Object(object)
        }
        HoldResult::Allowed(set) => {
            json!({"event": "result", "command": "allowed", "operations": operation_names(*set)})
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

/// Opens the session, then serves stdin on a thread of its own; keeps the session (also after
/// EOF) until the process is killed, or returns ServiceDied (exit 3) when the service dies.
pub fn run(client: &Client, request: HoldRequest, json: bool) -> Result<(), CliError> {
    // The loss callback may fire before the held line is out; it only queues the loss, and a
    // printer started after the held line prints it, so `held` always comes first and the
    // callback never blocks a binder thread.
    let (lost_sender, lost_receiver) = mpsc::channel::<(LossReason, String)>();
    let on_lost = Box::new(move |reason, message| {
        let _ = lost_sender.send((reason, message));
    });
    let options = OpenOptions {
        generation: request.generation.unwrap_or(0),
        exclusive: request.exclusive,
        ten_bit: request.ten_bit,
        pec: request.pec,
    };
    let session = Arc::new(client.open_with(&request.bus, request.address, &options, on_lost)?);
    // Armed before the held line: a script that sees `held` may kill the service at once.
    let (_death_watch, died) = client.service_death_channel()?;
    let info = session.bus_info()?;
    let mode = request.mode();
    if json {
        emit(Value::Object(session_json("held", &info, &mode)));
    } else {
        emit(held_line(&info, &mode));
    }
    thread::spawn(move || print_losses(lost_receiver, json));
    let stdin_session = session.clone();
    thread::spawn(move || serve_stdin(std::io::stdin().lock(), &stdin_session, &mode, json));
    // Holding is the point: only the service's death (or a signal) ends it. The sender lives
    // in the armed watch, so recv returns only when the death notice came.
    let _ = died.recv();
    Err(CliError::ServiceDied)
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

/// One line of stdin: a command, or why it is not one (bytes that are not UTF-8 included).
pub fn read_command(
    bytes: &[u8],
    number: usize,
    mode: &SessionMode,
) -> Result<Option<HoldCommand>, InputRefusal> {
    let line = std::str::from_utf8(bytes).map_err(|_| {
        InputRefusal::Usage(format!("line {number} is not UTF-8 text; it was skipped"))
    })?;
    parse_hold_command(line, mode)
}

/// Runs each stdin line as a command and prints one line for it. A malformed line, even one
/// that is not text, gets an error line and the loop carries on; only EOF or a read error
/// ends it (the session stays held either way).
fn serve_stdin(mut input: impl BufRead, session: &Session, mode: &SessionMode, json: bool) {
    let mut bytes = Vec::new();
    for number in 1.. {
        bytes.clear();
        match input.read_until(b'\n', &mut bytes) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let outcome = read_command(&bytes, number, mode)
            .map_err(CliError::from)
            .and_then(|command| command.map(|command| execute(session, mode, command)).transpose());
        match (outcome, json) {
            (Ok(None), _) => {}
            (Ok(Some(result)), false) => emit(result_line(&result)),
            (Ok(Some(result)), true) => emit(result_json(&result)),
            (Err(error), false) => emit(error_line(&error)),
            (Err(error), true) => emit(error_json(&error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::format::tests::{sample_bus, seven_bit};
    use i2c_hal_client::ClientError;
    use i2c_hal_core::request::OperationClass;
    use i2c_hal_core::ErrorCode;

    fn parse(line: &str) -> Result<Option<HoldCommand>, InputRefusal> {
        parse_hold_command(line, &seven_bit(0x50))
    }

    fn smbus(name: &'static str, ops: Vec<SmbusOp>) -> Result<Option<HoldCommand>, InputRefusal> {
        Ok(Some(HoldCommand::Smbus { name, ops }))
    }

    #[test]
    fn a_line_that_is_not_utf8_is_refused_by_number() {
        let refused = read_command(b"get \xff\xfe\n", 3, &seven_bit(0x50)).unwrap_err();
        assert!(matches!(refused, InputRefusal::Usage(_)), "{refused:?}");
        assert!(refused.contains("line 3 is not UTF-8"), "{refused}");
        assert_eq!(
            read_command(b"get 0x10\n", 4, &seven_bit(0x50)),
            Ok(Some(HoldCommand::Smbus { name: "get", ops: vec![SmbusOp::ReadByteData(0x10)] }))
        );
    }

    #[test]
    fn blank_lines_are_no_command() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("   \t"), Ok(None));
    }

    #[test]
    fn get_and_set_parse_like_the_command_line() {
        assert_eq!(parse("get 0x10"), smbus("get", vec![SmbusOp::ReadByteData(0x10)]));
        assert_eq!(parse("get 16 w"), smbus("get", vec![SmbusOp::ReadWordData(16)]));
        assert_eq!(parse("get 7 c"), smbus("get", vec![SmbusOp::WriteByte(7), SmbusOp::ReadByte]));
        assert_eq!(parse("get 0 i 4"), smbus("get", vec![SmbusOp::ReadI2cBlockData(0, 4)]));
        assert_eq!(parse("set 0x10 0xab"), smbus("set", vec![SmbusOp::WriteByteData(0x10, 0xab)]));
        assert_eq!(parse("set 1 0x1234 w"), smbus("set", vec![SmbusOp::WriteWordData(1, 0x1234)]));
        assert_eq!(
            parse("set 1 1 2 3 s"),
            smbus("set", vec![SmbusOp::WriteBlockData(1, vec![1, 2, 3])])
        );
        assert!(parse("set 1 0x100").unwrap_err().contains("byte"));
        assert!(parse("get").unwrap_err().contains("usage"));
        assert!(parse("set 1").unwrap_err().contains("usage"));
        assert!(parse("get 1 i 4 extra").unwrap_err().contains("usage"));
        assert!(parse("get 0x100").unwrap_err().contains("register"));
        assert!(parse("get 1 q").unwrap_err().contains("mode"));
    }

    #[test]
    fn process_calls_parse_like_the_command_line() {
        assert_eq!(
            parse("call 0x10 0x1234"),
            smbus("call", vec![SmbusOp::ProcessCall(0x10, 0x1234)])
        );
        assert_eq!(
            parse("block-call 0x20 1 2"),
            smbus("block-call", vec![SmbusOp::BlockProcessCall(0x20, vec![1, 2])])
        );
        assert!(parse("call 0x10").unwrap_err().contains("usage"));
        assert!(parse("call 0x10 1 p extra").unwrap_err().contains("usage"));
        assert!(parse("block-call 0x20").unwrap_err().contains("usage"));
    }

    #[test]
    fn pec_belongs_to_the_session() {
        let refused = parse("get 0 bp").unwrap_err();
        assert!(refused.contains("hold --pec"), "{refused}");
        assert!(parse("call 0 1 p").unwrap_err().contains("hold --pec"));
        let pec_session = SessionMode { pec: true, ..seven_bit(0x50) };
        for line in ["get 0 bp", "get 0 b", "call 0 1 p", "block-call 0 1 p"] {
            assert!(parse_hold_command(line, &pec_session).is_ok(), "{line}");
        }
    }

    #[test]
    fn transfer_defaults_to_the_session_address() {
        assert_eq!(
            parse("transfer w1 0x00 r2"),
            Ok(Some(HoldCommand::Transfer(vec![Message::Write(vec![0]), Message::Read(2)])))
        );
        assert!(parse("transfer r2@0x51").unwrap_err().contains("same address"));
        assert!(parse("transfer").unwrap_err().contains("at least one message"));
        let ten_bit = SessionMode { ten_bit: true, ..seven_bit(0x150) };
        assert_eq!(
            parse_hold_command("transfer r1@0x150", &ten_bit),
            Ok(Some(HoldCommand::Transfer(vec![Message::Read(1)])))
        );
    }

    #[test]
    fn info_allowed_close_and_unknown_commands() {
        assert_eq!(parse("info"), Ok(Some(HoldCommand::Info)));
        assert_eq!(parse("allowed"), Ok(Some(HoldCommand::Allowed)));
        assert_eq!(parse(" close "), Ok(Some(HoldCommand::Close)));
        assert!(parse("close now").unwrap_err().contains("no arguments"));
        assert!(parse("quit").unwrap_err().contains("unknown command 'quit'"));
    }

    #[test]
    fn results_print_one_line_each() {
        let byte = HoldResult::Value { name: "get", value: SmbusValue::Byte(0x5) };
        assert_eq!(result_line(&byte), "0x05");
        let word = HoldResult::Value { name: "call", value: SmbusValue::Word(0xbeef) };
        assert_eq!(result_line(&word), "0xbeef");
        let block = HoldResult::Value { name: "block-call", value: SmbusValue::Block(vec![3, 2]) };
        assert_eq!(result_line(&block), "0x03 0x02");
        let written = HoldResult::Value { name: "set", value: SmbusValue::None };
        assert_eq!(result_line(&written), "ok");
        assert_eq!(result_line(&HoldResult::Reads(vec![])), "ok");
        assert_eq!(result_line(&HoldResult::Reads(vec![vec![1, 2], vec![3]])), "0x01 0x02 | 0x03");
        let info = HoldResult::Info { info: sample_bus(1), mode: seven_bit(0x50) };
        assert_eq!(result_line(&info), held_line(&sample_bus(1), &seven_bit(0x50)));
        let allowed =
            OperationSet::default().with(OperationClass::Read).with(OperationClass::Register);
        assert_eq!(result_line(&HoldResult::Allowed(allowed)), "allowed read register");
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
        let info = result_json(&HoldResult::Info { info: sample_bus(1), mode: seven_bit(0x50) });
        assert_eq!(
            (info["event"].clone(), info["command"].clone()),
            (json!("result"), json!("info"))
        );
        assert_eq!(info["address"], 0x50);
        assert_eq!(
            result_json(&HoldResult::Allowed(OperationSet::default().with(OperationClass::Write))),
            json!({"event": "result", "command": "allowed", "operations": ["write"]})
        );
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
        assert_eq!(error_line(&usage), "error USAGE: bad");
        let down = CliError::Client(ClientError::Transport("gone".into()));
        assert_eq!(error_line(&down), "error SERVICE_UNREACHABLE: gone");
    }
}
