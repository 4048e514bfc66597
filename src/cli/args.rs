//! The command line, as clap derive types. Numbers are parsed by the same functions the `hold`
//! command loop uses, so `get 0 0x50 0x10` means the same on the command line and on stdin.

use super::number::{parse_address, parse_number, parse_register, DataSize};
use super::CliError;
use crate::ipc::client::SOCKET_ENV;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Talk to the i2c-hal service the way i2c-tools talk to /dev/i2c-N.
#[derive(Debug, Parser)]
#[command(name = "i2cctl", version)]
pub struct Cli {
    /// RPC binder socket of the service (default: kernel binder if present, else /tmp/i2c-hal.sock).
    #[arg(long, global = true, env = SOCKET_ENV, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Service(ServiceCommand),

    /// Drive the simulator's control socket (plug and unplug virtual modules).
    #[cfg(feature = "sim")]
    #[command(subcommand)]
    Sim(SimAction),
}

/// Commands that talk to the service itself.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// List live buses, like `i2cdetect -l`.
    Buses,

    /// Scan a bus for devices, like `i2cdetect BUS`.
    Detect {
        /// Bus number or stable id.
        bus: String,
    },

    /// SMBus read byte/word data, like i2cget.
    Get {
        /// Bus number or stable id.
        bus: String,
        #[arg(value_name = "ADDR", value_parser = parse_address)]
        address: u16,
        #[arg(value_name = "REG", value_parser = parse_register)]
        register: u8,
        #[arg(value_name = "MODE", value_enum, default_value = "b")]
        size: DataSize,
    },

    /// SMBus write byte/word data, like i2cset.
    Set {
        /// Bus number or stable id.
        bus: String,
        #[arg(value_name = "ADDR", value_parser = parse_address)]
        address: u16,
        #[arg(value_name = "REG", value_parser = parse_register)]
        register: u8,
        #[arg(value_name = "VALUE", value_parser = parse_number)]
        value: u64,
        #[arg(value_name = "MODE", value_enum, default_value = "b")]
        size: DataSize,
    },

    /// Combined transfer with repeated starts, like i2ctransfer: `w2@0x50 0x00 0x10 r4`.
    Transfer {
        /// Bus number or stable id.
        bus: String,
        /// Messages `{r|w}LENGTH[@ADDR]`, each write followed by its data bytes.
        #[arg(value_name = "MSG", required = true, num_args = 1..)]
        messages: Vec<String>,
    },

    /// Open a session and keep it until killed; reads commands from stdin.
    Hold {
        /// Bus number or stable id.
        bus: String,
        #[arg(value_name = "ADDR", value_parser = parse_address)]
        address: u16,
        /// Refuse other sessions on this address while held.
        #[arg(long)]
        exclusive: bool,
        /// Only open this generation of the bus (default: the current one).
        #[arg(long, value_name = "G")]
        generation: Option<u64>,
    },

    /// Print bus add/remove events until killed.
    Watch,

    /// Revoke every session on a bus (admin).
    Revoke {
        /// Bus number or stable id.
        bus: String,
    },
}

#[cfg(feature = "sim")]
#[derive(Debug, Subcommand)]
pub enum SimAction {
    /// Plug a simulated module in.
    Plug { module: String },
    /// Unplug a simulated module and report how long removal took.
    Unplug {
        module: String,
        #[arg(long, value_name = "MS", default_value_t = 5000)]
        timeout_ms: u64,
    },
    /// List simulated modules and their state.
    List,
}

/// Parses the process arguments. `--help` and `--version` print and exit here; every other
/// clap error becomes a single-line usage error, so that all failures look alike on stderr.
pub fn parse_args() -> Result<Cli, CliError> {
    parse_from(std::env::args_os())
}

pub fn parse_from<I, T>(args: I) -> Result<Cli, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => Ok(cli),
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => Err(CliError::Usage(clap_error_line(&error))),
    }
}

/// The first paragraph of clap's report (it may list missing arguments on indented lines),
/// joined into one line without its `error: ` prefix, plus where to look next.
fn clap_error_line(error: &clap::Error) -> String {
    if error.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "a command is required (see i2cctl --help)".to_string();
    }
    let rendered = error.to_string();
    let paragraph: Vec<&str> =
        rendered.lines().map(str::trim).take_while(|line| !line.is_empty()).collect();
    let joined = paragraph.join(" ");
    let reason = joined.strip_prefix("error: ").unwrap_or(&joined);
    format!("{reason} (see i2cctl --help)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Cli, CliError> {
        parse_from(std::iter::once("i2cctl").chain(line.split_whitespace()))
    }

    fn usage_message(line: &str) -> String {
        match parse(line) {
            Err(CliError::Usage(message)) => message,
            other => panic!("expected a usage error for {line:?}, got {other:?}"),
        }
    }

    #[test]
    fn json_is_accepted_before_and_after_the_command() {
        assert!(parse("--json buses").unwrap().json);
        assert!(parse("buses --json").unwrap().json);
        #[cfg(feature = "sim")]
        assert!(parse("sim list --json").unwrap().json);
        assert!(!parse("buses").unwrap().json);
    }

    #[test]
    fn socket_is_taken_from_the_flag() {
        let cli = parse("--socket /tmp/x.sock buses").unwrap();
        assert_eq!(cli.socket, Some(PathBuf::from("/tmp/x.sock")));
    }

    #[test]
    fn get_parses_hex_and_decimal_and_defaults_to_byte() {
        let cli = parse("get 1 0x50 16").unwrap();
        match cli.command {
            Command::Service(ServiceCommand::Get { bus, address, register, size }) => {
                assert_eq!(
                    (bus.as_str(), address, register, size),
                    ("1", 0x50, 16, DataSize::Byte)
                );
            }
            other => panic!("{other:?}"),
        }
        match parse("get i2c-stable 80 0x10 w").unwrap().command {
            Command::Service(ServiceCommand::Get { bus, address, size, .. }) => {
                assert_eq!((bus.as_str(), address, size), ("i2c-stable", 0x50, DataSize::Word));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_numbers_are_single_line_usage_errors() {
        for line in ["get 0 0xzz 0", "get 0 0x80 0", "get 0 0x50 0x100", "get 0 0x50 0 q"] {
            let message = usage_message(line);
            assert!(!message.contains('\n'), "{message}");
            assert!(message.ends_with("(see i2cctl --help)"), "{message}");
        }
        assert!(usage_message("get 0 0x80 0").contains("0x80"));
    }

    #[test]
    fn missing_command_and_unknown_command_are_usage_errors() {
        assert!(usage_message("").contains("command is required"));
        assert!(usage_message("frobnicate").contains("frobnicate"));
        let missing = usage_message("transfer 0");
        assert!(missing.contains("MSG"), "{missing}");
    }

    #[test]
    fn hold_and_sim_options_parse() {
        match parse("hold 0 0x50 --exclusive --generation 3").unwrap().command {
            Command::Service(ServiceCommand::Hold { exclusive, generation, .. }) => {
                assert!(exclusive);
                assert_eq!(generation, Some(3));
            }
            other => panic!("{other:?}"),
        }
        #[cfg(feature = "sim")]
        match parse("sim unplug sensor").unwrap().command {
            Command::Sim(SimAction::Unplug { module, timeout_ms }) => {
                assert_eq!((module.as_str(), timeout_ms), ("sensor", 5000));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn transfer_keeps_message_words_verbatim() {
        match parse("transfer 2 w2@0x50 0x00 0x10- r4").unwrap().command {
            Command::Service(ServiceCommand::Transfer { bus, messages }) => {
                assert_eq!(bus, "2");
                assert_eq!(messages, ["w2@0x50", "0x00", "0x10-", "r4"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
