//! Lock-poison recovery, in one place for every mutex and rwlock of the service.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks `mutex`, taking the guard even if a thread panicked while holding it.
///
/// Poisoning guards logical invariants, not memory safety, and the data behind these mutexes
/// has no state a panic could leave half-made: every critical section either replaces a whole
/// value (a device slot, a session state, a module phase) or makes one insert or removal in a
/// collection, so whatever a panicking holder left is a state the code already handles.
/// Refusing the lock instead would wedge its bus for good: removal could never take the device
/// mutex to close the fd, and the kernel's `i2c_del_adapter()` would wait forever.
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads `rwlock` on the same terms as `lock`: its holders replace whole values.
pub fn read<T: ?Sized>(rwlock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    rwlock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Writes `rwlock` on the same terms as `lock`.
pub fn write<T: ?Sized>(rwlock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    rwlock.write().unwrap_or_else(PoisonError::into_inner)
}
