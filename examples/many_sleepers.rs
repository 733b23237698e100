//! Spawns N tasklets that all sleep at once and reports what they cost: spawn time and first
//! run time per tasklet, resident memory (RSS) and page tables (VmPTE) per live tasklet, and
//! the kernel mappings in use.
//!
//! `cargo run --release --example many_sleepers -- 1000000 [STACK_KIB] [canary]`
//!
//! `STACK_KIB` is the stack size in KiB (default: the crate's default); `canary` chooses the
//! unguarded canary stacks, for comparison (every stack is guarded otherwise). Tasklets that
//! could not get a stack (past the guarded budget of a kernel without page-table guards) are
//! counted, the first one's error is printed, and the status is 1.

use std::cell::Cell;
use std::time::{Duration, Instant};

use concurrence::{
    join_all, quit, sleep, spawn, wait_idle, Dispatcher, ExitStatus, StackMode, DEFAULT_STACK_SIZE,
};

/// A field of /proc/self/status in KiB (`VmRSS`, `VmPTE`, ...).
fn status_kib(field: &str) -> usize {
    std::fs::read_to_string("/proc/self/status")
        .expect("read /proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Lines of /proc/self/maps: the kernel mappings of the process.
fn mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .expect("read /proc/self/maps")
        .lines()
        .count()
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
    let stack = args.next().map_or(DEFAULT_STACK_SIZE, |s| {
        s.parse::<usize>().expect("STACK_KIB is a number") * 1024
    });
    let mode = match args.next().as_deref() {
        None | Some("guarded") => StackMode::GUARDED,
        // SAFETY: the sleepers use a few hundred bytes of their stacks: none overflows.
        Some("canary") => unsafe { StackMode::unguarded_canary() },
        Some(other) => panic!("unknown stack mode {other}: use guarded or canary"),
    };
    Dispatcher::new()
        .stack_size(stack)
        .stack_mode(mode)
        .run(move || {
            let (rss0, pte0, maps0) = (status_kib("VmRSS"), status_kib("VmPTE"), mappings());
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
            // Let every tasklet run up to its sleep (each now holds a stack), or fail to start:
            // a tasklet that could not get a stack ends with `JoinCause::NoStack`.
            wait_idle();
            let started = start.elapsed();
            let (rss, pte, maps) = (status_kib("VmRSS"), status_kib("VmPTE"), mappings());
            let asleep = ASLEEP.with(Cell::get);
            let results = join_all(&tasks);
            let failed = results.iter().filter(|r| r.is_err()).count();
            if let Some(Err(first)) = results.iter().find(|r| r.is_err()) {
                eprintln!("{failed} of {n} tasklets did not run ({asleep} did): {first}");
                quit(1); // after the report below
            }
            let per =
                |kib: usize, kib0: usize| (kib.saturating_sub(kib0)) as f64 * 1024.0 / n as f64;
            println!(
            "{n} sleeping tasklets, {} KiB stacks ({}): spawn {:.0} ns each, first run {:.0} ns \
             each, RSS {:.0} MiB in all, {:.0} bytes ({:.2} KiB) per tasklet, page tables {:.0} \
             bytes per tasklet, {} mappings (+{}), {failed} failed",
            stack / 1024,
            if mode.is_guarded() { "guarded" } else { "canary" },
            spawned.as_nanos() as f64 / n as f64,
            (started - spawned).as_nanos() as f64 / n as f64,
            (rss - rss0) as f64 / 1024.0,
            per(rss, rss0),
            per(rss, rss0) / 1024.0,
            per(pte, pte0),
            maps,
            maps.saturating_sub(maps0),
        );
        })
}
