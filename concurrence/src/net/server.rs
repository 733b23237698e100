//! [`Server`]: Concurrence's `Server.serve(endpoint, handler)`: accept in a loop, one tasklet per
//! connection, a connection limit, and a clean stop.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::time::Duration;

use super::{TcpListener, TcpStream};
use crate::engine::timer::sleep;
use crate::messaging::mailbox::Mailbox;
use crate::task::builder::Builder;
use crate::task::tasklet::Tasklet;

/// A TCP server run by tasklets: one accepts connections, and each connection runs the handler
/// in a tasklet of its own, named after the peer's address.
///
/// At most [`max_connections`](Server::serve_with) connections are served at once; past that
/// the acceptor waits for one to end before it accepts again (the kernel's backlog holds the
/// rest). [`stop`](Server::stop) kills the acceptor and every connection tasklet: their
/// destructors run, and the sockets they own close. The acceptor is an ordinary tasklet, so
/// the dispatcher runs as long as the server does.
///
/// # Examples
///
/// ```
/// use concurrence::net::{Server, TcpStream};
/// use concurrence::dispatch;
/// use std::io::{Read, Write};
///
/// dispatch(|| {
///     let server = Server::serve("127.0.0.1:0", |stream: TcpStream| {
///         std::io::copy(&mut &stream, &mut &stream).ok(); // echo until the client closes
///     })
///     .unwrap();
///     let mut client = TcpStream::connect(server.local_addr()).unwrap();
///     client.write_all(b"echo me").unwrap();
///     let mut reply = [0u8; 7];
///     client.read_exact(&mut reply).unwrap();
///     assert_eq!(&reply, b"echo me");
///     server.stop();
/// });
/// ```
pub struct Server {
    acceptor: Tasklet<()>,
    addr: SocketAddr,
    connections: Rc<RefCell<HashMap<u64, Tasklet<()>>>>,
}

/// The connection limit of [`Server::serve`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

impl Server {
    /// Binds to `addr` and serves each connection with `handler`, at most
    /// [`DEFAULT_MAX_CONNECTIONS`] at once.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    ///
    /// # Panics
    ///
    /// Outside a dispatcher.
    pub fn serve<A, F>(addr: A, handler: F) -> io::Result<Server>
    where
        A: ToSocketAddrs + Send + 'static,
        F: Fn(TcpStream) + 'static,
    {
        Ok(Server::serve_with(
            TcpListener::bind(addr)?,
            DEFAULT_MAX_CONNECTIONS,
            handler,
        ))
    }

    /// Serves each connection of `listener` with `handler`, at most `max_connections` at once.
    ///
    /// # Panics
    ///
    /// When `max_connections` is 0, and outside a dispatcher.
    pub fn serve_with<F>(listener: TcpListener, max_connections: usize, handler: F) -> Server
    where
        F: Fn(TcpStream) + 'static,
    {
        assert!(
            max_connections > 0,
            "concurrence: a server needs room for one connection at least"
        );
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let connections: Rc<RefCell<HashMap<u64, Tasklet<()>>>> = Rc::default();
        let permits: Mailbox<()> = (0..max_connections).map(|_| ()).collect();
        let handler = Rc::new(handler);
        let table = connections.clone();
        let acceptor = Builder::new()
            .name(format!("server {addr}"))
            .spawn(move || loop {
                permits.popleft(); // waits while max_connections are served
                let (stream, peer) = match listener.accept() {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of descriptors, a connection reset before accept: wait a little.
                        crate::engine::logging::log_at!(
                            Warn,
                            "concurrence: server {addr}: accept failed: {err}"
                        );
                        let _ = permits.append(());
                        sleep(Duration::from_millis(10));
                        continue;
                    }
                };
                let (handler, permits, table2) = (handler.clone(), permits.clone(), table.clone());
                let connection =
                    Builder::new()
                        .name(peer.to_string())
                        .daemon(true)
                        .spawn(move || {
                            let _done = Done {
                                permits,
                                table: table2,
                            };
                            handler(stream);
                        });
                table.borrow_mut().insert(connection.id(), connection);
            });
        Server {
            acceptor,
            addr,
            connections,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections are being served.
    pub fn connections(&self) -> usize {
        self.connections.borrow().len()
    }

    /// The tasklet that accepts connections.
    pub fn acceptor(&self) -> &Tasklet<()> {
        &self.acceptor
    }

    /// Stops the server: kills the acceptor (the listening socket closes) and then every
    /// connection tasklet, whose destructors close their sockets. Called from a connection's
    /// handler, that connection is killed last, and the call unwinds it.
    pub fn stop(&self) {
        self.acceptor.kill();
        let me = crate::task::tasklet::try_current();
        let open: Vec<Tasklet<()>> = self.connections.borrow().values().cloned().collect();
        let (mine, others): (Vec<_>, Vec<_>) = open
            .into_iter()
            .partition(|c| me.as_ref().is_some_and(|me| me.id() == c.id()));
        for connection in others.into_iter().chain(mine) {
            connection.kill();
        }
    }
}

/// A connection's end: gives its permit back and leaves the table, however the handler ended.
struct Done {
    permits: Mailbox<()>,
    table: Rc<RefCell<HashMap<u64, Tasklet<()>>>>,
}

impl Drop for Done {
    fn drop(&mut self) {
        let _ = self.permits.try_append(());
        if let Some(me) = crate::task::tasklet::try_current() {
            let removed = self.table.borrow_mut().remove(&me.id());
            drop(removed);
        }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("connections", &self.connections())
            .finish()
    }
}
