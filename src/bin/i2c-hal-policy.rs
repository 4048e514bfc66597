//! i2c-hal-policy: checks access policy files and writes the JSON form a device reads. People
//! write policies in TOML; AOSP builds its `toml` crate for hosts only, so Android.bp runs
//! `i2c-hal-policy json` on android/policy.toml at build time (a genrule) and installs the
//! output, and a policy with a mistake fails the build with its line number.
//!
//! It links the binder-free core alone, so that Soong's host binary needs nothing but the
//! core and its own crates (log, serde, serde_json, toml).

use i2c_hal_core::access::{AccessPolicy, MAX_POLICY_BYTES};
use i2c_hal_core::policy::UidScheme;
use std::io::Read;
use std::process::ExitCode;

const USAGE: &str =
    "usage: i2c-hal-policy check FILE...   (each file's rule count, or its first error)
       i2c-hal-policy json FILE         (the JSON form of FILE, on stdout)";

/// A file's text, refusing one larger than any policy needs.
fn read(path: &str) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut text = String::new();
    let limit = u64::try_from(MAX_POLICY_BYTES + 1).unwrap_or(u64::MAX);
    file.take(limit).read_to_string(&mut text).map_err(|e| format!("{path}: {e}"))?;
    Ok(text)
}

/// What went wrong, and the exit code that says which kind: 1 an invalid policy, 2 the call
/// or the file system.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn usage() -> Failure {
        Failure { message: USAGE.to_string(), code: 2 }
    }
}

fn check(paths: &[String], scheme: UidScheme) -> Result<(), Failure> {
    if paths.is_empty() {
        return Err(Failure::usage());
    }
    for path in paths {
        let text = read(path).map_err(|message| Failure { message, code: 2 })?;
        let policy = AccessPolicy::parse_for(&text, scheme)
            .map_err(|e| Failure { message: format!("{path}: {e}"), code: 1 })?;
        println!("{path}: {} rule(s)", policy.rules.len());
    }
    Ok(())
}

fn json(paths: &[String], scheme: UidScheme) -> Result<(), Failure> {
    let [path] = paths else {
        return Err(Failure::usage());
    };
    let text = read(path).map_err(|message| Failure { message, code: 2 })?;
    let json = AccessPolicy::to_json(&text, scheme)
        .map_err(|e| Failure { message: format!("{path}: {e}"), code: 1 })?;
    print!("{json}");
    Ok(())
}

/// `--for android|host` at the front of the arguments, and the rest.
fn scheme(args: &[String]) -> Result<(UidScheme, &[String]), Failure> {
    match args {
        [flag, platform, rest @ ..] if flag == "--for" => match platform.as_str() {
            "android" => Ok((UidScheme::Android, rest)),
            "host" => Ok((UidScheme::Host, rest)),
            _ => Err(Failure::usage()),
        },
        rest => Ok((UidScheme::Android, rest)),
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let (scheme, args) = scheme(args)?;
    match args.split_first() {
        Some((command, rest)) if command == "check" => check(rest, scheme),
        Some((command, rest)) if command == "json" => json(rest, scheme),
        _ => Err(Failure::usage()),
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
            eprintln!("i2c-hal-policy: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
