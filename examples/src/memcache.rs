//! A memcached client for tasklets (Concurrence shipped one): the text protocol over a pool of
//! connections, each request bounded by a timeout. Many tasklets share one [`Client`]; each
//! request takes a connection from the pool (waiting while all are in use), and gives it back
//! unless the request failed, when the connection is dropped (a timed-out connection may still
//! receive the late answer). The pool's room is a [`Semaphore`]: each connection holds a permit
//! while it lives, so a connection dropped (a failed request, or one whose tasklet was killed)
//! makes room for a new one.

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::time::Duration;

use concurrence::net::TcpStream;
use concurrence::sync::{Permit, Semaphore};
use concurrence::{select, wait_for, Mailbox};

/// A memcached client with a pool of up to `size` connections.
pub struct Client {
    addr: SocketAddr,
    timeout: Duration,
    /// Idle connections.
    idle: Mailbox<Pooled>,
    /// Room for new connections: one permit per connection, held by the connection while it
    /// lives, so that one dropped (a failed request, a killed one) makes room for another.
    room: Semaphore,
}

impl Client {
    /// A client of the server at `addr` with at most `size` connections; every request waits
    /// at most `timeout` for its answer.
    pub fn new(addr: SocketAddr, size: usize, timeout: Duration) -> Client {
        Client {
            addr,
            timeout,
            idle: Mailbox::new(),
            room: Semaphore::new(size),
        }
    }

    /// The value of `key`, if the server has it.
    pub fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        self.request(|conn| {
            write!(conn.get_mut(), "get {key}\r\n")?;
            let mut value = None;
            loop {
                let line = read_line(conn)?;
                if line == "END" {
                    return Ok(value);
                }
                // VALUE <key> <flags> <bytes>
                let bytes: usize = line
                    .split(' ')
                    .nth(3)
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| protocol(&line))?;
                let mut data = vec![0u8; bytes + 2];
                io::Read::read_exact(conn, &mut data)?;
                data.truncate(bytes);
                value = Some(data);
            }
        })
    }

    /// Stores `value` under `key`.
    pub fn set(&self, key: &str, value: &[u8]) -> io::Result<()> {
        self.request(|conn| {
            let stream = conn.get_mut();
            write!(stream, "set {key} 0 0 {}\r\n", value.len())?;
            stream.write_all(value)?;
            stream.write_all(b"\r\n")?;
            expect(conn, "STORED")
        })
    }

    /// Deletes `key`; whether it was there.
    pub fn delete(&self, key: &str) -> io::Result<bool> {
        self.request(|conn| {
            write!(conn.get_mut(), "delete {key}\r\n")?;
            match read_line(conn)?.as_str() {
                "DELETED" => Ok(true),
                "NOT_FOUND" => Ok(false),
                other => Err(protocol(other)),
            }
        })
    }

    /// Adds `by` to the number stored under `key`; its new value, or `None` if there is none.
    pub fn incr(&self, key: &str, by: u64) -> io::Result<Option<u64>> {
        self.request(|conn| {
            write!(conn.get_mut(), "incr {key} {by}\r\n")?;
            let line = read_line(conn)?;
            if line == "NOT_FOUND" {
                return Ok(None);
            }
            line.parse().map(Some).map_err(|_| protocol(&line))
        })
    }

    /// Runs one request on a pooled connection.
    fn request<R>(
        &self,
        op: impl FnOnce(&mut BufReader<TcpStream>) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut pooled = match self.idle.try_popleft() {
            Some(pooled) => pooled,
            None => match self.room.try_acquire() {
                Some(permit) => self.connect(permit)?,
                // Every connection is in use: wait for one to come back, or for room to make
                // one (a failed request's connection is dropped, and its permit with it).
                None => select! {
                    pooled = wait_for::popleft(&self.idle) => pooled,
                    permit = wait_for::acquire(&self.room) => self.connect(permit)?,
                    () = wait_for::timeout(self.timeout) => {
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "no free connection"))
                    }
                },
            },
        };
        match op(&mut pooled.conn) {
            Ok(result) => {
                let _ = self.idle.append(pooled);
                Ok(result)
            }
            // Its state is unknown: dropped, with its permit, so a new one can be made. (A
            // request killed midway drops it the same way, as it unwinds.)
            Err(err) => Err(err),
        }
    }

    /// A new connection, holding `permit` for as long as it lives.
    fn connect(&self, permit: Permit) -> io::Result<Pooled> {
        let stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        stream.set_nodelay(true)?;
        Ok(Pooled {
            conn: BufReader::new(stream),
            _permit: permit,
        })
    }
}

/// A connection of the pool, with the permit that counts it.
struct Pooled {
    conn: BufReader<TcpStream>,
    _permit: Permit,
}

fn read_line(conn: &mut BufReader<TcpStream>) -> io::Result<String> {
    let mut line = String::new();
    if conn.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn expect(conn: &mut BufReader<TcpStream>, wanted: &str) -> io::Result<()> {
    let line = read_line(conn)?;
    if line == wanted {
        Ok(())
    } else {
        Err(protocol(&line))
    }
}

fn protocol(line: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("memcached answered {line:?}"),
    )
}
