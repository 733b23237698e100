//! Several dispatchers as one program (`Dispatcher::threads(n)`): one dispatcher per thread,
//! each with its own scheduler, stacks, timers and poller; a tasklet lives and dies on the
//! dispatcher that started it. What they share is this `Group`: how to reach each other
//! (each one's [`Remote`]: jobs and wake-ups, coalesced), and when the program ends.
//!
//! **When the group ends.** A dispatcher is *settled* when it has nothing to do that it could
//! do on its own: no non-daemon tasklet is left (*busy* while its daemons may still run,
//! *quiet* once nothing can run there), or its tasklets are blocked on nothing that its own
//! timers, descriptors or outside threads can end (*stuck*: they wait for other dispatchers,
//! or for ever). Every notice one dispatcher sends
//! another (a job, a wake-up of a remote wait) is counted as pending before it is queued, and
//! uncounted by the receiver after it has handled it, which it does only after leaving the
//! settled state. So when the last dispatcher settles and nothing is pending, no dispatcher runs
//! a tasklet and no notice is on its way that could make one run: the group ends, as finished
//! when no dispatcher is stuck, as deadlocked when some are and none is busy (a busy
//! dispatcher's daemons may still wake a stuck tasklet: then the group waits). The counts
//! (settled, stuck, busy, pending) share one atomic word (`engine::quiescence`, model-checked with loom), so that the
//! last to settle reads them all at one instant:
//! read one after another, a dispatcher could take the last pending notice and start running
//! between the reads, and the group would end under it. A `quit`, SIGINT or SIGTERM ends it at
//! once. Every dispatcher then shuts down its own tasklets, and `run` returns when all have.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::engine::quiescence::{Counts, Kind, Quiet};
use crate::engine::reactor::{Job, Remote};

/// Why a group of dispatchers ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupEnd {
    /// No non-daemon tasklet left anywhere, nothing pending.
    Finished,
    /// Every dispatcher settled, at least one with blocked tasklets, nothing pending.
    Deadlock,
    /// A `quit` with this code, on any dispatcher.
    Quit(i32),
    /// SIGINT.
    Interrupted,
    /// SIGTERM (when handled).
    Terminated,
}

/// How a dispatcher of a group stands (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    /// It runs tasklets, or could.
    No,
    /// No non-daemon tasklet left on it, and nothing can run.
    Quiet,
    /// No non-daemon tasklet left on it, but daemon tasklets run or may.
    Busy,
    /// Blocked tasklets that only another dispatcher could wake.
    Stuck,
}

impl Settled {
    fn kind(self) -> Kind {
        match self {
            Settled::Quiet => Kind::Idle,
            Settled::Busy => Kind::Busy,
            Settled::Stuck => Kind::Stuck,
            Settled::No => unreachable!("a dispatcher that runs is not settled"),
        }
    }
}

/// The dispatchers of one `Dispatcher::run` (see the module docs). `Send + Sync`.
pub(crate) struct Group {
    remotes: Vec<Arc<Remote>>,
    /// Dispatchers settled, how many of them are stuck, and notices sent between dispatchers
    /// (or from outside threads) and not yet handled, in one word (see the module docs).
    counts: Arc<Counts>,
    /// Set once `end` is.
    ended: AtomicBool,
    end: Mutex<Option<GroupEnd>>,
    /// The next dispatcher `spawn_next` picks.
    next: AtomicUsize,
}

impl Group {
    /// A group of the dispatchers reached through `remotes` (dispatcher `i` through the `i`th).
    pub(crate) fn new(remotes: Vec<Arc<Remote>>) -> Arc<Group> {
        let counts = Arc::new(Counts::new(remotes.len()));
        for remote in &remotes {
            remote.join_group(counts.clone());
        }
        Arc::new(Group {
            remotes,
            counts,
            ended: AtomicBool::new(false),
            end: Mutex::new(None),
            next: AtomicUsize::new(0),
        })
    }

    /// How many dispatchers the group has.
    pub(crate) fn size(&self) -> usize {
        self.remotes.len()
    }

    /// The dispatcher after the last one this picked, round-robin.
    pub(crate) fn pick_next(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.size()
    }

    /// Dispatcher `index`'s address.
    pub(crate) fn remote(&self, index: usize) -> &Arc<Remote> {
        &self.remotes[index]
    }

    /// Hands dispatcher `to` a job to run in its loop (counted as pending until it ran).
    pub(crate) fn post(&self, to: usize, job: Job) {
        self.remotes[to].post(job);
    }

    /// How the group ended, once it has.
    pub(crate) fn ended(&self) -> Option<GroupEnd> {
        if self.ended.load(Ordering::SeqCst) {
            *self.end.lock().unwrap_or_else(PoisonError::into_inner)
        } else {
            None
        }
    }

    /// Ends the group for `why` and wakes every dispatcher to notice. The first reason stays,
    /// except that a quit replaces an earlier quit's code (a later `quit` replaces the code) or
    /// a finished end (a quit from a destructor at shutdown).
    pub(crate) fn end(&self, why: GroupEnd) {
        {
            let mut end = self.end.lock().unwrap_or_else(PoisonError::into_inner);
            match (*end, why) {
                (None, _) => *end = Some(why),
                (Some(GroupEnd::Quit(_) | GroupEnd::Finished), GroupEnd::Quit(_)) => {
                    *end = Some(why)
                }
                _ => {}
            }
        }
        if !self.ended.swap(true, Ordering::SeqCst) {
            for remote in &self.remotes {
                remote.post(Box::new(|| {})); // a notice to wake it; nothing to do
            }
        }
    }

    /// Drops the notices no dispatcher took before the group ended (once every dispatcher has
    /// stopped): a spawn request dropped reports its tasklet killed, so that a thread joining it
    /// does not wait for ever, and the requests' references to the group go. A panic of a
    /// destructor there is caught and reported.
    pub(crate) fn drain(&self) {
        for remote in &self.remotes {
            let (_, jobs) = remote.take_notices();
            let dropped =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(jobs)));
            if let Err(payload) = dropped {
                crate::engine::logging::report(format_args!(
                    "concurrence: dropping a spawn request after the program ended panicked: {}",
                    crate::error::panic_message(&*payload)
                ));
                std::mem::forget(payload);
            }
        }
    }

    /// A dispatcher settles (see the module docs); the last one to settle, with nothing
    /// pending, ends the group.
    pub(crate) fn settle(&self, how: Settled) {
        match self.counts.settle(how.kind()) {
            Some(Quiet::Finished) => self.end(GroupEnd::Finished),
            Some(Quiet::Deadlocked) => self.end(GroupEnd::Deadlock),
            None => {}
        }
    }

    /// A settled dispatcher has work again (a notice came, or a daemon spawned a non-daemon
    /// tasklet): called before it handles the notices that woke it.
    pub(crate) fn unsettle(&self, how: Settled) {
        self.counts.unsettle(how.kind());
    }

    /// `count` notices were handled.
    pub(crate) fn handled(&self, count: usize) {
        if count > 0 {
            self.counts.handled(count as u64);
        }
    }
}
