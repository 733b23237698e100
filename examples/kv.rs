//! A key-value server speaking the Redis protocol (RESP): each connection is a tasklet, and the
//! store is a tasklet of its own that the connections `call`.
//!
//! `cargo run --example kv -- [ADDRESS]` (default 127.0.0.1:6380; port 0
//! picks a free one), then `redis-cli -p 6380 SET greeting hello`. Commands: PING, ECHO, GET,
//! SET, DEL, EXISTS, INCR, DBSIZE (and an error for anything else). Ctrl-C stops it.

use std::collections::HashMap;
use std::io::{Read, Write};

use concurrence::net::{Server, TcpStream};
use concurrence::{dispatch, message, receive, tasklet, ExitStatus, Tasklet};

/// A value bigger than this, or a command with more parts, is refused and the connection closed.
const MAX_BULK: usize = 64 << 20;
const MAX_PARTS: usize = 1 << 20;

message!(
    MSG_GET(Vec<u8>) -> Option<Vec<u8>>,
    MSG_SET(Vec<u8>, Vec<u8>) -> (),
    MSG_DEL(Vec<Vec<u8>>) -> i64,
    MSG_EXISTS(Vec<Vec<u8>>) -> i64,
    MSG_INCR(Vec<u8>) -> Result<i64, &'static str>,
    MSG_DBSIZE -> i64,
);

/// The store: one tasklet owns the map and answers calls in order.
#[tasklet(receives(MSG_GET, MSG_SET, MSG_DEL, MSG_EXISTS, MSG_INCR, MSG_DBSIZE))]
fn store() {
    let mut map: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    for msg in receive() {
        match msg {
            StoreMsg::MSG_GET(MSG_GET(key, reply)) => reply.reply(map.get(&key).cloned()),
            StoreMsg::MSG_SET(MSG_SET(key, value, reply)) => {
                map.insert(key, value);
                reply.reply(());
            }
            StoreMsg::MSG_DEL(MSG_DEL(keys, reply)) => {
                reply.reply(keys.iter().filter(|k| map.remove(*k).is_some()).count() as i64)
            }
            StoreMsg::MSG_EXISTS(MSG_EXISTS(keys, reply)) => {
                reply.reply(keys.iter().filter(|k| map.contains_key(*k)).count() as i64)
            }
            StoreMsg::MSG_INCR(MSG_INCR(key, reply)) => {
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
                reply.reply(result);
            }
            StoreMsg::MSG_DBSIZE(MSG_DBSIZE(reply)) => reply.reply(map.len() as i64),
        }
    }
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
fn execute(store: &Tasklet<(), StoreMsg>, parts: Vec<Vec<u8>>, out: &mut Vec<u8>) {
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
        (b"GET", 1) => match MSG_GET::call(store)(args.next().unwrap()) {
            Ok(value) => bulk(out, value.as_deref()),
            Err(e) => error(out, &e.to_string()),
        },
        (b"SET", 2) => match MSG_SET::call(store)(args.next().unwrap(), args.next().unwrap()) {
            Ok(()) => out.extend_from_slice(b"+OK\r\n"),
            Err(e) => error(out, &e.to_string()),
        },
        (b"DEL", 1..) => match MSG_DEL::call(store)(args.collect()) {
            Ok(n) => integer(out, n),
            Err(e) => error(out, &e.to_string()),
        },
        (b"EXISTS", 1..) => match MSG_EXISTS::call(store)(args.collect()) {
            Ok(n) => integer(out, n),
            Err(e) => error(out, &e.to_string()),
        },
        (b"INCR", 1) => match MSG_INCR::call(store)(args.next().unwrap()) {
            Ok(Ok(n)) => integer(out, n),
            Ok(Err(why)) => error(out, why),
            Err(e) => error(out, &e.to_string()),
        },
        (b"DBSIZE", 0) => match MSG_DBSIZE::call(store)() {
            Ok(n) => integer(out, n),
            Err(e) => error(out, &e.to_string()),
        },
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
fn serve(store: &Tasklet<(), StoreMsg>, stream: TcpStream) {
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
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:6380".to_owned());
    dispatch(move || {
        let store = Store::new().name("store").daemon(true).spawn();
        let server =
            Server::serve(addr, move |stream| serve(&store, stream)).expect("bind the kv server");
        println!("kv server listening on {}", server.local_addr());
    })
}
