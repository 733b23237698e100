//! Every workload runs at a tiny size on every runtime that is built (concurrence and OS
//! threads always; tokio, may and the actor libraries with the `peers` feature) and gives a
//! sane figure. The figures themselves are the runner's business, not a test's.

use concurrence_benchmarks::{measure, Runtime, Sample, Workload};

fn size(workload: Workload) -> u64 {
    match workload {
        Workload::Skynet => 1_000,
        Workload::Timers => 200,
        Workload::XdOneWay => 3_000,
        _ => 300,
    }
}

#[test]
fn every_workload_runs_at_a_tiny_size_on_concurrence() {
    for workload in Workload::ALL {
        let sample = measure(Runtime::Concurrence, workload, size(workload))
            .unwrap_or_else(|| panic!("concurrence lacks {}", workload.name()));
        assert!(
            sample.value.is_finite() && sample.value > 0.0,
            "{workload:?}: {sample}"
        );
        if workload == Workload::ManyLive {
            assert_eq!(sample.failed, Some(0), "{sample}");
        }
        if workload == Workload::Timers {
            // Sleeps of 1..=100 ms: the last wakes after about 100 ms.
            assert!(sample.value >= 90.0, "{sample}");
        }
    }
}

/// The workloads on two dispatchers: those that cross cores and skynet, each with a sane figure
/// (and, for the ones that cross cores, the CPU time both dispatchers spent).
#[test]
fn the_workloads_across_cores_and_skynet_run_at_a_tiny_size_on_two_dispatchers() {
    for workload in Workload::ALL {
        let sample = measure(Runtime::Concurrence2, workload, size(workload));
        if !workload.crosses_cores() && workload != Workload::Skynet {
            assert_eq!(sample, None, "{workload:?} is a one-core workload");
            continue;
        }
        let sample = sample.unwrap_or_else(|| panic!("conc-2 lacks {}", workload.name()));
        assert!(
            sample.value.is_finite() && sample.value > 0.0,
            "{workload:?}: {sample}"
        );
        if workload.crosses_cores() {
            let cpu = sample.extra.expect("the CPU time");
            assert!(cpu.is_finite() && cpu > 0.0, "{workload:?}: {sample}");
        }
    }
}

#[test]
fn the_workloads_os_threads_have_run_at_a_tiny_size() {
    let mut ran = 0;
    for workload in Workload::ALL {
        if let Some(sample) = measure(Runtime::Threads, workload, 50) {
            assert!(sample.value > 0.0, "{workload:?}: {sample}");
            ran += 1;
        }
    }
    // The two that cross cores use crossbeam's channels, a peers dependency.
    let expected = if cfg!(feature = "peers") { 6 } else { 4 };
    assert_eq!(
        ran, expected,
        "ping-pong, call-reply, channel, spawn-join-seq (and xd-ping-pong, xd-one-way)"
    );
}

#[cfg(feature = "peers")]
#[test]
fn every_workload_runs_at_a_tiny_size_on_tokio() {
    for runtime in [Runtime::TokioCurrentThread, Runtime::TokioMultiThread2] {
        for workload in Workload::ALL {
            let sample = measure(runtime, workload, size(workload));
            if runtime == Runtime::TokioCurrentThread && workload.crosses_cores() {
                assert_eq!(sample, None, "one thread cannot cross cores");
                continue;
            }
            let sample = sample.expect("tokio has them all");
            assert!(sample.value > 0.0, "{runtime:?} {workload:?}: {sample}");
        }
    }
}

/// The typed-actor libraries have the one-core message rows, and no others.
#[cfg(feature = "peers")]
#[test]
fn the_actor_libraries_run_their_three_workloads_at_a_tiny_size() {
    let theirs = [
        Workload::PingPong,
        Workload::CallReply,
        Workload::SpawnJoinSeq,
    ];
    for runtime in [Runtime::Actix, Runtime::Ractor, Runtime::Kameo] {
        for workload in Workload::ALL {
            let sample = measure(runtime, workload, size(workload));
            if !theirs.contains(&workload) {
                assert_eq!(sample, None, "{runtime:?} has no {workload:?}");
                continue;
            }
            let sample = sample.unwrap_or_else(|| panic!("{runtime:?} lacks {workload:?}"));
            assert!(
                sample.value.is_finite() && sample.value > 0.0,
                "{runtime:?} {workload:?}: {sample}"
            );
        }
    }
}

#[test]
fn samples_print_and_parse_back() {
    let sample = Sample {
        value: 12.5,
        extra: Some(3.0),
        failed: Some(0),
    };
    assert_eq!(Sample::parse(&sample.to_string()), Some(sample));
    assert_eq!(Sample::parse("nonsense"), None);
}
