//! A key-value server speaking the Redis protocol (RESP): each connection is a tasklet, and the
//! connections share one store, a map behind a mutex.
//!
//! `cargo run --example kv -- [ADDRESS] [--threads N]` (default 127.0.0.1:6380; port 0
//! picks a free one; N dispatchers serve it, 1 by default, 0 for one per core), then
//! `redis-cli -p 6380 SET greeting hello`. Commands: PING, ECHO, GET, SET, DEL, EXISTS, INCR,
//! DBSIZE (and an error for anything else). Ctrl-C stops it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, PoisonError};

use concurrence::net::{Server, TcpStream};
use concurrence::{Dispatcher, ExitStatus};

/// A value bigger than this, or a command with more parts, is refused and the connection closed.
const MAX_BULK: usize = 64 << 20;
const MAX_PARTS: usize = 1 << 20;

/// The store, one for the whole program: every connection, on every dispatcher, runs its
/// commands on this map. The lock is held for one map operation and never across a read or a
/// write, so no tasklet waits for it long (and none suspends holding it).
type Store = Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>;

/// Runs `f` on the map. A connection that panicked holding the lock left the map whole (every
/// operation is one `HashMap` call), so the store goes on after a poisoning.
fn with_map<R>(store: &Store, f: impl FnOnce(&mut HashMap<Vec<u8>, Vec<u8>>) -> R) -> R {
    f(&mut store.lock().unwrap_or_else(PoisonError::into_inner))
}

/// INCR: the value after adding one, stored, or why it could not be.
fn increment(map: &mut HashMap<Vec<u8>, Vec<u8>>, key: Vec<u8>) -> Result<i64, &'static str> {
    let old = map.get(&key).map(|v| {
        std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
    });
    let result = match old {
        None => Ok(1),
        Some(Some(n)) => n
            .checked_add(1)
            .ok_or("increment or decrement would overflow"),
        Some(None) => Err("value is not an integer or out of range"),
    };
    if let Ok(n) = result {
        map.insert(key, n.to_string().into_bytes());
    }
    result
}

/// What parsing the front of the buffer gave.
enum Parsed {
    Command(Vec<Vec<u8>>, usize),
    Partial,
    Bad(&'static str),
}

/// The line at the front of `buf` (without its CRLF) and the bytes it took.
fn line(buf: &[u8]) -> Option<(&[u8], usize)> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    Some((&buf[..end], end + 2))
}

fn number(bytes: &[u8]) -> Option<usize> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// Parses one command: a RESP array of bulk strings, or an inline command (words on a line).
fn parse(buf: &[u8]) -> Parsed {
    if buf.is_empty() {
        return Parsed::Partial;
    }
    if buf[0] != b'*' {
        let Some((text, used)) = line(buf) else {
            return if buf.len() > MAX_BULK {
                Parsed::Bad("inline command too long")
            } else {
                Parsed::Partial
            };
        };
        let parts = text
            .split(|b| b.is_ascii_whitespace())
            .filter(|p| !p.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        return Parsed::Command(parts, used);
    }
    let Some((header, mut at)) = line(buf) else {
        return Parsed::Partial;
    };
    let Some(count) = number(&header[1..]).filter(|&n| n <= MAX_PARTS) else {
        return Parsed::Bad("invalid multibulk length");
    };
    let mut parts = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let Some((bulk, used)) = line(&buf[at..]) else {
            return Parsed::Partial;
        };
        if bulk.first() != Some(&b'$') {
            return Parsed::Bad("expected '$'");
        }
        let Some(len) = number(&bulk[1..]).filter(|&n| n <= MAX_BULK) else {
            return Parsed::Bad("invalid bulk length");
        };
        at += used;
        if buf.len() < at + len + 2 {
            return Parsed::Partial;
        }
        if &buf[at + len..at + len + 2] != b"\r\n" {
            return Parsed::Bad("bulk string not terminated by CRLF");
        }
        parts.push(buf[at..at + len].to_vec());
        at += len + 2;
    }
    Parsed::Command(parts, at)
}

fn bulk(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        None => out.extend_from_slice(b"$-1\r\n"),
        Some(v) => {
            out.extend_from_slice(format!("${}\r\n", v.len()).as_bytes());
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
    }
}

fn integer(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(format!(":{n}\r\n").as_bytes());
}

fn error(out: &mut Vec<u8>, message: &str) {
    out.extend_from_slice(format!("-ERR {message}\r\n").as_bytes());
}

/// Runs one command against the store, appending the answer to `out`.
fn execute(store: &Store, parts: Vec<Vec<u8>>, out: &mut Vec<u8>) {
    let Some(name) = parts.first() else { return };
    let name = name.to_ascii_uppercase();
    let mut args = parts.into_iter().skip(1);
    let argc = args.len();
    let wrong = |out: &mut Vec<u8>| {
        error(
            out,
            &format!(
                "wrong number of arguments for '{}' command",
                String::from_utf8_lossy(&name).to_lowercase()
            ),
        )
    };
    match (name.as_slice(), argc) {
        (b"PING", 0) => out.extend_from_slice(b"+PONG\r\n"),
        (b"PING", 1) | (b"ECHO", 1) => bulk(out, args.next().as_deref()),
        (b"GET", 1) => {
            let key = args.next().unwrap();
            let value = with_map(store, |map| map.get(&key).cloned());
            bulk(out, value.as_deref());
        }
        (b"SET", 2) => {
            let (key, value) = (args.next().unwrap(), args.next().unwrap());
            with_map(store, |map| map.insert(key, value));
            out.extend_from_slice(b"+OK\r\n");
        }
        (b"DEL", 1..) => {
            let n = with_map(store, |map| {
                args.filter(|k| map.remove(k).is_some()).count()
            });
            integer(out, n as i64);
        }
        (b"EXISTS", 1..) => {
            let n = with_map(store, |map| args.filter(|k| map.contains_key(k)).count());
            integer(out, n as i64);
        }
        (b"INCR", 1) => match with_map(store, |map| increment(map, args.next().unwrap())) {
            Ok(n) => integer(out, n),
            Err(why) => error(out, why),
        },
        (b"DBSIZE", 0) => integer(out, with_map(store, |map| map.len()) as i64),
        (b"PING" | b"ECHO" | b"GET" | b"SET" | b"DEL" | b"EXISTS" | b"INCR" | b"DBSIZE", _) => {
            wrong(out)
        }
        _ => error(
            out,
            &format!("unknown command '{}'", String::from_utf8_lossy(&name)),
        ),
    }
}

/// Serves one connection: every complete command in the buffer is run in order and the
/// answers go out together (pipelining), until the client closes or sends garbage.
fn serve(store: &Store, stream: TcpStream) {
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut out = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let mut consumed = 0;
        let mut bad = false;
        loop {
            match parse(&buf[consumed..]) {
                Parsed::Command(parts, used) => {
                    consumed += used;
                    execute(store, parts, &mut out);
                }
                Parsed::Partial => break,
                Parsed::Bad(why) => {
                    error(&mut out, &format!("Protocol error: {why}"));
                    bad = true;
                    break;
                }
            }
        }
        buf.drain(..consumed);
        if !out.is_empty() {
            if (&stream).write_all(&out).is_err() {
                return;
            }
            out.clear();
        }
        if bad {
            return;
        }
        match (&stream).read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn main() -> ExitStatus {
    let (args, threads) = concurrence_examples::server_args("kv [ADDRESS] [--threads N]");
    let addr = args
        .into_iter()
        .next()
        .unwrap_or_else(|| "127.0.0.1:6380".to_owned());
    // Every dispatcher accepts connections and serves the ones it accepted, all on one store.
    Dispatcher::new().threads(threads).run(move || {
        let store = Store::default();
        let server = Server::serve_on_all(addr, move |stream| serve(&store, stream))
            .expect("bind the kv server");
        println!("kv server listening on {}", server.local_addr());
    })
}
