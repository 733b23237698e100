//! The workloads on OS threads, where they make sense: message round trips through
//! `std::sync::mpsc` and spawning a thread to join it.

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// `n` round trips of a message through two mpsc channels between two threads.
pub fn ping_pong(n: u64) -> Duration {
    let (to_pong, pong_rx) = mpsc::channel::<u64>();
    let (to_ping, ping_rx) = mpsc::channel::<u64>();
    let ponger = thread::spawn(move || {
        while let Ok(n) = pong_rx.recv() {
            to_ping.send(n + 1).unwrap();
        }
    });
    let start = Instant::now();
    for i in 0..n {
        to_pong.send(i).unwrap();
        black_box(ping_rx.recv().unwrap());
    }
    let elapsed = start.elapsed();
    drop(to_pong);
    ponger.join().unwrap();
    elapsed
}

/// `n` calls: a request with a rendezvous reply channel of its own through an mpsc.
pub fn call_reply(n: u64) -> Duration {
    let (tx, rx) = mpsc::channel::<(u64, mpsc::SyncSender<u64>)>();
    let adder = thread::spawn(move || {
        while let Ok((n, reply)) = rx.recv() {
            let _ = reply.send(n + 1);
        }
    });
    let start = Instant::now();
    for i in 0..n {
        let (reply, answer) = mpsc::sync_channel(1);
        tx.send((i, reply)).unwrap();
        black_box(answer.recv().unwrap());
    }
    let elapsed = start.elapsed();
    drop(tx);
    adder.join().unwrap();
    elapsed
}

/// `n` round trips through two rendezvous channels (`sync_channel(0)`).
pub fn channel(n: u64) -> Duration {
    let (there, there_rx) = mpsc::sync_channel::<u64>(0);
    let (back, back_rx) = mpsc::sync_channel::<u64>(0);
    let echo = thread::spawn(move || {
        while let Ok(n) = there_rx.recv() {
            back.send(n + 1).unwrap();
        }
    });
    let start = Instant::now();
    for i in 0..n {
        there.send(i).unwrap();
        black_box(back_rx.recv().unwrap());
    }
    let elapsed = start.elapsed();
    drop(there);
    echo.join().unwrap();
    elapsed
}

/// Spawn a thread, join it, `n` times.
pub fn spawn_join_seq(n: u64) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        black_box(thread::spawn(move || black_box(i)).join().unwrap());
    }
    start.elapsed()
}
