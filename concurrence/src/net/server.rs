//! [`Server`]: Concurrence's `Server.serve(endpoint, handler)`: accept in a loop, one tasklet per
//! connection, a connection limit, and a clean stop; on one dispatcher or on every dispatcher of
//! the program.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{self as stdnet, SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{each_addr, resolve, TcpListener, TcpStream};
use crate::engine::timer::sleep;
use crate::sync::semaphore::{Permit, Semaphore};
use crate::task::builder::Builder;
use crate::task::placement::{current_dispatcher, dispatcher_count, spawn_on, SendTasklet};
use crate::task::tasklet::Tasklet;

/// A TCP server run by tasklets: one accepts connections, and each connection runs the handler
/// in a tasklet of its own, named after the peer's address.
///
/// At most [`max_connections`](Server::serve_with) connections are served at once; past that
/// the acceptor waits for one to end before it accepts again (the kernel's backlog holds the
/// rest). The limit is a [`Semaphore`](crate::sync::Semaphore): each connection tasklet holds a
/// permit, given back however it ends (returned, panicked or killed). [`stop`](Server::stop) kills the acceptor and every connection tasklet: their
/// destructors run, and the sockets they own close. The acceptor is an ordinary tasklet, so
/// the dispatcher runs as long as the server does.
///
/// [`serve`](Server::serve) serves on the caller's dispatcher; [`serve_on_all`](Server::serve_on_all)
/// on every dispatcher of the program ([`Dispatcher::threads`](crate::Dispatcher::threads)),
/// each connection staying on the dispatcher that accepted it.
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
    /// The parts on the other dispatchers ([`Server::serve_on_all`]); empty for a server on one.
    others: Vec<SendTasklet<()>>,
    /// How many connections the other parts serve.
    others_open: Arc<AtomicUsize>,
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
        let permits = Semaphore::new(max_connections);
        let handler = Rc::new(handler);
        let table = connections.clone();
        let acceptor = Builder::new()
            .name(format!("server {addr}"))
            .spawn(move || loop {
                let permit = permits.acquire(); // waits while max_connections are served
                let (stream, peer) = match listener.accept() {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of descriptors, a connection reset before accept: wait a little.
                        crate::engine::logging::log_at!(
                            Warn,
                            "concurrence: server {addr}: accept failed: {err}"
                        );
                        drop(permit);
                        sleep(Duration::from_millis(10));
                        continue;
                    }
                };
                let (handler, table2) = (handler.clone(), table.clone());
                let connection =
                    Builder::new()
                        .name(peer.to_string())
                        .daemon(true)
                        .spawn(move || {
                            let _done = Done {
                                _permit: permit,
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
            others: Vec::new(),
            others_open: Arc::default(),
        }
    }

    /// Binds to `addr` on every dispatcher of the program and serves each connection with
    /// `handler` on the dispatcher that accepted it, where its tasklet lives and dies; each
    /// dispatcher serves at most [`DEFAULT_MAX_CONNECTIONS`] at once. With one dispatcher it is
    /// [`serve`](Server::serve).
    ///
    /// Each dispatcher has a listening socket of its own, all bound to the one address with
    /// `SO_REUSEPORT`: the kernel spreads the incoming connections over them (by a hash of the
    /// connection's addresses), and no dispatcher waits for another to accept, as in Seastar,
    /// glommio and monoio. (One acceptor handing each connection round-robin to the others
    /// served as many requests on two cores, within the noise; but every connection crossed
    /// threads, and every accept waited for that one dispatcher.) The caller's dispatcher
    /// serves its part itself, as [`serve`](Server::serve) does; every other dispatcher runs
    /// its part in a tasklet started with [`spawn_on`](crate::spawn_on), so the program runs
    /// as long as the server does.
    ///
    /// The handler is shared by every dispatcher, as a Go `http.Handler` is shared by every
    /// connection's goroutine and a tokio server's handler by every task on every worker: so it
    /// is `Send` and `Sync`, and one value (not one per dispatcher). The state it shares is
    /// kept in `Arc`s and `Mutex`es (a lock never held across a blocking call), or in a tasklet
    /// reached through a `Send` handle such as a [`CallWait`](crate::CallWait).
    ///
    /// `SO_REUSEPORT` lets another socket of the same user bind the same address while the
    /// server runs, and take a share of its connections; a listener that closes drops the
    /// connections waiting in its backlog, which only happens at [`stop`](Server::stop).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    ///
    /// # Panics
    ///
    /// Outside a dispatcher.
    ///
    /// # Examples
    ///
    /// Two dispatchers serve one port; each connection learns which one serves it:
    ///
    /// ```
    /// use concurrence::net::{Server, TcpStream};
    /// use concurrence::{current_dispatcher, Dispatcher};
    /// use std::io::{Read, Write};
    ///
    /// let status = Dispatcher::new().threads(2).run(|| {
    ///     let server = Server::serve_on_all("127.0.0.1:0", |stream: TcpStream| {
    ///         let _ = (&stream).write_all(&[current_dispatcher() as u8]);
    ///     })
    ///     .unwrap();
    ///     let mut seen = [false; 2];
    ///     while seen != [true; 2] {
    ///         let mut client = TcpStream::connect(server.local_addr()).unwrap();
    ///         let mut byte = [0u8; 1];
    ///         client.read_exact(&mut byte).unwrap();
    ///         seen[byte[0] as usize] = true;
    ///     }
    ///     server.stop();
    /// });
    /// assert!(status.success());
    /// ```
    pub fn serve_on_all<A, F>(addr: A, handler: F) -> io::Result<Server>
    where
        A: ToSocketAddrs + Send + 'static,
        F: Fn(TcpStream) + Send + Sync + 'static,
    {
        let count = dispatcher_count();
        if count == 1 {
            return Server::serve(addr, handler);
        }
        let mut listeners = each_addr(resolve(addr)?, |addr| bind_reuse_port(addr, count))?;
        let here = current_dispatcher();
        let handler = Arc::new(handler);
        let others_open = Arc::new(AtomicUsize::new(0));
        let mut others = Vec::with_capacity(count - 1);
        for (dispatcher, listener) in listeners.drain(1..).enumerate() {
            let dispatcher = if dispatcher >= here {
                dispatcher + 1
            } else {
                dispatcher
            };
            let (handler, open) = (handler.clone(), others_open.clone());
            others.push(spawn_on(dispatcher, move || {
                serve_part(listener, handler, open)
            }));
        }
        let local = listeners.pop().expect("one listener for this dispatcher");
        let mut server = Server::serve_with(
            TcpListener::from_std(local)?,
            DEFAULT_MAX_CONNECTIONS,
            move |stream| handler(stream),
        );
        server.others = others;
        server.others_open = others_open;
        Ok(server)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many connections are being served (on every dispatcher, for
    /// [`serve_on_all`](Server::serve_on_all)).
    pub fn connections(&self) -> usize {
        self.connections.borrow().len() + self.others_open.load(Ordering::Relaxed)
    }

    /// The tasklet that accepts connections (on the dispatcher that started the server, for
    /// [`serve_on_all`](Server::serve_on_all)).
    pub fn acceptor(&self) -> &Tasklet<()> {
        &self.acceptor
    }

    /// Stops the server: kills the acceptor (the listening socket closes) and then every
    /// connection tasklet, whose destructors close their sockets. Called from a connection's
    /// handler, that connection is killed last, and the call unwinds it.
    ///
    /// A server on every dispatcher ([`serve_on_all`](Server::serve_on_all)) stops the parts
    /// on the other dispatchers first, each by killing the tasklet that runs it there (which
    /// stops its acceptor and connections as it unwinds), and waits until they have ended, so
    /// that every connection tasklet on every dispatcher has unwound when this returns. Only
    /// the caller waits meanwhile.
    pub fn stop(&self) {
        for part in &self.others {
            part.kill();
        }
        for part in &self.others {
            let _ = part.join(); // killed, or ended by a panic reported already
        }
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

/// Runs the part of a [`Server::serve_on_all`] server on this dispatcher: a server of its own
/// on `listener`, stopped when this tasklet is killed (or its acceptor ends).
fn serve_part<F>(listener: stdnet::TcpListener, handler: Arc<F>, open: Arc<AtomicUsize>)
where
    F: Fn(TcpStream) + Send + Sync + 'static,
{
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(err) => {
            crate::engine::logging::log_at!(
                Error,
                "concurrence: server on dispatcher {}: {err}",
                current_dispatcher()
            );
            return;
        }
    };
    let server = Server::serve_with(listener, DEFAULT_MAX_CONNECTIONS, move |stream| {
        let _counted = Counted::new(open.clone());
        handler(stream);
    });
    let _stop = StopOnDrop(&server);
    let _ = server.acceptor.join(); // as long as it accepts; a kill unwinds from here
}

/// Stops a server when dropped: a part of [`Server::serve_on_all`] ending or unwinding.
struct StopOnDrop<'a>(&'a Server);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// One connection counted in a server's total while it is served.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(open: Arc<AtomicUsize>) -> Counted {
        open.fetch_add(1, Ordering::Relaxed);
        Counted(open)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `count` listening sockets bound to `addr` with `SO_REUSEPORT` (the first one picks the port
/// when `addr`'s is 0, the others take the same), each with a backlog of 1,024 (tokio's).
fn bind_reuse_port(addr: SocketAddr, count: usize) -> io::Result<Vec<stdnet::TcpListener>> {
    use socket2::{Domain, Protocol, Socket, Type};
    let mut addr = addr;
    let mut listeners = Vec::with_capacity(count);
    for _ in 0..count {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?; // as std's bind: a restart need not wait for TIME_WAIT
        socket.set_reuse_port(true)?;
        socket.bind(&addr.into())?;
        socket.listen(1024)?;
        let listener: stdnet::TcpListener = socket.into();
        addr = listener.local_addr()?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// A connection's end: gives its permit back and leaves the table, however the handler ended.
struct Done {
    /// Given back when dropped, after the table was left.
    _permit: Permit,
    table: Rc<RefCell<HashMap<u64, Tasklet<()>>>>,
}

impl Drop for Done {
    fn drop(&mut self) {
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
            .field("dispatchers", &(self.others.len() + 1))
            .field("connections", &self.connections())
            .finish()
    }
}
