//! Waiting for any file descriptor (kiwi's `WaitForIO`): [`wait_readable`], [`wait_writable`].

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use super::source::{poll_now, poll_thread, Dir, Registration};
use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;

/// Waits until `fd` is readable (or at its end, or in error: a read will not block), at most
/// `timeout` (`None`: for ever). In a tasklet only the tasklet waits; outside one the thread
/// does, with `poll(2)`.
///
/// A duplicate of the descriptor is registered with the dispatcher's poller for the wait only,
/// so a descriptor registered already (a socket of this crate, a
/// [`Registered`](super::Registered) value) can be waited for too. This is
/// [`wait_for::readable`](crate::wait_for::readable) with a timeout.
///
/// # Errors
///
/// `TimedOut` when the timeout passed first; the poller's error when it refuses the descriptor
/// (a regular file is always ready, and never registered).
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
    let fd = fd.as_fd();
    let deadline = timeout.map(deadline_after);
    if scheduler::try_get().and_then(|s| s.current()).is_none() {
        return poll_thread(fd.as_raw_fd(), dir, deadline);
    }
    match wait_until(Ready::new(fd, dir), deadline) {
        Some(ready) => ready.map(drop),
        None => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "concurrence: the IO wait timed out",
        )),
    }
}

/// What `poll(2)` reported for a descriptor that a [`wait_for::readable`] or
/// [`wait_for::writable`] condition waited for (kiwi's `WaitForIO` event).
///
/// [`wait_for::readable`]: crate::wait_for::readable
/// [`wait_for::writable`]: crate::wait_for::writable
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Readiness {
    /// Data can be read (`POLLIN`).
    pub readable: bool,
    /// Data can be written (`POLLOUT`).
    pub writable: bool,
    /// The peer hung up (`POLLHUP`): a read gives the end of the stream.
    pub hangup: bool,
    /// The descriptor is in error (`POLLERR`): the next operation reports it.
    pub error: bool,
}

impl Readiness {
    fn from_revents(revents: libc::c_short) -> Readiness {
        Readiness {
            readable: revents & libc::POLLIN != 0,
            writable: revents & libc::POLLOUT != 0,
            hangup: revents & libc::POLLHUP != 0,
            error: revents & libc::POLLERR != 0,
        }
    }
}

/// A descriptor becoming readable or writable: the condition of [`wait_for::readable`] and
/// [`wait_for::writable`]. It fires with the [`Readiness`] `poll(2)` reports (a hang-up or an
/// error fires it too: the next operation will not block), or with the error of registering the
/// descriptor with the dispatcher's poller.
///
/// While armed the condition holds a duplicate of the descriptor registered with the poller (a
/// descriptor registered already, like a socket of this crate, can be waited for all the same);
/// it is deregistered and closed when the condition is dropped.
///
/// [`wait_for::readable`]: crate::wait_for::readable
/// [`wait_for::writable`]: crate::wait_for::writable
pub struct Ready<'a> {
    fd: BorrowedFd<'a>,
    dir: Dir,
    wake: FdWake,
}

impl<'a> Ready<'a> {
    pub(crate) fn new(fd: BorrowedFd<'a>, dir: Dir) -> Ready<'a> {
        Ready {
            fd,
            dir,
            wake: FdWake::default(),
        }
    }
}

impl sealed::Sealed for Ready<'_> {}

impl Condition for Ready<'_> {
    type Output = io::Result<Readiness>;

    fn poll(&mut self) -> Option<io::Result<Readiness>> {
        if let Some(err) = self.wake.failed.take() {
            return Some(Err(err));
        }
        poll_now(self.fd.as_raw_fd(), self.dir)
            .map(|revents| revents.map(Readiness::from_revents))
            .transpose()
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.wake.arm(self.fd, self.dir, waiter);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        self.wake.disarm(waiter);
    }

    fn label(&self) -> Label {
        let fd = self.fd.as_raw_fd();
        Label(match self.dir {
            Dir::Read => WaitOn::Readable(fd),
            Dir::Write => WaitOn::Writable(fd),
        })
    }
}

impl fmt::Debug for Ready<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("fd", &self.fd.as_raw_fd())
            .field("readable", &matches!(self.dir, Dir::Read))
            .finish_non_exhaustive()
    }
}

/// The wake-up side of a condition whose event a descriptor announces (readiness, a signal's
/// pipe, a process's pidfd): a duplicate of the descriptor registered with the dispatcher's
/// poller on first arm, kept until dropped.
#[derive(Default)]
pub(crate) struct FdWake {
    /// The registration, then the duplicate it names (dropped in this order).
    registration: Option<(Registration, OwnedFd)>,
    /// Why the descriptor could not be registered: the condition fires with it.
    pub(crate) failed: Option<io::Error>,
    /// In which direction it is armed (and counted among the dispatcher's IO waiters).
    armed: Option<Dir>,
}

impl FdWake {
    /// Registers `waiter` for the next event of `fd` in `dir`; on a registration error, wakes
    /// it at once with the error in `failed`.
    pub(crate) fn arm(&mut self, fd: BorrowedFd<'_>, dir: Dir, waiter: &Waiter) {
        if self.registration.is_none() {
            let registered = fd.try_clone_to_owned().and_then(|dup| {
                let registration = Registration::new(waiter.sched.owned(), dup.as_raw_fd(), false)?;
                Ok((registration, dup))
            });
            match registered {
                Ok(registered) => self.registration = Some(registered),
                Err(err) => {
                    self.failed = Some(err);
                    waiter.wake();
                    return;
                }
            }
        }
        if let Some((registration, _)) = &self.registration {
            registration.arm(dir, waiter);
            self.armed = Some(dir);
        }
    }

    /// Takes back what [`arm`](FdWake::arm) registered.
    pub(crate) fn disarm(&mut self, waiter: &Waiter) {
        if let (Some(dir), Some((registration, _))) = (self.armed.take(), &self.registration) {
            registration.disarm(dir, waiter);
        }
    }
}
