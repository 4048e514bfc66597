//! The edges that touch the kernel: i2c-dev, the uevent socket, sysfs, the service's Unix
//! socket and the users it serves. The simulator that stands in for the kernel in `--sim` mode
//! is a crate of its own (`i2c_hal_sim`), for development and tests only.

pub mod i2cdev;
pub mod monitor;
pub mod netlink;
pub mod sched;
pub mod source;
pub mod sysfs;
pub mod uevent;
pub mod unix_socket;
pub mod users;
