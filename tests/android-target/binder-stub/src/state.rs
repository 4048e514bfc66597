//! Mirrors android-binder 0.2.2 `src/state.rs` (compiled with feature `kernel_ipc`, not
//! `android_ndk`).

use crate::libc::{pid_t, uid_t};

/// Static functions managing the process's binder thread pool.
///
/// Mirrors `pub struct ProcessState;` in android-binder 0.2.2 `src/state.rs`.
pub struct ProcessState;

impl ProcessState {
    /// Mirrors `ProcessState::start_thread_pool()`.
    pub fn start_thread_pool() {
        unimplemented!("binder stub")
    }

    /// Mirrors `ProcessState::set_thread_pool_max_thread_count(num_threads: u32)`.
    pub fn set_thread_pool_max_thread_count(_num_threads: u32) {
        unimplemented!("binder stub")
    }

    /// Mirrors `ProcessState::join_thread_pool()` (returns `()`).
    pub fn join_thread_pool() {
        unimplemented!("binder stub")
    }
}

/// Static functions about the transaction the calling thread is handling.
///
/// Mirrors `pub struct ThreadState;` in android-binder 0.2.2 `src/state.rs`.
pub struct ThreadState;

impl ThreadState {
    /// Mirrors `ThreadState::get_calling_uid() -> uid_t`.
    pub fn get_calling_uid() -> uid_t {
        unimplemented!("binder stub")
    }

    /// Mirrors `ThreadState::get_calling_pid() -> pid_t`.
    pub fn get_calling_pid() -> pid_t {
        unimplemented!("binder stub")
    }
}
