//! [`Registered`]: any non-blocking file descriptor made blocking-style for tasklets.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::engine::scheduler;
use crate::engine::timer::deadline_after;

use super::{poll_now, poll_thread, set_nonblocking, Dir, Registration};

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
        if self.known_drained(dir) {
            // The last operation drained it: this one would find `WouldBlock`. Wait for the
            // next event first, without the system call (tokio does the same).
            self.not_ready(dir, deadline)?;
        }
        loop {
            match op(&self.inner) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
            self.not_ready(dir, deadline)?;
        }
    }

    /// Whether the last operation in `dir` found the descriptor drained (`WouldBlock`, or a
    /// short read or write, see `drained`) and no event has said otherwise since.
    fn known_drained(&self, dir: Dir) -> bool {
        self.registration
            .borrow()
            .as_ref()
            .is_some_and(|registration| !dir.of(&registration.state).ready.get())
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
