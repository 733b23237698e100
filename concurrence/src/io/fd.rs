//! Waiting for any file descriptor (kiwi's `WaitForIO`): [`wait_readable`], [`wait_writable`].

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use super::source::{poll_thread, Dir, Registration};
use crate::scheduler;
use crate::timer::deadline_after;

/// Waits until `fd` is readable (or at its end, or in error: a read will not block), at most
/// `timeout` (`None`: for ever). In a tasklet only the tasklet waits; outside one the thread
/// does, with `poll(2)`.
///
/// The descriptor is registered with the dispatcher's poller for the wait only. A descriptor
/// that is registered already (wrapped in a [`Registered`](super::Registered) or a socket of
/// this crate that has waited before) cannot be registered twice: use its own `readable`.
///
/// # Errors
///
/// `TimedOut` when the timeout passed first; the poller's error when it refuses the descriptor
/// (`AlreadyExists` for one registered already).
///
/// # Examples
///
/// ```
/// use concurrence::io::wait_readable;
/// use concurrence::{dispatch, spawn};
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use std::time::Duration;
///
/// dispatch(|| {
///     let (mut a, b) = UnixStream::pair().unwrap();
///     let reader = spawn(move || {
///         wait_readable(&a, None).unwrap(); // only this tasklet waits
///         let mut byte = [0u8];
///         a.read_exact(&mut byte).unwrap();
///         byte[0]
///     });
///     assert!(wait_readable(&b, Some(Duration::from_millis(10))).is_err()); // times out
///     (&b).write_all(&[7]).unwrap();
///     assert_eq!(reader.join().unwrap(), 7);
/// });
/// ```
#[track_caller]
pub fn wait_readable(fd: impl AsFd, timeout: Option<Duration>) -> io::Result<()> {
    wait(fd, Dir::Read, timeout)
}

/// Waits until `fd` is writable (or in error), at most `timeout`; see [`wait_readable`].
///
/// # Errors
///
/// As [`wait_readable`].
#[track_caller]
pub fn wait_writable(fd: impl AsFd, timeout: Option<Duration>) -> io::Result<()> {
    wait(fd, Dir::Write, timeout)
}

#[track_caller]
fn wait(fd: impl AsFd, dir: Dir, timeout: Option<Duration>) -> io::Result<()> {
    let fd = fd.as_fd().as_raw_fd();
    let deadline = timeout.map(deadline_after);
    // Ready now: no registration needed.
    if poll_thread(fd, dir, Some(std::time::Instant::now())).is_ok() {
        return Ok(());
    }
    match scheduler::try_get().filter(|s| s.current().is_some()) {
        None => poll_thread(fd, dir, deadline),
        Some(sched) => {
            // Registered for this wait only, not assumed ready: the registration itself reports
            // readiness that arrived since the check above.
            let registration = Registration::new(sched, fd, false)?;
            registration.wait(dir, deadline)
        }
    }
}
