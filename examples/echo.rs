//! An echo server: every connection gets its own tasklet, which sends back what it reads.
//!
//! `cargo run --example echo -- [ADDRESS]` (default 127.0.0.1:7000; port 0
//! picks a free one), then for example `socat - TCP:127.0.0.1:7000`. Ctrl-C stops it.

use std::io::{Read, Write};

use concurrence::net::{Server, TcpStream};
use concurrence::{dispatch, ExitStatus};

/// Sends back everything the client sends, until it closes the connection (one tasklet per
/// connection; a read that waits suspends only this tasklet).
fn echo(stream: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n @ 1..) = (&stream).read(&mut buf) {
        if (&stream).write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

fn main() -> ExitStatus {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".to_owned());
    dispatch(move || {
        let server = Server::serve(addr, echo).expect("bind the echo server");
        println!("echo server listening on {}", server.local_addr());
    })
}
