//! TCP echo, side by side: the same client program against an echo server on each runtime.
//!
//! `cargo run --release -p concurrence-benchmarks --features peers --bin echo -- [--quick]`
//! starts, for each runtime and each connection count (1, 100, 1000), an echo server in a child
//! process and the client in another; the client keeps every connection busy with 64-byte
//! messages (send, wait for the echo, send again) for a few seconds and reports messages per
//! second and the 99th percentile of the round trip. Both run on this machine's two cores.
//!
//! `echo server RUNTIME` and `echo client PORT CONNECTIONS SECONDS` are the two halves.
//!
//! `echo idle [CONNECTIONS]` measures memory instead: for concurrence (default and compact
//! stacks) and tokio-ct it starts the echo server, opens CONNECTIONS connections (5,000 by
//! default) that each send one 64-byte message and read its echo, so that every connection's
//! task has run and now waits in a read, and reports the server's resident memory (`VmRSS`)
//! after minus before, per connection, and its page tables (`VmPTE`) the same way.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

const MESSAGE: usize = 64;
const RUNTIMES: [&str; 4] = ["concurrence", "tokio-ct", "may-1", "threads"];
/// The servers `echo server` can start: the runtimes above, and concurrence on compact stacks.
const SERVERS: [&str; 5] = [
    "concurrence",
    "tokio-ct",
    "may-1",
    "threads",
    "concurrence-compact",
];
/// The servers the idle measurement compares.
const IDLE_SERVERS: [&str; 3] = ["concurrence", "concurrence-compact", "tokio-ct"];

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
        #[arg(value_parser = SERVERS)]
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
    /// Opens CONNECTIONS idle connections to each runtime's server (each sends one message and
    /// reads its echo, then waits) and prints the server's resident memory per connection.
    Idle {
        /// How many connections to hold open at once.
        #[arg(default_value_t = 5000)]
        connections: usize,
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
        Some(Half::Idle { connections }) => idle(connections),
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
        "concurrence" | "concurrence-compact" => {
            let mut dispatcher = concurrence::Dispatcher::new();
            if runtime == "concurrence-compact" {
                // SAFETY: a connection's tasklet lends nothing on its stack to anyone while it
                // waits: its buffer is passed to the kernel only within a read or write call.
                dispatcher = dispatcher.stack_mode(unsafe { concurrence::StackMode::compact() });
            }
            let _ = dispatcher.run(move || {
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

/// Starts `echo server RUNTIME` in a child process; returns it and the port it serves on.
fn start_server(runtime: &str) -> (std::process::Child, String) {
    let exe = std::env::current_exe().unwrap();
    let mut server = Command::new(exe)
        .args(["server", runtime])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (server, line.trim().to_owned())
}

/// A field of `/proc/PID/status` in bytes (`VmRSS`, `VmPTE`: the kernel gives kB).
fn status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    let kib: u64 = line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

/// Raises this process's soft limit on open files to `wanted` (or the hard limit, if lower);
/// the servers started afterwards inherit it. Returns the limit now in force.
fn raise_nofile(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(got, 0, "getrlimit failed");
    if limit.rlim_cur < wanted {
        limit.rlim_cur = wanted.min(limit.rlim_max);
        // SAFETY: setting a soft limit no higher than the hard limit, from a valid rlimit.
        let set = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
        assert_eq!(set, 0, "setrlimit failed");
    }
    limit.rlim_cur
}

/// For each server of `IDLE_SERVERS`: its resident memory and page tables per idle connection,
/// `conns` connections that each had one message echoed; prints a table.
fn idle(conns: usize) {
    let limit = raise_nofile(conns as u64 + 100);
    assert!(
        limit >= conns as u64 + 100,
        "open files are limited to {limit}: too few for {conns} connections"
    );
    let mut rows = Vec::new();
    for runtime in IDLE_SERVERS {
        let (mut server, port) = start_server(runtime);
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let pid = server.id();
        std::thread::sleep(Duration::from_millis(200));
        let (rss0, pte0) = (status_bytes(pid, "VmRSS"), status_bytes(pid, "VmPTE"));
        let mut streams = Vec::with_capacity(conns);
        let payload = [7u8; MESSAGE];
        let mut echo = [0u8; MESSAGE];
        for _ in 0..conns {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.set_nodelay(true).unwrap();
            stream.write_all(&payload).unwrap();
            stream.read_exact(&mut echo).unwrap();
            streams.push(stream);
        }
        std::thread::sleep(Duration::from_millis(200));
        let (rss1, pte1) = (status_bytes(pid, "VmRSS"), status_bytes(pid, "VmPTE"));
        let _ = server.kill();
        let _ = server.wait();
        drop(streams);
        let per = |a: u64, b: u64| (b as f64 - a as f64) / conns as f64;
        let (rss, pte) = (per(rss0, rss1), per(pte0, pte1));
        eprintln!("{runtime}: {rss:.0} B RSS and {pte:.0} B page tables per idle connection");
        rows.push((runtime, rss, pte));
    }
    let peer = rows.last().expect("tokio-ct is measured last").1;
    println!(
        "| {conns} idle connections | RSS per connection | page tables | ratio (tokio-ct / row) |"
    );
    println!("|---|---|---|---|");
    for (runtime, rss, pte) in rows {
        println!(
            "| {runtime} | {rss:.0} B | {pte:.0} B | {:.2}x |",
            peer / rss
        );
    }
}

/// Every runtime at every size; prints the table.
fn bench(quick: bool) {
    let exe = std::env::current_exe().unwrap();
    let secs = if quick { "0.5" } else { "3" };
    let mut results: HashMap<(&str, usize), (f64, u128)> = HashMap::new();
    let sizes = [1usize, 100, 1000];
    for &conns in &sizes {
        for runtime in RUNTIMES {
            let (mut server, port) = start_server(runtime);
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
