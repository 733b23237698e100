//! [`TcpListener`] and [`TcpStream`].

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{self as stdnet, Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, RawFd};
use std::time::Duration;

use super::{each_addr, resolve, Timeouts};
use crate::engine::timer::deadline_after;
use crate::io::source::{Dir, Registered};

/// A TCP socket server, listening for connections: std's `TcpListener` whose `accept` suspends
/// only the calling tasklet.
///
/// # Examples
///
/// ```
/// use concurrence::net::{TcpListener, TcpStream};
/// use concurrence::{dispatch, spawn};
/// use std::io::{Read, Write};
///
/// dispatch(|| {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = spawn(move || {
///         let (mut client, _) = listener.accept().unwrap();
///         let mut buf = [0u8; 4];
///         client.read_exact(&mut buf).unwrap();
///         client.write_all(&buf).unwrap(); // echo
///     });
///     let mut stream = TcpStream::connect(addr).unwrap();
///     stream.write_all(b"ping").unwrap();
///     let mut reply = [0u8; 4];
///     stream.read_exact(&mut reply).unwrap();
///     assert_eq!(&reply, b"ping");
///     server.join().unwrap();
/// });
/// ```
pub struct TcpListener {
    io: Registered<stdnet::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` and listens (host names are resolved without blocking the dispatcher).
    ///
    /// # Errors
    ///
    /// The resolution's or the OS's error for the last address tried.
    pub fn bind<A: ToSocketAddrs + Send + 'static>(addr: A) -> io::Result<TcpListener> {
        each_addr(resolve(addr)?, |addr| {
            TcpListener::from_std(stdnet::TcpListener::bind(addr)?)
        })
    }

    /// Wraps a std listener, putting it in non-blocking mode. The flag belongs to the open file
    /// description, so std handles cloned from the same listener become non-blocking too.
    ///
    /// # Errors
    ///
    /// When its flags cannot be changed.
    pub fn from_std(listener: stdnet::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
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
    pub fn into_std(self) -> io::Result<stdnet::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// Waits for a connection; only the calling tasklet waits.
    ///
    /// # Errors
    ///
    /// The OS's error.
    #[track_caller]
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        self.accept_until(None)
    }

    /// [`accept`](TcpListener::accept), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// `TimedOut` when no connection came in time.
    #[track_caller]
    pub fn accept_timeout(&self, timeout: Duration) -> io::Result<(TcpStream, SocketAddr)> {
        self.accept_until(Some(deadline_after(timeout)))
    }

    #[track_caller]
    fn accept_until(
        &self,
        deadline: Option<std::time::Instant>,
    ) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self.io.retry(Dir::Read, deadline, |l| l.accept())?;
        Ok((TcpStream::from_std(stream)?, addr))
    }

    /// The address it listens on.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// A second handle on the same listening socket (a new descriptor, registered on its own):
    /// two tasklets can accept from it at once.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn try_clone(&self) -> io::Result<TcpListener> {
        TcpListener::from_std(self.io.get_ref().try_clone()?)
    }

    /// Sets the IP time-to-live of accepted connections.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpListener")
            .field(self.io.get_ref())
            .finish()
    }
}

/// A TCP connection: std's `TcpStream` whose connect, reads and writes suspend only the calling
/// tasklet. `Read` and `Write` work on `&TcpStream` too, so a reader and a writer tasklet can
/// share one stream.
pub struct TcpStream {
    io: Registered<stdnet::TcpStream>,
    timeouts: Timeouts,
}

impl TcpStream {
    /// Connects to `addr` (each address it names in turn; host names are resolved without
    /// blocking the dispatcher).
    ///
    /// # Errors
    ///
    /// The resolution's error, or the connection's for the last address tried.
    #[track_caller]
    pub fn connect<A: ToSocketAddrs + Send + 'static>(addr: A) -> io::Result<TcpStream> {
        each_addr(resolve(addr)?, |addr| TcpStream::connect_until(addr, None))
    }

    /// Connects to `addr`, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// `TimedOut` when the connection was not made in time; the OS's error.
    #[track_caller]
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        TcpStream::connect_until(*addr, Some(deadline_after(timeout)))
    }

    #[track_caller]
    fn connect_until(
        addr: SocketAddr,
        deadline: Option<std::time::Instant>,
    ) -> io::Result<TcpStream> {
        // mio starts a non-blocking connect; it completes when the socket turns writable.
        let connecting = mio::net::TcpStream::connect(addr)?;
        // SAFETY: the descriptor comes from a socket this function owns, given up by
        // `into_raw_fd`, so the std stream is its only owner.
        let stream = unsafe { stdnet::TcpStream::from_raw_fd(connecting.into_raw_fd()) };
        let stream = TcpStream::from_std(stream)?;
        stream.io.retry(Dir::Write, deadline, |s| {
            if let Some(err) = s.take_error()? {
                return Err(err);
            }
            match s.peer_addr() {
                Ok(_) => Ok(()),
                // Not connected yet: wait for writability.
                Err(err) if err.kind() == io::ErrorKind::NotConnected => {
                    Err(io::ErrorKind::WouldBlock.into())
                }
                Err(err) => Err(err),
            }
        })?;
        Ok(stream)
    }

    /// Wraps a std stream, putting it in non-blocking mode. The flag belongs to the open file
    /// description, so std handles cloned from the same stream become non-blocking too.
    ///
    /// # Errors
    ///
    /// When its flags cannot be changed.
    pub fn from_std(stream: stdnet::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
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
    pub fn into_std(self) -> io::Result<stdnet::TcpStream> {
        Ok(self.io.into_inner())
    }

    /// The address of the other end.
    ///
    /// # Errors
    ///
    /// The OS's error (`NotConnected` after a reset).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The address of this end.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Shuts down the reading, writing or both halves.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Bounds every later read: one that waits longer fails with `TimedOut`. `None` (the
    /// default) waits for ever.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a zero duration, as std.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        Timeouts::set(&self.timeouts.read, timeout)
    }

    /// Bounds every later write; see [`set_read_timeout`](TcpStream::set_read_timeout).
    ///
    /// # Errors
    ///
    /// As `set_read_timeout`.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        Timeouts::set(&self.timeouts.write, timeout)
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.timeouts.read.get()
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> Option<Duration> {
        self.timeouts.write.get()
    }

    /// Reads without taking the data out of the socket.
    ///
    /// # Errors
    ///
    /// As `read`.
    #[track_caller]
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .retry(Dir::Read, self.timeouts.read_deadline(), |s| s.peek(buf))
    }

    /// A second handle on the same connection (a new descriptor, registered on its own).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        let clone = TcpStream::from_std(self.io.get_ref().try_clone()?)?;
        clone.timeouts.read.set(self.timeouts.read.get());
        clone.timeouts.write.set(self.timeouts.write.get());
        Ok(clone)
    }

    /// The pending socket error, if any (`SO_ERROR`).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl Read for &TcpStream {
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_stream(self.timeouts.read_deadline(), buf)
    }
}

impl Write for &TcpStream {
    #[track_caller]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_stream(self.timeouts.write_deadline(), buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for TcpStream {
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for TcpStream {
    #[track_caller]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpStream").field(self.io.get_ref()).finish()
    }
}
