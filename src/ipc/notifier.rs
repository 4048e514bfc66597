//! Delivers client callbacks on a thread of its own, so that the broker (and the removal path in
//! particular) never waits for a client. Callbacks are oneway, so a delivery is a write to the
//! client's binder buffer or socket, not a wait for the client to run.

use log::warn;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

type Delivery = Box<dyn FnOnce() + Send>;

pub struct Notifier {
    queue: Mutex<Sender<Delivery>>,
    pending: Arc<(Mutex<usize>, Condvar)>,
}

impl Notifier {
    pub fn start() -> std::io::Result<Arc<Notifier>> {
        let (tx, rx) = mpsc::channel::<Delivery>();
        let pending = Arc::new((Mutex::new(0usize), Condvar::new()));
        let done = pending.clone();
        std::thread::Builder::new().name("callbacks".into()).spawn(move || {
            for delivery in rx {
                delivery();
                let (count, changed) = &*done;
                *count.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                changed.notify_all();
            }
        })?;
        Ok(Arc::new(Notifier { queue: Mutex::new(tx), pending }))
    }

    pub fn post(&self, delivery: impl FnOnce() + Send + 'static) {
        *self.pending.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        let sent = self.queue.lock().unwrap_or_else(|e| e.into_inner()).send(Box::new(delivery));
        if sent.is_err() {
            warn!("callback thread is gone; a notification was dropped");
            *self.pending.0.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        }
    }

    /// Waits until every posted delivery has been made, or `timeout` passes (shutdown path).
    pub fn drain(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (count, changed) = &*self.pending;
        let mut pending = count.lock().unwrap_or_else(|e| e.into_inner());
        while *pending > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            pending = changed.wait_timeout(pending, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_run_in_order_and_drain_waits_for_them() {
        let notifier = Notifier::start().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        for i in 0..100 {
            let seen = seen.clone();
            notifier.post(move || seen.lock().unwrap().push(i));
        }
        assert!(notifier.drain(Duration::from_secs(10)));
        assert_eq!(*seen.lock().unwrap(), (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn drain_gives_up_on_a_stuck_delivery() {
        let notifier = Notifier::start().unwrap();
        let (release, wait) = mpsc::channel::<()>();
        notifier.post(move || {
            let _ = wait.recv();
        });
        assert!(!notifier.drain(Duration::from_millis(50)));
        release.send(()).unwrap();
        assert!(notifier.drain(Duration::from_secs(10)));
    }
}
