//! TCP echo, side by side: the same client program against an echo server on each runtime.
//!
//! `cargo run --release -p concurrence-benchmarks --features peers --bin echo -- [--quick]`
//! starts, for each runtime and each connection count (1, 100, 1000), an echo server in a child
//! process and the client in another; the client keeps every connection busy with 64-byte
//! messages (send, wait for the echo, send again) for a few seconds and reports messages per
//! second and the 99th percentile of the round trip. Both run on this machine's two cores.
//!
//! `echo server RUNTIME` and `echo client PORT CONNECTIONS SECONDS` are the two halves.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

const MESSAGE: usize = 64;
const RUNTIMES: [&str; 4] = ["concurrence", "tokio-ct", "may-1", "threads"];

/// TCP echo, side by side: for each runtime and each connection count (1, 100, 1000), an echo
/// server in a child process and a client in another, which reports messages per second and
/// the 99th percentile of the round trip; then the table.
#[derive(Parser)]
#[command(name = "echo", args_conflicts_with_subcommands = true)]
struct Cli {
    /// Half a second per measurement instead of three: a smoke run.
    #[arg(long)]
    quick: bool,
    #[command(subcommand)]
    half: Option<Half>,
}

/// One half of a measurement, run alone (the benchmark spawns both for each cell).
#[derive(Subcommand)]
enum Half {
    /// Runs the echo server of RUNTIME on a free loopback port, prints the port, and serves
    /// until killed.
    Server {
        /// The runtime to serve on.
        #[arg(value_parser = RUNTIMES)]
        runtime: String,
    },
    /// Keeps CONNECTIONS connections to the server on PORT busy for SECONDS and prints the
    /// messages per second and the 99th percentile of the round trip in microseconds.
    Client {
        /// The server's port on 127.0.0.1.
        port: u16,
        /// How many connections to keep busy.
        connections: usize,
        /// How long to measure, in seconds (a fraction is allowed).
        #[arg(value_parser = seconds)]
        seconds: Duration,
    },
}

fn main() {
    let cli = Cli::parse();
    match cli.half {
        Some(Half::Server { runtime }) => server(&runtime),
        Some(Half::Client {
            port,
            connections,
            seconds,
        }) => {
            let (rate, p99) = client(port, connections, seconds);
            println!("{rate:.0} {}", p99.as_micros());
        }
        None => bench(cli.quick),
    }
}

/// Parses a number of seconds, such as `3` or `0.5`, into a duration.
fn seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text.parse().map_err(|err| format!("{err}"))?;
    Duration::try_from_secs_f64(seconds).map_err(|err| err.to_string())
}

/// Runs the echo server of `runtime` on a free port, prints the port, serves until killed.
fn server(runtime: &str) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    if runtime != "may-1" {
        // Bound already: connections wait in the backlog until the server accepts.
        println!("{}", listener.local_addr().unwrap().port());
    }
    match runtime {
        "concurrence" => {
            let _ = concurrence::dispatch(move || {
                let listener = concurrence::net::TcpListener::from_std(listener).unwrap();
                concurrence::net::Server::serve_with(listener, 100_000, |stream| {
                    let _ = stream.set_nodelay(true);
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = (&stream).read(&mut buf) {
                        if (&stream).write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            });
        }
        "tokio-ct" => {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .unwrap();
            rt.block_on(async move {
                listener.set_nonblocking(true).unwrap();
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(async move {
                        let mut buf = [0u8; 4096];
                        while let Ok(n @ 1..) = stream.read(&mut buf).await {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    });
                }
            });
        }
        "may-1" => {
            may::config().set_workers(1);
            let port = listener.local_addr().unwrap().port();
            drop(listener);
            may::go!(move || {
                let listener = may::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
                println!("{port}"); // only now: may binds its own listener
                for stream in listener.incoming() {
                    let mut stream = stream.unwrap();
                    let _ = stream.set_nodelay(true);
                    may::go!(move || {
                        let mut buf = [0u8; 4096];
                        while let Ok(n @ 1..) = stream.read(&mut buf) {
                            if stream.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    });
                }
            })
            .join()
            .unwrap();
        }
        "threads" => {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let _ = stream.set_nodelay(true);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut buf) {
                        if stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        }
        other => panic!("unknown runtime {other}"),
    }
}

/// Keeps `conns` connections busy for `time`: each sends a message, waits for the whole echo,
/// sends again. Returns messages per second and the 99th percentile round trip.
fn client(port: u16, conns: usize, time: Duration) -> (f64, Duration) {
    use mio::net::TcpStream;
    use mio::{Events, Interest, Poll, Token};
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut poll = Poll::new().unwrap();
    let mut streams = Vec::with_capacity(conns);
    for i in 0..conns {
        let std_stream = std::net::TcpStream::connect(addr).unwrap();
        std_stream.set_nodelay(true).unwrap();
        std_stream.set_nonblocking(true).unwrap();
        let mut stream = TcpStream::from_std(std_stream);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)
            .unwrap();
        streams.push(stream);
    }
    let payload = [7u8; MESSAGE];
    let mut received = vec![0usize; conns];
    let mut sent_at = vec![Instant::now(); conns];
    let mut rtts = Vec::with_capacity(1 << 20);
    let start = Instant::now();
    for (i, s) in streams.iter_mut().enumerate() {
        s.write_all(&payload).unwrap();
        sent_at[i] = Instant::now();
    }
    let mut events = Events::with_capacity(1024);
    let mut buf = [0u8; 4096];
    let mut done = 0u64;
    while start.elapsed() < time {
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        for event in events.iter() {
            let i = event.token().0;
            loop {
                match streams[i].read(&mut buf) {
                    Ok(0) => panic!("the server closed a connection"),
                    Ok(n) => received[i] += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
            while received[i] >= MESSAGE {
                received[i] -= MESSAGE;
                rtts.push(sent_at[i].elapsed());
                done += 1;
                streams[i].write_all(&payload).unwrap(); // 64 bytes fit the empty socket buffer
                sent_at[i] = Instant::now();
            }
        }
    }
    let elapsed = start.elapsed();
    rtts.sort_unstable();
    let p99 = rtts
        .get(rtts.len().saturating_sub(1) * 99 / 100)
        .copied()
        .unwrap_or_default();
    (done as f64 / elapsed.as_secs_f64(), p99)
}

/// Every runtime at every size; prints the table.
fn bench(quick: bool) {
    let exe = std::env::current_exe().unwrap();
    let secs = if quick { "0.5" } else { "3" };
    let mut results: HashMap<(&str, usize), (f64, u128)> = HashMap::new();
    let sizes = [1usize, 100, 1000];
    for &conns in &sizes {
        for runtime in RUNTIMES {
            let mut server = Command::new(&exe)
                .args(["server", runtime])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            BufReader::new(server.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let port = line.trim().to_owned();
            let out = Command::new(&exe)
                .args(["client", &port, &conns.to_string(), secs])
                .output()
                .unwrap();
            let _ = server.kill();
            let _ = server.wait();
            let text = String::from_utf8_lossy(&out.stdout);
            let mut parts = text.split_whitespace();
            let rate: f64 = parts
                .next()
                .and_then(|r| r.parse().ok())
                .unwrap_or(f64::NAN);
            let p99: u128 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            eprintln!("{runtime} at {conns} connections: {rate:.0} msg/s, p99 {p99} us");
            results.insert((runtime, conns), (rate, p99));
        }
    }
    println!("| connections | {} |", RUNTIMES.join(" | "));
    println!("|---|{}", "---|".repeat(RUNTIMES.len()));
    for &conns in &sizes {
        let (base, _) = results[&("concurrence", conns)];
        let cells: Vec<String> = RUNTIMES
            .iter()
            .map(|r| {
                let (rate, p99) = results[&(*r, conns)];
                if *r == "concurrence" {
                    format!("{:.0}k msg/s, p99 {p99} µs", rate / 1000.0)
                } else {
                    format!(
                        "{:.0}k msg/s, p99 {p99} µs ({:.2}x)",
                        rate / 1000.0,
                        base / rate
                    )
                }
            })
            .collect();
        println!("| {conns} | {} |", cells.join(" | "));
    }
    println!("\n(x): concurrence's messages per second divided by the peer's; above 1, concurrence is faster.");
}
