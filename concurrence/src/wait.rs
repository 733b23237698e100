//! The one blocking primitive: register wake-ups, suspend, learn why you were woken.
//!
//! Every blocking operation follows the same steps:
//!
//! 1. [`Wait::begin`] starts a new epoch for the current tasklet and marks it `Waiting`;
//! 2. the operation registers wake-up tokens (the waiting tasklet and [`Wait::epoch`]) wherever
//!    the event it waits for will come from (a joined tasklet's joiner list, ...), to be used
//!    through `Scheduler::wake`;
//! 3. [`Wait::suspend`] adds the deadline, if any, as a timer and switches to the scheduler;
//! 4. when resumed it learns why: `Ok(())` when woken, `Err(Ended::TimedOut)` when the deadline
//!    passed first, and when the tasklet is being killed it unwinds with a
//!    [`TaskletExit`](crate::TaskletExit) payload (or, if it is unwinding already, the wait ends
//!    with `Err(Ended::Killed)`: a second unwind would abort the process).
//!
//! A token used before the tasklet suspends is not lost: the tasklet is queued as ready and the
//! suspension returns at its next turn (the Parker rule: an unpark before park makes park
//! return at once). Tokens of older epochs do nothing, so a source never has to be cleaned up
//! for correctness.

use std::collections::VecDeque;
use std::panic::Location;
use std::rc::Rc;
use std::time::Instant;

use crate::coroutine::Wake;
use crate::error::TimeoutError;
use crate::scheduler::{self, Sched, Scheduler};
use crate::state::{State, Task, WaitOn};

/// Why a wait ended without what it waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Its deadline passed.
    TimedOut,
    /// The tasklet was killed while already unwinding (see [`Wait::suspend`]). A call that can
    /// report a timeout reports this as one; one that cannot waits again.
    Killed,
}

impl From<Ended> for TimeoutError {
    fn from(_: Ended) -> TimeoutError {
        TimeoutError
    }
}

/// A wait in progress for the current tasklet.
pub(crate) struct Wait {
    sched: Sched,
    task: Rc<Task>,
    epoch: u32,
}

impl Wait {
    /// Starts waiting for `on`. Panics outside a tasklet. The caller's location (through
    /// `#[track_caller]` on the public blocking calls) is what deadlock reports show.
    #[track_caller]
    pub(crate) fn begin(on: WaitOn) -> Wait {
        Wait::begin_at(on, Location::caller())
    }

    /// [`begin`](Wait::begin), reported at `at`.
    #[inline]
    pub(crate) fn begin_at(on: WaitOn, at: &'static Location<'static>) -> Wait {
        let sched = scheduler::get();
        let task = sched.current().unwrap_or_else(|| {
            panic!("concurrence: a blocking call ({on}) was made outside a tasklet; run it inside dispatch()")
        });
        Wait::begin_for_at(sched, task, on, at)
    }

    #[inline]
    fn begin_for_at(
        sched: Sched,
        task: Rc<Task>,
        on: WaitOn,
        at: &'static Location<'static>,
    ) -> Wait {
        let epoch = task.bump_epoch();
        task.state.set(State::Waiting);
        task.waiting_on.set((on, at));
        Wait { sched, task, epoch }
    }

    /// The dispatcher it waits in.
    pub(crate) fn sched(&self) -> Sched {
        self.sched
    }

    /// The waiting tasklet.
    pub(crate) fn task(&self) -> &Rc<Task> {
        &self.task
    }

    /// The epoch this wait's tokens must carry.
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Suspends until a token of this wait is used or `deadline` passes.
    pub(crate) fn suspend(self, deadline: Option<Instant>) -> Result<(), Ended> {
        let key = deadline.map(|d| {
            self.sched
                .timers
                .borrow_mut()
                .insert(d, self.task.clone(), self.epoch)
        });
        let mut why = suspend(&self.task);
        if self.task.kill_pending.replace(false) {
            why = Wake::Killed;
        }
        if let Some(key) = key {
            if why != Wake::TimedOut {
                self.sched.timers.borrow_mut().remove(key);
            }
        }
        resumed(self.sched, &self.task, why)
    }
}

/// Gives the other ready tasklets a turn: `task`, the running tasklet of `sched`, is queued
/// behind them and suspends (a wait whose own token is used at once, without a `Wait`).
/// A kill while it is queued unwinds it from here, unless it unwinds already.
#[inline]
pub(crate) fn yield_now(sched: Sched, task: Rc<Task>) {
    sched.requeue(task.clone());
    let mut why = suspend(&task);
    if task.kill_pending.replace(false) {
        why = Wake::Killed;
    }
    let _ = resumed(sched, &task, why);
}

/// Suspends the running tasklet `task`; returns why it was resumed.
#[inline]
fn suspend(task: &Task) -> Wake {
    let suspender = task.suspender.get();
    if task.stack_mode.is_compact() {
        suspender.suspend_compact()
    } else {
        suspender.suspend()
    }
}

/// The end of every suspension of `task`: why it was resumed, as a wait's result.
#[inline]
fn resumed(sched: Sched, task: &Task, why: Wake) -> Result<(), Ended> {
    if task.unwinding.get() > 0 && !std::thread::panicking() {
        // Nothing unwinds on this thread: whatever was counted was caught meanwhile.
        task.unwinding.set(0);
    }
    match why {
        Wake::Ready => Ok(()),
        Wake::TimedOut => Err(Ended::TimedOut),
        // Killed while already unwinding (a destructor that blocks during a kill or a
        // panic): unwinding a second time would abort the process, so the wait just ends
        // early and the first unwind goes on.
        Wake::Killed if sched.is_unwinding(task) => Err(Ended::Killed),
        Wake::Killed => scheduler::raise_exit(task),
    }
}

/// Tasklets waiting for the same event (an item in a mailbox, room in it, a channel partner),
/// each with the epoch of its wait, oldest first.
///
/// Entries whose wait has ended (timed out, killed, woken by something else) are stale: waking
/// skips them, and a waiter that leaves without being served removes its own entry
/// ([`WaitList::remove`]) so that repeated timeouts do not grow the list.
#[derive(Default)]
pub(crate) struct WaitList {
    /// The oldest entry, kept inline: most lists hold one waiter at most. `None` only when
    /// the list is empty.
    first: Option<(Rc<Task>, u32)>,
    /// The entries after `first`, oldest first.
    rest: VecDeque<(Rc<Task>, u32)>,
}

impl WaitList {
    /// Registers the wait `wait` (step 2 of a blocking operation).
    #[inline]
    pub(crate) fn push(&mut self, wait: &Wait) {
        self.push_token(&wait.task, wait.epoch);
    }

    /// Registers the wait `epoch` of `task` (a condition's arm).
    #[inline]
    pub(crate) fn push_token(&mut self, task: &Rc<Task>, epoch: u32) {
        let entry = (task.clone(), epoch);
        if self.first.is_none() {
            self.first = Some(entry);
        } else {
            self.rest.push_back(entry);
        }
    }

    /// Takes the oldest entry.
    #[inline]
    fn pop_front(&mut self) -> Option<(Rc<Task>, u32)> {
        let first = self.first.take();
        if first.is_some() && !self.rest.is_empty() {
            self.first = self.rest.pop_front();
        }
        first
    }

    /// Wakes the oldest waiter that still waits, dropping stale entries on the way. Returns
    /// whether one was woken.
    #[inline]
    pub(crate) fn wake_one(&mut self, sched: &Scheduler) -> bool {
        while let Some((task, epoch)) = self.pop_front() {
            if sched.wake_owned(task, epoch, Wake::Ready) {
                return true;
            }
        }
        false
    }

    /// As [`wake_one`](WaitList::wake_one), but the waiter runs first, ahead of everything
    /// the running tasklet spawned or woke (a channel hand-off).
    pub(crate) fn wake_first(&mut self, sched: &Scheduler) -> bool {
        while let Some((task, epoch)) = self.pop_front() {
            if sched.wake_first(&task, epoch) {
                return true;
            }
        }
        false
    }

    /// Every entry, oldest first.
    fn iter(&self) -> impl Iterator<Item = &(Rc<Task>, u32)> {
        self.first.iter().chain(&self.rest)
    }

    /// Whether a waiter still waits.
    pub(crate) fn has_live(&self) -> bool {
        self.iter().any(|(t, e)| is_live(t, *e))
    }

    /// Wakes every waiter that still waits and empties the list.
    pub(crate) fn wake_all(&mut self, sched: &Scheduler) {
        let first = self.first.take();
        let rest = std::mem::take(&mut self.rest);
        for (task, epoch) in first.into_iter().chain(rest) {
            let _ = sched.wake_owned(task, epoch, Wake::Ready);
        }
    }

    /// Removes the entries of `task` (a waiter that leaves without being served).
    pub(crate) fn remove(&mut self, task: *const Task) {
        let ours = |(t, _): &(Rc<Task>, u32)| std::ptr::addr_eq(Rc::as_ptr(t), task);
        self.rest.retain(|entry| !ours(entry));
        if self.first.as_ref().is_some_and(ours) {
            self.first = self.rest.pop_front();
        }
    }

    /// A waiter leaves without being served (timed out, killed, or another condition won):
    /// its entries go and, when what the list waits for is there (`pass_on`: it may have been
    /// woken for it), the next waiter is woken instead, so no wake-up is lost.
    pub(crate) fn leave(&mut self, task: *const Task, pass_on: bool) {
        self.remove(task);
        if pass_on {
            if let Some(sched) = scheduler::try_get() {
                self.wake_one(&sched);
            }
        }
    }

    /// Whether the list has no entries at all (live or stale).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }
}

/// Whether `task` still waits in the wait of `epoch`.
#[inline]
pub(crate) fn is_live(task: &Task, epoch: u32) -> bool {
    task.state.get() == State::Waiting && task.epoch.get() == epoch
}
