//! Where each running dispatcher can be reached from any thread, by its serial number: what a
//! value confined to one dispatcher's thread (a call's reply slot) uses to go home when code
//! on another thread lets go of it.
//!
//! Each scheduler takes a serial from a process-wide counter and registers its [`Remote`]
//! under it for its lifetime ([`Home`]). Serials are never reused, so a value that records the
//! serial of the dispatcher it belongs to can tell, on any thread, whether it is at home
//! (the running scheduler has that serial), and otherwise [`find`] its home: this thread (the
//! dispatcher is starting or ending), another thread, or gone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::ThreadId;

use crate::engine::reactor::Remote;

/// The next serial to give out (0 is never given: it names no dispatcher).
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// The running dispatchers, by serial. A few entries (one per dispatcher thread running now):
/// a vector searched from the end.
static HOMES: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// A running dispatcher: its serial, its thread, its `Remote`.
type Entry = (u64, ThreadId, Weak<Remote>);

/// A dispatcher's registration: its serial, and its `Remote` findable by it until dropped.
pub(crate) struct Home {
    serial: u64,
}

impl Home {
    /// Registers `remote` under a new serial.
    pub(crate) fn register(remote: &Arc<Remote>) -> Home {
        let serial = NEXT_SERIAL.fetch_add(1, Ordering::Relaxed);
        lock().push((serial, std::thread::current().id(), Arc::downgrade(remote)));
        Home { serial }
    }

    /// The dispatcher's serial.
    #[inline]
    pub(crate) fn serial(&self) -> u64 {
        self.serial
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let mut homes = lock();
        if let Some(at) = homes.iter().rposition(|(s, _, _)| *s == self.serial) {
            homes.swap_remove(at);
        }
    }
}

/// Where the dispatcher registered under a serial is, seen from the calling thread.
pub(crate) enum Found {
    /// It runs on this thread (though maybe not at this moment: it is starting or ending).
    ThisThread,
    /// It runs on another thread, reached through its `Remote`.
    Elsewhere(Arc<Remote>),
    /// It has ended (or is ending: its `Remote` is gone).
    Gone,
}

/// Where the dispatcher registered under `serial` is.
pub(crate) fn find(serial: u64) -> Found {
    let homes = lock();
    let Some((_, thread, remote)) = homes.iter().rev().find(|(s, _, _)| *s == serial) else {
        return Found::Gone;
    };
    if *thread == std::thread::current().id() {
        return Found::ThisThread;
    }
    remote.upgrade().map_or(Found::Gone, Found::Elsewhere)
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Entry>> {
    HOMES.lock().unwrap_or_else(PoisonError::into_inner)
}
