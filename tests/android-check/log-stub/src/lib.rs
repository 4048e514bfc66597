//! Stand-in for the `log` crate (0.4): `LevelFilter` and its `FromStr`, as log 0.4.22 declares
//! them (`src/lib.rs`). Only what compat.rs's android half uses.

use std::fmt;
use std::str::FromStr;

/// Mirrors `log::LevelFilter` (a `#[repr(usize)]` enum in log).
#[repr(usize)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LevelFilter {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Mirrors `log::ParseLevelError`.
#[derive(Debug, PartialEq, Eq)]
pub struct ParseLevelError(());

impl fmt::Display for ParseLevelError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        unimplemented!()
    }
}

/// Mirrors `impl FromStr for LevelFilter` (`type Err = ParseLevelError`).
impl FromStr for LevelFilter {
    type Err = ParseLevelError;
    fn from_str(_: &str) -> Result<LevelFilter, Self::Err> {
        unimplemented!()
    }
}
