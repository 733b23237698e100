//! The dispatcher's clock: the real one, or virtual time for tests (tokio's `time::pause` with
//! auto-advance). Virtual time stands still while tasklets run; when every tasklet waits and
//! the next thing that can happen is a timer, the loop moves the clock to that timer's
//! deadline at once, so a test of a ten-minute schedule runs in milliseconds, in the same order
//! every time. While a tasklet waits for another thread (the blocking pool, a future on tokio,
//! a message from another dispatcher or thread), the loop waits for it in real time and the
//! virtual clock moves by the time that passed, as the real one would.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::engine::scheduler;

/// A dispatcher's clock.
#[derive(Default)]
pub(crate) struct Clock {
    /// The virtual now, under virtual time; `None` on the real clock.
    frozen: Cell<Option<Instant>>,
}

impl Clock {
    /// Switches to virtual time, starting at `start`: the timers' tick 0, so that every
    /// whole-millisecond deadline falls on a tick and virtual time moves by exactly what was
    /// asked, the same in every run.
    pub(crate) fn make_virtual(&self, start: Instant) {
        self.frozen.set(Some(start));
    }

    /// Whether the clock is virtual.
    #[inline]
    pub(crate) fn is_virtual(&self) -> bool {
        self.frozen.get().is_some()
    }

    /// The clock's now.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        self.frozen.get().unwrap_or_else(Instant::now)
    }

    /// Moves virtual time forward to `at` (never back); nothing on the real clock.
    pub(crate) fn advance_to(&self, at: Instant) {
        if let Some(now) = self.frozen.get() {
            self.frozen.set(Some(now.max(at)));
        }
    }

    /// Moves virtual time forward by `by`; nothing on the real clock.
    pub(crate) fn advance_by(&self, by: Duration) {
        if let Some(now) = self.frozen.get() {
            self.frozen.set(Some(now + by));
        }
    }
}

/// The now of this thread's dispatcher (virtual under virtual time); the real now elsewhere.
#[inline]
pub(crate) fn now() -> Instant {
    match scheduler::try_get() {
        Some(sched) => sched.clock.now(),
        None => Instant::now(),
    }
}
