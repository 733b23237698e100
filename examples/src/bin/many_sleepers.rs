//! Spawns N tasklets that all sleep at once and reports the memory they cost: spawn time per
//! tasklet and resident memory (RSS) per live tasklet.
//!
//! `cargo run --release -p concurrence-examples --bin many_sleepers -- 1000000 [auto|guarded|canary]`

use std::cell::Cell;
use std::time::{Duration, Instant};

use concurrence::{join_all, sleep, spawn, yield_, Dispatcher, ExitStatus, StackMode};

/// Resident set size of this process in bytes, from /proc/self/statm.
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("statm has a resident field");
    pages * 4096
}

thread_local! {
    /// How many sleepers have started (a counter their closures need not capture: a closure
    /// without captures costs no allocation, so it does not inflate the memory measured).
    static ASLEEP: Cell<usize> = const { Cell::new(0) };
}

fn main() -> ExitStatus {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(100_000, |s| s.parse().expect("N is a number"));
    let mode = match args.next().as_deref() {
        None | Some("auto") => StackMode::Auto,
        Some("guarded") => StackMode::Guarded,
        Some("canary") => StackMode::Canary,
        Some(other) => panic!("unknown stack mode {other}: use auto, guarded or canary"),
    };
    Dispatcher::new().stack_mode(mode).run(move || {
        let before = rss_bytes();
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                spawn(|| {
                    ASLEEP.with(|a| a.set(a.get() + 1));
                    sleep(Duration::from_secs(2))
                })
            })
            .collect();
        let spawned = start.elapsed();
        // Let every tasklet run up to its sleep: each now holds a stack.
        while ASLEEP.with(Cell::get) < n {
            yield_();
        }
        let started = start.elapsed();
        let during = rss_bytes();
        let failed = join_all(&tasks).iter().filter(|r| r.is_err()).count();
        let per = (during - before) as f64 / n as f64;
        println!(
            "{n} sleeping tasklets ({mode:?}): spawn {:.0} ns each, first run {:.0} ns each, \
             RSS {:.0} MiB in all, {per:.0} bytes ({:.2} KiB) per tasklet, {failed} failed",
            spawned.as_nanos() as f64 / n as f64,
            (started - spawned).as_nanos() as f64 / n as f64,
            (during - before) as f64 / (1 << 20) as f64,
            per / 1024.0,
        );
    })
}
