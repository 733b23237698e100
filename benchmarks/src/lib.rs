//! The same workloads on concurrence and on its peers, for side-by-side measurements.
//!
//! Each workload is implemented once per runtime, the way a user of that runtime would write it
//! ([`conc`], `tokio_rt`, `may_rt` (with the `peers` feature), [`threads`]); [`measure`] runs one of them and returns
//! what it measured. The `runner` binary measures each pair in a fresh child process (peak RSS
//! and may's worker setting are per process) and prints the table; `benches/micro.rs` runs the
//! short workloads under criterion. The peers are behind the `peers` feature, so that the main
//! workspace's tests never build them.
#![warn(missing_docs)]

pub mod conc;
#[cfg(feature = "peers")]
pub mod may_rt;
pub mod sys;
pub mod threads;
#[cfg(feature = "peers")]
pub mod tokio_rt;

use std::fmt;
use std::time::Duration;

/// What a skynet run measured.
#[derive(Debug, Clone, Copy)]
pub struct SkynetSample {
    /// Time from the first spawn to the final sum.
    pub elapsed: Duration,
    /// The sum, to check the run (n(n-1)/2 for n leaves).
    pub sum: u64,
    /// Peak resident memory of the process.
    pub peak_rss: u64,
}

/// What a many-live run measured.
#[derive(Debug, Clone, Copy)]
pub struct LiveSample {
    /// Time to spawn all of them.
    pub spawn: Duration,
    /// Time until all of them had run once (and slept).
    pub start: Duration,
    /// Resident memory they added.
    pub rss: u64,
    /// How many ended before they were told to (could not start).
    pub failed: u64,
}

/// What a multi-core message run measured (`xd-ping-pong`, `xd-one-way`).
#[derive(Debug, Clone, Copy)]
pub struct CrossSample {
    /// Wall time of the timed part.
    pub elapsed: Duration,
    /// CPU time (user + system) of the whole process meanwhile: both parties' threads, and
    /// whatever the runtime spends spinning or parking.
    pub cpu: Duration,
}

/// What a timers run measured.
#[derive(Debug, Clone, Copy)]
pub struct TimersSample {
    /// Wall time until every sleeper woke.
    pub wall: Duration,
    /// CPU time (user + system) of the process meanwhile.
    pub cpu: Duration,
}

/// A runtime to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// concurrence: one dispatcher.
    Concurrence,
    /// concurrence on two dispatchers (`Dispatcher::threads(2)`): the workloads that cross
    /// cores, and skynet.
    Concurrence2,
    /// concurrence with compact stacks (`StackMode::compact`).
    ConcurrenceCompact,
    /// tokio, current-thread runtime with a `LocalSet`.
    TokioCurrentThread,
    /// tokio, multi-thread runtime with 2 workers.
    TokioMultiThread2,
    /// may with 1 worker.
    May1,
    /// may with its default workers (one per core).
    MayDefault,
    /// OS threads and std channels.
    Threads,
}

impl Runtime {
    /// Every runtime, in table order.
    pub const ALL: [Runtime; 8] = [
        Runtime::Concurrence,
        Runtime::Concurrence2,
        Runtime::ConcurrenceCompact,
        Runtime::TokioCurrentThread,
        Runtime::TokioMultiThread2,
        Runtime::May1,
        Runtime::MayDefault,
        Runtime::Threads,
    ];

    /// Its name on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Concurrence => "concurrence",
            Runtime::Concurrence2 => "conc-2",
            Runtime::ConcurrenceCompact => "conc-compact",
            Runtime::TokioCurrentThread => "tokio-ct",
            Runtime::TokioMultiThread2 => "tokio-mt2",
            Runtime::May1 => "may-1",
            Runtime::MayDefault => "may",
            Runtime::Threads => "threads",
        }
    }

    /// The runtime called `name`.
    pub fn from_name(name: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// A workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Two tasks alternately yield; ns per switch.
    Switch,
    /// A message there and back through mailboxes or channels; ns per round trip.
    PingPong,
    /// A call answered by a reply; ns per round trip.
    CallReply,
    /// A value there and back through rendezvous (or capacity-1) channels; ns per round trip.
    Channel,
    /// Spawn one, join it; ns per task.
    SpawnJoinSeq,
    /// Spawn a batch, join them all; ns per task.
    SpawnJoinBatch,
    /// The skynet tree; ms in all, and peak RSS.
    Skynet,
    /// Many tasks sleeping at once; spawn ns and RSS per task.
    ManyLive,
    /// Tasks sleeping 1..100 ms each; wall and CPU ms.
    Timers,
    /// A message there and back between two parties on two cores; ns per round trip, and CPU
    /// ns per round trip.
    XdPingPong,
    /// Messages one way from a party on one core to a party on the other, then one handshake
    /// to know they all arrived; ns per message, and CPU ns per message.
    XdOneWay,
    /// ping-pong with the reply taken through `select!` (one arm) instead of `receive`: what a
    /// multi-wait costs over a direct wait (concurrence only).
    PingPongSelect,
    /// A selective receive whose filter accepts nothing until the last of `n` messages, each
    /// sent with a `yield_` after it, so that the receiver wakes for each; ns per message
    /// (concurrence only).
    Selective,
}

impl Workload {
    /// Every workload, in table order.
    pub const ALL: [Workload; 13] = [
        Workload::Switch,
        Workload::PingPong,
        Workload::CallReply,
        Workload::Channel,
        Workload::SpawnJoinSeq,
        Workload::SpawnJoinBatch,
        Workload::Skynet,
        Workload::ManyLive,
        Workload::Timers,
        Workload::XdPingPong,
        Workload::XdOneWay,
        Workload::PingPongSelect,
        Workload::Selective,
    ];

    /// Its name on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Switch => "switch",
            Workload::PingPong => "ping-pong",
            Workload::CallReply => "call-reply",
            Workload::Channel => "channel",
            Workload::SpawnJoinSeq => "spawn-join-seq",
            Workload::SpawnJoinBatch => "spawn-join-batch",
            Workload::Skynet => "skynet",
            Workload::ManyLive => "many-live",
            Workload::Timers => "timers",
            Workload::XdPingPong => "xd-ping-pong",
            Workload::XdOneWay => "xd-one-way",
            Workload::PingPongSelect => "ping-pong-select",
            Workload::Selective => "selective",
        }
    }

    /// Whether the workload is between two parties on two cores (the `xd-` rows): the runtimes
    /// with two threads to run on have it, and concurrence runs both parties on one dispatcher
    /// for comparison.
    pub fn crosses_cores(self) -> bool {
        matches!(self, Workload::XdPingPong | Workload::XdOneWay)
    }

    /// The workload called `name`.
    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }
}

/// A runtime as a command-line argument of the binaries: its name, as in the tables.
impl clap::ValueEnum for Runtime {
    fn value_variants<'a>() -> &'a [Self] {
        &Runtime::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// A workload as a command-line argument of the binaries: its name, as in the tables.
impl clap::ValueEnum for Workload {
    fn value_variants<'a>() -> &'a [Self] {
        &Workload::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

/// One measurement: the main figure, and the second one some workloads have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// ns per operation, or ms in all (skynet, timers wall), or spawn ns per task (many-live).
    pub value: f64,
    /// Peak RSS in MiB (skynet), RSS bytes per task (many-live), CPU ms (timers), CPU ns per
    /// operation (the `xd-` rows).
    pub extra: Option<f64>,
    /// For many-live: how many tasks could not start.
    pub failed: Option<u64>,
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "value={}", self.value)?;
        if let Some(extra) = self.extra {
            write!(f, " extra={extra}")?;
        }
        if let Some(failed) = self.failed {
            write!(f, " failed={failed}")?;
        }
        Ok(())
    }
}

impl Sample {
    /// Parses what [`Sample`]'s `Display` printed.
    pub fn parse(line: &str) -> Option<Sample> {
        let mut sample = Sample {
            value: f64::NAN,
            extra: None,
            failed: None,
        };
        for field in line.split_whitespace() {
            let (key, value) = field.split_once('=')?;
            match key {
                "value" => sample.value = value.parse().ok()?,
                "extra" => sample.extra = Some(value.parse().ok()?),
                "failed" => sample.failed = Some(value.parse().ok()?),
                _ => return None,
            }
        }
        (!sample.value.is_nan()).then_some(sample)
    }
}

fn per_op(elapsed: Duration, n: u64) -> Sample {
    Sample {
        value: elapsed.as_nanos() as f64 / n as f64,
        extra: None,
        failed: None,
    }
}

fn skynet_sample(s: SkynetSample, leaves: u64) -> Sample {
    assert_eq!(s.sum, leaves * (leaves - 1) / 2, "skynet summed wrong");
    Sample {
        value: s.elapsed.as_secs_f64() * 1e3,
        extra: Some(s.peak_rss as f64 / (1024.0 * 1024.0)),
        failed: None,
    }
}

fn live_sample(s: LiveSample, n: u64) -> Sample {
    Sample {
        value: s.spawn.as_nanos() as f64 / n as f64,
        extra: Some(s.rss as f64 / n as f64),
        failed: Some(s.failed),
    }
}

fn cross_sample(s: CrossSample, n: u64) -> Sample {
    Sample {
        value: s.elapsed.as_nanos() as f64 / n as f64,
        extra: Some(s.cpu.as_nanos() as f64 / n as f64),
        failed: None,
    }
}

fn timers_sample(s: TimersSample) -> Sample {
    Sample {
        value: s.wall.as_secs_f64() * 1e3,
        extra: Some(s.cpu.as_secs_f64() * 1e3),
        failed: None,
    }
}

/// Runs `workload` of size `n` on `runtime`; `None` when that runtime does not have it (or the
/// peers are not built). For may, call `may_rt::configure` first, once per process (with 2
/// workers for the workloads that [cross cores](Workload::crosses_cores)).
pub fn measure(runtime: Runtime, workload: Workload, n: u64) -> Option<Sample> {
    use Workload::*;
    let sample = match runtime {
        Runtime::Concurrence | Runtime::ConcurrenceCompact => {
            conc::set_compact(runtime == Runtime::ConcurrenceCompact);
            measure_concurrence(workload, n)
        }
        Runtime::Concurrence2 => match workload {
            XdPingPong => cross_sample(conc::xd_ping_pong(n), n),
            XdOneWay => cross_sample(conc::xd_one_way(n), n),
            Skynet => skynet_sample(conc::skynet_spread(n), n),
            _ => return None,
        },
        Runtime::Threads => match workload {
            PingPong => per_op(threads::ping_pong(n), n),
            CallReply => per_op(threads::call_reply(n), n),
            Channel => per_op(threads::channel(n), n),
            SpawnJoinSeq => per_op(threads::spawn_join_seq(n), n),
            #[cfg(feature = "peers")]
            XdPingPong => cross_sample(threads::xd_ping_pong(n), n),
            #[cfg(feature = "peers")]
            XdOneWay => cross_sample(threads::xd_one_way(n), n),
            _ => return None,
        },
        #[cfg(feature = "peers")]
        Runtime::TokioCurrentThread | Runtime::TokioMultiThread2 => {
            let flavor = if runtime == Runtime::TokioCurrentThread {
                tokio_rt::Flavor::CurrentThread
            } else {
                tokio_rt::Flavor::MultiThread2
            };
            match workload {
                PingPongSelect | Selective => return None, // concurrence only
                Switch => per_op(tokio_rt::switch(flavor, n), n),
                PingPong => per_op(tokio_rt::ping_pong(flavor, n), n),
                CallReply => per_op(tokio_rt::call_reply(flavor, n), n),
                Channel => per_op(tokio_rt::channel(flavor, n), n),
                SpawnJoinSeq => per_op(tokio_rt::spawn_join_seq(flavor, n), n),
                SpawnJoinBatch => per_op(tokio_rt::spawn_join_batch(flavor, n), n),
                Skynet => skynet_sample(tokio_rt::skynet(flavor, n), n),
                ManyLive => live_sample(tokio_rt::many_live(flavor, n), n),
                Timers => timers_sample(tokio_rt::timers(flavor, sys::timer_sleeps(n as usize))),
                _ if flavor == tokio_rt::Flavor::CurrentThread => return None,
                XdPingPong => cross_sample(tokio_rt::xd_ping_pong(n), n),
                XdOneWay => cross_sample(tokio_rt::xd_one_way(n), n),
            }
        }
        #[cfg(feature = "peers")]
        Runtime::May1 | Runtime::MayDefault => match workload {
            PingPongSelect | Selective => return None, // concurrence only
            Switch => per_op(may_rt::switch(n), n),
            PingPong => per_op(may_rt::ping_pong(n), n),
            CallReply => per_op(may_rt::call_reply(n), n),
            Channel => return None,
            SpawnJoinSeq => per_op(may_rt::spawn_join_seq(n), n),
            SpawnJoinBatch => per_op(may_rt::spawn_join_batch(n), n),
            Skynet => skynet_sample(may_rt::skynet(n), n),
            ManyLive => live_sample(may_rt::many_live(n), n),
            Timers => timers_sample(may_rt::timers(sys::timer_sleeps(n as usize))),
            _ if runtime == Runtime::May1 => return None,
            XdPingPong => cross_sample(may_rt::xd_ping_pong(n), n),
            XdOneWay => cross_sample(may_rt::xd_one_way(n), n),
        },
        #[cfg(not(feature = "peers"))]
        _ => return None,
    };
    Some(sample)
}

/// One concurrence measurement on one dispatcher, in the stack mode `conc::set_compact` chose
/// (the workloads that cross cores run their two parties on the one dispatcher, with local
/// handles).
fn measure_concurrence(workload: Workload, n: u64) -> Sample {
    use Workload::*;
    match workload {
        Switch => per_op(conc::switch(n), n),
        PingPong => per_op(conc::ping_pong(n), n),
        CallReply => per_op(conc::call_reply(n), n),
        Channel => per_op(conc::channel(n), n),
        SpawnJoinSeq => per_op(conc::spawn_join_seq(n), n),
        SpawnJoinBatch => per_op(conc::spawn_join_batch(n), n),
        Skynet => skynet_sample(conc::skynet(n), n),
        ManyLive => live_sample(conc::many_live(n), n),
        Timers => timers_sample(conc::timers(sys::timer_sleeps(n as usize))),
        XdPingPong => cross_sample(conc::xd_ping_pong_here(n), n),
        XdOneWay => cross_sample(conc::xd_one_way_here(n), n),
        PingPongSelect => per_op(conc::ping_pong_select(n), n),
        Selective => per_op(conc::selective(n), n),
    }
}
