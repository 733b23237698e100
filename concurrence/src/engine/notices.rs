//! The notices other threads leave for a dispatcher (keys of remote waits to end, and jobs to
//! run in its loop), with the coalesced wake-up: what [`Remote`](crate::engine::reactor::Remote)
//! keeps, apart from its `mio::Waker`, so that the protocol can be model-checked with loom
//! (`RUSTFLAGS="--cfg loom" cargo test -p concurrence --lib --release notices`, which
//! `.ci/run` runs).
//!
//! A notice is queued, then `notified` is set, and the waker called only when the flag was
//! clear. The dispatcher clears the flag *before* it takes the queues. So a notice queued after
//! the take finds the flag clear (or sets it after the clear) and wakes the dispatcher again,
//! and a flood of notices between two takes costs one wake-up.

#[cfg(loom)]
use loom::sync::atomic::{AtomicBool, Ordering};
#[cfg(loom)]
use loom::sync::Mutex;
#[cfg(not(loom))]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(loom))]
use std::sync::Mutex;

/// Work another thread hands a dispatcher, run in its loop.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// Queued notices and the flag that coalesces their wake-ups.
#[derive(Default)]
pub(crate) struct Notices {
    woken: Mutex<Vec<u64>>,
    jobs: Mutex<Vec<Job>>,
    notified: AtomicBool,
}

impl Notices {
    /// Queues the end of the remote wait `key`; calls `wake` unless a wake-up is on its way.
    pub(crate) fn push_key(&self, key: u64, wake: impl FnOnce()) {
        lock(&self.woken).push(key);
        self.notify(wake);
    }

    /// Queues `job`; calls `wake` unless a wake-up is on its way.
    pub(crate) fn push_job(&self, job: Job, wake: impl FnOnce()) {
        lock(&self.jobs).push(job);
        self.notify(wake);
    }

    fn notify(&self, wake: impl FnOnce()) {
        if !self.notified.swap(true, Ordering::SeqCst) {
            wake();
        }
    }

    /// Whether a notice may be waiting.
    pub(crate) fn notified(&self) -> bool {
        self.notified.load(Ordering::SeqCst)
    }

    /// The keys and jobs queued since the last take. Clears the flag first, so that a notice
    /// queued after the take wakes the dispatcher again. The clear is a swap, a read-modify-
    /// write, so that it takes its place in the flag's order with the notices' swaps (on x86
    /// a sequentially consistent store is the same `xchg`); loom finds a lost wake-up when it
    /// is a plain store, which its model lets a later swap read past.
    pub(crate) fn take(&self) -> (Vec<u64>, Vec<Job>) {
        self.notified.swap(false, Ordering::SeqCst);
        let woken = std::mem::take(&mut *lock(&self.woken));
        let jobs = std::mem::take(&mut *lock(&self.jobs));
        (woken, jobs)
    }
}

#[cfg(not(loom))]
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(loom)]
fn lock<T>(mutex: &Mutex<T>) -> loom::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap()
}

#[cfg(all(test, loom))]
mod tests {
    use super::Notices;
    use loom::sync::{Arc, Notify};

    /// Two threads leave a notice each (a key, a job) while the dispatcher takes them and,
    /// when it has not seen both, parks until woken (`Notify` keeps a wake-up that comes before
    /// the park, as the `mio::Waker`'s eventfd does). In every interleaving the dispatcher sees
    /// both notices: a parked dispatcher with a notice queued and no wake-up coming would be a
    /// deadlock, which loom reports. Taking the queues before clearing the flag fails it.
    #[test]
    fn no_notice_is_left_behind_by_a_parked_dispatcher() {
        loom::model(|| {
            let notices = Arc::new(Notices::default());
            let waker = Arc::new(Notify::new());
            let senders: Vec<_> = (0..2u64)
                .map(|n| {
                    let (notices, waker) = (notices.clone(), waker.clone());
                    loom::thread::spawn(move || match n {
                        0 => notices.push_key(n, || waker.notify()),
                        _ => notices.push_job(Box::new(|| {}), || waker.notify()),
                    })
                })
                .collect();
            let mut seen = 0;
            loop {
                let (keys, jobs) = notices.take();
                seen += keys.len() + jobs.len();
                jobs.into_iter().for_each(|job| job());
                if seen == 2 {
                    break;
                }
                waker.wait();
            }
            senders.into_iter().for_each(|s| s.join().unwrap());
        });
    }
}
