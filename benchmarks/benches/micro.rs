//! Criterion benchmarks of the short workloads, concurrence beside its peers in one run:
//! `cargo bench -p concurrence-benchmarks --features peers --bench micro`. Without the `peers`
//! feature only concurrence and OS threads run; the actor libraries (actix, ractor, kameo) run
//! in the rows they have: ping-pong, call-reply and spawn-join-seq. (may runs with its default
//! workers here: its worker count is per process; the runner measures may with 1 worker.)
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::time::Duration;

use concurrence_benchmarks::{measure, Runtime, Workload};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// The runtimes one process can run side by side.
const RUNTIMES: [Runtime; 8] = [
    Runtime::Concurrence,
    Runtime::TokioCurrentThread,
    Runtime::TokioMultiThread2,
    Runtime::MayDefault,
    Runtime::Threads,
    Runtime::Actix,
    Runtime::Ractor,
    Runtime::Kameo,
];

fn workload(c: &mut Criterion, workload: Workload) {
    let mut group = c.benchmark_group(workload.name());
    for runtime in RUNTIMES {
        if measure(runtime, workload, 1).is_none() {
            continue; // the runtime lacks it, or the peers are not built
        }
        group.bench_function(BenchmarkId::from_parameter(runtime.name()), |b| {
            b.iter_custom(|iters| {
                let sample = measure(runtime, workload, iters).expect("measured above");
                Duration::from_nanos((sample.value * iters as f64) as u64)
            })
        });
    }
    group.finish();
}

fn micro(c: &mut Criterion) {
    for w in [
        Workload::Switch,
        Workload::PingPong,
        Workload::CallReply,
        Workload::Channel,
        Workload::SpawnJoinSeq,
    ] {
        workload(c, w);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = micro
}
criterion_main!(benches);
