//! The waiters of a primitive that hands what it has to the oldest of them (a semaphore's
//! permits, a lock, a notification): wake-up tokens of the engine's waits (tasklet and epoch,
//! as a [`WaitList`](crate::engine::wait::WaitList) holds them), each with how much it wants
//! and whether it was given it.
//!
//! The entries live in the primitive's heap queue, never on a tasklet's stack: a compact
//! tasklet's stack bytes move while another tasklet runs, so an intrusive list through stack
//! frames would be unsound.
//!
//! **Hand-off.** What is released goes to the oldest live waiter at once: its entry is marked
//! *granted* and its wait ended. A newcomer cannot take it first (no barging), and the waiter
//! owns it from then on: when it leaves without taking it (killed before it ran, or another
//! condition of its `select!` won), it gives it back, and the primitive hands it on.
//!
//! Entries whose wait ended for another reason (a timeout, another condition) are skipped but
//! left in place; their waiter removes them when it disarms.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::engine::condition::Waiter;
use crate::engine::coroutine::Wake;
use crate::engine::scheduler;
use crate::engine::state::Task;
use crate::engine::wait::is_live;

/// One waiter: its wake-up token, what it wants and whether it was given it.
pub(crate) struct Entry<G> {
    ticket: u64,
    task: Rc<Task>,
    epoch: u32,
    /// How much it wants (permits).
    pub(crate) want: usize,
    /// What it was given, once it was.
    pub(crate) granted: Option<G>,
}

/// The waiters of one primitive, oldest first. `G` is what a grant carries (`()` for a
/// semaphore's permits; the kind of notification for `Notify`).
pub(crate) struct Queue<G> {
    entries: VecDeque<Entry<G>>,
    next_ticket: u64,
}

impl<G> Default for Queue<G> {
    fn default() -> Self {
        Queue {
            entries: VecDeque::new(),
            next_ticket: 0,
        }
    }
}

impl<G> Queue<G> {
    /// Registers the wait of `waiter`, wanting `want`, behind the others; returns its ticket.
    pub(crate) fn push(&mut self, waiter: &Waiter, want: usize) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.entries.push_back(Entry {
            ticket,
            task: waiter.task.clone(),
            epoch: waiter.epoch,
            want,
            granted: None,
        });
        ticket
    }

    /// Whether the entry of `ticket` was granted (false when it is not there).
    pub(crate) fn is_granted(&self, ticket: u64) -> bool {
        self.entries
            .iter()
            .any(|e| e.ticket == ticket && e.granted.is_some())
    }

    /// Removes the entry of `ticket`, if it is there.
    pub(crate) fn remove(&mut self, ticket: u64) -> Option<Entry<G>> {
        let at = self.entries.iter().position(|e| e.ticket == ticket)?;
        self.entries.remove(at)
    }

    /// Whether a waiter still waits without having been given anything: a newcomer must
    /// queue behind it.
    pub(crate) fn has_waiter(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.granted.is_none() && is_live(&e.task, e.epoch))
    }

    /// Grants to the waiters that still wait, oldest first, while `take(want)` gives something
    /// (and takes it from the primitive); stops at the first one it refuses, so that a younger
    /// waiter never overtakes an older one. Each waiter granted is woken. Returns how many.
    pub(crate) fn grant(&mut self, mut take: impl FnMut(usize) -> Option<G>) -> usize {
        let mut granted = 0;
        for entry in &mut self.entries {
            if entry.granted.is_some() || !is_live(&entry.task, entry.epoch) {
                continue;
            }
            let Some(grant) = take(entry.want) else {
                break;
            };
            entry.granted = Some(grant);
            granted += 1;
            wake(entry);
        }
        granted
    }
}

/// Ends the wait of `entry`'s waiter (it is live: checked by the caller).
fn wake<G>(entry: &Entry<G>) {
    if let Some(sched) = scheduler::try_get() {
        sched.wake(&entry.task, entry.epoch, Wake::Ready);
    }
}
