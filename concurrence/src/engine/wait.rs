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
use std::sync::Arc;
use std::time::Instant;

use crate::engine::coroutine::Wake;
use crate::engine::deadline;
use crate::engine::reactor::Remote;
use crate::engine::scheduler::{self, Sched, Scheduler};
use crate::engine::state::{State, Task, WaitOn};
use crate::error::TimeoutError;

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
        task.wait_since.set(sched.coarse_ms.get());
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

    /// Suspends until a token of this wait is used or `deadline` passes. In a scope with an
    /// earlier deadline (`engine::deadline`), that one ends the wait: by unwinding to the
    /// scope, since this call's own timeout (if any) did not pass.
    #[inline]
    pub(crate) fn suspend(self, deadline: Option<Instant>) -> Result<(), Ended> {
        if self.sched.deadlines.is_any() {
            return self.suspend_scoped(deadline);
        }
        self.suspend_until(deadline)
    }

    /// [`suspend`](Wait::suspend) when some tasklet of the dispatcher is in a scope.
    #[inline(never)]
    fn suspend_scoped(self, deadline: Option<Instant>) -> Result<(), Ended> {
        let scope = match self.sched.deadlines.of(self.task.id) {
            Some(scope) if deadline.is_none_or(|d| scope < d) => self.scope_applies(scope),
            _ => None,
        };
        let Some(scope) = scope else {
            return self.suspend_until(deadline);
        };
        let (sched, task) = (self.sched, self.task.id);
        let result = self.suspend_until(Some(scope));
        if result == Err(Ended::TimedOut) {
            deadline::raise(sched, task, scope);
        }
        result
    }

    /// Suspends until a token of this wait is used or `deadline` passes.
    #[inline(always)]
    fn suspend_until(self, deadline: Option<Instant>) -> Result<(), Ended> {
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

    /// `scope`, the deadline of the tasklet's scope, if it applies to this wait: not to a
    /// sleep (as in the original), nor while the tasklet unwinds (a second unwind would abort
    /// the process: a destructor that blocks waits without it).
    #[inline(never)]
    fn scope_applies(&self, scope: Instant) -> Option<Instant> {
        let sleeping = matches!(self.task.waiting_on.get().0, WaitOn::Sleep);
        (!sleeping && !self.sched.is_unwinding(&self.task)).then_some(scope)
    }
}

/// Gives the other ready tasklets a turn: the running tasklet of `sched` is queued behind them
/// and suspends (a wait whose own token is used at once, without a `Wait`). A kill while it is
/// queued unwinds it from here, unless it unwinds already. Panics outside a tasklet.
#[inline]
pub(crate) fn yield_now(sched: Sched) {
    let (Some(entry), Some(task)) = (sched.current(), sched.current_task()) else {
        panic!("concurrence: yield outside a tasklet");
    };
    // The queue's entry is the one counted reference made here; the record stays alive while
    // its tasklet runs (the loop holds it), so `task` may be used after the entry moved in.
    sched.requeue(entry);
    let mut why = suspend(task);
    if task.kill_pending.replace(false) {
        why = Wake::Killed;
    }
    let _ = resumed(sched, task, why);
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
///
/// The entries are wake-up tokens: `(task, epoch)` for waiters of this thread's dispatcher
/// (the default), [`RemoteToken`]s for a source that waiters of any thread share (a
/// `CallWait`). The rules are the same for both: oldest first, one wake-up per event, and a
/// waiter that leaves takes its entries with it and passes on a wake-up it may have received
/// ([`WaitList::leave`]).
pub(crate) struct WaitList<E = (Rc<Task>, u32)> {
    /// The oldest entry, kept inline: most lists hold one waiter at most. `None` only when
    /// the list is empty.
    first: Option<E>,
    /// The entries after `first`, oldest first.
    rest: VecDeque<E>,
}

impl<E> Default for WaitList<E> {
    fn default() -> Self {
        WaitList {
            first: None,
            rest: VecDeque::new(),
        }
    }
}

impl<E> WaitList<E> {
    /// Registers `entry`, behind the others.
    #[inline]
    fn push_entry(&mut self, entry: E) {
        if self.first.is_none() {
            self.first = Some(entry);
        } else {
            self.rest.push_back(entry);
        }
    }

    /// Takes the oldest entry.
    #[inline]
    fn pop_front(&mut self) -> Option<E> {
        let first = self.first.take();
        if first.is_some() && !self.rest.is_empty() {
            self.first = self.rest.pop_front();
        }
        first
    }

    /// Every entry, oldest first.
    fn iter(&self) -> impl Iterator<Item = &E> {
        self.first.iter().chain(&self.rest)
    }

    /// Removes the entries `ours` accepts.
    #[inline]
    fn remove_where(&mut self, ours: impl Fn(&E) -> bool) {
        if self.first.is_none() {
            return; // empty: the usual case of a waiter that was served (its entry was taken)
        }
        if !self.rest.is_empty() {
            self.rest.retain(|entry| !ours(entry));
        }
        if self.first.as_ref().is_some_and(&ours) {
            self.first = self.rest.pop_front();
        }
    }

    /// Whether the list has no entries at all (live or stale).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }
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
        self.push_entry((task.clone(), epoch));
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
        self.remove_where(|(t, _)| std::ptr::addr_eq(Rc::as_ptr(t), task));
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
}

/// A wake-up token that any thread can use: a wait of a tasklet registered with its
/// dispatcher as a remote wait (`Scheduler::remote_wait`), and the [`Remote`] that ends it.
///
/// Registered, it keeps its dispatcher from counting as deadlocked, so whoever registers one
/// must [`forget`](RemoteToken::forget) it on every way out of the wait (return, timeout,
/// kill): a condition does so in its disarm, which the multi-wait runs on each of them.
pub(crate) struct RemoteToken {
    remote: Arc<Remote>,
    key: u64,
}

impl RemoteToken {
    /// Registers the wait `epoch` of `task` with `sched` as a remote wait.
    pub(crate) fn register(sched: &Scheduler, task: &Rc<Task>, epoch: u32) -> RemoteToken {
        let key = sched.remote_wait(task.clone(), epoch);
        let remote = sched.reactor.borrow().remote().clone();
        RemoteToken { remote, key }
    }

    /// [`register`](RemoteToken::register) for a wait that another dispatcher of `sched`'s
    /// group ends: it does not keep the dispatcher from counting as settled (see
    /// `Scheduler::internal_remote_wait`).
    pub(crate) fn register_internal(sched: &Scheduler, task: &Rc<Task>, epoch: u32) -> RemoteToken {
        let key = sched.internal_remote_wait(task.clone(), epoch);
        let remote = sched.reactor.borrow().remote().clone();
        RemoteToken { remote, key }
    }

    /// Ends the wait, from any thread (nothing if it has ended already).
    pub(crate) fn wake(&self) {
        self.remote.wake(self.key);
    }

    /// Withdraws the registration from `sched`, the dispatcher it was made with: a later
    /// wake-up does nothing, and the wait no longer keeps the dispatcher out of deadlock.
    pub(crate) fn forget(&self, sched: &Scheduler) {
        sched.forget_remote_wait(self.key);
    }

    /// A second token for the same registration.
    pub(crate) fn share(&self) -> RemoteToken {
        RemoteToken {
            remote: self.remote.clone(),
            key: self.key,
        }
    }

    /// Whether `other` is a token of the same registration.
    fn is(&self, other: &RemoteToken) -> bool {
        self.key == other.key && Arc::ptr_eq(&self.remote, &other.remote)
    }
}

impl WaitList<RemoteToken> {
    /// Registers `token`, behind the others.
    pub(crate) fn push_remote(&mut self, token: RemoteToken) {
        self.push_entry(token);
    }

    /// Wakes the oldest waiter. Whether its wait still lives is known only to its dispatcher:
    /// a waiter that leaves after it was woken passes the wake-up on ([`leave`]).
    ///
    /// [`leave`]: WaitList::leave_remote
    pub(crate) fn wake_one_remote(&mut self) -> bool {
        match self.pop_front() {
            Some(token) => {
                token.wake();
                true
            }
            None => false,
        }
    }

    /// Wakes every waiter (an event all of them see: a tasklet's end).
    pub(crate) fn wake_all_remote(&mut self) {
        while self.wake_one_remote() {}
    }

    /// The waiter of `token` leaves (served or not): its entry goes and, when what the list
    /// waits for is there (`pass_on`: it may have been woken for it), the next waiter is
    /// woken instead, so no wake-up is lost.
    pub(crate) fn leave_remote(&mut self, token: &RemoteToken, pass_on: bool) {
        self.remove_where(|entry| entry.is(token));
        if pass_on {
            self.wake_one_remote();
        }
    }
}

/// Whether `task` still waits in the wait of `epoch`.
#[inline]
pub(crate) fn is_live(task: &Task, epoch: u32) -> bool {
    task.state.get() == State::Waiting && task.epoch.get() == epoch
}
