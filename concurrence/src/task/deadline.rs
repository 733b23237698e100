//! Deadlines that scope: [`with_deadline`] and [`with_timeout`] (the original's per-tasklet
//! `Timeout.push`/`pop`, Go's context deadline).

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::engine::deadline::DeadlinePassed;
use crate::engine::{clock, scheduler};
use crate::error::TimeoutError;

/// Runs `f` with a deadline `timeout` from now: every blocking call in it (sleep excepted, as
/// in the original), in this tasklet, honours the earliest deadline of the scopes it is in.
/// See [`with_deadline`].
///
/// # Errors
///
/// [`TimeoutError`] when a blocking call in `f` without a timeout error of its own reached the
/// deadline (`f` was unwound from there).
///
/// # Panics
///
/// Outside a tasklet; and with `f`'s panic.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, receive, tasklet, with_timeout, TimeoutError};
/// use std::time::Duration;
///
/// concurrence::message!(MSG_WORK(u32));
///
/// #[tasklet(receives(MSG_WORK))]
/// fn worker() -> Result<u32, TimeoutError> {
///     // Three messages within 50 ms, or none of it.
///     with_timeout(Duration::from_millis(50), || {
///         let mut sum = 0;
///         for WorkerMsg::MSG_WORK(MSG_WORK(n)) in receive().take(3) {
///             sum += n;
///         }
///         sum
///     })
/// }
///
/// dispatch(|| {
///     let w = Worker::new().spawn();
///     MSG_WORK::send(&w)(1).unwrap(); // only one comes
///     assert_eq!(w.join().unwrap(), Err(TimeoutError));
/// });
/// ```
#[track_caller]
pub fn with_timeout<R>(timeout: Duration, f: impl FnOnce() -> R) -> Result<R, TimeoutError> {
    let now = clock::now();
    let at = now
        .checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
    with_deadline(at, f)
}

/// Runs `f` with the deadline `at` (the original's `Timeout.push(at)` ... `pop()`, Go's
/// `context.WithDeadline`): every blocking call in `f`, in this tasklet, honours the earliest
/// deadline of the scopes it is in. Nested scopes can only shorten it; leaving a scope restores
/// the outer one.
///
/// - A call with a timeout error of its own fails with it at the deadline: the `*_timeout`
///   forms (their timeout is cut to the deadline), `call` and `send` (`CallError::TimedOut`,
///   `SendError::TimedOut`), `Mailbox::append`, a `select!` arm of `wait_for::timeout`.
/// - A call without one (`receive`, `join`, `Channel::send`, a socket read without a timeout,
///   ...) unwinds from there to the scope, running every destructor on the way (as a kill
///   does, with a [`DeadlinePassed`] payload), and the scope returns `Err(TimeoutError)`.
/// - `sleep` does not: it sleeps what it was asked.
/// - What the tasklet spawns is not in the scope; a called tasklet learns the caller's deadline
///   from the message's [`Reply::deadline`](crate::Reply::deadline), and remote calls
///   (concurrence-nats) pass the time left on.
///
/// Code in the scope that does not block is not interrupted: the deadline is noticed at the
/// next blocking call, as in Go. A blocking call made while the tasklet unwinds (a destructor)
/// does not honour it.
///
/// # Errors
///
/// [`TimeoutError`] when a blocking call without a timeout error reached the deadline.
///
/// # Panics
///
/// Outside a tasklet; and with `f`'s panic.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, spawn, sleep, with_deadline, with_timeout, current_deadline};
/// use std::time::{Duration, Instant};
///
/// dispatch(|| {
///     let slow = spawn(|| sleep(Duration::from_secs(3600)));
///     let outer = with_timeout(Duration::from_millis(20), || {
///         let inner_at = Instant::now() + Duration::from_secs(60);
///         // The inner scope cannot lengthen the outer one's 20 ms.
///         with_deadline(inner_at, || {
///             assert!(current_deadline().unwrap() < inner_at);
///             slow.join() // no timeout of its own: unwinds to the outer scope
///         })
///     });
///     assert!(outer.is_err());
///     assert_eq!(current_deadline(), None); // restored
///     slow.kill();
/// });
/// ```
#[track_caller]
pub fn with_deadline<R>(at: Instant, f: impl FnOnce() -> R) -> Result<R, TimeoutError> {
    let outside = || -> ! { panic!("concurrence: with_deadline outside a tasklet") };
    let sched = scheduler::try_get().unwrap_or_else(|| outside());
    let task = sched.current_task().unwrap_or_else(|| outside()).id;
    let outer = sched.deadlines.of(task);
    sched
        .deadlines
        .set(task, Some(outer.map_or(at, |outer| outer.min(at))));
    // Restored however `f` ends.
    let _restore = Restore { task, outer };
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Ok(value),
        Err(payload) => match payload.downcast::<DeadlinePassed>() {
            // This scope's own deadline passed: the unwind ends here.
            Ok(passed) if at <= passed.deadline() => Err(TimeoutError),
            Ok(passed) => resume_unwind(passed),
            Err(other) => resume_unwind(other),
        },
    }
}

/// Puts a tasklet's outer deadline back when its scope ends.
struct Restore {
    task: u64,
    outer: Option<Instant>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(sched) = scheduler::try_get() {
            sched.deadlines.set(self.task, self.outer);
        }
    }
}

/// The deadline of the scopes the current tasklet is in ([`with_deadline`]), if any; `None`
/// outside a tasklet.
pub fn current_deadline() -> Option<Instant> {
    crate::engine::deadline::scoped()
}

/// The time left until [`current_deadline`] (zero once it passed), if the current tasklet is in
/// a scope.
pub fn remaining_time() -> Option<Duration> {
    current_deadline().map(|at| at.saturating_duration_since(clock::now()))
}
