//! The edges that touch the kernel: i2c-dev, the uevent socket, sysfs, and the simulator that
//! stands in for all three in `--sim` mode (feature `sim`).

pub mod i2cdev;
pub mod monitor;
pub mod netlink;
pub mod sched;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;
pub mod sysfs;
pub mod uevent;
pub mod unix_socket;
pub mod users;

/// An environment variable's value, unless it is unset or empty: an empty one means "not
/// set" for every variable the service and its clients read.
pub fn non_empty_var(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}
