//! An HTTP/1.1 server: a tasklet per connection, keep-alive and pipelining, requests parsed by
//! `httparse`.
//!
//! `cargo run --example http -- [ADDRESS] [IDLE_MS] [--threads N]` (default
//! 127.0.0.1:8080, port 0 picks a free one; an idle connection is closed after IDLE_MS, 30 s by
//! default; N dispatchers serve it, 1 by default, 0 for one per core), then
//! `curl http://127.0.0.1:8080/`. Routes: `GET /` says hello, `POST /echo` sends the body back,
//! `GET /hash` hashes for about 20 us before it answers (a CPU-bound handler, for load tests),
//! `GET /dispatcher` names the dispatcher serving the connection, anything else is 404. Ctrl-C
//! stops it.

use std::hash::{DefaultHasher, Hasher};
use std::io::{Read, Write};
use std::time::Duration;

use concurrence::net::{Server, TcpStream};
use concurrence::{current_dispatcher, Dispatcher, ExitStatus};

/// Requests larger than this (head and body) get 413 and the connection closes.
const MAX_REQUEST: usize = 1 << 20;
/// An idle keep-alive connection is closed after this, unless the command line says otherwise.
const IDLE: Duration = Duration::from_secs(30);

/// A parsed request: what the routes need.
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
    keep_alive: bool,
}

/// What parsing the front of the buffer gave.
enum Parsed {
    /// A whole request, which took this many bytes.
    Complete(Request, usize),
    /// More bytes are needed.
    Partial,
    /// Not HTTP, or too large: answer with this status and close.
    Bad(u16, &'static str),
}

fn parse(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_REQUEST => return Parsed::Partial,
        Ok(httparse::Status::Partial) => return Parsed::Bad(413, "Payload Too Large"),
        Err(_) => return Parsed::Bad(400, "Bad Request"),
    };
    let mut body_len = 0;
    let mut connection = None;
    for header in req.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            match std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
            {
                Some(n) => body_len = n,
                None => return Parsed::Bad(400, "Bad Request"),
            }
        } else if header.name.eq_ignore_ascii_case("connection") {
            connection = Some(String::from_utf8_lossy(header.value).to_ascii_lowercase());
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Bad(501, "Not Implemented"); // chunked bodies: not in this example
        }
    }
    if head_len + body_len > MAX_REQUEST {
        return Parsed::Bad(413, "Payload Too Large");
    }
    if buf.len() < head_len + body_len {
        return Parsed::Partial;
    }
    let http11 = req.version == Some(1);
    let keep_alive = match connection.as_deref() {
        Some("close") => false,
        Some("keep-alive") => true,
        _ => http11,
    };
    let request = Request {
        method: req.method.unwrap_or("").to_owned(),
        path: req.path.unwrap_or("").to_owned(),
        body: buf[head_len..head_len + body_len].to_vec(),
        keep_alive,
    };
    Parsed::Complete(request, head_len + body_len)
}

/// Appends the response to `request` to `out`.
fn respond(request: &Request, out: &mut Vec<u8>) {
    let computed;
    let (status, body): (&str, &[u8]) = match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/") => ("200 OK", b"Hello, World!\n"),
        ("POST", "/echo") => ("200 OK", &request.body),
        ("GET", "/hash") => {
            computed = format!("{:016x}\n", hash_work());
            ("200 OK", computed.as_bytes())
        }
        ("GET", "/dispatcher") => {
            computed = format!("{}\n", current_dispatcher());
            ("200 OK", computed.as_bytes())
        }
        _ => ("404 Not Found", b"not found\n"),
    };
    write_response(out, status, body, request.keep_alive);
}

/// The work of `GET /hash`: SipHash (std's hasher) over 96 KiB, about 20 us of one core.
fn hash_work() -> u64 {
    static BLOCK: [u8; 1024] = [0x5a; 1024];
    let mut hasher = DefaultHasher::new();
    for round in 0..96u64 {
        hasher.write_u64(round);
        hasher.write(std::hint::black_box(&BLOCK));
    }
    hasher.finish()
}

fn write_response(out: &mut Vec<u8>, status: &str, body: &[u8], keep_alive: bool) {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
}

/// Serves one connection: every complete request in the buffer is answered in order (the
/// answers to pipelined requests go out in one write), until the client closes, asks to close,
/// sends something that is not HTTP, or stays idle too long.
fn serve(stream: TcpStream, idle: Duration) {
    let _ = stream.set_read_timeout(Some(idle));
    let mut buf = Vec::with_capacity(8192);
    let mut out = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        let mut consumed = 0;
        let mut close = false;
        loop {
            match parse(&buf[consumed..]) {
                Parsed::Complete(request, len) => {
                    respond(&request, &mut out);
                    consumed += len;
                    if !request.keep_alive {
                        close = true;
                        break;
                    }
                }
                Parsed::Partial => break,
                Parsed::Bad(status, reason) => {
                    write_response(
                        &mut out,
                        &format!("{status} {reason}"),
                        reason.as_bytes(),
                        false,
                    );
                    close = true;
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
        if close {
            return;
        }
        match (&stream).read(&mut chunk) {
            Ok(0) | Err(_) => return, // closed, reset, or idle too long
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn main() -> ExitStatus {
    let (args, threads) =
        concurrence_examples::server_args("http [ADDRESS] [IDLE_MS] [--threads N]");
    let mut args = args.into_iter();
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let idle = args.next().map_or(IDLE, |ms| {
        Duration::from_millis(ms.parse().expect("IDLE_MS is a number of milliseconds"))
    });
    // Every dispatcher accepts connections and serves the ones it accepted.
    Dispatcher::new().threads(threads).run(move || {
        let server = Server::serve_on_all(addr, move |stream| serve(stream, idle))
            .expect("bind the HTTP server");
        println!("http server listening on {}", server.local_addr());
    })
}
