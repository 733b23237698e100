//! How the runtime logs: through the `log` facade, with the logger's panics caught.
//!
//! A logger is user code, and the runtime logs from places where user code must not unwind:
//! its own loop (a tasklet that could not start, a panic nobody joins, a failed poll), the
//! shutdown (a tasklet that refused to die), the deadlock report, a blocking-pool thread that
//! holds a lock. A logger that panics there (one that asks `concurrence::current()` for the
//! tasklet's name, outside any tasklet) would leave the dispatcher half-way through its
//! bookkeeping. So every record the runtime logs goes through [`log`]: a panic of the logger is
//! caught, and the record is written to stderr with a note that the logger failed. A kill of a
//! tasklet whose logger blocked goes on unwinding.

use std::fmt;
use std::io::Write;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use crate::engine::end::TaskletExit;
use crate::error::panic_message;

/// Logs `args` at `level` under the crate's target; a panic of the logger is caught (see the
/// module docs).
pub(crate) fn log(level: log::Level, args: fmt::Arguments<'_>) {
    let logged = catch_unwind(AssertUnwindSafe(|| {
        log::log!(target: "concurrence", level, "{args}");
    }));
    if let Err(payload) = logged {
        logger_failed(args, payload);
    }
}

/// Reports an error the user must see: through `log` when a logger would show it, on stderr
/// otherwise (as Go prints its deadlock report whatever the program set up). A panic of the
/// logger is caught as in [`log`].
pub(crate) fn report(args: fmt::Arguments<'_>) {
    let shown = catch_unwind(AssertUnwindSafe(|| {
        log::Level::Error <= log::max_level()
            && log::logger().enabled(
                &log::Metadata::builder()
                    .level(log::Level::Error)
                    .target("concurrence")
                    .build(),
            )
    }));
    match shown {
        Ok(true) => log(log::Level::Error, args),
        Ok(false) => stderr(args),
        Err(payload) => logger_failed(args, payload),
    }
}

/// The logger panicked with `payload` while logging `args`: a kill goes on unwinding; any
/// other panic is counted as caught, and the record goes to stderr.
fn logger_failed(args: fmt::Arguments<'_>, payload: Box<dyn std::any::Any + Send>) {
    if payload.is::<TaskletExit>() {
        resume_unwind(payload);
    }
    crate::engine::scheduler::panic_caught();
    stderr(format_args!(
        "{args} (written here: the logger panicked: {})",
        panic_message(&*payload)
    ));
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
}

/// Writes a line to stderr, ignoring a failure (`eprintln!` would panic).
fn stderr(args: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{args}");
}

/// Logs through [`log`] at the given level, formatting as `format!` does.
macro_rules! log_at {
    ($level:ident, $($arg:tt)+) => {
        $crate::engine::logging::log(::log::Level::$level, ::core::format_args!($($arg)+))
    };
}
pub(crate) use log_at;
