//! The tick loop: passes over the run queues, timers and IO between passes, parking in the
//! reactor when nothing is ready, and the reasons to stop.

use std::rc::Rc;
use std::time::Instant;

use crate::engine::coroutine::Wake;
use crate::engine::end::ExitReason;
use crate::engine::stack::TRIM_PERIOD;
use crate::engine::state::{State, Task};
use crate::engine::{readiness, run_queue};

use super::{Scheduler, MIN_PASS, NEXT_STREAK};

impl Scheduler {
    /// Runs tasklets until `quit`, SIGINT, no non-daemon tasklet left, or a deadlock.
    pub(crate) fn run_loop(&self) -> ExitReason {
        loop {
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
                return ExitReason::Deadlock(self.blocked());
            }
            let mut timeout = next_deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if self.stacks.borrow().has_untrimmed() {
                // Idle with free stacks still holding memory: wake up to give it back.
                timeout = Some(timeout.map_or(TRIM_PERIOD, |t| t.min(TRIM_PERIOD)));
            }
            self.poll(timeout);
            self.maybe_trim();
            self.fire_timers();
        }
    }

    /// Trims the free stacks if the last trim is `TRIM_PERIOD` ago (see `stack.rs`).
    fn maybe_trim(&self) {
        self.passes.set(0);
        let now = Instant::now();
        if now.duration_since(self.last_trim.get()) >= TRIM_PERIOD {
            self.last_trim.set(now);
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
        if next_deadline.is_some_and(|d| d <= Instant::now()) {
            self.fire_timers();
        }
        if self.waits_outside() {
            self.poll(Some(std::time::Duration::ZERO));
        }
    }

    /// Whether a tasklet waits for something from outside the dispatcher: IO readiness, or a
    /// wait another thread ends (`io::blocking`).
    fn waits_outside(&self) -> bool {
        self.io_waiters.get() > 0 || !self.remote_waits.borrow().is_empty()
    }

    /// Blocks in the reactor for at most `timeout`, then wakes what it reported: tasklets
    /// waiting for IO readiness, and waits ended from other threads.
    fn poll(&self, timeout: Option<std::time::Duration>) {
        let (polled, ready, woken) = {
            let mut reactor = self.reactor.borrow_mut();
            let polled = reactor.poll(timeout);
            (
                polled,
                std::mem::take(&mut reactor.ready),
                reactor.remote().take_woken(),
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
        for key in woken {
            let waiter = self.remote_waits.borrow_mut().remove(&key);
            if let Some((task, epoch)) = waiter {
                self.wake(&task, epoch, Wake::Ready);
            }
        }
    }

    /// Registers the wait `epoch` of `task` to be ended by another thread through
    /// [`Remote::wake`](crate::engine::reactor::Remote::wake) with the key returned; while registered,
    /// the dispatcher does not count as deadlocked.
    pub(crate) fn remote_wait(&self, task: Rc<Task>, epoch: u32) -> u64 {
        let key = self.next_remote_key.get();
        self.next_remote_key.set(key + 1);
        self.remote_waits.borrow_mut().insert(key, (task, epoch));
        key
    }

    /// Points the remote wait `key` at a new wait of its tasklet (one that waits again).
    pub(crate) fn renew_remote_wait(&self, key: u64, task: Rc<Task>, epoch: u32) {
        self.remote_waits.borrow_mut().insert(key, (task, epoch));
    }

    /// Forgets a remote wait that ended otherwise (a timeout, a kill); a later wake-up by its
    /// key does nothing.
    pub(crate) fn forget_remote_wait(&self, key: u64) {
        let removed = self.remote_waits.borrow_mut().remove(&key);
        drop(removed);
    }

    /// Wakes every tasklet whose deadline has passed, in deadline order.
    fn fire_timers(&self) {
        let now = Instant::now();
        loop {
            let expired = self.timers.borrow_mut().pop_expired(now);
            let Some((task, epoch)) = expired else { break };
            self.wake(&task, epoch, Wake::TimedOut);
        }
    }
}

/// Passes of the loop between checks of the clock for trimming stacks.
const TRIM_CHECK_PASSES: u32 = 64;
