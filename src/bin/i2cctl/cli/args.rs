//! The command line, as clap derive types. Numbers are parsed by the same functions the `hold`
//! command loop uses, so `get 0 0x50 0x10` means the same on the command line and on stdin.

use super::number::{parse_number, parse_register};
use super::CliError;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Talk to the i2c-hal service the way i2c-tools talk to /dev/i2c-N.
// A literal version and no `env` attributes: Soong sets no CARGO_PKG_* variables and AOSP's
// clap has no `env` feature; `Endpoint::resolve` reads $I2C_HAL_SOCKET.
#[derive(Debug, Parser)]
#[command(name = "i2cctl", version = i2c_hal_core::VERSION)]
pub struct Cli {
    /// RPC binder socket of the service [env: I2C_HAL_SOCKET] (default: kernel binder if
    /// present, else /run/i2c-hal/i2c-hal.sock if there, else $XDG_RUNTIME_DIR/i2c-hal/...).
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Also accept a service (and simulator) running as this uid [env: I2C_HAL_SERVER_UID];
    /// without it only root's or this user's is talked to.
    #[arg(long, global = true, value_name = "UID")]
    pub server_uid: Option<u32>,

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

    /// Scan a bus for devices, like `i2cdetect BUS` (7-bit addresses, as i2cdetect scans).
    Detect {
        /// Bus number or stable id.
        bus: String,
    },

    /// SMBus read, like i2cget: `get 0 0x48 0 w`.
    ///
    /// MODE is b (read byte data, the default), w (read word data), c (write REG as a byte,
    /// then read a byte), s (SMBus block read), or i (I2C block read of LENGTH bytes, 1..32,
    /// default 32). Append p for SMBus PEC, as in i2cget: bp, wp, cp, sp. Prints like
    /// i2cget: 0xNN, 0xNNNN, or a block as 0xNN bytes on one line.
    Get {
        /// Bus number or stable id.
        bus: String,
        /// 0x08..0x77, or 0x000..0x3ff with -t.
        #[arg(value_name = "ADDR", value_parser = parse_number)]
        address: u64,
        /// Register (SMBus command), 0x00..0xff.
        #[arg(value_name = "REG", value_parser = parse_register)]
        register: u8,
        /// b, w, c, s or i; with p appended for PEC (not to i).
        #[arg(value_name = "MODE")]
        mode: Option<String>,
        /// Bytes to read in mode i.
        #[arg(value_name = "LENGTH")]
        length: Option<String>,
        #[command(flatten)]
        addressing: Addressing,
    },

    /// SMBus write, like i2cset: `set 0 0x50 0x10 0xbeef w`.
    ///
    /// VALUEs come first, then MODE: b (write byte data, one VALUE, the default), w (write
    /// word data, one VALUE), c (write REG as a byte, no VALUE), s (SMBus block write of 1..32
    /// VALUEs), i (I2C block write of 1..32 VALUEs). Append p for SMBus PEC, as in i2cset:
    /// bp, wp, cp, sp.
    Set {
        /// Bus number or stable id.
        bus: String,
        /// 0x08..0x77, or 0x000..0x3ff with -t.
        #[arg(value_name = "ADDR", value_parser = parse_number)]
        address: u64,
        /// Register (SMBus command), 0x00..0xff.
        #[arg(value_name = "REG", value_parser = parse_register)]
        register: u8,
        /// VALUE... [MODE]
        #[arg(value_name = "VALUE", required = true, num_args = 1..)]
        values: Vec<String>,
        #[command(flatten)]
        addressing: Addressing,
    },

    /// SMBus process call: `call 2 0x42 0x10 0x1234`.
    ///
    /// Sends the word VALUE to REG and prints the word the device answers, like i2cget prints
    /// a word (0xNNNN). A trailing p asks for SMBus PEC.
    Call {
        /// Bus number or stable id.
        bus: String,
        /// 0x08..0x77, or 0x000..0x3ff with -t.
        #[arg(value_name = "ADDR", value_parser = parse_number)]
        address: u64,
        /// Register (SMBus command), 0x00..0xff.
        #[arg(value_name = "REG", value_parser = parse_register)]
        register: u8,
        /// The word sent, 0x0000..0xffff.
        #[arg(value_name = "VALUE")]
        value: String,
        /// p: SMBus PEC.
        #[arg(value_name = "p")]
        pec: Option<String>,
        #[command(flatten)]
        addressing: Addressing,
    },

    /// SMBus block process call: `block-call 2 0x42 0x20 1 2 3`.
    ///
    /// Sends 1..32 BYTEs to REG as an SMBus block and prints the block the device answers,
    /// like i2cget prints a block (0xNN bytes on one line). A trailing p asks for SMBus PEC.
    BlockCall {
        /// Bus number or stable id.
        bus: String,
        /// 0x08..0x77, or 0x000..0x3ff with -t.
        #[arg(value_name = "ADDR", value_parser = parse_number)]
        address: u64,
        /// Register (SMBus command), 0x00..0xff.
        #[arg(value_name = "REG", value_parser = parse_register)]
        register: u8,
        /// BYTE... [p]
        #[arg(value_name = "BYTE", required = true, num_args = 1..)]
        bytes: Vec<String>,
        #[command(flatten)]
        addressing: Addressing,
    },

    /// Combined transfer with repeated starts, like i2ctransfer: `w2@0x50 0x00 0x10 r4`.
    Transfer {
        /// Bus number or stable id.
        bus: String,
        /// Messages `{r|w}LENGTH[@ADDR]`, each write followed by its data bytes.
        #[arg(value_name = "MSG", required = true, num_args = 1..)]
        messages: Vec<String>,
        #[command(flatten)]
        addressing: Addressing,
    },

    /// Open a session and keep it until killed; reads commands from stdin.
    ///
    /// Commands, one per line, each answered with one line: get REG [MODE [LENGTH]],
    /// set REG VALUE... [MODE], call REG VALUE [p], block-call REG BYTE... [p],
    /// transfer MSG... (i2ctransfer syntax, @ADDR optional), info, allowed (the operation
    /// classes the session may use), close. PEC is chosen when the session opens (--pec);
    /// a p there is refused in a session without it.
    Hold {
        /// Bus number or stable id.
        bus: String,
        /// 0x08..0x77, or 0x000..0x3ff with -t.
        #[arg(value_name = "ADDR", value_parser = parse_number)]
        address: u64,
        /// Refuse other sessions on this address while held.
        #[arg(long)]
        exclusive: bool,
        /// Only open this generation of the bus (default: the current one).
        #[arg(long, value_name = "G")]
        generation: Option<u64>,
        /// SMBus PEC on every SMBus command of the session.
        #[arg(long)]
        pec: bool,
        #[command(flatten)]
        addressing: Addressing,
    },

    /// Print bus add/remove events until killed.
    Watch,

    /// Revoke every session on a bus (admin).
    Revoke {
        /// Bus number or stable id.
        bus: String,
    },

    /// Buses, sessions with their owners, counters and recent removals (admin).
    Status,

    /// Make the service re-read its access-control policy file (admin).
    ReloadPolicy,
}

/// How ADDR is addressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::Args)]
pub struct Addressing {
    /// ADDR is a 10-bit address (0x000..0x3ff); the adapter needs I2C_FUNC_10BIT_ADDR.
    #[arg(short = 't', long)]
    pub ten_bit: bool,
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
    fn get_parses_hex_and_decimal_and_takes_mode_and_length_as_words() {
        let cli = parse("get 1 0x50 16").unwrap();
        match cli.command {
            Command::Service(ServiceCommand::Get {
                bus, address, register, mode, length, ..
            }) => {
                assert_eq!((bus.as_str(), address, register), ("1", 0x50, 16));
                assert_eq!((mode, length), (None, None));
            }
            other => panic!("{other:?}"),
        }
        match parse("get i2c-stable 80 0x10 i 4").unwrap().command {
            Command::Service(ServiceCommand::Get { bus, address, mode, length, .. }) => {
                assert_eq!((bus.as_str(), address), ("i2c-stable", 0x50));
                assert_eq!((mode.as_deref(), length.as_deref()), (Some("i"), Some("4")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ten_bit_is_an_option_of_every_command_with_an_address() {
        for line in [
            "get -t 0 0x150 0",
            "get 0 0x150 0 --ten-bit",
            "set -t 0 0x150 0 1",
            "call -t 0 0x150 0 1",
            "block-call -t 0 0x150 0 1",
            "transfer -t 0 w1@0x150 0",
            "hold -t 0 0x150",
        ] {
            let Command::Service(command) = parse(line).unwrap().command else {
                panic!("{line}: not a service command");
            };
            let addressing = match command {
                ServiceCommand::Get { addressing, .. }
                | ServiceCommand::Set { addressing, .. }
                | ServiceCommand::Call { addressing, .. }
                | ServiceCommand::BlockCall { addressing, .. }
                | ServiceCommand::Transfer { addressing, .. }
                | ServiceCommand::Hold { addressing, .. } => addressing,
                other => panic!("{line}: {other:?}"),
            };
            assert!(addressing.ten_bit, "{line}");
        }
        assert!(usage_message("detect -t 0").contains("-t"));
    }

    #[test]
    fn bad_numbers_are_single_line_usage_errors() {
        for line in ["get 0 0xzz 0", "get 0 0x50 0x100", "get 0 0x50 0 b 1 2"] {
            let message = usage_message(line);
            assert!(!message.contains('\n'), "{message}");
            assert!(message.ends_with("(see i2cctl --help)"), "{message}");
        }
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
        match parse("hold 0 0x50 --exclusive --generation 3 --pec").unwrap().command {
            Command::Service(ServiceCommand::Hold { exclusive, generation, pec, .. }) => {
                assert!(exclusive && pec);
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
            Command::Service(ServiceCommand::Transfer { bus, messages, .. }) => {
                assert_eq!(bus, "2");
                assert_eq!(messages, ["w2@0x50", "0x00", "0x10-", "r4"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
