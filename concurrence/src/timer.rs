//! Deadlines: the dispatcher's timer queue and [`sleep`].
//!
//! Timers live in a `BTreeMap` keyed by `(deadline, sequence)`: inserting, cancelling and taking
//! the earliest are `O(log n)`, so a million pending timers stay cheap, and the earliest deadline
//! is the dispatcher's poll timeout when nothing else is ready. A timer holds a wake-up token
//! (tasklet and epoch); one that fires for a wait that already ended does nothing.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::state::{Task, WaitOn};
use crate::wait::Wait;

/// Identifies one pending timer, to cancel it.
pub(crate) type TimerKey = (Instant, u64);

/// Pending deadlines of one dispatcher.
#[derive(Default)]
pub(crate) struct Timers {
    map: BTreeMap<TimerKey, (Rc<Task>, u32)>,
    seq: u64,
}

impl Timers {
    /// Registers a wake-up of `task` for its wait `epoch` at `deadline`.
    pub(crate) fn insert(&mut self, deadline: Instant, task: Rc<Task>, epoch: u32) -> TimerKey {
        self.seq += 1;
        let key = (deadline, self.seq);
        self.map.insert(key, (task, epoch));
        key
    }

    /// Cancels a timer; nothing happens if it already fired.
    pub(crate) fn remove(&mut self, key: TimerKey) {
        self.map.remove(&key);
    }

    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.map.first_key_value().map(|(key, _)| key.0)
    }

    /// Removes and returns the earliest timer if its deadline is not after `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<(Rc<Task>, u32)> {
        let entry = self.map.first_entry()?;
        if entry.key().0 <= now {
            Some(entry.remove())
        } else {
            None
        }
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }
}

/// Blocks the current tasklet for `duration`; other tasklets run meanwhile.
///
/// A zero duration still lets every other ready tasklet run once before the caller goes on.
/// The resolution is a millisecond (see [Timeouts](crate#timeouts)): `sleep(100us)` takes about
/// 1.1 ms when the dispatcher has nothing else to do.
///
/// # Panics
///
/// Panics when called outside a tasklet (outside [`dispatch`](crate::dispatch)). A tasklet
/// killed while it sleeps unwinds from here.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, sleep};
/// use std::time::{Duration, Instant};
///
/// dispatch(|| {
///     let start = Instant::now();
///     sleep(Duration::from_millis(20));
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) {
    sleep_until(deadline_after(duration));
}

/// How far "for ever" is: a deadline this far ahead never comes in practice, and stays far
/// from the end of `Instant`'s range.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// The deadline `timeout` from now. A timeout past what `Instant` can hold (`Duration::MAX`)
/// means practically for ever, never an overflow: every timeout of the crate goes through here.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout).unwrap_or_else(|| now + FOREVER)
}

/// Blocks the current tasklet until `deadline`; returns at once (after letting the others run)
/// if it has passed.
///
/// # Panics
///
/// As [`sleep`].
#[track_caller]
pub fn sleep_until(deadline: Instant) {
    // A sleep ends only by its deadline, so the timeout is the expected outcome.
    let _ = Wait::begin(WaitOn::Sleep).suspend(Some(deadline));
}
