//! The tick loop: passes over the run queues, timers and IO between passes, parking in the
//! reactor when nothing is ready, and the reasons to stop.

use std::rc::Rc;
use std::time::Instant;

use crate::engine::coroutine::Wake;
use crate::engine::end::ExitReason;
use crate::engine::group::{Group, GroupEnd, Settled};
use crate::engine::reactor::Job;
use crate::engine::stack::TRIM_PERIOD;
use crate::engine::state::{State, Task};
use crate::engine::{readiness, run_queue};

use super::graveyard::drop_caught;
use super::{Scheduler, MIN_PASS, NEXT_STREAK};

impl Scheduler {
    /// Runs tasklets until `quit`, SIGINT, no non-daemon tasklet left, or a deadlock.
    pub(crate) fn run_loop(&self) -> ExitReason {
        loop {
            if let Some(end) = self.group.as_ref().and_then(|group| group.ended()) {
                return self.reason_of(end);
            }
            // A pass runs what was ready when it began, but at least a few dozen tasklets when
            // that many keep becoming ready: the checks between passes are not paid per switch.
            let mut pass = (self.queue.len() + self.front.len()).max(MIN_PASS);
            while pass > 0 {
                pass -= 1;
                let Some((task, epoch)) = self.pop_next() else {
                    break;
                };
                match task.state.get() {
                    State::New if epoch == 0 => self.run(&task, Wake::Ready),
                    State::Ready if task.epoch.get() == epoch => self.run(&task, task.wake.get()),
                    _ => {} // stale: the wait it was queued for has ended
                }
                if self.quit.get().is_some() || self.non_daemon.get() == 0 {
                    break; // the reason is read below
                }
            }
            if let Some(reason) = self.should_stop() {
                return reason;
            }
            if self.group.is_some() {
                self.take_notices();
            }
            self.reap();
            if self.passes.get() >= TRIM_CHECK_PASSES {
                self.maybe_trim();
            }
            self.passes.set(self.passes.get() + 1);
            if self.has_ready() {
                self.refresh();
                continue;
            }
            if !self.idle_waiters.borrow().is_empty() {
                // Nothing ready: the idle waiters' turn, once timers and IO had theirs.
                self.refresh();
                if !self.has_ready() {
                    self.idle_rounds.set(self.idle_rounds.get() + 1);
                    self.idle_waiters.borrow_mut().wake_all(self);
                }
                continue;
            }
            let next_deadline = self.timers.borrow().next_deadline();
            if next_deadline.is_none() && !self.waits_outside() {
                let Some(group) = &self.group else {
                    return ExitReason::Deadlock(self.blocked());
                };
                // Nothing here can wake what is left: settled until a notice comes (or for
                // good: the last to settle ends the group).
                let how = match self.non_daemon.get() {
                    0 => Settled::Quiet,
                    _ => Settled::Stuck,
                };
                self.settle(group, how);
                if let Some(end) = group.ended() {
                    return self.reason_of(end);
                }
            }
            if self.clock.is_virtual() {
                self.advance_virtual_time(next_deadline);
                continue;
            }
            let mut timeout = next_deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if self.stacks.borrow().has_untrimmed() || !self.idle.borrow().is_empty() {
                // Idle with free stacks still holding memory: wake up to give it back.
                timeout = Some(timeout.map_or(TRIM_PERIOD, |t| t.min(TRIM_PERIOD)));
            }
            // Another thread may answer soon: a dispatcher of a group, or one with waits that
            // other threads end (a future on tokio, the blocking pool, a call from a thread).
            let answer_may_come =
                self.group.is_some() || self.remote_waits.borrow().len() > self.patient_waits.get();
            if answer_may_come && self.spin_for_notice(timeout) {
                continue; // a notice came while spinning: no need to park
            }
            self.poll(timeout);
            self.maybe_trim();
            self.fire_timers();
        }
    }

    /// Before a dispatcher of a group (or one with remote waits) parks, it watches its `Remote`
    /// for a notice for a short
    /// while (at most [`SPIN`], and not past `timeout`), as Seastar's reactors do: another
    /// dispatcher's answer often comes within microseconds, and waking a parked thread costs
    /// tens of them. Between rounds of watching it yields its core (`sched_yield`): when the
    /// dispatchers share cores (more of them than free cores), the one that must answer runs
    /// instead of waiting for the spin to end (a round trip on one core: 111 us without the
    /// yield). Returns whether a notice came (it was handled).
    fn spin_for_notice(&self, timeout: Option<std::time::Duration>) -> bool {
        let limit = timeout.map_or(SPIN, |t| t.min(SPIN));
        let remote = self.reactor.borrow().remote().clone();
        let start = Instant::now();
        loop {
            for _ in 0..64 {
                if remote.notified() {
                    self.take_notices();
                    return true;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= limit {
                return false;
            }
            std::thread::yield_now();
        }
    }

    /// Trims the free stacks if the last trim is `TRIM_PERIOD` ago (see `stack.rs`).
    fn maybe_trim(&self) {
        self.passes.set(0);
        self.stamp(self.clock.now());
        let now = Instant::now();
        if now.duration_since(self.last_trim.get()) >= TRIM_PERIOD {
            self.last_trim.set(now);
            // Waiting relay coroutines give their stacks back, to be trimmed as free stacks.
            self.retire_idle();
            let mut stacks = self.stacks.borrow_mut();
            if stacks.has_untrimmed() {
                stacks.trim();
            }
        }
    }

    /// The next tasklet to run: from `front`, but from `queue` after `NEXT_STREAK` runs in a row
    /// from `front` (or when `front` is empty).
    fn pop_next(&self) -> Option<run_queue::Entry> {
        if self.streak.get() < NEXT_STREAK {
            if let Some(entry) = self.front.pop_front() {
                self.streak.set(self.streak.get() + 1);
                return Some(entry);
            }
        }
        self.streak.set(0);
        self.queue.pop_front().or_else(|| self.front.pop_front())
    }

    /// Why the loop must stop now, if it must.
    fn should_stop(&self) -> Option<ExitReason> {
        if let Some(group) = &self.group {
            return self.group_should_stop(group);
        }
        self.dump_if_asked();
        if let Some(code) = self.quit.get() {
            Some(ExitReason::Quit(code))
        } else if self.non_daemon.get() == 0 {
            Some(ExitReason::Finished)
        } else if self.reactor.borrow().interrupted() {
            Some(ExitReason::Interrupted)
        } else if self.reactor.borrow().terminated() {
            Some(ExitReason::Terminated)
        } else {
            None
        }
    }

    /// [`should_stop`](Scheduler::should_stop) for a dispatcher of a group: a quit or a stop
    /// signal here ends the whole group; no non-daemon tasklet left settles this dispatcher
    /// (it stops when the group ends, see `engine::group`).
    #[inline(never)]
    fn group_should_stop(&self, group: &Group) -> Option<ExitReason> {
        self.dump_if_asked();
        if let Some(code) = self.quit.get() {
            group.end(GroupEnd::Quit(code));
        } else if self.reactor.borrow().interrupted() {
            group.end(GroupEnd::Interrupted);
        } else if self.reactor.borrow().terminated() {
            group.end(GroupEnd::Terminated);
        } else if self.non_daemon.get() == 0 {
            // Quiet; idle (`Quiet`) once nothing can run here (the deadlock point below).
            if self.settled.get() != Settled::Quiet {
                self.settle(group, Settled::Busy);
            }
        } else if matches!(self.settled.get(), Settled::Quiet | Settled::Busy) {
            // A daemon spawned a non-daemon tasklet: work again (what daemons start after their
            // dispatcher's last non-daemon tasklet ended may also be cut short, as alone).
            group.unsettle(self.settled.replace(Settled::No));
        }
        group.ended().map(|end| self.reason_of(end))
    }

    /// Prints a dump of the tasklets to stderr when SIGQUIT asked for one (`dump_on_sigquit`).
    #[inline]
    fn dump_if_asked(&self) {
        if self.reactor.borrow().dump_requested() {
            let dump = crate::engine::dump::dump();
            crate::engine::logging::report(format_args!("concurrence: SIGQUIT: {dump}"));
        }
    }

    /// This dispatcher's reason to stop when its group ended for `end`.
    fn reason_of(&self, end: GroupEnd) -> ExitReason {
        match end {
            GroupEnd::Finished => ExitReason::Finished,
            GroupEnd::Deadlock => ExitReason::Deadlock(self.blocked()),
            GroupEnd::Quit(code) => ExitReason::Quit(code),
            GroupEnd::Interrupted => ExitReason::Interrupted,
            GroupEnd::Terminated => ExitReason::Terminated,
        }
    }

    /// Whether the loop has something to do besides running the caller: a tasklet ready, or a
    /// reason to stop. Fires due timers and polls IO without blocking first.
    #[inline]
    pub(crate) fn has_work(&self) -> bool {
        self.has_ready() || self.has_work_after_refresh()
    }

    /// [`has_work`](Scheduler::has_work) when nothing was ready.
    #[inline(never)]
    fn has_work_after_refresh(&self) -> bool {
        self.refresh();
        self.has_ready() || self.should_stop().is_some()
    }

    /// Makes ready what has become ready without blocking: expired timers, IO readiness.
    fn refresh(&self) {
        let next_deadline = self.timers.borrow().next_deadline();
        if next_deadline.is_some_and(|d| d <= self.clock.now()) {
            self.fire_timers();
        }
        if self.waits_outside() {
            self.poll(Some(std::time::Duration::ZERO));
        }
    }

    /// Whether a tasklet waits for something from outside the dispatcher: IO readiness, or a
    /// wait another thread ends (`io::blocking`).
    fn waits_outside(&self) -> bool {
        self.io_waiters.get() > 0 || self.remote_waits.borrow().len() > self.internal_waits.get()
    }

    /// Blocks in the reactor for at most `timeout`, then wakes what it reported: tasklets
    /// waiting for IO readiness, and waits ended from other threads.
    fn poll(&self, timeout: Option<std::time::Duration>) {
        self.polls.set(self.polls.get() + 1);
        let (polled, ready, (woken, jobs)) = {
            let mut reactor = self.reactor.borrow_mut();
            let polled = reactor.poll(timeout);
            (
                polled,
                std::mem::take(&mut reactor.ready),
                reactor.remote().take_notices(),
            )
        };
        // Logged once the reactor is no longer borrowed: the logger may call the runtime.
        if let Err(err) = polled {
            crate::engine::logging::log_at!(
                Error,
                "concurrence: polling the reactor failed: {err}"
            );
        }
        for (token, readiness) in ready {
            let state = self.io.borrow().get(token);
            if let Some(state) = state {
                readiness::deliver(&state, readiness, self);
            }
        }
        self.handle_notices(woken, jobs);
    }

    /// Takes the notices other threads sent, between passes of a group's dispatcher (where a
    /// flag says whether there are any).
    fn take_notices(&self) {
        let notices = {
            let reactor = self.reactor.borrow();
            let remote = reactor.remote();
            remote.notified().then(|| remote.take_notices())
        };
        if let Some((woken, jobs)) = notices {
            self.handle_notices(woken, jobs);
        }
    }

    /// Ends the remote waits of `woken` and runs `jobs` (spawns other dispatchers asked for);
    /// in a group, a settled dispatcher leaves that state first, and the notices are counted as
    /// handled last (see `engine::group`).
    fn handle_notices(&self, woken: Vec<u64>, jobs: Vec<Job>) {
        let count = woken.len() + jobs.len();
        if count == 0 {
            return;
        }
        if let Some(group) = &self.group {
            if group.ended().is_some() {
                // Too late: the group ended, and what it ended with must stand (a wake-up
                // from another dispatcher's shutdown must not run a tasklet the deadlock report
                // lists as blocked). The loop stops at its next check. A job dropped here drops
                // a user's closure: its destructor's panic is caught.
                drop_caught(jobs, "a spawn requested after the program ended");
                return;
            }
            let settled = self.settled.replace(Settled::No);
            if settled != Settled::No {
                group.unsettle(settled);
            }
        }
        for key in woken {
            let waiter = self.remote_waits.borrow_mut().remove(&key);
            if let Some((task, epoch, internal)) = waiter {
                if internal {
                    self.internal_waits.set(self.internal_waits.get() - 1);
                }
                self.wake(&task, epoch, Wake::Ready);
            }
        }
        for job in jobs {
            job();
        }
        if let Some(group) = &self.group {
            group.handled(count);
        }
    }

    /// Settles this dispatcher in its group as `how` (see `engine::group`), unless it is so
    /// already; the last to settle may end the group.
    fn settle(&self, group: &Group, how: Settled) {
        let was = self.settled.get();
        if was == how {
            return;
        }
        if was != Settled::No {
            group.unsettle(was);
        }
        self.settled.set(how);
        group.settle(how);
    }

    /// Registers the wait `epoch` of `task` to be ended by another thread through
    /// [`Remote::wake`](crate::engine::reactor::Remote::wake) with the key returned; while registered,
    /// the dispatcher does not count as deadlocked.
    pub(crate) fn remote_wait(&self, task: Rc<Task>, epoch: u32) -> u64 {
        self.remote_wait_of(task, epoch, false)
    }

    /// [`remote_wait`](Scheduler::remote_wait) for a wait that another dispatcher of the group
    /// ends (a join of one of its tasklets): it does not keep this dispatcher from counting as
    /// settled, since the group's accounting sees the other side (see `engine::group`).
    pub(crate) fn internal_remote_wait(&self, task: Rc<Task>, epoch: u32) -> u64 {
        self.remote_wait_of(task, epoch, true)
    }

    fn remote_wait_of(&self, task: Rc<Task>, epoch: u32, internal: bool) -> u64 {
        let key = self.next_remote_key.get();
        self.next_remote_key.set(key + 1);
        self.remote_waits
            .borrow_mut()
            .insert(key, (task, epoch, internal));
        if internal {
            self.internal_waits.set(self.internal_waits.get() + 1);
        }
        key
    }

    /// Points the remote wait `key` (an outside one) at a new wait of its tasklet, one that
    /// waits again after a wake-up that was not its answer.
    pub(crate) fn renew_remote_wait(&self, key: u64, task: Rc<Task>, epoch: u32) {
        let old = self
            .remote_waits
            .borrow_mut()
            .insert(key, (task, epoch, false));
        debug_assert!(old.as_ref().is_none_or(|(_, _, internal)| !internal));
        drop(old);
    }

    /// Forgets a remote wait that ended otherwise (a timeout, a kill); a later wake-up by its
    /// key does nothing.
    pub(crate) fn forget_remote_wait(&self, key: u64) {
        let removed = self.remote_waits.borrow_mut().remove(&key);
        if let Some((_, _, true)) = removed {
            self.internal_waits.set(self.internal_waits.get() - 1);
        }
        drop(removed);
    }

    /// Under virtual time, when nothing is ready: IO is polled without blocking, then the
    /// clock jumps to the next deadline (`next_deadline`) and its timers fire. While a tasklet
    /// waits for another thread, the loop parks in real time instead (for at most the virtual
    /// time to the next deadline) and the clock moves by the time that passed.
    #[inline(never)]
    fn advance_virtual_time(&self, next_deadline: Option<Instant>) {
        let from_threads = self.remote_waits.borrow().len() > self.internal_waits.get();
        if from_threads || next_deadline.is_none() {
            let timeout = next_deadline.map(|d| d.saturating_duration_since(self.clock.now()));
            let parked = Instant::now();
            self.poll(timeout);
            self.clock.advance_by(parked.elapsed());
        } else {
            self.poll(Some(std::time::Duration::ZERO));
            if self.has_ready() {
                return; // IO came first: time stands still
            }
            if let Some(deadline) = next_deadline {
                self.clock.advance_to(deadline);
            }
        }
        self.fire_timers();
    }

    /// Sets the coarse clock (`coarse_ms`) to `now`.
    fn stamp(&self, now: Instant) {
        let since = now.saturating_duration_since(self.timers.borrow().start());
        self.coarse_ms
            .set(u32::try_from(since.as_millis()).unwrap_or(u32::MAX));
    }

    /// Wakes every tasklet whose deadline has passed, in deadline order.
    fn fire_timers(&self) {
        let now = self.clock.now();
        self.stamp(now);
        loop {
            let expired = self.timers.borrow_mut().pop_expired(now);
            let Some((task, epoch)) = expired else { break };
            self.wake(&task, epoch, Wake::TimedOut);
        }
    }
}

/// How long a dispatcher of a group watches for a notice before it parks.
const SPIN: std::time::Duration = std::time::Duration::from_micros(50);

/// Passes of the loop between checks of the clock for trimming stacks.
const TRIM_CHECK_PASSES: u32 = 64;
