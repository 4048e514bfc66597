//! i2cctl: i2c-tools-style client of the i2c-hal service. All logic lives in `i2c_hal::cli`.

use i2c_hal::cli::args::{self, Command};
use i2c_hal::cli::commands::{self, Request};
#[cfg(feature = "sim")]
use i2c_hal::cli::sim;
use i2c_hal::cli::{report, CliError};
use i2c_hal::ipc::client::{Client, ClientError, Endpoint, TrustedServers};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => ExitCode::from(report(&error)),
    }
}

fn run() -> Result<(), CliError> {
    let cli = args::parse_args()?;
    match cli.command {
        #[cfg(feature = "sim")]
        Command::Sim(action) => sim::run(action, cli.socket, cli.server_uid, cli.json),
        Command::Service(command) => {
            let request = Request::from_command(command)?;
            let mut trusted = TrustedServers::from_env().map_err(ClientError::UntrustedService)?;
            if let Some(uid) = cli.server_uid {
                trusted = trusted.with(uid);
            }
            let client = Client::connect_trusting(&Endpoint::resolve(cli.socket), &trusted)?;
            commands::run(&client, request, cli.json)
        }
    }
}
