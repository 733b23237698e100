//! Criterion benchmarks of messaging between two tasklets: a mailbox ping-pong round trip
//! (`send` + `receive` each way), a `call`/`reply` round trip, and a channel round trip. Run
//! with `cargo bench -p concurrence --bench messaging`.
#![allow(missing_docs)] // criterion_group! and the macros generate undocumented items

use std::hint::black_box;
use std::time::{Duration, Instant};

use concurrence::{current, message, receive, spawn, tasklet, Channel, Dispatcher, Tasklet};
use criterion::{criterion_group, criterion_main, Criterion};

message!(MSG_PING(u64), MSG_PONG(u64), MSG_ADD(u64) -> u64);

/// Answers each ping with a pong to `peer`, `rounds` times.
#[tasklet(receives(MSG_PING))]
fn ponger(peer: Tasklet<Box<dyn std::any::Any>, PingerMsg>, rounds: u64) {
    for _ in 0..rounds {
        let PongerMsg::MSG_PING(MSG_PING(n)) = receive().next().unwrap();
        peer.send(MSG_PONG(n + 1)).unwrap();
    }
}

/// Pings a ponger `rounds` times; returns the time per round trip.
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

/// Answers `rounds` calls.
#[tasklet(receives(MSG_ADD))]
fn adder(rounds: u64) {
    let mut inbox = receive::<AdderMsg>();
    for _ in 0..rounds {
        let AdderMsg::MSG_ADD(MSG_ADD(n, reply)) = inbox.next().unwrap();
        reply.reply(n + 1);
    }
}

/// Runs `f` as the first tasklet of a fresh dispatcher and returns what it measured.
fn in_dispatcher(f: impl FnOnce() -> Duration + 'static) -> Duration {
    let out = std::rc::Rc::new(std::cell::Cell::new(Duration::ZERO));
    let o = out.clone();
    let status = Dispatcher::new()
        .handle_sigint(false)
        .run(move || o.set(f()));
    assert!(status.success());
    out.get()
}

fn ping_pong(c: &mut Criterion) {
    c.bench_function("mailbox_ping_pong_round_trip", |b| {
        b.iter_custom(|iters| in_dispatcher(move || Pinger::new().spawn(iters).join().unwrap()))
    });
}

fn call_reply(c: &mut Criterion) {
    c.bench_function("call_reply_round_trip", |b| {
        b.iter_custom(|iters| {
            in_dispatcher(move || {
                let adder = Adder::new().spawn(iters);
                let start = Instant::now();
                for i in 0..iters {
                    black_box(adder.call(|reply| MSG_ADD(i, reply)).unwrap());
                }
                let elapsed = start.elapsed();
                adder.join().unwrap();
                elapsed
            })
        })
    });
}

fn channel_round_trip(c: &mut Criterion) {
    c.bench_function("channel_round_trip", |b| {
        b.iter_custom(|iters| {
            in_dispatcher(move || {
                let (there, back) = (Channel::new(), Channel::new());
                let echo = {
                    let (there, back) = (there.clone(), back.clone());
                    spawn(move || {
                        for _ in 0..iters {
                            back.send(there.receive() + 1);
                        }
                    })
                };
                let start = Instant::now();
                for i in 0..iters {
                    there.send(i);
                    black_box(back.receive());
                }
                let elapsed = start.elapsed();
                echo.join().unwrap();
                elapsed
            })
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = ping_pong, call_reply, channel_round_trip
}
criterion_main!(benches);
