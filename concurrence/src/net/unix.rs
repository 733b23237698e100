//! [`UnixListener`], [`UnixStream`] and [`UnixDatagram`].

use std::fmt;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self as stdunix, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::Timeouts;
use crate::engine::timer::deadline_after;
use crate::io::source::{Dir, Registered};

/// A Unix-domain socket server: std's `UnixListener` whose `accept` suspends only the calling
/// tasklet.
pub struct UnixListener {
    io: Registered<stdunix::UnixListener>,
}

impl UnixListener {
    /// Binds to the socket file `path` and listens.
    ///
    /// # Errors
    ///
    /// The OS's error (`AddrInUse` when the file exists).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::from_std(stdunix::UnixListener::bind(path)?)
    }

    /// Wraps a std listener, putting it in non-blocking mode. The flag belongs to the open file
    /// description, so std handles cloned from the same listener become non-blocking too.
    ///
    /// # Errors
    ///
    /// When its flags cannot be changed.
    pub fn from_std(listener: stdunix::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Registered::new(listener)?,
        })
    }

    /// The std listener, deregistered from the dispatcher and **still in non-blocking mode**, as
    /// tokio's `into_std` leaves it. The flag belongs to the open file description, which every
    /// `try_clone` of this listener (and every std handle it was cloned from) shares: clearing it
    /// would make a clone's operations block the dispatcher's thread, freezing every tasklet and
    /// ignoring the clone's timeouts. To use the std value in blocking mode, call
    /// `set_nonblocking(false)` on it once no clone of it is used by tasklets any more.
    ///
    /// # Errors
    ///
    /// None at present; the `Result` leaves room for a conversion that can fail, as tokio's.
    pub fn into_std(self) -> io::Result<stdunix::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// Waits for a connection; only the calling tasklet waits.
    ///
    /// # Errors
    ///
    /// The OS's error.
    #[track_caller]
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.io.retry(Dir::Read, None, |l| l.accept())?;
        Ok((UnixStream::from_std(stream)?, addr))
    }

    /// [`accept`](UnixListener::accept), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// `TimedOut` when no connection came in time.
    #[track_caller]
    pub fn accept_timeout(&self, timeout: Duration) -> io::Result<(UnixStream, SocketAddr)> {
        let deadline = Some(deadline_after(timeout));
        let (stream, addr) = self.io.retry(Dir::Read, deadline, |l| l.accept())?;
        Ok((UnixStream::from_std(stream)?, addr))
    }

    /// The address it listens on.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// A second handle on the same listening socket (a new descriptor).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn try_clone(&self) -> io::Result<UnixListener> {
        UnixListener::from_std(self.io.get_ref().try_clone()?)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixListener")
            .field(self.io.get_ref())
            .finish()
    }
}

/// A Unix-domain stream: std's `UnixStream` whose reads and writes suspend only the calling
/// tasklet; `Read` and `Write` work on `&UnixStream` too.
pub struct UnixStream {
    io: Registered<stdunix::UnixStream>,
    timeouts: Timeouts,
}

impl UnixStream {
    /// Connects to the socket file `path`. (A Unix-domain connect completes at once unless the
    /// listener's backlog is full, when it blocks the thread as std's does.)
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        UnixStream::from_std(stdunix::UnixStream::connect(path)?)
    }

    /// Two connected streams.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = stdunix::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a std stream, putting it in non-blocking mode. The flag belongs to the open file
    /// description, so std handles cloned from the same stream become non-blocking too.
    ///
    /// # Errors
    ///
    /// When its flags cannot be changed.
    pub fn from_std(stream: stdunix::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Registered::new(stream)?,
            timeouts: Timeouts::default(),
        })
    }

    /// The std stream, deregistered from the dispatcher and **still in non-blocking mode**, as
    /// tokio's `into_std` leaves it. The flag belongs to the open file description, which every
    /// `try_clone` of this stream (and every std handle it was cloned from) shares: clearing it
    /// would make a clone's operations block the dispatcher's thread, freezing every tasklet and
    /// ignoring the clone's timeouts. To use the std value in blocking mode, call
    /// `set_nonblocking(false)` on it once no clone of it is used by tasklets any more.
    ///
    /// # Errors
    ///
    /// None at present; the `Result` leaves room for a conversion that can fail, as tokio's.
    pub fn into_std(self) -> io::Result<stdunix::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// Shuts down the reading, writing or both halves.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// The address of this end.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the other end.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Bounds every later read (`None`: for ever).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        Timeouts::set(&self.timeouts.read, timeout)
    }

    /// Bounds every later write (`None`: for ever).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        Timeouts::set(&self.timeouts.write, timeout)
    }

    /// A second handle on the same stream (a new descriptor).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn try_clone(&self) -> io::Result<UnixStream> {
        UnixStream::from_std(self.io.get_ref().try_clone()?)
    }
}

impl Read for &UnixStream {
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_stream(self.timeouts.read_deadline(), buf)
    }
}

impl Write for &UnixStream {
    #[track_caller]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_stream(self.timeouts.write_deadline(), buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for UnixStream {
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for UnixStream {
    #[track_caller]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixStream")
            .field(self.io.get_ref())
            .finish()
    }
}

/// A Unix-domain datagram socket: std's `UnixDatagram` whose sends and receives suspend only
/// the calling tasklet.
pub struct UnixDatagram {
    io: Registered<stdunix::UnixDatagram>,
    timeouts: Timeouts,
}

impl UnixDatagram {
    /// Binds to the socket file `path`.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(stdunix::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(stdunix::UnixDatagram::unbound()?)
    }

    /// Two connected sockets.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = stdunix::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Wraps a std socket, putting it in non-blocking mode. The flag belongs to the open file
    /// description, so std handles cloned from the same socket become non-blocking too.
    ///
    /// # Errors
    ///
    /// When its flags cannot be changed.
    pub fn from_std(socket: stdunix::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Registered::new(socket)?,
            timeouts: Timeouts::default(),
        })
    }

    /// The std socket, deregistered from the dispatcher and **still in non-blocking mode**, as
    /// tokio's `into_std` leaves it. The flag belongs to the open file description, which every
    /// `try_clone` of this socket (and every std handle it was cloned from) shares: clearing it
    /// would make a clone's operations block the dispatcher's thread, freezing every tasklet and
    /// ignoring the clone's timeouts. To use the std value in blocking mode, call
    /// `set_nonblocking(false)` on it once no clone of it is used by tasklets any more.
    ///
    /// # Errors
    ///
    /// None at present; the `Result` leaves room for a conversion that can fail, as tokio's.
    pub fn into_std(self) -> io::Result<stdunix::UnixDatagram> {
        Ok(self.io.into_inner())
    }

    /// Sets the default peer.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// `TimedOut` past the write timeout; the OS's error.
    #[track_caller]
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .retry(Dir::Write, self.timeouts.write_deadline(), |s| s.send(buf))
    }

    /// Sends a datagram to the socket file `path`.
    ///
    /// # Errors
    ///
    /// `TimedOut` past the write timeout; the OS's error.
    #[track_caller]
    pub fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .retry(Dir::Write, self.timeouts.write_deadline(), |s| {
                s.send_to(buf, path)
            })
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// `TimedOut` past the read timeout; the OS's error.
    #[track_caller]
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .retry(Dir::Read, self.timeouts.read_deadline(), |s| s.recv(buf))
    }

    /// Receives a datagram and the address it came from.
    ///
    /// # Errors
    ///
    /// `TimedOut` past the read timeout; the OS's error.
    #[track_caller]
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .retry(Dir::Read, self.timeouts.read_deadline(), |s| {
                s.recv_from(buf)
            })
    }

    /// The address it is bound to.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Bounds every later receive (`None`: for ever).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        Timeouts::set(&self.timeouts.read, timeout)
    }

    /// Bounds every later send (`None`: for ever).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        Timeouts::set(&self.timeouts.write, timeout)
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixDatagram")
            .field(self.io.get_ref())
            .finish()
    }
}
