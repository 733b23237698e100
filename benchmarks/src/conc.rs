//! The workloads on concurrence: one dispatcher on the calling thread, or two
//! (`Dispatcher::threads(2)`) for the multi-core workloads.

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{
    current, join_all, message, receive, receive_matching, select, sleep, spawn, spawn_next,
    tasklet, try_receive, wait_for, yield_, Builder, Channel, Dispatcher, StackMode, Tasklet,
};

use crate::{sys, CrossSample, LiveSample, SkynetSample, TimersSample};

message!(
    MSG_PING(u64),
    MSG_PONG(u64),
    MSG_ADD(u64) -> u64,
    MSG_ITEM(u64),
    MSG_COUNT -> u64,
);

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
    run_on(1, f)
}

/// Runs `f` as the first tasklet of a fresh program of `threads` dispatchers (on dispatcher 0)
/// and returns its result.
fn run_on<T: 'static>(threads: usize, f: impl FnOnce() -> T + 'static) -> T {
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
        .threads(threads)
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

#[tasklet(receives = PingerMsg)]
fn select_pinger(rounds: u64) -> Duration {
    let me = current().with_messages::<PingerMsg>().unwrap();
    let ponger = Ponger::new().spawn(me, rounds);
    let start = Instant::now();
    for i in 0..rounds {
        ponger.send(MSG_PING(i)).unwrap();
        let n = select! {
            msg = wait_for::message::<PingerMsg>() => {
                let PingerMsg::MSG_PONG(MSG_PONG(n)) = msg;
                n
            }
        };
        black_box(n);
    }
    let elapsed = start.elapsed();
    ponger.join().unwrap();
    elapsed
}

/// [`ping_pong`] with the pong taken by a `select!` of one arm.
pub fn ping_pong_select(n: u64) -> Duration {
    run(move || SelectPinger::new().spawn(n).join().unwrap())
}

#[tasklet(receives(MSG_ITEM, MSG_COUNT))]
fn picker(n: u64) -> u64 {
    let msg = receive_matching(|m: &PickerMsg| matches!(m, PickerMsg::MSG_COUNT(_)));
    let PickerMsg::MSG_COUNT(MSG_COUNT(reply)) = msg else {
        unreachable!("only the count is accepted")
    };
    let mut items = 0;
    while let Some(PickerMsg::MSG_ITEM(_)) = try_receive::<PickerMsg>() {
        items += 1;
    }
    reply.reply(items);
    assert_eq!(items, n);
    items
}

/// `n` messages a selective receive passes over while it waits for the one it wants.
pub fn selective(n: u64) -> Duration {
    run(move || {
        let picker = Picker::new().spawn(n);
        let start = Instant::now();
        for i in 0..n {
            picker.send(MSG_ITEM(i)).unwrap();
            yield_();
        }
        let counted = picker.call(MSG_COUNT).unwrap();
        let elapsed = start.elapsed();
        assert_eq!(counted, n);
        picker.join().unwrap();
        elapsed
    })
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

/// The root of a skynet tree spread over the program's dispatchers: its ten children go
/// round-robin to the dispatchers (`spawn_next`), and each child's subtree stays on its
/// child's dispatcher.
fn skynet_spread_root(size: u64) -> u64 {
    if size == 1 {
        return 0;
    }
    let step = size / 10;
    let children: Vec<_> = (0..10)
        .map(|i| spawn_next(move || skynet_node(i * step, step)))
        .collect();
    children.iter().map(|c| c.join().unwrap()).sum()
}

/// The skynet tree with `leaves` leaves on two dispatchers: half of the root's children and
/// their subtrees on each.
pub fn skynet_spread(leaves: u64) -> SkynetSample {
    run_on(2, move || {
        let start = Instant::now();
        let sum = spawn(move || skynet_spread_root(leaves)).join().unwrap();
        SkynetSample {
            elapsed: start.elapsed(),
            sum,
            peak_rss: sys::peak_rss(),
        }
    })
}

/// `n` calls from a tasklet on dispatcher 0 to one on dispatcher 1 through its sendable handle
/// (`SendTasklet::call`): the round trip between two cores.
pub fn xd_ping_pong(n: u64) -> CrossSample {
    run_on(2, move || {
        let far = Builder::new()
            .receives::<AdderMsg>()
            .spawn_on(1, move || adder(n + 1));
        // A first call, untimed, waits for the tasklet to start on dispatcher 1.
        far.call(|reply| MSG_ADD(0, reply)).unwrap();
        let cpu = sys::cpu_time();
        let start = Instant::now();
        for i in 0..n {
            black_box(far.call(|reply| MSG_ADD(i, reply)).unwrap());
        }
        let sample = CrossSample {
            elapsed: start.elapsed(),
            cpu: sys::cpu_time() - cpu,
        };
        far.join().unwrap();
        sample
    })
}

/// Counts the items it receives; answers `MSG_COUNT` with the count so far, and ends after
/// answering it `calls` times.
#[tasklet(receives(MSG_ITEM, MSG_COUNT))]
fn sink(calls: u32) {
    let mut count = 0;
    let mut answered = 0;
    for msg in receive::<SinkMsg>() {
        match msg {
            SinkMsg::MSG_ITEM(MSG_ITEM(item)) => {
                black_box(item);
                count += 1;
            }
            SinkMsg::MSG_COUNT(MSG_COUNT(reply)) => {
                reply.reply(count);
                answered += 1;
                if answered == calls {
                    return;
                }
            }
        }
    }
}

/// `n` messages from a tasklet on dispatcher 0 to one on dispatcher 1 (`SendTasklet::send` to
/// an unbounded mailbox), then a call that the receiver answers with how many came.
pub fn xd_one_way(n: u64) -> CrossSample {
    run_on(2, move || {
        let far = Builder::new().receives::<SinkMsg>().spawn_on(1, || sink(2));
        // A first call, untimed, waits for the tasklet to start on dispatcher 1.
        far.call(MSG_COUNT).unwrap();
        let cpu = sys::cpu_time();
        let start = Instant::now();
        for i in 0..n {
            far.send(MSG_ITEM(i)).unwrap();
        }
        let count = far.call(MSG_COUNT).unwrap();
        let sample = CrossSample {
            elapsed: start.elapsed(),
            cpu: sys::cpu_time() - cpu,
        };
        assert_eq!(count, n, "messages lost");
        far.join().unwrap();
        sample
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

/// [`xd_ping_pong`] on one dispatcher, written as its users write it there: the local handle
/// (`MSG_ADD::call`), which needs no port.
pub fn xd_ping_pong_here(n: u64) -> CrossSample {
    run(move || {
        let near = Adder::new().spawn(n);
        let cpu = sys::cpu_time();
        let start = Instant::now();
        for i in 0..n {
            black_box(MSG_ADD::call(&near)(i).unwrap());
        }
        let sample = CrossSample {
            elapsed: start.elapsed(),
            cpu: sys::cpu_time() - cpu,
        };
        near.join().unwrap();
        sample
    })
}

/// [`xd_one_way`] on one dispatcher, with the local handle. The sender never blocks on an
/// unbounded mailbox, so the receiver runs only once all are queued.
pub fn xd_one_way_here(n: u64) -> CrossSample {
    run(move || {
        let near = Sink::new().spawn(1);
        let cpu = sys::cpu_time();
        let start = Instant::now();
        for i in 0..n {
            MSG_ITEM::send(&near)(i).unwrap();
        }
        let count = MSG_COUNT::call(&near)().unwrap();
        let sample = CrossSample {
            elapsed: start.elapsed(),
            cpu: sys::cpu_time() - cpu,
        };
        assert_eq!(count, n, "messages lost");
        near.join().unwrap();
        sample
    })
}
