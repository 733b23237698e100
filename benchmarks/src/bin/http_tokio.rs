//! The HTTP peer for the wrk comparison: the same server as `examples/http.rs` (GET / says
//! hello, GET /hash hashes for about 20 us first, keep-alive, pipelining, requests parsed by
//! httparse), on tokio's current-thread runtime or, with `--threads N`, its multi-thread
//! runtime with N workers, hand-written as a tokio user would, without a framework.
//!
//! `http_tokio [--threads N] [ADDRESS]` prints `... listening on ADDRESS` and serves until
//! killed.

use std::hash::{DefaultHasher, Hasher};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The HTTP server of the http example on tokio's current-thread runtime: prints
/// `... listening on ADDRESS`, then serves until killed.
#[derive(Parser)]
#[command(name = "http_tokio")]
struct Cli {
    /// The address to listen on (port 0: a free port, printed at the start).
    #[arg(default_value = "127.0.0.1:8081")]
    address: String,
    /// Worker threads: 1 runs the current-thread runtime, more the multi-thread one.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// The work of `GET /hash`, as in `examples/http.rs`: SipHash over 96 KiB, about 20 us.
fn hash_work() -> u64 {
    static BLOCK: [u8; 1024] = [0x5a; 1024];
    let mut hasher = DefaultHasher::new();
    for round in 0..96u64 {
        hasher.write_u64(round);
        hasher.write(std::hint::black_box(&BLOCK));
    }
    hasher.finish()
}

/// Parses one request at the front of `buf`: `Some((keep_alive, hash, bytes))` when complete
/// (`hash`: it is `GET /hash`), `None` when more is needed; `Err` for garbage.
fn parse(buf: &[u8]) -> Result<Option<(bool, bool, usize)>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let head = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    let mut body = 0;
    let mut keep_alive = req.version == Some(1);
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            body = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or(())?;
        } else if h.name.eq_ignore_ascii_case("connection") {
            keep_alive = !h.value.eq_ignore_ascii_case(b"close");
        }
    }
    if buf.len() < head + body {
        return Ok(None);
    }
    let hash = req.method == Some("GET") && req.path == Some("/hash");
    Ok(Some((keep_alive, hash, head + body)))
}

async fn serve(mut stream: TcpStream) {
    let mut buf = Vec::with_capacity(8192);
    let mut out = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        let mut consumed = 0;
        let mut close = false;
        loop {
            match parse(&buf[consumed..]) {
                Ok(Some((keep_alive, hash, len))) => {
                    let connection = if keep_alive { "keep-alive" } else { "close" };
                    let body = match hash {
                        true => format!("{:016x}\n", hash_work()),
                        false => "Hello, World!\n".to_owned(),
                    };
                    out.extend_from_slice(
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: {connection}\r\n\r\n{body}", body.len()).as_bytes(),
                    );
                    consumed += len;
                    if !keep_alive {
                        close = true;
                        break;
                    }
                }
                Ok(None) => break,
                Err(()) => return,
            }
        }
        buf.drain(..consumed);
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if close {
            return;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let addr = cli.address;
    let rt = match cli.threads {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_io()
            .build()
            .unwrap(),
    };
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        println!(
            "http server listening on {}",
            listener.local_addr().unwrap()
        );
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(serve(stream));
        }
    });
}
