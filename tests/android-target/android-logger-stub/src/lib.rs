//! Stand-in for android_logger 0.13/0.14 (`src/lib.rs`, `src/config.rs`): `Config` with its
//! builder methods and `init_once`, signatures transcribed, bodies `unimplemented!()`.

use log::LevelFilter;

/// Mirrors `android_logger::Config` (not `Clone` in the real crate either).
#[derive(Default)]
pub struct Config {
    _private: (),
}

impl Config {
    /// Mirrors `Config::with_max_level(mut self, level: LevelFilter) -> Self` (0.13+; the older
    /// `with_min_level` took a `Level`).
    pub fn with_max_level(self, _level: LevelFilter) -> Self {
        unimplemented!()
    }

    /// Mirrors `Config::with_tag<S: Into<Vec<u8>>>(mut self, tag: S) -> Self`.
    pub fn with_tag<S: Into<Vec<u8>>>(self, _tag: S) -> Self {
        unimplemented!()
    }
}

/// Mirrors `android_logger::init_once(config: Config)`: the first call wins, later ones do
/// nothing.
pub fn init_once(_config: Config) {
    unimplemented!()
}
