//! i2c-hal-policy: checks access policy files and writes the JSON form a device reads. People
//! write policies in TOML; AOSP builds its `toml` crate for hosts only, so Android.bp runs
//! `i2c-hal-policy json` on android/policy.toml at build time (a genrule) and installs the
//! output, and a policy with a mistake fails the build with its line number.
//!
//! It links the binder-free core alone, so that Soong's host binary needs nothing but the
//! core and its own crates (log, serde, serde_json, toml).

use i2c_hal_core::policy::file::{PolicyFileError, MAX_POLICY_BYTES};
use i2c_hal_core::policy::rules::AccessPolicy;
use i2c_hal_core::policy::UidScheme;
use std::fmt;
use std::io::{self, Read};
use std::process::ExitCode;

const USAGE: &str =
    "usage: i2c-hal-policy check FILE...   (each file's rule count, or its first error)
       i2c-hal-policy json FILE         (the JSON form of FILE, on stdout)";

/// A file's text, refusing one larger than any policy needs.
fn read(path: &str) -> Result<String, Failure> {
    let unreadable = |error| Failure::Unreadable { path: path.to_string(), error };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut text = String::new();
    let limit = u64::try_from(MAX_POLICY_BYTES + 1).unwrap_or(u64::MAX);
    file.take(limit).read_to_string(&mut text).map_err(unreadable)?;
    Ok(text)
}

/// What went wrong; `exit_code` says which kind.
enum Failure {
    /// Not a call this tool takes.
    Usage,
    /// The file could not be read.
    Unreadable { path: String, error: io::Error },
    /// The file was read, and it is not a valid policy.
    Invalid { path: String, error: PolicyFileError },
}

impl Failure {
    /// 1 an invalid policy, 2 the call or the file system.
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Invalid { .. } => 1,
            Failure::Usage | Failure::Unreadable { .. } => 2,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage => f.write_str(USAGE),
            Failure::Unreadable { path, error } => write!(f, "{path}: {error}"),
            Failure::Invalid { path, error } => write!(f, "{path}: {error}"),
        }
    }
}

/// Turns the refusal of the policy at `path` into a failure.
fn invalid(path: &str) -> impl Fn(PolicyFileError) -> Failure + '_ {
    move |error| Failure::Invalid { path: path.to_string(), error }
}

fn check(paths: &[String], scheme: UidScheme) -> Result<(), Failure> {
    if paths.is_empty() {
        return Err(Failure::Usage);
    }
    for path in paths {
        let text = read(path)?;
        let policy = AccessPolicy::parse_for(&text, scheme).map_err(invalid(path))?;
        println!("{path}: {} rule(s)", policy.rules.len());
    }
    Ok(())
}

fn json(paths: &[String], scheme: UidScheme) -> Result<(), Failure> {
    let [path] = paths else {
        return Err(Failure::Usage);
    };
    let text = read(path)?;
    let json = AccessPolicy::to_json(&text, scheme).map_err(invalid(path))?;
    print!("{json}");
    Ok(())
}

/// `--for android|host` at the front of the arguments, and the rest.
fn scheme(args: &[String]) -> Result<(UidScheme, &[String]), Failure> {
    match args {
        [flag, platform, rest @ ..] if flag == "--for" => match platform.as_str() {
            "android" => Ok((UidScheme::Android, rest)),
            "host" => Ok((UidScheme::Host, rest)),
            _ => Err(Failure::Usage),
        },
        rest => Ok((UidScheme::Android, rest)),
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let (scheme, args) = scheme(args)?;
    match args.split_first() {
        Some((command, rest)) if command == "check" => check(rest, scheme),
        Some((command, rest)) if command == "json" => json(rest, scheme),
        _ => Err(Failure::Usage),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((help, _)) if help == "--help" || help == "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("i2c-hal-policy: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
