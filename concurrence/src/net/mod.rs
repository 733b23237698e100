//! Sockets whose blocking calls suspend only the calling tasklet: TCP, UDP and Unix-domain,
//! named and shaped after their std counterparts (which they convert from and to).
//!
//! Reads, writes, accepts and connects that would block wait in the dispatcher's poller while
//! the other tasklets run; `set_read_timeout` / `set_write_timeout` (and `accept_timeout`,
//! `connect_timeout`) bound them with `io::ErrorKind::TimedOut`. `Read` and `Write` are
//! implemented for `&TcpStream` and `&UnixStream` too, so one tasklet can read while another
//! writes. Host names are resolved on the blocking pool ([`crate::io::blocking`]), so a slow
//! lookup does not stop the dispatcher. Outside a tasklet every call blocks the thread, as the
//! std type's would. Dropping a socket deregisters and closes it; killing a tasklet blocked on a
//! socket closes nothing.

mod server;
mod tcp;
mod udp;
mod unix;

use std::any::Any;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

pub use server::{Server, DEFAULT_MAX_CONNECTIONS};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// The addresses `addr` names. Addresses given as such, or as strings that parse as an address,
/// are used as they are; anything else (a host name) is looked up on the blocking pool, so that
/// the lookup suspends only the calling tasklet.
///
/// # Errors
///
/// The lookup's error, or `InvalidInput` when it names no address.
pub fn resolve<A: ToSocketAddrs + Send + 'static>(addr: A) -> io::Result<Vec<SocketAddr>> {
    if let Some(direct) = literal(&addr) {
        return Ok(vec![direct]);
    }
    let addrs: Vec<SocketAddr> =
        crate::io::blocking(move || addr.to_socket_addrs().map(Iterator::collect))?;
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "concurrence: the address names no socket address",
        ));
    }
    Ok(addrs)
}

/// `addr` as one address when it needs no lookup.
fn literal(addr: &dyn Any) -> Option<SocketAddr> {
    if let Some(a) = addr.downcast_ref::<SocketAddr>() {
        return Some(*a);
    }
    if let Some(a) = addr.downcast_ref::<std::net::SocketAddrV4>() {
        return Some((*a).into());
    }
    if let Some(a) = addr.downcast_ref::<std::net::SocketAddrV6>() {
        return Some((*a).into());
    }
    if let Some((ip, port)) = addr.downcast_ref::<(std::net::IpAddr, u16)>() {
        return Some(SocketAddr::new(*ip, *port));
    }
    if let Some(s) = addr.downcast_ref::<&str>() {
        return s.parse().ok();
    }
    if let Some(s) = addr.downcast_ref::<String>() {
        return s.parse().ok();
    }
    None
}

/// Tries `f` on each address in turn; the last error if none works.
fn each_addr<T>(
    addrs: Vec<SocketAddr>,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for addr in addrs {
        match f(addr) {
            Ok(value) => return Ok(value),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "concurrence: the address names no socket address",
        )
    }))
}

/// The timeouts of a socket, as std keeps them: `None` waits for ever.
#[derive(Default)]
struct Timeouts {
    read: std::cell::Cell<Option<std::time::Duration>>,
    write: std::cell::Cell<Option<std::time::Duration>>,
}

impl Timeouts {
    fn set(
        cell: &std::cell::Cell<Option<std::time::Duration>>,
        timeout: Option<std::time::Duration>,
    ) -> io::Result<()> {
        if timeout == Some(std::time::Duration::ZERO) {
            // As std: a zero timeout is an error, not "do not wait".
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        cell.set(timeout);
        Ok(())
    }

    fn read_deadline(&self) -> Option<std::time::Instant> {
        self.read.get().map(crate::engine::timer::deadline_after)
    }

    fn write_deadline(&self) -> Option<std::time::Instant> {
        self.write.get().map(crate::engine::timer::deadline_after)
    }
}
