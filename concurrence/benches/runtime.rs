//! Criterion benchmarks of the runtime core: a `yield_` switch between two tasklets, a
//! sequential spawn+join, and spawn+join in batches of 10,000. Run with `cargo bench -p concurrence --bench runtime`.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::time::{Duration, Instant};

use concurrence::{spawn, yield_, Dispatcher};
use criterion::{criterion_group, criterion_main, Criterion};

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

fn switch(c: &mut Criterion) {
    // Two tasklets yield to each other `iters` times each: 2 * iters switches.
    c.bench_function("yield_switch", |b| {
        b.iter_custom(|iters| {
            in_dispatcher(move || {
                let other = spawn(move || {
                    for _ in 0..iters {
                        yield_();
                    }
                });
                let start = Instant::now();
                for _ in 0..iters {
                    yield_();
                }
                let elapsed = start.elapsed();
                other.join().unwrap();
                elapsed / 2
            })
        })
    });
}

fn spawn_join(c: &mut Criterion) {
    c.bench_function("spawn_join_sequential", |b| {
        b.iter_custom(|iters| {
            in_dispatcher(move || {
                let start = Instant::now();
                for i in 0..iters {
                    black_box(spawn(move || black_box(i)).join().unwrap());
                }
                start.elapsed()
            })
        })
    });
}

fn spawn_join_batch(c: &mut Criterion) {
    // Spawn 10,000 tasklets, then join them all: time per tasklet, stacks all live at once.
    const BATCH: u64 = 10_000;
    c.bench_function("spawn_join_batch_10k_per_tasklet", |b| {
        b.iter_custom(|iters| {
            in_dispatcher(move || {
                let start = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = (0..BATCH).map(|i| spawn(move || black_box(i))).collect();
                    black_box(concurrence::join_all(&tasks));
                }
                start.elapsed() / BATCH as u32
            })
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = switch, spawn_join, spawn_join_batch
}
criterion_main!(benches);
