//! The end of a dispatcher: the report of blocked tasklets (a deadlock), the kills that run
//! every destructor, and the survivors made inert.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use crate::engine::coroutine::Wake;
use crate::engine::end::BlockedTasklet;
use crate::engine::state::{Body, Outcome, State, Task};
use crate::error::panic_message;

use super::graveyard::{drop_caught, drop_caught_quietly};
use super::kill::count_panics;
use super::Scheduler;

impl Scheduler {
    /// The unfinished tasklets and what each waits for.
    pub(super) fn blocked(&self) -> Vec<BlockedTasklet> {
        let mut blocked: Vec<BlockedTasklet> = self
            .live
            .borrow()
            .iter()
            .filter(|t| t.state.get() == State::Waiting)
            .map(|t| BlockedTasklet {
                name: t.name().to_owned(),
                id: t.id,
                daemon: t.daemon,
                waiting_on: t.waiting_on.get().0.to_string(),
                at: t.waiting_on.get().1.to_string(),
                dispatcher: self.index,
            })
            .collect();
        blocked.sort_by_key(|b| b.id);
        blocked
    }

    /// Kills every unfinished tasklet, youngest first, so that their destructors run, and drops
    /// the values nobody took. A tasklet that survives three rounds of kills is leaked with its
    /// stack, and logged; every record is finished afterwards (see [`leak_survivors`]). Runs
    /// once: a second call does nothing.
    ///
    /// [`leak_survivors`]: Scheduler::leak_survivors
    pub(crate) fn shutdown(&self) {
        if self.shut_down.replace(true) {
            return;
        }
        count_panics(); // for every kill below (see `kill`)
                        // The kills run user code (destructors, in the tasklets); a panic that escapes them is
                        // a bug of the runtime, but the records must end inert all the same.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.kill_all())) {
            crate::engine::logging::report(format_args!(
                "concurrence: the dispatcher's shutdown failed: {}",
                panic_message(&*payload)
            ));
            drop_caught_quietly(payload);
        }
        self.leak_survivors();
        self.retire_idle();
        self.queue.clear();
        self.front.clear();
        self.next.clear();
        self.timers.borrow_mut().clear();
        self.remote_waits.borrow_mut().clear();
        self.internal_waits.set(0);
        self.patient_waits.set(0);
        let monitors = std::mem::take(&mut *self.monitors.borrow_mut());
        drop_caught(monitors, "the monitors left at the dispatcher's end");
        self.links.borrow_mut().clear();
        let trappers = std::mem::take(&mut *self.trappers.borrow_mut());
        drop_caught(trappers, "the exit trappers left at the dispatcher's end");
        // What was buried in the last round has no tasklet left to drop it in.
        let dead = std::mem::take(&mut *self.graveyard.borrow_mut());
        drop_caught(dead, "a value nobody took");
    }

    /// [`shutdown`](Scheduler::shutdown) on the way out of a `dispatch` that is unwinding (a
    /// bug of the runtime: user code runs only where its panics are caught). The thread's
    /// panic says nothing about the tasklets then (see [`is_unwinding`](Scheduler::is_unwinding)).
    pub(crate) fn shutdown_unwinding(&self) {
        if std::thread::panicking() {
            self.base_panicking.set(true);
        }
        self.shutdown();
    }

    /// The kills of [`shutdown`](Scheduler::shutdown): three rounds at most.
    fn kill_all(&self) {
        for _round in 0..3 {
            if let Some(reaper) = self.reap() {
                self.run(&reaper, Wake::Ready); // a destructor that blocks is killed below
            }
            let victims: Vec<Rc<Task>> = self.live.borrow().iter().rev().cloned().collect();
            if victims.is_empty() {
                break;
            }
            for victim in victims {
                self.kill(&victim);
            }
        }
    }

    /// Makes every tasklet still unfinished inert, for good: it is logged, its coroutine and
    /// stack are leaked (never resumed, never unmapped: a scoped thread it lent its stack to
    /// may still read it), its mailbox is closed (a send gets its message back) and it counts
    /// as killed, so that a handle kept past the dispatcher (in a thread-local, used by a later
    /// dispatcher) finds a finished tasklet and never resumes it. Runs no user code but the
    /// destructors of unread messages, caught.
    fn leak_survivors(&self) {
        let survivors = std::mem::take(&mut *self.live.borrow_mut());
        let mut stacks_leaked = false;
        for task in &survivors {
            crate::engine::logging::log_at!(
                Error,
                "tasklet '{}' (#{}) refused to die at dispatcher shutdown; leaking it and its stack",
                task.name(),
                task.id
            );
            // Dropping a suspended coroutine would unwind it once more; it has shown that it
            // catches that, so its stack and closure are leaked instead.
            let body = std::mem::replace(&mut *task.body.borrow_mut(), Body::Done);
            stacks_leaked |= matches!(body, Body::Started(_));
            std::mem::forget(body);
            let outcome = std::mem::replace(&mut *task.outcome.borrow_mut(), Outcome::Killed);
            std::mem::forget(outcome); // a closure still pending would be user code to drop
            task.state.set(State::Finished);
            task.bump_epoch();
            let joiners = task.take_joiners();
            drop(joiners);
            if let Some(inbox) = task.inbox().filter(|inbox| !inbox.is_closed()) {
                drop_caught(inbox.close(), "the unread messages of a leaked tasklet");
            }
        }
        if stacks_leaked {
            // A leaked coroutine's stack lies in a region of the pool or is a shared stack: the
            // pool must not unmap them when the scheduler is dropped.
            self.stacks.borrow_mut().keep_mapped();
            self.compact.borrow_mut().leak();
        } else {
            self.compact
                .borrow_mut()
                .release(&mut self.stacks.borrow_mut());
        }
        self.non_daemon.set(0);
        drop(survivors);
    }
}

/// Runs the dispatcher's shutdown when `dispatch` is left by unwinding (see
/// [`Scheduler::shutdown_unwinding`]); on the normal way out `dispatch` has run it already.
pub(crate) struct ShutdownGuard<'a>(pub(crate) &'a Scheduler);

impl Drop for ShutdownGuard<'_> {
    fn drop(&mut self) {
        self.0.shutdown_unwinding();
    }
}
