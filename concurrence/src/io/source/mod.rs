//! The readiness wait every IO type of the crate goes through: a descriptor's registration with
//! a dispatcher's poller (`Registration`, one per descriptor), the wait itself, and `poll(2)`
//! for threads outside a dispatcher; [`Registered`] (in `registered.rs`) makes any non-blocking
//! descriptor blocking-style for tasklets on it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};
use std::time::Instant;

use mio::unix::SourceFd;
use mio::Interest;

use crate::engine::condition::Waiter;
use crate::engine::readiness::{Direction, IoState};
use crate::engine::scheduler::Scheduler;
use crate::engine::state::WaitOn;
use crate::engine::wait::{Ended, Wait};

mod registered;

pub use registered::Registered;

/// Which way an operation goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    Read,
    Write,
}

impl Dir {
    fn of(self, state: &IoState) -> &Direction {
        match self {
            Dir::Read => &state.read,
            Dir::Write => &state.write,
        }
    }

    pub(crate) fn poll_events(self) -> libc::c_short {
        match self {
            Dir::Read => libc::POLLIN,
            Dir::Write => libc::POLLOUT,
        }
    }
}

/// A file descriptor registered with one dispatcher's reactor; deregistered when dropped.
///
/// A registration names a descriptor *number*, which the OS gives to another descriptor once
/// this one is closed. So it is only ever deregistered while its owner still has that number
/// open: a [`Registered`] value whose descriptor changed (see [`Registered::registered`])
/// abandons its registration instead, and the number is never touched again.
pub(crate) struct Registration {
    sched: Rc<Scheduler>,
    state: Rc<IoState>,
    fd: RawFd,
    /// Set when `fd` is no longer its owners' descriptor: dropping must not deregister it (the
    /// number may name another value's descriptor by now).
    abandoned: Cell<bool>,
    /// How many `Registered` values hold it (the tasklets waiting on it hold it too, but do
    /// not count: they do not own the descriptor).
    holders: Cell<usize>,
}

thread_local! {
    /// The registrations of [`Registered`] values on this thread, by descriptor number (the
    /// newest for each number): how a second value on a descriptor registered already (two
    /// `Rc`s of one socket) finds the registration to share. An entry is removed when its
    /// registration is dropped.
    static BY_FD: RefCell<HashMap<RawFd, Weak<Registration>>> = RefCell::new(HashMap::new());
}

impl Registration {
    /// Registers `fd` (edge-triggered, both ways) with the dispatcher of this thread.
    /// `assume_ready`: whether to try the operation before the first event (true for sources
    /// whose operations report `WouldBlock`; false when only the event tells).
    pub(crate) fn new(sched: Rc<Scheduler>, fd: RawFd, assume_ready: bool) -> io::Result<Self> {
        Registration::with(sched, fd, assume_ready, false)
    }

    /// [`new`](Registration::new), or with `take_over`, the registration of `fd` the poller
    /// holds already given to a new token (`EPOLL_CTL_MOD`).
    fn with(
        sched: Rc<Scheduler>,
        fd: RawFd,
        assume_ready: bool,
        take_over: bool,
    ) -> io::Result<Self> {
        let state = sched.io.borrow_mut().insert();
        state.read.ready.set(assume_ready);
        state.write.ready.set(assume_ready);
        let interest = Interest::READABLE | Interest::WRITABLE;
        let registered = {
            let reactor = sched.reactor.borrow();
            let registry = reactor.registry();
            if take_over {
                registry.reregister(&mut SourceFd(&fd), state.token, interest)
            } else {
                registry.register(&mut SourceFd(&fd), state.token, interest)
            }
        };
        if let Err(err) = registered {
            sched.io.borrow_mut().remove(state.token);
            return Err(err);
        }
        Ok(Registration {
            sched,
            state,
            fd,
            abandoned: Cell::new(false),
            holders: Cell::new(0),
        })
    }

    /// The registration of a [`Registered`] value's descriptor `fd`: a new one, or the one of
    /// another `Registered` value of this dispatcher with the same descriptor (the poller
    /// holds one registration per descriptor; both values' waiters then wait on it).
    fn shared(sched: Rc<Scheduler>, fd: RawFd) -> io::Result<Rc<Registration>> {
        let registration = match Registration::new(sched.clone(), fd, true) {
            Ok(registration) => registration,
            Err(err) if err.raw_os_error() == Some(libc::EEXIST) => {
                let live = BY_FD
                    .with(|by_fd| by_fd.borrow().get(&fd).and_then(Weak::upgrade))
                    .filter(|r| r.is_current(&sched));
                if let Some(registration) = live {
                    registration.holders.set(registration.holders.get() + 1);
                    return Ok(registration);
                }
                // Registered by a value that abandoned it (its descriptor changed while the
                // description lived on, here under this number): no value of this dispatcher
                // holds it, so it is this value's to take.
                Registration::with(sched, fd, true, true)?
            }
            Err(err) => return Err(err),
        };
        registration.holders.set(1);
        let registration = Rc::new(registration);
        BY_FD.with(|by_fd| by_fd.borrow_mut().insert(fd, Rc::downgrade(&registration)));
        Ok(registration)
    }

    /// Whether this registration belongs to the dispatcher running on this thread.
    fn is_current(&self, sched: &Scheduler) -> bool {
        std::ptr::eq(Rc::as_ptr(&self.sched), sched)
    }

    /// Waits until `dir` is ready (per the reactor) or `deadline` passes.
    #[track_caller]
    pub(crate) fn wait(&self, dir: Dir, deadline: Option<Instant>) -> io::Result<()> {
        let direction = dir.of(&self.state);
        if direction.ready.get() {
            return Ok(());
        }
        let on = match dir {
            Dir::Read => WaitOn::Readable(self.fd),
            Dir::Write => WaitOn::Writable(self.fd),
        };
        let wait = Wait::begin(on);
        direction.waiters.borrow_mut().push(&wait);
        let _waiting = Waiting::new(&self.sched, direction, wait.task());
        match wait.suspend(deadline) {
            Ok(()) => Ok(()),
            Err(Ended::TimedOut) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "concurrence: the IO operation timed out",
            )),
            Err(Ended::Killed) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "concurrence: the IO wait ended early: the tasklet was killed while unwinding",
            )),
        }
    }
}

impl Registration {
    /// Registers `waiter` for the next event of `dir` (a condition's arm); it counts as waiting
    /// for IO (the dispatcher is not deadlocked) until [`disarm`](Registration::disarm).
    pub(crate) fn arm(&self, dir: Dir, waiter: &Waiter) {
        dir.of(&self.state)
            .waiters
            .borrow_mut()
            .push_token(&waiter.task, waiter.epoch);
        self.sched.io_waiters.set(self.sched.io_waiters.get() + 1);
    }

    /// Takes back what [`arm`](Registration::arm) registered.
    pub(crate) fn disarm(&self, dir: Dir, waiter: &Waiter) {
        self.sched.io_waiters.set(self.sched.io_waiters.get() - 1);
        dir.of(&self.state)
            .waiters
            .borrow_mut()
            .remove(Rc::as_ptr(&waiter.task));
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if !self.abandoned.get() {
            // Deregistering an fd that was closed already fails harmlessly (closing removed it).
            let _ = self
                .sched
                .reactor
                .borrow()
                .registry()
                .deregister(&mut SourceFd(&self.fd));
        }
        self.sched.io.borrow_mut().remove(self.state.token);
        // Not during the thread's teardown, when the table may be gone already.
        let _ = BY_FD.try_with(|by_fd| {
            let mut by_fd = by_fd.borrow_mut();
            if by_fd
                .get(&self.fd)
                .is_some_and(|entry| std::ptr::eq(entry.as_ptr(), self))
            {
                by_fd.remove(&self.fd);
            }
        });
    }
}

/// Counts a tasklet as waiting for IO (so the dispatcher is not deadlocked) and, when the wait
/// ends in any way, takes its entry out of the waiters.
struct Waiting<'a> {
    sched: &'a Scheduler,
    direction: &'a Direction,
    task: *const crate::engine::state::Task,
}

impl<'a> Waiting<'a> {
    fn new(
        sched: &'a Scheduler,
        direction: &'a Direction,
        task: &Rc<crate::engine::state::Task>,
    ) -> Self {
        sched.io_waiters.set(sched.io_waiters.get() + 1);
        Waiting {
            sched,
            direction,
            task: Rc::as_ptr(task),
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.sched.io_waiters.set(self.sched.io_waiters.get() - 1);
        self.direction.waiters.borrow_mut().remove(self.task);
    }
}

/// What a zero-timeout poll(2) says of `fd` for `dir` now: its `revents` when it is ready (or
/// hung up, or in error), `None` when not (or interrupted: as good as not ready yet).
pub(crate) fn poll_now(fd: RawFd, dir: Dir) -> io::Result<Option<libc::c_short>> {
    let mut pollfd = libc::pollfd {
        fd,
        events: dir.poll_events(),
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the duration of the call; a zero timeout never blocks.
    match unsafe { libc::poll(&mut pollfd, 1, 0) } {
        n if n > 0 => Ok(Some(pollfd.revents)),
        0 => Ok(None),
        _ => {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// Waits for `fd` to be ready for `dir` with poll(2), blocking the thread: what the IO types do
/// outside a tasklet, as their std counterparts would.
pub(crate) fn poll_thread(fd: RawFd, dir: Dir, deadline: Option<Instant>) -> io::Result<()> {
    loop {
        let timeout = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "concurrence: the IO operation timed out",
                    ));
                }
                // Rounded up, so that a short wait does not spin.
                left.as_millis().saturating_add(1).min(i32::MAX as u128) as i32
            }
        };
        let mut pollfd = libc::pollfd {
            fd,
            events: dir.poll_events(),
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        let n = unsafe { libc::poll(&mut pollfd, 1, timeout) };
        match n {
            n if n > 0 => return Ok(()),
            0 => continue, // the deadline check above ends it
            _ => {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
        }
    }
}

/// Sets `O_NONBLOCK` on `fd`.
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on a descriptor the caller owns; no memory is involved.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
