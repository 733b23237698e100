//! The bodies of the repeating helpers: `loop_`, `interval` and `rate`. Each calls the user's
//! function with panics caught and logged, and ends only when killed. `rate` sleeps until
//! absolute deadlines one period apart, skipping those it missed by a whole period or more
//! ([`next_deadline`]).

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::engine::clock;
use crate::engine::end::TaskletExit;
use crate::engine::scheduler;
use crate::engine::timer::{deadline_after, sleep, sleep_until};
use crate::error::panic_message;
use crate::task::tasklet::{current, yield_};

/// Calls `f`; a panic is logged and swallowed, a kill goes on unwinding. Returns whether `f`
/// returned normally.
fn call_logged(f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => true,
        Err(payload) if payload.is::<TaskletExit>() => resume_unwind(payload),
        Err(payload) => {
            scheduler::panic_caught();
            let me = current();
            crate::engine::logging::log_at!(
                Error,
                "tasklet '{}' (#{}): panic in its function, going on: {}",
                me.name(),
                me.id(),
                panic_message(&*payload)
            );
            false
        }
    }
}

pub(crate) fn run_loop(mut f: impl FnMut()) {
    loop {
        if !call_logged(&mut f) {
            yield_();
        }
    }
}

pub(crate) fn run_interval(period: Duration, immediate: bool, mut f: impl FnMut()) {
    if immediate {
        call_logged(&mut f);
    }
    loop {
        sleep(period);
        call_logged(&mut f);
    }
}

/// The deadline of a `rate` loop's next call, after the call for `deadline` ended at `now`:
/// one `period` later, on the grid of deadlines the loop started with. When that one has passed
/// by a whole period or more (the calls, or the other tasklets, took that long), the deadlines
/// missed are skipped: the next is the latest on the grid that has passed, so one late call is
/// made at once and the loop is back on its grid. A deadline past what `Instant` holds is
/// practically for ever (a tiny rate).
pub(crate) fn next_deadline(deadline: Instant, period: Duration, now: Instant) -> Instant {
    let Some(next) = deadline.checked_add(period) else {
        return deadline_after(Duration::MAX);
    };
    if next > now || period.is_zero() {
        return next;
    }
    // The whole periods between `next` and `now`: `behind` less what is left over.
    let behind = now - next;
    let left = behind.as_nanos() % period.as_nanos(); // at most `behind`: fits a Duration
    let left = Duration::new((left / 1_000_000_000) as u64, (left % 1_000_000_000) as u32);
    next + (behind - left)
}

pub(crate) fn run_rate(per_second: f64, mut f: impl FnMut(Instant)) {
    // A tiny rate means a period longer than a Duration holds: practically for ever.
    let period = Duration::try_from_secs_f64(1.0 / per_second).unwrap_or(Duration::MAX);
    let mut deadline = deadline_after(period);
    loop {
        sleep_until(deadline);
        let now = clock::now();
        call_logged(|| f(now));
        deadline = next_deadline(deadline, period, clock::now());
    }
}

pub(crate) fn run_receiver<M: crate::Messages>(mut f: impl FnMut(M)) {
    for message in crate::receive::<M>() {
        call_logged(|| f(message));
    }
}

#[cfg(test)]
mod tests {
    use super::next_deadline;
    use std::time::{Duration, Instant};

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_call_that_ends_within_its_period_keeps_the_grid() {
        let t0 = Instant::now();
        // The call for t0 + 10 ms ran 6 ms: the next is due at t0 + 20 ms.
        assert_eq!(
            next_deadline(t0 + 10 * MS, 10 * MS, t0 + 16 * MS),
            t0 + 20 * MS
        );
        // It started late and ended after the next deadline, by less than a period: that
        // call is made at once, late, and the grid is kept.
        assert_eq!(
            next_deadline(t0 + 10 * MS, 10 * MS, t0 + 25 * MS),
            t0 + 20 * MS
        );
    }

    #[test]
    fn deadlines_missed_by_a_whole_period_are_skipped() {
        let t0 = Instant::now();
        // At t0 + 47 ms the deadlines 20, 30 and 40 have passed: one call at once (for 40),
        // then 50, 60, ...
        assert_eq!(
            next_deadline(t0 + 10 * MS, 10 * MS, t0 + 47 * MS),
            t0 + 40 * MS
        );
        assert_eq!(
            next_deadline(t0 + 40 * MS, 10 * MS, t0 + 41 * MS),
            t0 + 50 * MS
        );
    }

    #[test]
    fn a_period_past_what_an_instant_holds_is_practically_for_ever() {
        let t0 = Instant::now();
        let next = next_deadline(t0, Duration::MAX, t0);
        assert!(next > t0 + Duration::from_secs(50 * 365 * 24 * 3600));
    }
}
