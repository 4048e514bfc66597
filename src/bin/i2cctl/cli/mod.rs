//! i2cctl: the service's command-line client, shaped after i2c-tools (i2cdetect, i2cget, i2cset,
//! i2ctransfer) so that people who know those need no manual.
//!
//! The pure parts (number and message parsing, the detect grid, line and JSON formatting) are
//! plain functions with unit tests; the commands that call the service are thin on top of them.
//!
//! Every failure is one stderr line, `i2cctl: <CODE>: <message>`, and an exit code that tells a
//! script what kind of failure it was (see [`CliError::exit_code`]).

#![forbid(unsafe_code)]

pub mod args;
pub mod commands;
pub mod detect;
pub mod format;
pub mod hold;
pub mod mode;
pub mod number;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transfer;

use i2c_hal_client::ClientError;
use std::fmt;
use std::io::Write;
use std::ops::Deref;

/// Why i2cctl refused a command (or a `hold` line) itself, without sending anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputRefusal {
    /// Malformed: a bad number, mode, address, message syntax.
    Usage(String),
    /// Well-formed but beyond a limit of the contract (a block over 32 bytes, more than
    /// MAX_MESSAGES messages, a generation over i64::MAX): the service would say TOO_LARGE,
    /// and i2cctl uses the same name for it.
    TooLarge(String),
}

impl InputRefusal {
    pub fn message(&self) -> &str {
        match self {
            InputRefusal::Usage(message) | InputRefusal::TooLarge(message) => message,
        }
    }
}

impl From<String> for InputRefusal {
    fn from(message: String) -> InputRefusal {
        InputRefusal::Usage(message)
    }
}

impl From<&str> for InputRefusal {
    fn from(message: &str) -> InputRefusal {
        InputRefusal::Usage(message.to_string())
    }
}

/// The message, so that callers (and tests) read a refusal like the String it replaced.
impl Deref for InputRefusal {
    type Target = str;
    fn deref(&self) -> &str {
        self.message()
    }
}

impl fmt::Display for InputRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Why i2cctl failed.
#[derive(Debug)]
pub enum CliError {
    /// The command line (or a `hold` command) is wrong; found by i2cctl itself.
    Usage(String),
    /// A value too large to send (the contract's limits); found by i2cctl itself.
    TooLarge(String),
    /// The service answered with an ErrorCode, or could not be reached.
    Client(ClientError),
    /// The simulator's control socket refused the request (unknown module, already plugged).
    SimRefused(String),
    /// The simulator's control socket could not be reached (no service with --sim there).
    SimUnreachable(String),
    /// The simulator's control socket is served by a uid i2cctl does not trust.
    SimUntrusted(String),
    /// The service died while i2cctl was using it (`watch`, `hold`).
    ServiceDied,
}

/// The line `watch` and `hold` end with when the service dies under them.
pub const SERVICE_DIED_MESSAGE: &str =
    "the service died (its process ended or closed the connection)";

impl CliError {
    /// 0 is success; 1: the service refused (an ErrorCode); 2: i2cctl refused (usage, a value
    /// too large to send, or the simulator's refusal); 3: the service (or simulator) is
    /// unreachable, died, or is served by a uid i2cctl does not trust.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Client(ClientError::Service { .. } | ClientError::UnknownCode { .. }) => 1,
            CliError::Usage(_) | CliError::TooLarge(_) | CliError::SimRefused(_) => 2,
            CliError::Client(ClientError::Transport(_) | ClientError::UntrustedService(_))
            | CliError::SimUnreachable(_)
            | CliError::SimUntrusted(_)
            | CliError::ServiceDied => 3,
        }
    }

    /// The CODE of the stderr line: the ErrorCode's AIDL name for the service's answers, and
    /// names of i2cctl's own otherwise (USAGE is never the service's INVALID_ARGUMENT, so a
    /// script can tell who refused).
    pub fn code_name(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "USAGE",
            CliError::TooLarge(_) => "TOO_LARGE",
            CliError::Client(ClientError::Service { code, .. }) => code.name(),
            // A code from a newer service; Display adds its value.
            CliError::Client(ClientError::UnknownCode { .. }) => "UNKNOWN_ERROR",
            CliError::Client(ClientError::Transport(_)) => "SERVICE_UNREACHABLE",
            CliError::Client(ClientError::UntrustedService(_)) | CliError::SimUntrusted(_) => {
                "UNTRUSTED_SERVICE"
            }
            CliError::SimRefused(_) => "SIM_REFUSED",
            CliError::SimUnreachable(_) => "SIM_UNREACHABLE",
            CliError::ServiceDied => "SERVICE_DIED",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            CliError::Usage(message)
            | CliError::TooLarge(message)
            | CliError::SimRefused(message)
            | CliError::SimUnreachable(message)
            | CliError::SimUntrusted(message)
            | CliError::Client(ClientError::UntrustedService(message))
            | CliError::Client(ClientError::Service { message, .. })
            | CliError::Client(ClientError::UnknownCode { message, .. })
            | CliError::Client(ClientError::Transport(message)) => message,
            CliError::ServiceDied => SERVICE_DIED_MESSAGE,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Client(ClientError::UnknownCode { value, .. }) => {
                write!(f, "{}({value}): {}", self.code_name(), self.message())
            }
            _ => write!(f, "{}: {}", self.code_name(), self.message()),
        }
    }
}

impl std::error::Error for CliError {}

impl From<ClientError> for CliError {
    fn from(error: ClientError) -> Self {
        CliError::Client(error)
    }
}

impl From<InputRefusal> for CliError {
    fn from(refusal: InputRefusal) -> Self {
        match refusal {
            InputRefusal::Usage(message) => CliError::Usage(message),
            InputRefusal::TooLarge(message) => CliError::TooLarge(message),
        }
    }
}

/// Prints one line and flushes it at once: `hold` and `watch` are read line by line by scripts
/// while they run, and callbacks print from other threads (the stdout lock keeps lines whole).
/// Write errors are ignored: a reader that went away must not end a hold.
pub fn emit(line: impl fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Reports a failure on stderr, in the one-line format, and returns the exit code.
pub fn report(error: &CliError) -> u8 {
    eprintln!("i2cctl: {error}");
    error.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;
    use i2c_hal_core::ErrorCode;

    #[test]
    fn exit_codes_tell_failure_kinds_apart() {
        let refused = CliError::from(ClientError::Service {
            code: ErrorCode::NoSuchBus,
            message: "no live bus matches 9".into(),
        });
        assert_eq!(refused.exit_code(), 1);
        assert_eq!(refused.to_string(), "NO_SUCH_BUS: no live bus matches 9");

        let usage = CliError::Usage("mixed addresses".into());
        assert_eq!(usage.exit_code(), 2);
        assert_eq!(usage.to_string(), "USAGE: mixed addresses");

        let large = CliError::from(InputRefusal::TooLarge("33 bytes in a block".into()));
        assert_eq!(large.exit_code(), 2);
        assert_eq!(large.to_string(), "TOO_LARGE: 33 bytes in a block");

        let down = CliError::from(ClientError::Transport("connection refused".into()));
        assert_eq!(down.exit_code(), 3);
        assert_eq!(down.to_string(), "SERVICE_UNREACHABLE: connection refused");

        let newer = CliError::from(ClientError::UnknownCode { value: 42, message: "m".into() });
        assert_eq!(newer.exit_code(), 1, "a code from a newer service is still a refusal");
        assert_eq!(newer.to_string(), "UNKNOWN_ERROR(42): m");

        let sim = CliError::SimRefused("unknown module 'x'".into());
        assert_eq!(sim.exit_code(), 2, "the simulator refusing a request is a usage error");
        assert_eq!(sim.to_string(), "SIM_REFUSED: unknown module 'x'");
        let no_sim = CliError::SimUnreachable("no simulator at /tmp/x.sock.sim".into());
        assert_eq!(no_sim.exit_code(), 3);

        let died = CliError::ServiceDied;
        assert_eq!(died.exit_code(), 3);
        assert_eq!(died.to_string(), format!("SERVICE_DIED: {SERVICE_DIED_MESSAGE}"));
    }

    #[test]
    fn display_matches_the_client_error_for_service_failures() {
        let error =
            ClientError::Service { code: ErrorCode::BusGone, message: "bus 3 removed".into() };
        assert_eq!(CliError::from(error.clone()).to_string(), error.to_string());
    }
}
