//! The HTTP peer for the wrk comparison: the same server as `examples/http.rs` (GET /
//! says hello, keep-alive, pipelining, requests parsed by httparse), on tokio's current-thread
//! runtime, hand-written as a tokio user would, without a framework.
//!
//! `http_tokio [ADDRESS]` prints `... listening on ADDRESS` and serves until killed.

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
}

/// Parses one request at the front of `buf`: `Some((keep_alive, bytes))` when complete,
/// `None` when more is needed; `Err` for garbage.
fn parse(buf: &[u8]) -> Result<Option<(bool, usize)>, ()> {
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
    Ok(Some((keep_alive, head + body)))
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
                Ok(Some((keep_alive, len))) => {
                    let connection = if keep_alive { "keep-alive" } else { "close" };
                    out.extend_from_slice(
                        format!("HTTP/1.1 200 OK\r\nContent-Length: 14\r\nContent-Type: text/plain\r\nConnection: {connection}\r\n\r\nHello, World!\n").as_bytes(),
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
    let addr = Cli::parse().address;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
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
