//! [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::{self as stdnet, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use super::{each_addr, resolve, Timeouts};
use crate::io::source::{Dir, Registered};

/// A UDP socket: std's `UdpSocket` whose sends and receives suspend only the calling tasklet.
///
/// # Examples
///
/// ```
/// use concurrence::net::UdpSocket;
/// use concurrence::{dispatch, spawn};
///
/// dispatch(|| {
///     let server = UdpSocket::bind("127.0.0.1:0").unwrap();
///     let addr = server.local_addr().unwrap();
///     let echo = spawn(move || {
///         let mut buf = [0u8; 16];
///         let (n, from) = server.recv_from(&mut buf).unwrap();
///         server.send_to(&buf[..n], from).unwrap();
///     });
///     let client = UdpSocket::bind("127.0.0.1:0").unwrap();
///     client.connect(addr).unwrap();
///     client.send(b"hi").unwrap();
///     let mut buf = [0u8; 16];
///     let n = client.recv(&mut buf).unwrap();
///     assert_eq!(&buf[..n], b"hi");
///     echo.join().unwrap();
/// });
/// ```
pub struct UdpSocket {
    io: Registered<stdnet::UdpSocket>,
    timeouts: Timeouts,
}

impl UdpSocket {
    /// Binds to `addr`.
    ///
    /// # Errors
    ///
    /// The resolution's or the OS's error for the last address tried.
    pub fn bind<A: ToSocketAddrs + Send + 'static>(addr: A) -> io::Result<UdpSocket> {
        each_addr(resolve(addr)?, |addr| {
            UdpSocket::from_std(stdnet::UdpSocket::bind(addr)?)
        })
    }

    /// Wraps a std socket, putting it in non-blocking mode. The flag belongs to the open file
    /// description, so std handles cloned from the same socket become non-blocking too.
    ///
    /// # Errors
    ///
    /// When its flags cannot be changed.
    pub fn from_std(socket: stdnet::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
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
    pub fn into_std(self) -> io::Result<stdnet::UdpSocket> {
        Ok(self.io.into_inner())
    }

    /// Sets the default peer: `send` goes there and `recv` takes only its datagrams.
    ///
    /// # Errors
    ///
    /// The resolution's or the OS's error.
    pub fn connect<A: ToSocketAddrs + Send + 'static>(&self, addr: A) -> io::Result<()> {
        each_addr(resolve(addr)?, |addr| self.io.get_ref().connect(addr))
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

    /// Sends a datagram to `addr`.
    ///
    /// # Errors
    ///
    /// `TimedOut` past the write timeout; the resolution's or the OS's error.
    #[track_caller]
    pub fn send_to<A: ToSocketAddrs + Send + 'static>(
        &self,
        buf: &[u8],
        addr: A,
    ) -> io::Result<usize> {
        let addrs = resolve(addr)?;
        let deadline = self.timeouts.write_deadline();
        each_addr(addrs, |addr| {
            self.io
                .retry(Dir::Write, deadline, |s| s.send_to(buf, addr))
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

    /// [`recv_from`](UdpSocket::recv_from) without taking the datagram.
    ///
    /// # Errors
    ///
    /// As `recv_from`.
    #[track_caller]
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .retry(Dir::Read, self.timeouts.read_deadline(), |s| {
                s.peek_from(buf)
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
    /// `NotConnected` when not connected.
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

    /// Allows sending to broadcast addresses.
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// A second handle on the same socket (a new descriptor).
    ///
    /// # Errors
    ///
    /// The OS's error.
    pub fn try_clone(&self) -> io::Result<UdpSocket> {
        UdpSocket::from_std(self.io.get_ref().try_clone()?)
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UdpSocket").field(self.io.get_ref()).finish()
    }
}
