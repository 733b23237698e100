//! Remote calls over NATS, side by side (issue 20): concurrence-nats against the same
//! request/reply written directly on async-nats and tokio, through one nats-server; and what a
//! future through the bridge (`io::on_tokio`) costs against `tokio::spawn(..).await`.
//!
//! ```text
//! bash benchmarks/nats-bench.sh            # starts nats-server on a free loopback port
//! nats_bench --nats 127.0.0.1:PORT [--runs K] [--quick]
//! ```
//!
//! Every measurement runs in fresh processes: a *serving* process (a tasklet
//! `#[tasklet(receives(MSG_SUM), remote)]` served with `Nats::serve`, or an async-nats
//! responder task) and a *calling* process (a tasklet calling `Remote::call`, or tokio tasks
//! calling `Client::request`), so that a call crosses processes as in real use. Each pair of
//! caller and server is measured twice: one caller making sequential calls (p50 and p99 of the
//! round trip; in blocks, the four pairs' blocks taking turns against one server of each side,
//! so that they share the machine's moods), then 64 callers calling at once against a fresh
//! server (calls per second). The mixed pairs
//! (concurrence calling the tokio responder, tokio calling the served tasklet) tell the
//! caller's share of a difference from the serving side's. The CPU time of both processes
//! (and of nats-server, given `--nats-pid`) during the 64-caller phase is reported per call.
//!
//! The wire is the same on both sides: the request is the MessagePack array
//! `["MSG_SUM", a, b]`, the answer the MessagePack of the `i64` sum, both through rmp-serde.
//!
//! The subcommands are the halves the benchmark spawns: `serve`, `call` and `bridge`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use concurrence::{join_all, match_message, message, receive, spawn, tasklet, Dispatcher};
use concurrence_benchmarks::sys;
use concurrence_nats::Nats;

message!(MSG_SUM(i64, i64) -> i64);

/// The served tasklet: answers each sum.
#[tasklet(receives(MSG_SUM), remote)]
fn adder() {
    for msg in receive() {
        match_message!(msg: AdderMsg { MSG_SUM(a, b, reply) => reply.reply(a + b) })
    }
}

/// How long a serving process may take to say it is ready, and a calling process to finish
/// beyond its planned time.
const START: Duration = Duration::from_secs(15);
const SLACK: Duration = Duration::from_secs(60);

/// Remote calls over NATS, side by side: concurrence-nats against async-nats on tokio, and
/// futures through the bridge against tokio's spawn; then the tables.
#[derive(Parser)]
#[command(name = "nats_bench", args_conflicts_with_subcommands = true)]
struct Cli {
    /// The nats-server to use (`nats-bench.sh` starts one and passes it).
    #[arg(long, value_name = "HOST:PORT")]
    nats: Option<String>,
    /// The nats-server's process id, to report its CPU time per call too.
    #[arg(long, value_name = "PID")]
    nats_pid: Option<u32>,
    /// Runs of every measurement; the median is reported, with the range.
    #[arg(long, value_name = "K", default_value_t = 3)]
    runs: usize,
    /// Tiny sizes: a smoke run of a few seconds.
    #[arg(long)]
    quick: bool,
    #[command(subcommand)]
    half: Option<Half>,
}

/// Which side a process is written on.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum Side {
    /// concurrence-nats: a served tasklet, or tasklets calling a `Remote`.
    Conc,
    /// async-nats on a 2-worker tokio runtime: a responder task, or tasks calling `request`.
    Tokio,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Conc => "concurrence",
            Side::Tokio => "tokio",
        }
    }
}

/// What a calling process measures.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum Phase {
    /// One caller, sequential calls: prints the nanoseconds of each.
    Latency,
    /// Many callers at once for a while: prints `calls_per_s cpu_ns_per_call calls`.
    Throughput,
}

/// One half of a measurement, run alone (the benchmark spawns them).
#[derive(Subcommand)]
enum Half {
    /// Serves MSG_SUM under SUBJECT, prints `ready` once subscribed, serves until killed.
    Serve {
        /// The side the server is written on.
        #[arg(value_enum)]
        side: Side,
        /// The nats-server.
        nats: String,
        /// The subject to serve.
        subject: String,
    },
    /// Calls MSG_SUM on SUBJECT and prints what PHASE measures.
    Call {
        /// The side the callers are written on.
        #[arg(value_enum)]
        side: Side,
        /// The nats-server.
        nats: String,
        /// The subject to call.
        subject: String,
        /// What to measure.
        #[arg(value_enum)]
        phase: Phase,
        /// Latency: the number of calls. Throughput: the number of callers.
        count: usize,
        /// Throughput: how long to measure, in milliseconds (after a warm-up of a fifth of it).
        #[arg(default_value_t = 3000)]
        millis: u64,
    },
    /// Futures through the bridge: prints `noop_ns timer_ns` per call (the timer's figure is
    /// the whole call, 1 ms sleep included).
    Bridge {
        /// The side: `conc` calls `io::on_tokio` from a tasklet, `tokio` spawns and awaits
        /// from a tokio task.
        #[arg(value_enum)]
        side: Side,
        /// Calls of the no-op future.
        noops: usize,
        /// Calls of the 1 ms timer.
        timers: usize,
    },
}

fn main() {
    let cli = Cli::parse();
    match cli.half {
        Some(Half::Serve {
            side,
            nats,
            subject,
        }) => match side {
            Side::Conc => serve_conc(nats, subject),
            Side::Tokio => serve_tokio(nats, subject),
        },
        Some(Half::Call {
            side,
            nats,
            subject,
            phase,
            count,
            millis,
        }) => {
            let measure = Duration::from_millis(millis);
            let line = match (side, phase) {
                (Side::Conc, Phase::Latency) => {
                    fmt_latency(&call_conc_latency(nats, subject, count))
                }
                (Side::Tokio, Phase::Latency) => {
                    fmt_latency(&call_tokio_latency(nats, subject, count))
                }
                (Side::Conc, Phase::Throughput) => {
                    fmt_rate(call_conc_throughput(nats, subject, count, measure))
                }
                (Side::Tokio, Phase::Throughput) => {
                    fmt_rate(call_tokio_throughput(nats, subject, count, measure))
                }
            };
            println!("{line}");
        }
        Some(Half::Bridge {
            side,
            noops,
            timers,
        }) => {
            let (noop, timer) = match side {
                Side::Conc => bridge_conc(noops, timers),
                Side::Tokio => bridge_tokio(noops, timers),
            };
            println!("{} {}", noop.as_nanos(), timer.as_nanos());
        }
        None => {
            let nats = cli
                .nats
                .expect("--nats HOST:PORT (nats-bench.sh starts a server and passes it)");
            bench(&nats, cli.nats_pid, cli.runs.max(1), cli.quick);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The wire, for the tokio side (concurrence-nats makes the same bytes).

/// The request `["MSG_SUM", a, b]`.
fn encode_sum(a: i64, b: i64) -> Vec<u8> {
    rmp_serde::to_vec(&("MSG_SUM", a, b)).expect("encodes")
}

/// The answer to a request, or `None` for a payload that is not a MSG_SUM.
fn answer_sum(payload: &[u8]) -> Option<Vec<u8>> {
    let (name, a, b): (String, i64, i64) = rmp_serde::from_slice(payload).ok()?;
    (name == "MSG_SUM").then(|| rmp_serde::to_vec_named(&(a + b)).expect("encodes"))
}

/// The 2-worker multi-thread runtime of the tokio side: the bridge's configuration, and what
/// `#[tokio::main]` makes on this 2-core machine.
fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// Serving.

/// A served tasklet under `subject`, on one dispatcher, until killed.
fn serve_conc(nats: String, subject: String) {
    let status = Dispatcher::new().handle_sigint(false).run(move || {
        let nats = Nats::connect(nats).expect("connects to nats-server");
        let adder = Adder::new().spawn();
        nats.serve(&subject, &adder).expect("serves");
        println!("ready");
    });
    assert!(status.success(), "{status}");
}

/// A responder task under `subject`, until killed: decodes each request and publishes the
/// answer to its reply subject, one at a time (as the served tasklet takes them).
fn serve_tokio(nats: String, subject: String) {
    tokio_rt().block_on(async move {
        let client = async_nats::connect(nats).await.expect("connects");
        let mut requests = client.subscribe(subject).await.expect("subscribes");
        client.flush().await.expect("flushed");
        let responder = tokio::spawn(async move {
            use futures_util::StreamExt;
            while let Some(request) = requests.next().await {
                let (Some(reply), Some(answer)) = (request.reply, answer_sum(&request.payload))
                else {
                    continue;
                };
                client.publish(reply, answer.into()).await.expect("answers");
            }
        });
        println!("ready");
        responder.await.expect("the responder ran");
    });
}

// ---------------------------------------------------------------------------------------------
// Calling.

/// Nanoseconds of each of `calls` sequential calls, from a tasklet.
fn call_conc_latency(nats: String, subject: String, calls: usize) -> Vec<u64> {
    run_conc(move || {
        let nats = Nats::connect(nats).expect("connects");
        let remote = nats.reach::<AdderMsg>(&subject);
        for i in 0..warmup(calls) as i64 {
            assert_eq!(remote.call(|reply| MSG_SUM(i, 1, reply)), Ok(i + 1));
        }
        let mut times = Vec::with_capacity(calls);
        for i in 0..calls as i64 {
            let started = Instant::now();
            let sum = remote.call(|reply| MSG_SUM(i, 2, reply));
            times.push(started.elapsed().as_nanos() as u64);
            assert_eq!(sum, Ok(i + 2));
        }
        times
    })
}

/// Nanoseconds of each of `calls` sequential calls, from a tokio task.
fn call_tokio_latency(nats: String, subject: String, calls: usize) -> Vec<u64> {
    tokio_rt().block_on(async move {
        let client = async_nats::connect(nats).await.expect("connects");
        // A task of the runtime calls, as in a tokio server (block_on's thread is no worker).
        tokio::spawn(async move {
            for i in 0..warmup(calls) as i64 {
                assert_eq!(request_sum(&client, &subject, i, 1).await, i + 1);
            }
            let mut times = Vec::with_capacity(calls);
            for i in 0..calls as i64 {
                let started = Instant::now();
                let sum = request_sum(&client, &subject, i, 2).await;
                times.push(started.elapsed().as_nanos() as u64);
                assert_eq!(sum, i + 2);
            }
            times
        })
        .await
        .expect("the caller ran")
    })
}

/// One call on the tokio side.
async fn request_sum(client: &async_nats::Client, subject: &str, a: i64, b: i64) -> i64 {
    let answer = client
        .request(subject.to_owned(), encode_sum(a, b).into())
        .await
        .expect("answered");
    rmp_serde::from_slice(&answer.payload).expect("an i64")
}

/// The warm-up calls before `calls` measured ones.
fn warmup(calls: usize) -> usize {
    (calls / 10).clamp(10, 1000)
}

/// What the throughput phase measured.
struct Rate {
    calls: u64,
    elapsed: Duration,
    cpu: Duration,
}

/// `callers` tasklets calling for a fifth of `measure` (the warm-up), then for `measure`.
fn call_conc_throughput(nats: String, subject: String, callers: usize, measure: Duration) -> Rate {
    run_conc(move || {
        let nats = Nats::connect(nats).expect("connects");
        let remote = nats.reach::<AdderMsg>(&subject);
        let begin = Instant::now() + measure / 5;
        let end = begin + measure;
        let tasks: Vec<_> = (0..callers as i64)
            .map(|caller| {
                let remote = remote.clone();
                spawn(move || {
                    let mut counted = 0u64;
                    let mut i = 0;
                    loop {
                        let sum = remote.call(|reply| MSG_SUM(caller, i, reply));
                        assert_eq!(sum, Ok(caller + i));
                        i += 1;
                        let now = Instant::now();
                        if now >= end {
                            return counted;
                        }
                        if now >= begin {
                            counted += 1;
                        }
                    }
                })
            })
            .collect();
        concurrence::sleep_until(begin);
        let cpu = sys::cpu_time();
        let calls: u64 = join_all(&tasks)
            .into_iter()
            .map(|done| done.expect("a caller ended"))
            .sum();
        Rate {
            calls,
            elapsed: measure,
            cpu: sys::cpu_time() - cpu,
        }
    })
}

/// `callers` tokio tasks calling for a fifth of `measure` (the warm-up), then for `measure`.
fn call_tokio_throughput(nats: String, subject: String, callers: usize, measure: Duration) -> Rate {
    tokio_rt().block_on(async move {
        let client = async_nats::connect(nats).await.expect("connects");
        let begin = Instant::now() + measure / 5;
        let end = begin + measure;
        let total = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..callers as i64)
            .map(|caller| {
                let (client, subject, total) = (client.clone(), subject.clone(), total.clone());
                tokio::spawn(async move {
                    let mut i = 0;
                    loop {
                        assert_eq!(request_sum(&client, &subject, caller, i).await, caller + i);
                        i += 1;
                        let now = Instant::now();
                        if now >= end {
                            return;
                        }
                        if now >= begin {
                            total.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep_until(begin.into()).await;
        let cpu = sys::cpu_time();
        for task in tasks {
            task.await.expect("a caller ended");
        }
        Rate {
            calls: total.load(Ordering::Relaxed),
            elapsed: measure,
            cpu: sys::cpu_time() - cpu,
        }
    })
}

/// Runs `f` as the first tasklet of a dispatcher and returns its result.
fn run_conc<T: Send + 'static>(f: impl FnOnce() -> T + 'static) -> T {
    let status = Dispatcher::new().handle_sigint(false).run(f);
    assert!(status.success(), "{status}");
    status.into_value().expect("the first tasklet returned")
}

/// The nanoseconds in `times`, as words.
fn fmt_latency(times: &[u64]) -> String {
    let words: Vec<String> = times.iter().map(u64::to_string).collect();
    words.join(" ")
}

/// The `q`th percentile of `times` (sorted).
fn percentile(sorted: &[u64], q: usize) -> u64 {
    sorted[(sorted.len() * q / 100).min(sorted.len() - 1)]
}

/// `calls_per_s cpu_ns_per_call calls`.
fn fmt_rate(rate: Rate) -> String {
    let per_s = rate.calls as f64 / rate.elapsed.as_secs_f64();
    let cpu = rate.cpu.as_nanos() as u64 / rate.calls.max(1);
    format!("{per_s:.0} {cpu} {}", rate.calls)
}

// ---------------------------------------------------------------------------------------------
// Futures through the bridge.

/// Time per `on_tokio(async {})` and per `on_tokio(sleep(1 ms))`, from a tasklet.
fn bridge_conc(noops: usize, timers: usize) -> (Duration, Duration) {
    use concurrence::io::on_tokio;
    run_conc(move || {
        for _ in 0..warmup(noops) {
            on_tokio(async {});
        }
        let started = Instant::now();
        for _ in 0..noops {
            on_tokio(async {});
        }
        let noop = started.elapsed() / noops as u32;
        let started = Instant::now();
        for _ in 0..timers {
            on_tokio(async { tokio::time::sleep(Duration::from_millis(1)).await });
        }
        (noop, started.elapsed() / timers as u32)
    })
}

/// Time per `tokio::spawn(async {}).await` and per spawned `sleep(1 ms)`, from a tokio task.
fn bridge_tokio(noops: usize, timers: usize) -> (Duration, Duration) {
    tokio_rt().block_on(async move {
        tokio::spawn(async move {
            for _ in 0..warmup(noops) {
                tokio::spawn(async {}).await.expect("ran");
            }
            let started = Instant::now();
            for _ in 0..noops {
                tokio::spawn(async {}).await.expect("ran");
            }
            let noop = started.elapsed() / noops as u32;
            let started = Instant::now();
            for _ in 0..timers {
                tokio::spawn(async { tokio::time::sleep(Duration::from_millis(1)).await })
                    .await
                    .expect("ran");
            }
            (noop, started.elapsed() / timers as u32)
        })
        .await
        .expect("the caller ran")
    })
}

// ---------------------------------------------------------------------------------------------
// The benchmark: every pair in fresh processes, the tables.

/// A serving process, killed when dropped.
struct Server {
    child: Child,
}

impl Server {
    /// Starts the server of `side` on `subject` and waits until it is subscribed.
    fn start(side: Side, nats: &str, subject: &str) -> Server {
        let mut child = Command::new(std::env::current_exe().expect("our path"))
            .args(["serve", side_arg(side), nats, subject])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the serving process starts");
        let stdout = child.stdout.take().expect("piped");
        let (said, heard) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = said.send(line);
            }
        });
        let mut server = Server { child };
        match heard.recv_timeout(START) {
            Ok(line) if line == "ready" => server,
            other => {
                server.kill();
                panic!("the {} server did not start: {other:?}", side.name());
            }
        }
    }

    /// CPU time of the serving process so far.
    fn cpu(&self) -> Duration {
        process_cpu(self.child.id())
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time of process `pid` so far (user + system, from `/proc`).
fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process's stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("a stat line")
        .1
        .split_whitespace()
        .collect();
    // utime and stime: fields 14 and 15, counted from 1 with the pid and the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions; _SC_CLK_TCK is a valid name.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_nanos(ticks * 1_000_000_000 / hz)
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn side_arg(side: Side) -> &'static str {
    match side {
        Side::Conc => "conc",
        Side::Tokio => "tokio",
    }
}

/// Runs this program with `args`, at most `limit`, and returns the words of its output.
fn run_half(args: &[String], limit: Duration) -> Vec<u64> {
    let mut child = Command::new(std::env::current_exe().expect("our path"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the process starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waits").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`nats_bench {}` took more than {limit:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("its output");
    assert!(
        output.status.success(),
        "`nats_bench {}` failed",
        args.join(" ")
    );
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(|word| word.parse().expect("a number"))
        .collect()
}

/// What one caller/server pair measured in one run.
#[derive(Clone, Copy, Default)]
struct PairRun {
    p50: u64,
    p99: u64,
    rate: u64,
    caller_cpu: u64,
    server_cpu: u64,
    nats_cpu: Option<u64>,
}

/// The sizes of a run.
struct Sizes {
    latency_calls: usize,
    /// The latency calls of a pair are made in this many blocks, the pairs' blocks taking
    /// turns, so that every pair sees the same mix of the machine's moods.
    blocks: usize,
    callers: usize,
    millis: u64,
    noops: usize,
    timers: usize,
}

const PAIRS: [(Side, Side); 4] = [
    (Side::Conc, Side::Conc),
    (Side::Tokio, Side::Tokio),
    (Side::Conc, Side::Tokio),
    (Side::Tokio, Side::Conc),
];

fn bench(nats: &str, nats_pid: Option<u32>, runs: usize, quick: bool) {
    let sizes = if quick {
        Sizes {
            latency_calls: 500,
            blocks: 2,
            callers: 64,
            millis: 300,
            noops: 1_000,
            timers: 50,
        }
    } else {
        Sizes {
            latency_calls: 20_000,
            blocks: 10,
            callers: 64,
            millis: 3_000,
            noops: 100_000,
            timers: 2_000,
        }
    };
    let mut pairs: Vec<Vec<PairRun>> = vec![Vec::new(); PAIRS.len()];
    let mut bridges: Vec<Vec<(u64, u64)>> = vec![Vec::new(); 2];
    for run in 0..runs {
        let latencies = measure_latencies(nats, &sizes, run);
        for (k, &(caller, server)) in PAIRS.iter().enumerate() {
            let (p50, p99) = latencies[k];
            eprint!(
                "run {}/{runs}: {} calling {}: p50 {} us, p99 {} us ...",
                run + 1,
                caller.name(),
                server.name(),
                p50 / 1000,
                p99 / 1000,
            );
            let measured = PairRun {
                p50,
                p99,
                ..measure_rate(nats, nats_pid, caller, server, &sizes, run)
            };
            eprintln!(" {} calls/s", measured.rate);
            pairs[k].push(measured);
        }
        for (k, side) in [Side::Conc, Side::Tokio].into_iter().enumerate() {
            let args = [
                "bridge".to_owned(),
                side_arg(side).to_owned(),
                sizes.noops.to_string(),
                sizes.timers.to_string(),
            ];
            let out = run_half(&args, SLACK);
            eprintln!(
                "run {}/{runs}: bridge {}: no-op {} ns, 1 ms timer {} ns",
                run + 1,
                side.name(),
                out[0],
                out[1]
            );
            bridges[k].push((out[0], out[1]));
        }
    }
    report(&pairs, &bridges, runs, &sizes);
}

/// The arguments of a calling process.
fn call_args(
    caller: Side,
    nats: &str,
    subject: &str,
    phase: &str,
    count: usize,
    millis: u64,
) -> Vec<String> {
    vec![
        "call".into(),
        side_arg(caller).into(),
        nats.into(),
        subject.into(),
        phase.into(),
        count.to_string(),
        millis.to_string(),
    ]
}

/// p50 and p99 of one caller's sequential calls, for each of [`PAIRS`]: one server of each
/// side, and each pair's calls in blocks, the pairs taking turns.
fn measure_latencies(nats: &str, sizes: &Sizes, run: usize) -> Vec<(u64, u64)> {
    let subject = |side: Side| format!("bench.lat.{}.{run}.{}", std::process::id(), side_arg(side));
    let _servers = [Side::Conc, Side::Tokio].map(|side| Server::start(side, nats, &subject(side)));
    let mut times: Vec<Vec<u64>> = vec![Vec::new(); PAIRS.len()];
    let block = (sizes.latency_calls / sizes.blocks).max(1);
    for _ in 0..sizes.blocks {
        for (k, &(caller, server)) in PAIRS.iter().enumerate() {
            let args = call_args(
                caller,
                nats,
                &subject(server),
                "latency",
                block,
                sizes.millis,
            );
            times[k].extend(run_half(&args, SLACK));
        }
    }
    times
        .into_iter()
        .map(|mut times| {
            times.sort_unstable();
            (percentile(&times, 50), percentile(&times, 99))
        })
        .collect()
}

/// Calls per second of `callers` callers of side `caller` against a fresh server of side
/// `server`, and the CPU time per call of the caller, the server and nats-server.
fn measure_rate(
    nats: &str,
    nats_pid: Option<u32>,
    caller: Side,
    server: Side,
    sizes: &Sizes,
    run: usize,
) -> PairRun {
    let subject = format!("bench.sum.{}.{run}", std::process::id());
    let server = Server::start(server, nats, &subject);
    let call =
        |phase: &str, count: usize| call_args(caller, nats, &subject, phase, count, sizes.millis);
    let before = server.cpu();
    let nats_before = nats_pid.map(process_cpu);
    let rate = run_half(&call("throughput", sizes.callers), SLACK);
    let server_cpu = server.cpu() - before;
    let nats_cpu = nats_pid
        .map(process_cpu)
        .zip(nats_before)
        .map(|(a, b)| a - b);
    // The server's CPU over the whole calling process (its start and warm-up too), per call
    // counted: a slight overestimate, the same for every pair.
    let counted = rate[2].max(1);
    PairRun {
        p50: 0,
        p99: 0,
        rate: rate[0],
        caller_cpu: rate[1],
        server_cpu: server_cpu.as_nanos() as u64 / counted,
        nats_cpu: nats_cpu.map(|cpu| cpu.as_nanos() as u64 / counted),
    }
}

/// The median of `values`, and their range.
fn spread(mut values: Vec<u64>) -> (u64, u64, u64) {
    values.sort_unstable();
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

/// `median (min-max)` in microseconds, one decimal.
fn us(values: Vec<u64>) -> String {
    let (median, lo, hi) = spread(values);
    let f = |ns: u64| format!("{:.1}", ns as f64 / 1000.0);
    format!("{} us ({}-{})", f(median), f(lo), f(hi))
}

fn report(pairs: &[Vec<PairRun>], bridges: &[Vec<(u64, u64)>], runs: usize, sizes: &Sizes) {
    println!();
    println!(
        "Remote calls, median of {runs} runs (range): one caller, {} sequential calls in {} blocks (the pairs taking turns); {} callers for {} ms; CPU per call in the {}-caller phase",
        sizes.latency_calls, sizes.blocks, sizes.callers, sizes.millis, sizes.callers
    );
    println!();
    println!(
        "| caller -> server | p50 | p99 | calls/s, {} callers | caller CPU/call | server CPU/call | nats-server CPU/call |",
        sizes.callers
    );
    println!("|---|---|---|---|---|---|---|");
    for (k, &(caller, server)) in PAIRS.iter().enumerate() {
        let runs = &pairs[k];
        let get = |f: fn(&PairRun) -> u64| runs.iter().map(f).collect::<Vec<_>>();
        let (rate, lo, hi) = spread(get(|r| r.rate));
        println!(
            "| {} -> {} | {} | {} | {rate} ({lo}-{hi}) | {} | {} | {} |",
            caller.name(),
            server.name(),
            us(get(|r| r.p50)),
            us(get(|r| r.p99)),
            us(get(|r| r.caller_cpu)),
            us(get(|r| r.server_cpu)),
            if runs.iter().all(|r| r.nats_cpu.is_some()) {
                us(get(|r| r.nats_cpu.unwrap_or(0)))
            } else {
                "n/a".to_owned()
            },
        );
    }
    let median = |k: usize, f: fn(&PairRun) -> u64| spread(pairs[k].iter().map(f).collect()).0;
    let p50_ratio = median(0, |r| r.p50) as f64 / median(1, |r| r.p50) as f64;
    let rate_ratio = median(0, |r| r.rate) as f64 / median(1, |r| r.rate) as f64;
    println!();
    println!(
        "p50 concurrence / tokio: {p50_ratio:.2}x (target <= 1.5x); calls/s concurrence / tokio: {rate_ratio:.2}x (target >= 0.8x)"
    );
    // Each run's ratio too, since the pairs of a run share the machine's state.
    let per_run: Vec<String> = (0..runs)
        .map(|r| {
            format!(
                "{:.2}x/{:.2}x",
                pairs[0][r].p50 as f64 / pairs[1][r].p50 as f64,
                pairs[0][r].rate as f64 / pairs[1][r].rate as f64
            )
        })
        .collect();
    println!("per run (p50 ratio/rate ratio): {}", per_run.join(", "));
    println!();
    println!(
        "Futures through the bridge, median of {runs} runs (range): {} no-ops, {} timers of 1 ms, one after another",
        sizes.noops, sizes.timers
    );
    println!();
    println!("| what | no-op, per call | 1 ms timer, per call | above 1 ms |");
    println!("|---|---|---|---|");
    let names = [
        "`on_tokio(..)` from a tasklet",
        "`tokio::spawn(..).await` from a tokio task",
    ];
    for (k, name) in names.iter().enumerate() {
        let noop = bridges[k].iter().map(|b| b.0).collect();
        let timer: Vec<u64> = bridges[k].iter().map(|b| b.1).collect();
        let above = timer.iter().map(|t| t.saturating_sub(1_000_000)).collect();
        println!("| {name} | {} | {} | {} |", us(noop), us(timer), us(above));
    }
}
