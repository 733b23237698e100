//! Waiting for the dispatcher to be idle: [`wait_idle`] and the idle condition.

use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::engine::wait::Ended;
use crate::error::TimeoutError;

/// Waits until the dispatcher has nothing else to run (kiwi's `WaitForIdle`): no other
/// tasklet is ready, and due timers and IO readiness have been handed out. Every tasklet that
/// waits for idle is woken together then. Use it for background work that should yield to
/// everything else (a cache cleanup, a low-priority flush). A tasklet that waits for idle in a
/// loop keeps the dispatcher busy: it never sleeps in the poller while one waits.
///
/// # Panics
///
/// Panics outside a tasklet. A tasklet killed while it waits unwinds from here.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, spawn, wait_idle, yield_};
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// dispatch(|| {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let l = log.clone();
///     let background = spawn(move || {
///         wait_idle();
///         l.borrow_mut().push("idle work");
///     });
///     let l = log.clone();
///     let busy = spawn(move || {
///         for _ in 0..3 {
///             l.borrow_mut().push("busy");
///             yield_();
///         }
///     });
///     busy.join().unwrap();
///     background.join().unwrap();
///     assert_eq!(*log.borrow(), ["busy", "busy", "busy", "idle work"]);
/// });
/// ```
#[track_caller]
pub fn wait_idle() {
    let _ = wait_idle_until(None);
}

/// [`wait_idle`], at most `timeout` (the dispatcher may stay busy).
///
/// # Errors
///
/// [`TimeoutError`] when the dispatcher was not idle in time.
#[track_caller]
pub fn wait_idle_timeout(timeout: Duration) -> Result<(), TimeoutError> {
    Ok(wait_idle_until(Some(deadline_after(timeout)))?)
}

#[track_caller]
fn wait_idle_until(deadline: Option<Instant>) -> Result<(), Ended> {
    wait_until(Idle::new(), deadline).ok_or(Ended::TimedOut)
}

/// The dispatcher having nothing else to run (kiwi's `WaitForIdle`): the condition of
/// [`wait_for::idle`](crate::wait_for::idle) and [`wait_idle`]. It fires with `()` once no
/// tasklet is ready to run after timers and IO had their turn, never at once (the waiting
/// tasklet itself is running).
#[derive(Debug, Default)]
pub struct Idle {
    /// The dispatcher's idle round when armed.
    round: Option<u64>,
}

impl Idle {
    pub(crate) fn new() -> Idle {
        Idle::default()
    }
}

impl sealed::Sealed for Idle {}

impl Condition for Idle {
    type Output = ();

    fn poll(&mut self) -> Option<()> {
        let round = self.round?;
        let now = scheduler::try_get()?.idle_rounds.get();
        (now != round).then(|| self.round = None)
    }

    fn arm(&mut self, waiter: &Waiter) {
        waiter
            .sched
            .idle_waiters
            .borrow_mut()
            .push_token(&waiter.task, waiter.epoch);
        self.round = Some(waiter.sched.idle_rounds.get());
    }

    fn disarm(&mut self, waiter: &Waiter) {
        waiter
            .sched
            .idle_waiters
            .borrow_mut()
            .remove(Rc::as_ptr(&waiter.task));
    }

    fn label(&self) -> Label {
        Label(WaitOn::Idle)
    }
}
