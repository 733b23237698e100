//! The workloads on concurrence: one dispatcher on the calling thread.

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{
    current, join_all, message, receive, sleep, spawn, tasklet, yield_, Channel, Dispatcher,
    StackMode, Tasklet,
};

use crate::{sys, LiveSample, SkynetSample, TimersSample};

message!(MSG_PING(u64), MSG_PONG(u64), MSG_ADD(u64) -> u64);

thread_local! {
    /// Whether the workloads run with compact stacks (`set_compact`).
    static COMPACT: Cell<bool> = const { Cell::new(false) };
}

/// Makes the workloads run this thread's dispatchers with compact stacks (`true`) or with the
/// default, guarded ones.
pub fn set_compact(compact: bool) {
    COMPACT.with(|c| c.set(compact));
}

/// Runs `f` as the first tasklet of a fresh dispatcher and returns its result.
fn run<T: 'static>(f: impl FnOnce() -> T + 'static) -> T {
    let out = Rc::new(Cell::new(None));
    let slot = out.clone();
    let mode = if COMPACT.with(Cell::get) {
        // SAFETY: the benchmarks' tasklets lend nothing on their stacks to anyone across a
        // suspension: they share values through messages, mailboxes and channels.
        unsafe { StackMode::compact() }
    } else {
        StackMode::GUARDED
    };
    let status = Dispatcher::new()
        .handle_sigint(false)
        .stack_mode(mode)
        .run(move || slot.set(Some(f())));
    assert!(status.success(), "{status}");
    out.take().expect("the first tasklet returned")
}

/// Two tasklets alternately `yield_()`, `n` times each: time per switch.
pub fn switch(n: u64) -> Duration {
    run(move || {
        let other = spawn(move || {
            for _ in 0..n {
                yield_();
            }
        });
        let start = Instant::now();
        for _ in 0..n {
            yield_();
        }
        let elapsed = start.elapsed();
        other.join().unwrap();
        elapsed / 2
    })
}

#[tasklet(receives(MSG_PING))]
fn ponger(peer: Tasklet<Box<dyn std::any::Any>, PingerMsg>, rounds: u64) {
    let mut inbox = receive::<PongerMsg>();
    for _ in 0..rounds {
        let PongerMsg::MSG_PING(MSG_PING(n)) = inbox.next().unwrap();
        peer.send(MSG_PONG(n + 1)).unwrap();
    }
}

#[tasklet(receives(MSG_PONG))]
fn pinger(rounds: u64) -> Duration {
    let me = current().with_messages::<PingerMsg>().unwrap();
    let ponger = Ponger::new().spawn(me, rounds);
    let mut inbox = receive::<PingerMsg>();
    let start = Instant::now();
    for i in 0..rounds {
        ponger.send(MSG_PING(i)).unwrap();
        let PingerMsg::MSG_PONG(MSG_PONG(n)) = inbox.next().unwrap();
        black_box(n);
    }
    let elapsed = start.elapsed();
    ponger.join().unwrap();
    elapsed
}

/// `n` round trips of a message through the two tasklets' mailboxes.
pub fn ping_pong(n: u64) -> Duration {
    run(move || Pinger::new().spawn(n).join().unwrap())
}

#[tasklet(receives(MSG_ADD))]
fn adder(rounds: u64) {
    let mut inbox = receive::<AdderMsg>();
    for _ in 0..rounds {
        let AdderMsg::MSG_ADD(MSG_ADD(n, reply)) = inbox.next().unwrap();
        reply.reply(n + 1);
    }
}

/// `n` calls answered by `reply`.
pub fn call_reply(n: u64) -> Duration {
    run(move || {
        let adder = Adder::new().spawn(n);
        let start = Instant::now();
        for i in 0..n {
            black_box(MSG_ADD::call(&adder)(i).unwrap());
        }
        let elapsed = start.elapsed();
        adder.join().unwrap();
        elapsed
    })
}

/// `n` round trips through two rendezvous channels.
pub fn channel(n: u64) -> Duration {
    run(move || {
        let (there, back) = (Channel::new(), Channel::new());
        let echo = {
            let (there, back) = (there.clone(), back.clone());
            spawn(move || {
                for _ in 0..n {
                    back.send(there.receive() + 1);
                }
            })
        };
        let start = Instant::now();
        for i in 0..n {
            there.send(i);
            black_box(back.receive());
        }
        let elapsed = start.elapsed();
        echo.join().unwrap();
        elapsed
    })
}

/// Spawn a tasklet, join it, `n` times.
pub fn spawn_join_seq(n: u64) -> Duration {
    run(move || {
        let start = Instant::now();
        for i in 0..n {
            black_box(spawn(move || black_box(i)).join().unwrap());
        }
        start.elapsed()
    })
}

/// Spawn `n` tasklets, then join them all.
pub fn spawn_join_batch(n: u64) -> Duration {
    run(move || {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n).map(|i| spawn(move || black_box(i))).collect();
        let sum: u64 = join_all(&tasks).into_iter().map(Result::unwrap).sum();
        black_box(sum);
        start.elapsed()
    })
}

fn skynet_node(num: u64, size: u64) -> u64 {
    if size == 1 {
        return num;
    }
    let step = size / 10;
    let children: Vec<_> = (0..10)
        .map(|i| spawn(move || skynet_node(num + i * step, step)))
        .collect();
    join_all(&children).into_iter().map(Result::unwrap).sum()
}

/// The skynet tree with `leaves` leaves (a power of 10), summed through joins.
pub fn skynet(leaves: u64) -> SkynetSample {
    run(move || {
        let start = Instant::now();
        let sum = spawn(move || skynet_node(0, leaves)).join().unwrap();
        SkynetSample {
            elapsed: start.elapsed(),
            sum,
            peak_rss: sys::peak_rss(),
        }
    })
}

thread_local! {
    /// How many sleepers have started (a counter their closures need not capture: a closure
    /// without captures costs no allocation, so it does not inflate the memory measured).
    static ASLEEP: Cell<u64> = const { Cell::new(0) };
}

/// `n` tasklets sleeping at once.
pub fn many_live(n: u64) -> LiveSample {
    run(move || {
        let before = sys::current_rss();
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                spawn(|| {
                    ASLEEP.with(|a| a.set(a.get() + 1));
                    sleep(Duration::from_secs(3600))
                })
            })
            .collect();
        let spawned = start.elapsed();
        // Let every one run up to its sleep: each then holds a stack.
        while ASLEEP.with(Cell::get) < n {
            yield_();
        }
        let started = start.elapsed();
        let failed = tasks.iter().filter(|t| t.has_finished()).count() as u64;
        let rss = sys::current_rss().saturating_sub(before);
        for t in &tasks {
            t.kill();
        }
        LiveSample {
            spawn: spawned,
            start: started,
            rss,
            failed,
        }
    })
}

/// `sleeps.len()` tasklets, each sleeping its time once.
pub fn timers(sleeps: Vec<Duration>) -> TimersSample {
    run(move || {
        let cpu = sys::cpu_time();
        let start = Instant::now();
        let tasks: Vec<_> = sleeps
            .into_iter()
            .map(|d| spawn(move || sleep(d)))
            .collect();
        for t in &tasks {
            t.join().unwrap();
        }
        TimersSample {
            wall: start.elapsed(),
            cpu: sys::cpu_time() - cpu,
        }
    })
}
