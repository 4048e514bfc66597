//! i2cctl: i2c-tools-style client of the i2c-hal service. All logic lives in `cli`.

mod cli;

use cli::args::{self, Command};
use cli::commands::{self, Request};
#[cfg(feature = "sim")]
use cli::sim;
use cli::{report, CliError};
use i2c_hal_client::{Client, ClientError, Endpoint, TrustedServers};
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
