//! The workloads on OS threads, where they make sense: message round trips through
//! `std::sync::mpsc` and spawning a thread to join it; and, with the `peers` feature, the
//! multi-core workloads between two threads through crossbeam channels.

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

/// `n` round trips of a message between two threads through two unbounded crossbeam channels.
#[cfg(feature = "peers")]
pub fn xd_ping_pong(n: u64) -> crate::CrossSample {
    use crossbeam_channel::unbounded;
    let (to_pong, pong_rx) = unbounded::<u64>();
    let (to_ping, ping_rx) = unbounded::<u64>();
    let ponger = thread::spawn(move || {
        while let Ok(n) = pong_rx.recv() {
            to_ping.send(n + 1).unwrap();
        }
    });
    // A first round trip, untimed, as on the other runtimes.
    to_pong.send(0).unwrap();
    ping_rx.recv().unwrap();
    let cpu = crate::sys::cpu_time();
    let start = Instant::now();
    for i in 0..n {
        to_pong.send(i).unwrap();
        black_box(ping_rx.recv().unwrap());
    }
    let sample = crate::CrossSample {
        elapsed: start.elapsed(),
        cpu: crate::sys::cpu_time() - cpu,
    };
    drop(to_pong);
    ponger.join().unwrap();
    sample
}

/// What the one-way receiver gets: an item, or a request to say how many items came.
#[cfg(feature = "peers")]
enum Item {
    Item(u64),
    Count(crossbeam_channel::Sender<u64>),
}

/// `n` messages from one thread to another through an unbounded crossbeam channel, then a
/// request the receiver answers with how many came.
#[cfg(feature = "peers")]
pub fn xd_one_way(n: u64) -> crate::CrossSample {
    use crossbeam_channel::{bounded, unbounded};
    let (tx, rx) = unbounded::<Item>();
    let sink = thread::spawn(move || {
        let mut count = 0;
        while let Ok(item) = rx.recv() {
            match item {
                Item::Item(item) => {
                    black_box(item);
                    count += 1;
                }
                Item::Count(reply) => {
                    let _ = reply.send(count);
                }
            }
        }
    });
    // A first handshake, untimed, as on the other runtimes.
    let (reply, answer) = bounded(1);
    tx.send(Item::Count(reply))
        .unwrap_or_else(|_| panic!("the receiver ended"));
    answer.recv().unwrap();
    let cpu = crate::sys::cpu_time();
    let start = Instant::now();
    for i in 0..n {
        tx.send(Item::Item(i))
            .unwrap_or_else(|_| panic!("the receiver ended"));
    }
    let (reply, answer) = bounded(1);
    tx.send(Item::Count(reply))
        .unwrap_or_else(|_| panic!("the receiver ended"));
    let count = answer.recv().unwrap();
    let sample = crate::CrossSample {
        elapsed: start.elapsed(),
        cpu: crate::sys::cpu_time() - cpu,
    };
    assert_eq!(count, n, "messages lost");
    drop(tx); // the receiver's end
    sink.join().unwrap();
    sample
}
