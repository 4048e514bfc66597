//! A thread's scheduling priority: the one knob the service turns, for its callback threads.

use std::io;

/// Sets the calling thread's nice value (-20, the most favoured, to 19).
///
/// Linux applies `PRIO_PROCESS` with `who` 0 to the calling thread alone, not to its whole
/// process (kernel/sys.c, `setpriority()`: `p = current` when `who` is 0; man 2 setpriority,
/// BUGS), which is what lets one thread be favoured over the others of its process.
/// Lowering a nice value needs CAP_SYS_NICE or a matching RLIMIT_NICE (EACCES/EPERM
/// otherwise); raising it never does.
pub fn set_this_thread_nice(nice: i32) -> io::Result<()> {
    // SAFETY: setpriority(2) takes three integers and touches no memory of this process.
    let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The calling thread's nice value.
pub fn this_thread_nice() -> io::Result<i32> {
    // getpriority(2) may return -1 as a value, so errno tells an error apart (man 2 getpriority).
    nix::errno::Errno::clear();
    // SAFETY: getpriority(2) takes two integers and touches no memory of this process.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    match nix::errno::Errno::last_raw() {
        0 => Ok(nice),
        errno => Err(io::Error::from_raw_os_error(errno)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_can_lower_its_own_priority_without_touching_its_siblings() {
        let before = this_thread_nice().unwrap();
        assert!(before < 19, "the suite already runs at nice 19: nothing to lower");
        let lowered = std::thread::spawn(move || {
            set_this_thread_nice((before + 5).min(19)).unwrap();
            this_thread_nice().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(lowered, (before + 5).min(19));
        assert_eq!(this_thread_nice().unwrap(), before, "only the calling thread changed");
    }
}
