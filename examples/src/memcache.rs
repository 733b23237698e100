//! A memcached client for tasklets (Concurrence shipped one): the text protocol over a pool of
//! connections, each request bounded by a timeout. Many tasklets share one [`Client`]; each
//! request takes a connection from the pool (waiting while all are in use), and gives it back
//! unless the request failed, when the connection is dropped (a timed-out connection may still
//! receive the late answer).

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::time::Duration;

use concurrence::net::TcpStream;
use concurrence::Mailbox;

/// A memcached client with a pool of up to `size` connections.
pub struct Client {
    addr: SocketAddr,
    timeout: Duration,
    /// Idle connections.
    idle: Mailbox<BufReader<TcpStream>>,
    /// Room for new connections: one item per connection not yet made (or dropped).
    room: Mailbox<()>,
}

impl Client {
    /// A client of the server at `addr` with at most `size` connections; every request waits
    /// at most `timeout` for its answer.
    pub fn new(addr: SocketAddr, size: usize, timeout: Duration) -> Client {
        Client {
            addr,
            timeout,
            idle: Mailbox::new(),
            room: (0..size).map(|_| ()).collect(),
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
        let mut conn = match self.idle.try_popleft() {
            Some(conn) => conn,
            None => match self.room.try_popleft() {
                Some(()) => match self.connect() {
                    Ok(conn) => conn,
                    Err(err) => {
                        let _ = self.room.append(());
                        return Err(err);
                    }
                },
                // Every connection is in use: wait for one to come back.
                None => self
                    .idle
                    .popleft_timeout(self.timeout)
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no free connection"))?,
            },
        };
        match op(&mut conn) {
            Ok(result) => {
                let _ = self.idle.append(conn);
                Ok(result)
            }
            Err(err) => {
                drop(conn); // its state is unknown: a new one will be made
                let _ = self.room.append(());
                Err(err)
            }
        }
    }

    fn connect(&self) -> io::Result<BufReader<TcpStream>> {
        let stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        stream.set_nodelay(true)?;
        Ok(BufReader::new(stream))
    }
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
