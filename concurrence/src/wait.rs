//! The one blocking primitive: register wake-ups, suspend, learn why you were woken.
//!
//! Every blocking operation follows the same steps:
//!
//! 1. [`Wait::begin`] starts a new epoch for the current tasklet and marks it `Waiting`;
//! 2. the operation registers wake-up tokens (the waiting tasklet and [`Wait::epoch`]) wherever
//!    the event it waits for will come from (a joined tasklet's joiner list, ...), to be used
//!    through `Scheduler::wake`;
//! 3. [`Wait::suspend`] adds the deadline, if any, as a timer and switches to the scheduler;
//! 4. when resumed it learns why: `Ok(())` when woken, `Err(TimeoutError)` when the deadline
//!    passed first, and when the tasklet is being killed it unwinds with [`TaskletExit`] (or,
//!    if it is unwinding already, the wait ends with `Err(TimeoutError)`).
//!
//! A token used before the tasklet suspends is not lost: the tasklet is queued as ready and the
//! suspension returns at its next turn (the Parker rule: an unpark before park makes park
//! return at once). Tokens of older epochs do nothing, so a source never has to be cleaned up
//! for correctness.

use std::panic::Location;
use std::rc::Rc;
use std::time::Instant;

use crate::coroutine::Wake;
use crate::error::TimeoutError;
use crate::scheduler::{self, Scheduler};
use crate::state::{Task, WaitOn};
use crate::tasklet::TaskletExit;

/// A wait in progress for the current tasklet.
pub(crate) struct Wait {
    sched: Rc<Scheduler>,
    task: Rc<Task>,
    epoch: u32,
}

impl Wait {
    /// Starts waiting for `on`. Panics outside a tasklet. The caller's location (through
    /// `#[track_caller]` on the public blocking calls) is what deadlock reports show.
    #[track_caller]
    pub(crate) fn begin(on: WaitOn) -> Wait {
        let sched = scheduler::get();
        let task = sched.current().unwrap_or_else(|| {
            panic!("concurrence: a blocking call ({on}) was made outside a tasklet; run it inside dispatch()")
        });
        Wait::begin_for(sched, task, on)
    }

    /// Starts waiting for `on`, for `task`, the running tasklet of `sched`.
    #[track_caller]
    pub(crate) fn begin_for(sched: Rc<Scheduler>, task: Rc<Task>, on: WaitOn) -> Wait {
        let epoch = task.bump_epoch();
        task.state.set(crate::state::State::Waiting);
        task.waiting_on.set((on, Location::caller()));
        Wait { sched, task, epoch }
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
    pub(crate) fn suspend(self, deadline: Option<Instant>) -> Result<(), TimeoutError> {
        let key = deadline.map(|d| {
            self.sched
                .timers
                .borrow_mut()
                .insert(d, self.task.clone(), self.epoch)
        });
        let mut why = self.task.suspender.get().suspend();
        if self.task.kill_pending.replace(false) {
            why = Wake::Killed;
        }
        if let Some(key) = key {
            if why != Wake::TimedOut {
                self.sched.timers.borrow_mut().remove(key);
            }
        }
        match why {
            Wake::Ready => Ok(()),
            Wake::TimedOut => Err(TimeoutError),
            // Killed again while already unwinding (a destructor that blocks during a kill):
            // unwinding a second time would abort the process, so the wait just ends early and
            // the first unwind goes on.
            Wake::Killed if std::thread::panicking() => Err(TimeoutError),
            Wake::Killed => {
                drop(self);
                std::panic::resume_unwind(Box::new(TaskletExit))
            }
        }
    }
}
