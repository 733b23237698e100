//! The bodies of the repeating helpers: `loop_`, `interval` and `rate`. Each calls the user's
//! function with panics caught and logged, and ends only when killed.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::error::panic_message;
use crate::scheduler;
use crate::tasklet::{current, yield_, TaskletExit};
use crate::timer::sleep;

/// Calls `f`; a panic is logged and swallowed, a kill goes on unwinding. Returns whether `f`
/// returned normally.
fn call_logged(f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => true,
        Err(payload) if payload.is::<TaskletExit>() => resume_unwind(payload),
        Err(payload) => {
            scheduler::panic_caught();
            let me = current();
            crate::logging::log_at!(
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

/// The next wait of a `rate` loop: the last one corrected by a fifth of the error between the
/// target `period` and the period actually measured, kept within 0.5 and 1.5 periods.
pub(crate) fn corrected_wait(last_wait: f64, period: f64, actual: f64) -> f64 {
    let error = period - actual;
    (last_wait + 0.2 * error).clamp(0.5 * period, 1.5 * period)
}

pub(crate) fn run_rate(per_second: f64, mut f: impl FnMut(Instant)) {
    let period = 1.0 / per_second;
    let mut wait = period;
    let mut last = Instant::now();
    loop {
        // A tiny rate means a wait longer than a Duration holds: practically for ever.
        sleep(Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX));
        let now = Instant::now();
        call_logged(|| f(now));
        let actual = now.duration_since(last).as_secs_f64();
        last = now;
        wait = corrected_wait(wait, period, actual);
    }
}

pub(crate) fn run_receiver<M: crate::Messages>(mut f: impl FnMut(M)) {
    for message in crate::receive::<M>() {
        call_logged(|| f(message));
    }
}
