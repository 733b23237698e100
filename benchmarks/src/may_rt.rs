//! The workloads on may: coroutines spawned with `go!`, joined through their handles, talking
//! through `may::sync` channels. The worker count is may's process-wide setting, chosen before
//! the first coroutine (see `configure`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use may::coroutine::{sleep, yield_now};
use may::go;
use may::sync::mpsc;

use crate::{sys, CrossSample, LiveSample, SkynetSample, TimersSample};

/// Sets may's worker threads (0: its default, one per core). Must come before any coroutine.
pub fn configure(workers: usize) {
    if workers > 0 {
        may::config().set_workers(workers);
    }
}

/// Runs `f` in a coroutine and waits for it from this thread.
fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    go!(f).join().expect("the coroutine did not panic")
}

/// Two coroutines alternately `yield_now()`, `n` times each: time per switch.
pub fn switch(n: u64) -> Duration {
    run(move || {
        let other = go!(move || {
            for _ in 0..n {
                yield_now();
            }
        });
        let start = Instant::now();
        for _ in 0..n {
            yield_now();
        }
        let elapsed = start.elapsed();
        other.join().unwrap();
        elapsed / 2
    })
}

/// `n` round trips of a message through two mpsc channels.
pub fn ping_pong(n: u64) -> Duration {
    run(move || {
        let (to_pong, pong_rx) = mpsc::channel::<u64>();
        let (to_ping, ping_rx) = mpsc::channel::<u64>();
        let ponger = go!(move || {
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
    })
}

/// `n` calls: a request with a reply channel of its own (may has no oneshot) through an mpsc.
pub fn call_reply(n: u64) -> Duration {
    run(move || {
        let (tx, rx) = mpsc::channel::<(u64, mpsc::Sender<u64>)>();
        let adder = go!(move || {
            while let Ok((n, reply)) = rx.recv() {
                let _ = reply.send(n + 1);
            }
        });
        let start = Instant::now();
        for i in 0..n {
            let (reply, answer) = mpsc::channel();
            tx.send((i, reply)).unwrap();
            black_box(answer.recv().unwrap());
        }
        let elapsed = start.elapsed();
        drop(tx);
        adder.join().unwrap();
        elapsed
    })
}

/// Spawn a coroutine, join it, `n` times.
pub fn spawn_join_seq(n: u64) -> Duration {
    run(move || {
        let start = Instant::now();
        for i in 0..n {
            black_box(go!(move || black_box(i)).join().unwrap());
        }
        start.elapsed()
    })
}

/// Spawn `n` coroutines, then join them all.
pub fn spawn_join_batch(n: u64) -> Duration {
    run(move || {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n).map(|i| go!(move || black_box(i))).collect();
        let sum: u64 = tasks.into_iter().map(|t| t.join().unwrap()).sum();
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
        .map(|i| go!(move || skynet_node(num + i * step, step)))
        .collect();
    children.into_iter().map(|c| c.join().unwrap()).sum()
}

/// The skynet tree with `leaves` leaves, summed through joins.
pub fn skynet(leaves: u64) -> SkynetSample {
    run(move || {
        let start = Instant::now();
        let sum = go!(move || skynet_node(0, leaves)).join().unwrap();
        SkynetSample {
            elapsed: start.elapsed(),
            sum,
            peak_rss: sys::peak_rss(),
        }
    })
}

/// `n` coroutines sleeping at once. may panics when it cannot map a stack; such a run fails.
pub fn many_live(n: u64) -> LiveSample {
    run(move || {
        let before = sys::current_rss();
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| go!(|| sleep(Duration::from_secs(3600))))
            .collect();
        let spawned = start.elapsed();
        sleep(Duration::from_millis(10));
        let started = start.elapsed();
        let failed = tasks.iter().filter(|t| t.is_done()).count() as u64;
        let rss = sys::current_rss().saturating_sub(before);
        for t in &tasks {
            // SAFETY: may's `cancel` is unsafe because the coroutine unwinds where it blocks;
            // these only sleep and hold nothing that unwinding could leave inconsistent.
            unsafe { t.coroutine().cancel() };
        }
        LiveSample {
            spawn: spawned,
            start: started,
            rss,
            failed,
        }
    })
}

/// `sleeps.len()` coroutines, each sleeping its time once.
pub fn timers(sleeps: Vec<Duration>) -> TimersSample {
    run(move || {
        let cpu = sys::cpu_time();
        let start = Instant::now();
        let tasks: Vec<_> = sleeps.into_iter().map(|d| go!(move || sleep(d))).collect();
        for t in tasks {
            t.join().unwrap();
        }
        TimersSample {
            wall: start.elapsed(),
            cpu: sys::cpu_time() - cpu,
        }
    })
}

/// `n` round trips of a message between two coroutines through two mpsc channels (configure 2
/// workers: may, not the workload, decides which worker runs which).
pub fn xd_ping_pong(n: u64) -> CrossSample {
    run(move || {
        let (to_pong, pong_rx) = mpsc::channel::<u64>();
        let (to_ping, ping_rx) = mpsc::channel::<u64>();
        let ponger = go!(move || {
            while let Ok(n) = pong_rx.recv() {
                to_ping.send(n + 1).unwrap();
            }
        });
        // A first round trip, untimed, as on the other runtimes.
        to_pong.send(0).unwrap();
        ping_rx.recv().unwrap();
        let cpu = sys::cpu_time();
        let start = Instant::now();
        for i in 0..n {
            to_pong.send(i).unwrap();
            black_box(ping_rx.recv().unwrap());
        }
        let sample = CrossSample {
            elapsed: start.elapsed(),
            cpu: sys::cpu_time() - cpu,
        };
        drop(to_pong);
        ponger.join().unwrap();
        sample
    })
}

/// What the one-way receiver gets: an item, or a request to say how many items came.
enum Item {
    Item(u64),
    Count(mpsc::Sender<u64>),
}

/// `n` messages from one coroutine to another through an mpsc channel, then a request the
/// receiver answers with how many came (configure 2 workers).
pub fn xd_one_way(n: u64) -> CrossSample {
    run(move || {
        let (tx, rx) = mpsc::channel::<Item>();
        let sink = go!(move || {
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
        let (reply, answer) = mpsc::channel();
        tx.send(Item::Count(reply))
            .unwrap_or_else(|_| panic!("the receiver ended"));
        answer.recv().unwrap();
        let cpu = sys::cpu_time();
        let start = Instant::now();
        for i in 0..n {
            tx.send(Item::Item(i))
                .unwrap_or_else(|_| panic!("the receiver ended"));
        }
        let (reply, answer) = mpsc::channel();
        tx.send(Item::Count(reply))
            .unwrap_or_else(|_| panic!("the receiver ended"));
        let count = answer.recv().unwrap();
        let sample = CrossSample {
            elapsed: start.elapsed(),
            cpu: sys::cpu_time() - cpu,
        };
        assert_eq!(count, n, "messages lost");
        drop(tx); // the receiver's end
        sink.join().unwrap();
        sample
    })
}
