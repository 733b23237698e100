//! Values nobody took (results never joined, messages never read, closures of tasklets that
//! never ran): their destructors are user code, so they are dropped in a tasklet of their own.

use std::any::Any;
use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use crate::engine::end::TaskletExit;
use crate::engine::state::{Name, Task};
use crate::error::panic_message;

use super::kill::panic_caught;
use super::{get, try_get, Scheduler, SpawnOptions};

impl Scheduler {
    /// Starts a tasklet that drops the values buried so far (see [`bury`]), unless one is
    /// pending already; returns it.
    pub(super) fn reap(&self) -> Option<Rc<Task>> {
        if self.graveyard.borrow().is_empty() || self.reaper.get().is_some() {
            return None;
        }
        let opts = SpawnOptions {
            name: Some(Cow::Borrowed("drop")),
            daemon: true,
            stack_size: None,
            stack_mode: None,
            inbox: None,
        };
        // It takes the values when it runs, not when it is spawned: a reaper that cannot start
        // (no stack) or is killed first holds nothing.
        let reaper = self.spawn(opts, drop_buried, Name::Function("drop"));
        self.reaper.set(Some(reaper.id));
        Some(reaper)
    }
}

/// Drops `value` here, catching a panic of its destructor and reporting it (a kill is not
/// reported: it goes on as the end of the tasklet that was dropping).
pub(crate) fn drop_caught<V>(value: V, what: &str) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        if !payload.is::<TaskletExit>() {
            panic_caught();
            crate::engine::logging::report(format_args!(
                "concurrence: dropping {what} panicked: {}",
                panic_message(&*payload)
            ));
        }
        drop_caught_quietly(payload);
    }
}

/// Drops a payload, leaking it if its destructor panics too.
pub(super) fn drop_caught_quietly(payload: Box<dyn Any + Send>) {
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
}

/// The body of the `drop` tasklet: drops what was buried, until nothing is left.
fn drop_buried() {
    let sched = get();
    loop {
        let dead = std::mem::take(&mut *sched.graveyard.borrow_mut());
        if dead.is_empty() {
            return;
        }
        drop(dead);
    }
}

/// Takes charge of a value nobody took (an unjoined tasklet's result, messages of a tasklet
/// that never ran, the closure of one that could not start). Its destructor is user code that
/// may block or panic, and the value may be let go anywhere, in the scheduler's own loop too:
/// so while a dispatcher runs it is dropped in a daemon tasklet of its own (`drop`), soon; a
/// panic there is that tasklet's panic, reported as such. Without a dispatcher it is dropped at
/// once, a panic caught and reported.
pub(crate) fn bury(value: Box<dyn Any>) {
    match try_get() {
        Some(sched) => sched.graveyard.borrow_mut().push(value),
        None => drop_caught(value, "a value nobody took"),
    }
}
