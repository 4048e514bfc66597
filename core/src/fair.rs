//! A mutex that serves its waiters in the order they arrived: a ticket lock built from a
//! `Mutex` and a `Condvar`, no unsafe code.
//!
//! Why: `std::sync::Mutex` lets a thread that has just unlocked take the lock again before a
//! woken waiter gets to run (barging). On a shared bus, a client that calls in a tight loop
//! from several threads then holds the adapter almost all the time and another client's call
//! waits for many of its calls instead of at most the ones queued ahead of it. With tickets,
//! a call waits for exactly the calls that asked before it.
//!
//! The cost: the lock is taken in two steps, and a contended unlock hands the lock to the next
//! waiter (woken alone, by `Thread::unpark`) even when the unlocking thread could have gone on
//! at once: under contention that costs a context switch per hand-over, which is the price of
//! the order.

use super::sync::lock;
use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};
use std::thread::{self, Thread};

#[derive(Default)]
struct Tickets {
    /// The ticket the next caller of `lock` draws.
    next: u64,
    /// The ticket whose holder may have the value now.
    serving: u64,
    /// Who waits, in ticket order (a ticket is drawn and queued under the same lock): each
    /// unlock wakes exactly the next one, not every waiter to compare tickets.
    waiting: VecDeque<(u64, Thread)>,
}

#[derive(Default)]
pub struct FairMutex<T> {
    tickets: Mutex<Tickets>,
    /// Taken only by the holder of the serving ticket, so it is never contended: it is here
    /// to hand out `&mut T` without unsafe code.
    value: Mutex<T>,
}

pub struct FairGuard<'a, T> {
    owner: &'a FairMutex<T>,
    /// Some until drop, which releases it before passing the turn on.
    value: Option<MutexGuard<'a, T>>,
}

impl<T> FairMutex<T> {
    pub fn new(value: T) -> FairMutex<T> {
        FairMutex { tickets: Mutex::default(), value: Mutex::new(value) }
    }

    /// Waits for every caller that asked before this one, then for nobody else. Poisoning is
    /// recovered as `sync::lock` does, for the same reasons.
    pub fn lock(&self) -> FairGuard<'_, T> {
        let mut tickets = lock(&self.tickets);
        let mine = tickets.next;
        tickets.next += 1;
        if tickets.serving != mine {
            tickets.waiting.push_back((mine, thread::current()));
            drop(tickets);
            // A wake-up may be spurious (park allows it) or meant for an earlier park of this
            // thread elsewhere: only the serving ticket counts.
            loop {
                thread::park();
                if lock(&self.tickets).serving == mine {
                    break;
                }
            }
        } else {
            drop(tickets);
        }
        FairGuard { owner: self, value: Some(lock(&self.value)) }
    }

    /// The lock if nobody holds it or waits for it, at once; None otherwise.
    pub fn try_lock(&self) -> Option<FairGuard<'_, T>> {
        let mut tickets = lock(&self.tickets);
        if tickets.next != tickets.serving {
            return None;
        }
        tickets.next += 1;
        drop(tickets);
        Some(FairGuard { owner: self, value: Some(lock(&self.value)) })
    }

    /// Callers holding or waiting for the lock.
    pub fn queued(&self) -> u64 {
        let tickets = lock(&self.tickets);
        tickets.next - tickets.serving
    }
}

impl<T> Deref for FairGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // Some from construction until drop.
        self.value.as_deref().expect("guard used after release")
    }
}

impl<T> DerefMut for FairGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_deref_mut().expect("guard used after release")
    }
}

impl<T> Drop for FairGuard<'_, T> {
    fn drop(&mut self) {
        // The value first: the next ticket's holder locks it as soon as it sees its turn.
        drop(self.value.take());
        let mut tickets = lock(&self.owner.tickets);
        tickets.serving += 1;
        let serving = tickets.serving;
        let next = match tickets.waiting.front() {
            Some((ticket, _)) if *ticket == serving => tickets.waiting.pop_front(),
            _ => None,
        };
        drop(tickets);
        if let Some((_, waiter)) = next {
            waiter.unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    /// Waits (without a timing assumption) until `count` callers hold or wait for the lock.
    fn until_queued<T>(mutex: &FairMutex<T>, count: u64) {
        while mutex.queued() < count {
            thread::yield_now();
        }
    }

    #[test]
    fn waiters_are_served_in_the_order_they_asked() {
        let mutex = Arc::new(FairMutex::new(Vec::new()));
        let held = mutex.lock();
        let mut threads = Vec::new();
        for n in 1..=6 {
            let shared = mutex.clone();
            threads.push(thread::spawn(move || shared.lock().push(n)));
            // Thread n has drawn its ticket before thread n+1 starts: the order is fixed here.
            until_queued(&mutex, n + 1);
        }
        drop(held);
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(*mutex.lock(), vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_holder_that_asks_again_at_once_goes_behind_the_waiter() {
        // What std's Mutex allows (the unlocking thread barges back in) and this one does not.
        let mutex = Arc::new(FairMutex::new(Vec::new()));
        let mut held = mutex.lock();
        held.push("hammer");
        let waiter = {
            let mutex = mutex.clone();
            thread::spawn(move || mutex.lock().push("waiter"))
        };
        until_queued(&mutex, 2);
        drop(held);
        mutex.lock().push("hammer");
        waiter.join().unwrap();
        assert_eq!(*mutex.lock(), vec!["hammer", "waiter", "hammer"]);
    }

    #[test]
    fn try_lock_takes_only_a_free_lock_and_releases_in_turn() {
        let mutex = FairMutex::new(0);
        let held = mutex.try_lock().expect("free");
        assert!(mutex.try_lock().is_none(), "held");
        assert_eq!(mutex.queued(), 1);
        drop(held);
        assert_eq!(mutex.queued(), 0);
        *mutex.lock() += 1;
        assert_eq!(*mutex.try_lock().expect("free again"), 1);
    }

    #[test]
    fn a_panic_under_the_lock_passes_the_turn_on() {
        let mutex = Arc::new(FairMutex::new(0));
        let panicking = mutex.clone();
        let result = thread::spawn(move || {
            let _guard = panicking.lock();
            panic!("holder dies");
        })
        .join();
        assert!(result.is_err());
        *mutex.lock() += 1;
        assert_eq!(*mutex.lock(), 1);
    }
}
