//! Deadlines: [`sleep`], [`sleep_until`], and `deadline_after`, through which every timeout of
//! the crate goes. The dispatcher's timers themselves are a timing wheel (`wheel.rs`); the
//! earliest deadline is its poll timeout when nothing else is ready.

use std::time::{Duration, Instant};

use crate::engine::state::WaitOn;
use crate::engine::wait::Wait;
use crate::engine::{clock, deadline};

/// Blocks the current tasklet for `duration`; other tasklets run meanwhile.
///
/// A zero duration still lets every other ready tasklet run once before the caller goes on.
/// The resolution is a millisecond (see [Timeouts](crate#timeouts)): `sleep(100us)` takes about
/// 1.1 ms when the dispatcher has nothing else to do.
///
/// # Panics
///
/// Panics when called outside a tasklet (outside [`dispatch`](crate::dispatch)). A tasklet
/// killed while it sleeps unwinds from here.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, sleep};
/// use std::time::{Duration, Instant};
///
/// dispatch(|| {
///     let start = Instant::now();
///     sleep(Duration::from_millis(20));
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) {
    sleep_until(instant_after(duration));
}

/// The dispatcher's now: [`Instant::now`], except under virtual time
/// ([`Dispatcher::virtual_time`](crate::Dispatcher::virtual_time)), where it is the virtual
/// clock every timer, timeout and [`sleep`] of the dispatcher follows. Outside a dispatcher,
/// the real now. Measure what a tasklet waits with it, not with `Instant::now`, in code that
/// may run under virtual time.
///
/// # Examples
///
/// ```
/// use concurrence::{now, sleep, Dispatcher};
/// use std::time::Duration;
///
/// let status = Dispatcher::new().virtual_time(true).run(|| {
///     let start = now();
///     sleep(Duration::from_secs(3600)); // an hour, at once
///     now() - start
/// });
/// assert_eq!(status.into_value(), Some(Duration::from_secs(3600)));
/// ```
pub fn now() -> Instant {
    clock::now()
}

/// How far "for ever" is: a deadline this far ahead never comes in practice, and stays far
/// from the end of `Instant`'s range.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// The deadline `timeout` from now, or the deadline of the tasklet's scope when that comes
/// first (see `engine::deadline`). A timeout past what `Instant` can hold (`Duration::MAX`)
/// means practically for ever, never an overflow: every timeout of the crate goes through here.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let after = instant_after(timeout);
    deadline::clamp(Some(after)).unwrap_or(after)
}

/// The instant `duration` from now on the dispatcher's clock (for ever, past `Instant`'s
/// range), whatever the scope: a sleep's.
fn instant_after(duration: Duration) -> Instant {
    let now = clock::now();
    now.checked_add(duration).unwrap_or_else(|| now + FOREVER)
}

/// Blocks the current tasklet until `deadline`; returns at once (after letting the others run)
/// if it has passed.
///
/// # Panics
///
/// As [`sleep`].
#[track_caller]
pub fn sleep_until(deadline: Instant) {
    // A sleep ends only by its deadline, so the timeout is the expected outcome.
    let _ = Wait::begin(WaitOn::Sleep).suspend(Some(deadline));
}
