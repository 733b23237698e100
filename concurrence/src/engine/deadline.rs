//! Deadlines that scope (the original's `Timeout.push`/`pop`, Go's context deadline): the
//! earliest deadline of the scopes a tasklet is in, which every blocking call of the tasklet
//! honours (sleep excepted). A call with a timeout error of its own (`*_timeout`, and `call` and
//! `send`, whose errors have a `TimedOut` case) takes the scope's deadline as its own and fails
//! with that error; a call without one unwinds to the scope with a [`DeadlinePassed`] payload,
//! and the scope returns `Err(TimeoutError)`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Instant;

use crate::engine::scheduler::{self, Sched};

/// The effective deadline of each tasklet in a scope, on this dispatcher: a table, so that the
/// tasklet record does not grow and a dispatcher without scopes pays one emptiness check a wait.
#[derive(Default)]
pub(crate) struct Deadlines {
    by_task: RefCell<HashMap<u64, Instant>>,
    /// Whether any tasklet is in a scope: the one check a wait and a send make when none is.
    any: Cell<bool>,
}

impl Deadlines {
    /// The deadline of tasklet `task`, if it is in a scope.
    #[inline]
    pub(crate) fn of(&self, task: u64) -> Option<Instant> {
        if !self.any.get() {
            return None;
        }
        self.by_task.borrow().get(&task).copied()
    }

    /// Whether any tasklet is in a scope.
    #[inline]
    pub(crate) fn is_any(&self) -> bool {
        self.any.get()
    }

    /// Sets (or with `None` clears) the deadline of `task`.
    pub(crate) fn set(&self, task: u64, deadline: Option<Instant>) {
        let mut by_task = self.by_task.borrow_mut();
        match deadline {
            Some(deadline) => {
                by_task.insert(task, deadline);
            }
            None => {
                by_task.remove(&task);
            }
        }
        self.any.set(!by_task.is_empty());
    }
}

/// The scoped deadline of the running tasklet of this thread, if it is in a scope.
#[inline]
pub(crate) fn scoped() -> Option<Instant> {
    scheduler::try_get()?.scoped_deadline()
}

/// `deadline`, or the scope's when that comes first: the deadline of a call that has a timeout
/// error of its own.
#[inline]
pub(crate) fn clamp(deadline: Option<Instant>) -> Option<Instant> {
    match (deadline, scoped()) {
        (Some(d), Some(s)) => Some(d.min(s)),
        (d, s) => d.or(s),
    }
}

/// The payload a blocking call without a timeout error unwinds with when its tasklet's scoped
/// deadline passes: the scope that set that deadline catches it and returns
/// `Err(TimeoutError)`. Like [`TaskletExit`](crate::TaskletExit), it runs every destructor on
/// the way; code that catches panics should let it go on (`resume_unwind`).
#[derive(Debug)]
pub struct DeadlinePassed {
    tasklet: u64,
    at: Instant,
}

impl DeadlinePassed {
    /// The deadline that passed.
    pub fn deadline(&self) -> Instant {
        self.at
    }
}

impl Drop for DeadlinePassed {
    fn drop(&mut self) {
        scheduler::exit_caught(self.tasklet);
    }
}

/// Unwinds the running tasklet of `sched` (with id `tasklet`) to the scope whose deadline `at`
/// passed.
pub(crate) fn raise(sched: Sched, tasklet: u64, at: Instant) -> ! {
    if let Some(task) = sched.current_task() {
        task.unwinding.set(task.unwinding.get().saturating_add(1));
    }
    std::panic::resume_unwind(Box::new(DeadlinePassed { tasklet, at }))
}
