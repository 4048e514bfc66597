//! The binder-free core (`src/core`) as a crate of its own, with its unit tests: the crate
//! root of Android.bp's host-and-device `i2c_hal_core_test`. Cargo builds it too, which proves
//! the root compiles with only what that module links (log, serde, serde_json; toml on the
//! host, feature `toml`): `core` may name nothing else (tests/layering.rs enforces the same
//! from the other side).

// Items the service uses and these tests do not would each warn: the core is a library here.
#![allow(dead_code)]

#[path = "../src/core/mod.rs"]
pub mod core;
