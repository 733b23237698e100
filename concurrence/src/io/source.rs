//! [`Registered`]: any non-blocking file descriptor made blocking-style for tasklets, and the
//! readiness wait every IO type of the crate goes through.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::Interest;

use crate::engine::condition::Waiter;
use crate::engine::readiness::{Direction, IoState};
use crate::engine::scheduler::{self, Scheduler};
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::engine::wait::{Ended, Wait};

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

/// Any non-blocking file-descriptor-based value (a socket, a pipe, a tty, inotify, a serial
/// port...), made blocking-style for tasklets: an operation that would block suspends only the
/// calling tasklet until the dispatcher's poller says the descriptor is ready, then retries. It
/// is the tasklet form of async-io's `Async<T>`.
///
/// [`new`](Registered::new) puts the descriptor in non-blocking mode; it is registered with the
/// dispatcher's poller the first time an operation would block in a tasklet, and deregistered
/// when the `Registered` is dropped or [`into_inner`](Registered::into_inner) takes the value
/// back. Outside a tasklet (no dispatcher on the thread) an operation that would block waits
/// with `poll(2)`, blocking the thread, as the blocking std type would.
///
/// Several tasklets may wait on one `Registered` at once (one reading, one writing, or several
/// of each): each readiness event wakes every waiter of its direction, which retries. A tasklet
/// killed while it waits leaves no trace in it.
///
/// `Read` and `Write` are implemented when `T` (or `&T`) implements them.
///
/// # One registration per descriptor
///
/// The registration belongs to the descriptor the value holds, never to a number the OS may give
/// to another descriptor later:
/// - `Registered` hands out no `&mut T` (which could swap the descriptor behind the
///   registration's back); to change it (a reconnect), use [`replace`](Registered::replace).
/// - A `T` whose descriptor changes through a shared reference (interior mutability) is
///   noticed by its number at the next wait: the new descriptor is put in non-blocking mode
///   and registered, and the old number is left alone (it may be another value's by then).
///   A descriptor closed and opened again *under the same number* inside `T` cannot be told
///   from the old one: `T` must not do that.
/// - Two `Registered` values on one descriptor (two `Rc`s of one socket, or a `BorrowedFd`)
///   share one registration: both wait and read as one would.
///
/// # Examples
///
/// A pipe read by one tasklet and written by another:
///
/// ```
/// use concurrence::io::Registered;
/// use concurrence::{dispatch, spawn};
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// dispatch(|| {
///     let (a, b) = UnixStream::pair().unwrap();
///     let mut reader = Registered::new(a).unwrap();
///     let mut writer = Registered::new(b).unwrap();
///     let echo = spawn(move || {
///         let mut line = [0u8; 5];
///         reader.read_exact(&mut line).unwrap(); // suspends until the writer writes
///         line
///     });
///     writer.write_all(b"hello").unwrap();
///     assert_eq!(&echo.join().unwrap(), b"hello");
/// });
/// ```
pub struct Registered<T: AsRawFd> {
    /// Dropped first: deregistered before the descriptor closes. Shared with the tasklets
    /// waiting on it (no borrow is held across a wait), and with the other `Registered`
    /// values on the same descriptor. `None` until the first wait in a tasklet.
    registration: RefCell<Option<Rc<Registration>>>,
    /// The descriptor number last put in non-blocking mode: a different `inner.as_raw_fd()`
    /// means the value changed its descriptor.
    fd: Cell<RawFd>,
    inner: T,
}

impl<T: AsRawFd> Registered<T> {
    /// Puts `inner`'s descriptor in non-blocking mode and wraps it.
    ///
    /// The non-blocking flag belongs to the open file description, so it holds for every
    /// descriptor duplicated from this one too (a `try_clone`).
    ///
    /// # Errors
    ///
    /// When the descriptor's flags cannot be changed.
    pub fn new(inner: T) -> io::Result<Registered<T>> {
        let fd = inner.as_raw_fd();
        set_nonblocking(fd)?;
        Ok(Registered {
            registration: RefCell::new(None),
            fd: Cell::new(fd),
            inner,
        })
    }

    /// The wrapped value. Reading or writing through it directly returns `WouldBlock` when the
    /// descriptor is not ready.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// Puts `value` in place of the wrapped value (a reconnect) and gives the old one back: the
    /// old descriptor is deregistered while it is still open, and the new one is put in
    /// non-blocking mode and registered at its first wait.
    ///
    /// There is no `get_mut`: a `&mut T` could swap the descriptor behind the registration's
    /// back (see [One registration per descriptor](Registered#one-registration-per-descriptor)).
    ///
    /// # Errors
    ///
    /// When the new descriptor's flags cannot be changed; the wrapped value is then unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::io::Registered;
    /// use concurrence::dispatch;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// dispatch(|| {
    ///     let (a, _) = UnixStream::pair().unwrap();
    ///     let mut conn = Registered::new(a).unwrap();
    ///     let (b, mut peer) = UnixStream::pair().unwrap();
    ///     let old = conn.replace(b).unwrap(); // a reconnect
    ///     drop(old);
    ///     peer.write_all(b"hi").unwrap();
    ///     let mut buf = [0u8; 2];
    ///     conn.read_exact(&mut buf).unwrap();
    ///     assert_eq!(&buf, b"hi");
    /// });
    /// ```
    pub fn replace(&mut self, value: T) -> io::Result<T> {
        let fd = value.as_raw_fd();
        set_nonblocking(fd)?;
        self.release();
        self.fd.set(fd);
        Ok(std::mem::replace(&mut self.inner, value))
    }

    /// Deregisters the descriptor and gives the value back (still in non-blocking mode: the
    /// flag belongs to the open file description, which other descriptors may share).
    pub fn into_inner(self) -> T {
        let mut this = ManuallyDrop::new(self);
        this.release();
        // SAFETY: `this` is never dropped (ManuallyDrop) nor used again, so `inner` is moved
        // out exactly once, and the registration (`None` after `release`) and the number, plain
        // data, need no drop.
        unsafe { std::ptr::read(&this.inner) }
    }

    /// Lets go of the registration, before the descriptor closes or is replaced: deregisters it
    /// when no other value shares it, or abandons it when the descriptor it names is no longer
    /// this value's (see [`registered`](Registered::registered)).
    fn release(&mut self) {
        if let Some(registration) = self.registration.get_mut().take() {
            forget(registration, self.inner.as_raw_fd());
        }
    }

    /// Waits until the descriptor is readable, at most `timeout` (`None`: for ever).
    ///
    /// # Errors
    ///
    /// `TimedOut` when the timeout passed first; a registration error from the poller.
    #[track_caller]
    pub fn readable(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.ready(Dir::Read, timeout.map(deadline_after))
    }

    /// Waits until the descriptor is writable, at most `timeout` (`None`: for ever).
    ///
    /// # Errors
    ///
    /// As [`readable`](Registered::readable).
    #[track_caller]
    pub fn writable(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.ready(Dir::Write, timeout.map(deadline_after))
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for readability in between.
    ///
    /// # Errors
    ///
    /// What `op` returns, other than `WouldBlock`.
    #[track_caller]
    pub fn read_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.retry(Dir::Read, None, op)
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for writability in between.
    ///
    /// # Errors
    ///
    /// What `op` returns, other than `WouldBlock`.
    #[track_caller]
    pub fn write_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.retry(Dir::Write, None, op)
    }

    /// [`retry`](Registered::retry) with a mutable reference and no deadline.
    #[track_caller]
    fn retry_mut<R>(
        &mut self,
        dir: Dir,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            match op(&mut self.inner) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
            self.not_ready(dir, None)?;
        }
    }

    /// The retry loop of every operation: `op`, and on `WouldBlock` a wait for `dir` until
    /// `deadline`.
    #[track_caller]
    pub(crate) fn retry<R>(
        &self,
        dir: Dir,
        deadline: Option<Instant>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            match op(&self.inner) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
            self.not_ready(dir, deadline)?;
        }
    }

    /// A stream read until `deadline`: the socket types' `Read`. A read that returns fewer bytes
    /// than the buffer holds drained the socket, so its flag is cleared at once (see `drained`).
    #[track_caller]
    pub(crate) fn read_stream(&self, deadline: Option<Instant>, buf: &mut [u8]) -> io::Result<usize>
    where
        for<'a> &'a T: Read,
    {
        let n = self.retry(Dir::Read, deadline, |mut s| s.read(buf))?;
        if n > 0 && n < buf.len() {
            self.drained(Dir::Read);
        }
        Ok(n)
    }

    /// A stream write until `deadline`: the socket types' `Write`. A short write filled the
    /// socket's buffer, so its flag is cleared at once.
    #[track_caller]
    pub(crate) fn write_stream(&self, deadline: Option<Instant>, buf: &[u8]) -> io::Result<usize>
    where
        for<'a> &'a T: Write,
    {
        let n = self.retry(Dir::Write, deadline, |mut s| s.write(buf))?;
        if n < buf.len() {
            self.drained(Dir::Write);
        }
        Ok(n)
    }

    /// A stream operation moved fewer bytes than asked: the socket's buffer was drained (or
    /// filled), so the next attempt would meet `WouldBlock`; clearing the flag now saves that
    /// system call (the next edge sets it again). tokio does the same.
    fn drained(&self, dir: Dir) {
        if let Some(registration) = self.registration.borrow().as_ref() {
            dir.of(&registration.state).ready.set(false);
        }
    }

    /// `dir` turned out not ready: clears its flag and waits for the next event (in a
    /// tasklet) or with poll(2) (outside one).
    #[track_caller]
    fn not_ready(&self, dir: Dir, deadline: Option<Instant>) -> io::Result<()> {
        let Some(registration) = self.registered()? else {
            return poll_thread(self.inner.as_raw_fd(), dir, deadline);
        };
        dir.of(&registration.state).ready.set(false);
        registration.wait(dir, deadline)
    }

    /// Waits for `dir` without an operation to try: checks with a zero-timeout poll(2) first.
    #[track_caller]
    fn ready(&self, dir: Dir, deadline: Option<Instant>) -> io::Result<()> {
        if matches!(poll_now(self.inner.as_raw_fd(), dir), Ok(Some(_))) {
            return Ok(());
        }
        self.not_ready(dir, deadline)
    }

    /// This descriptor's registration with the running tasklet's dispatcher, made on first
    /// use; `None` outside a tasklet.
    ///
    /// When the value's descriptor number changed since the last wait (a `T` that changes its
    /// descriptor through a shared reference), the new descriptor is put in non-blocking mode
    /// and registered; the old registration is abandoned, never deregistered: its number may
    /// name another value's descriptor by now.
    fn registered(&self) -> io::Result<Option<Rc<Registration>>> {
        let Some(sched) = scheduler::try_get().filter(|s| s.current().is_some()) else {
            return Ok(None);
        };
        let fd = self.inner.as_raw_fd();
        if let Some(registration) = self.registration.borrow().as_ref() {
            if registration.fd == fd && registration.is_current(&sched) {
                return Ok(Some(registration.clone()));
            }
        }
        // First wait, the first in this dispatcher (a value kept from an earlier one), or a
        // new descriptor.
        let old = self.registration.borrow_mut().take();
        if let Some(old) = old {
            forget(old, fd);
        }
        if fd != self.fd.get() {
            set_nonblocking(fd)?;
            self.fd.set(fd);
        }
        let registration = Registration::shared(sched.owned(), fd)?;
        *self.registration.borrow_mut() = Some(registration.clone());
        Ok(Some(registration))
    }
}

/// Drops a value's hold on `registration`; `fd` is the value's descriptor now. When the value
/// was its last holder and no longer has its descriptor, the registration is abandoned rather
/// than deregistered (by whoever drops it last: a tasklet still waiting on it may): its number
/// is not the value's any more.
fn forget(registration: Rc<Registration>, fd: RawFd) {
    let holders = registration.holders.get() - 1;
    registration.holders.set(holders);
    if registration.fd != fd && holders == 0 {
        registration.abandoned.set(true);
    }
}

impl<T: AsRawFd> Drop for Registered<T> {
    fn drop(&mut self) {
        self.release();
    }
}

impl<T: AsRawFd> AsRawFd for Registered<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl<T: AsRawFd + AsFd> AsFd for Registered<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl<T: AsRawFd + Read> Read for Registered<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.retry_mut(Dir::Read, |inner| inner.read(buf))
    }
}

impl<T: AsRawFd + Write> Write for Registered<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.retry_mut(Dir::Write, |inner| inner.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.retry_mut(Dir::Write, |inner| inner.flush())
    }
}

impl<T: AsRawFd> Read for &Registered<T>
where
    for<'a> &'a T: Read,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(|mut inner| inner.read(buf))
    }
}

impl<T: AsRawFd> Write for &Registered<T>
where
    for<'a> &'a T: Write,
{
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_with(|mut inner| inner.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_with(|mut inner| inner.flush())
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for Registered<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registered")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}
