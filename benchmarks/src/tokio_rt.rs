//! The workloads on tokio: the current-thread runtime with a `LocalSet` (`spawn_local`), or the
//! multi-thread runtime with two workers (`spawn`). Written as a tokio user would. The
//! multi-core workloads (`xd_*`) run on the multi-thread runtime only, both parties spawned as
//! tasks: tokio, not the workload, decides which worker runs which.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::{yield_now, JoinHandle};

use crate::{sys, CrossSample, LiveSample, SkynetSample, TimersSample};

/// Which tokio runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `new_current_thread` with a `LocalSet`.
    CurrentThread,
    /// `new_multi_thread` with two workers.
    MultiThread2,
}

fn block_on<F: Future>(flavor: Flavor, f: F) -> F::Output {
    match flavor {
        Flavor::CurrentThread => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            tokio::task::LocalSet::new().block_on(&rt, f)
        }
        Flavor::MultiThread2 => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_time()
                .build()
                .unwrap();
            rt.block_on(f)
        }
    }
}

/// Spawns on the flavor's executor: `spawn_local` inside the `LocalSet`, `spawn` otherwise.
fn go<F>(flavor: Flavor, f: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match flavor {
        Flavor::CurrentThread => tokio::task::spawn_local(f),
        Flavor::MultiThread2 => tokio::spawn(f),
    }
}

/// Two tasks alternately `yield_now()`, `n` times each: time per switch.
pub fn switch(flavor: Flavor, n: u64) -> Duration {
    block_on(flavor, async move {
        let other = go(flavor, async move {
            for _ in 0..n {
                yield_now().await;
            }
        });
        let start = Instant::now();
        for _ in 0..n {
            yield_now().await;
        }
        let elapsed = start.elapsed();
        other.await.unwrap();
        elapsed / 2
    })
}

/// `n` round trips of a message through two unbounded mpsc channels.
pub fn ping_pong(flavor: Flavor, n: u64) -> Duration {
    block_on(flavor, async move {
        let (to_pong, mut pong_rx) = mpsc::unbounded_channel::<u64>();
        let (to_ping, mut ping_rx) = mpsc::unbounded_channel::<u64>();
        let ponger = go(flavor, async move {
            while let Some(n) = pong_rx.recv().await {
                to_ping.send(n + 1).unwrap();
            }
        });
        let start = Instant::now();
        for i in 0..n {
            to_pong.send(i).unwrap();
            black_box(ping_rx.recv().await.unwrap());
        }
        let elapsed = start.elapsed();
        drop(to_pong);
        ponger.await.unwrap();
        elapsed
    })
}

/// `n` calls: a request with a oneshot reply channel through an unbounded mpsc.
pub fn call_reply(flavor: Flavor, n: u64) -> Duration {
    block_on(flavor, async move {
        let (tx, mut rx) = mpsc::unbounded_channel::<(u64, oneshot::Sender<u64>)>();
        let adder = go(flavor, async move {
            while let Some((n, reply)) = rx.recv().await {
                let _ = reply.send(n + 1);
            }
        });
        let start = Instant::now();
        for i in 0..n {
            let (reply, answer) = oneshot::channel();
            tx.send((i, reply)).unwrap();
            black_box(answer.await.unwrap());
        }
        let elapsed = start.elapsed();
        drop(tx);
        adder.await.unwrap();
        elapsed
    })
}

/// `n` round trips through two bounded mpsc channels of capacity 1 (tokio has no rendezvous
/// channel; this is the closest).
pub fn channel(flavor: Flavor, n: u64) -> Duration {
    block_on(flavor, async move {
        let (there, mut there_rx) = mpsc::channel::<u64>(1);
        let (back, mut back_rx) = mpsc::channel::<u64>(1);
        let echo = go(flavor, async move {
            while let Some(n) = there_rx.recv().await {
                back.send(n + 1).await.unwrap();
            }
        });
        let start = Instant::now();
        for i in 0..n {
            there.send(i).await.unwrap();
            black_box(back_rx.recv().await.unwrap());
        }
        let elapsed = start.elapsed();
        drop(there);
        echo.await.unwrap();
        elapsed
    })
}

/// Spawn a task, await it, `n` times.
pub fn spawn_join_seq(flavor: Flavor, n: u64) -> Duration {
    block_on(flavor, async move {
        let start = Instant::now();
        for i in 0..n {
            black_box(go(flavor, async move { black_box(i) }).await.unwrap());
        }
        start.elapsed()
    })
}

/// Spawn `n` tasks, then await them all.
pub fn spawn_join_batch(flavor: Flavor, n: u64) -> Duration {
    block_on(flavor, async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|i| go(flavor, async move { black_box(i) }))
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        black_box(sum);
        start.elapsed()
    })
}

fn skynet_node(flavor: Flavor, num: u64, size: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let step = size / 10;
        let children: Vec<_> = (0..10)
            .map(|i| go(flavor, skynet_node(flavor, num + i * step, step)))
            .collect();
        let mut sum = 0;
        for c in children {
            sum += c.await.unwrap();
        }
        sum
    })
}

/// The skynet tree with `leaves` leaves, summed through awaited join handles.
pub fn skynet(flavor: Flavor, leaves: u64) -> SkynetSample {
    block_on(flavor, async move {
        let start = Instant::now();
        let sum = go(flavor, skynet_node(flavor, 0, leaves)).await.unwrap();
        SkynetSample {
            elapsed: start.elapsed(),
            sum,
            peak_rss: sys::peak_rss(),
        }
    })
}

/// `n` tasks sleeping at once.
pub fn many_live(flavor: Flavor, n: u64) -> LiveSample {
    block_on(flavor, async move {
        let before = sys::current_rss();
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| go(flavor, tokio::time::sleep(Duration::from_secs(3600))))
            .collect();
        let spawned = start.elapsed();
        // Let every task run once and register its timer.
        tokio::time::sleep(Duration::from_millis(10)).await;
        yield_now().await;
        let started = start.elapsed();
        let failed = tasks.iter().filter(|t| t.is_finished()).count() as u64;
        let rss = sys::current_rss().saturating_sub(before);
        for t in &tasks {
            t.abort();
        }
        LiveSample {
            spawn: spawned,
            start: started,
            rss,
            failed,
        }
    })
}

/// `sleeps.len()` tasks, each sleeping its time once.
pub fn timers(flavor: Flavor, sleeps: Vec<Duration>) -> TimersSample {
    block_on(flavor, async move {
        let cpu = sys::cpu_time();
        let start = Instant::now();
        let tasks: Vec<_> = sleeps
            .into_iter()
            .map(|d| go(flavor, tokio::time::sleep(d)))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        TimersSample {
            wall: start.elapsed(),
            cpu: sys::cpu_time() - cpu,
        }
    })
}

/// `n` round trips of a message between two tasks on the 2-worker runtime, through two
/// unbounded mpsc channels.
pub fn xd_ping_pong(n: u64) -> CrossSample {
    block_on(Flavor::MultiThread2, async move {
        let (to_pong, mut pong_rx) = mpsc::unbounded_channel::<u64>();
        let (to_ping, mut ping_rx) = mpsc::unbounded_channel::<u64>();
        let ponger = tokio::spawn(async move {
            while let Some(n) = pong_rx.recv().await {
                to_ping.send(n + 1).unwrap();
            }
        });
        let pinger = tokio::spawn(async move {
            // A first round trip, untimed, as on the other runtimes.
            to_pong.send(0).unwrap();
            ping_rx.recv().await.unwrap();
            let cpu = sys::cpu_time();
            let start = Instant::now();
            for i in 0..n {
                to_pong.send(i).unwrap();
                black_box(ping_rx.recv().await.unwrap());
            }
            CrossSample {
                elapsed: start.elapsed(),
                cpu: sys::cpu_time() - cpu,
            }
        });
        let sample = pinger.await.unwrap();
        ponger.await.unwrap();
        sample
    })
}

/// What the one-way receiver gets: an item, or a request to say how many items came.
enum Item {
    Item(u64),
    Count(oneshot::Sender<u64>),
}

/// `n` messages from one task to another on the 2-worker runtime through an unbounded mpsc
/// channel, then a request the receiver answers with how many came.
pub fn xd_one_way(n: u64) -> CrossSample {
    block_on(Flavor::MultiThread2, async move {
        let (tx, mut rx) = mpsc::unbounded_channel::<Item>();
        let sink = tokio::spawn(async move {
            let mut count = 0;
            while let Some(item) = rx.recv().await {
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
        let sender = tokio::spawn(async move {
            // A first handshake, untimed, as on the other runtimes.
            let (reply, answer) = oneshot::channel();
            tx.send(Item::Count(reply))
                .unwrap_or_else(|_| panic!("the receiver ended"));
            answer.await.unwrap();
            let cpu = sys::cpu_time();
            let start = Instant::now();
            for i in 0..n {
                tx.send(Item::Item(i))
                    .unwrap_or_else(|_| panic!("the receiver ended"));
            }
            let (reply, answer) = oneshot::channel();
            tx.send(Item::Count(reply))
                .unwrap_or_else(|_| panic!("the receiver ended"));
            let count = answer.await.unwrap();
            let sample = CrossSample {
                elapsed: start.elapsed(),
                cpu: sys::cpu_time() - cpu,
            };
            assert_eq!(count, n, "messages lost");
            sample
        });
        let sample = sender.await.unwrap();
        sink.await.unwrap();
        sample
    })
}
