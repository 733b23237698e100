//! Stacks: sizes, modes, reuse, and overflow detection (which aborts: tested in a child process).

use std::hint::black_box;
use std::time::Duration;

use concurrence::{sleep, spawn, yield_, Builder, Dispatcher, StackMode};
use concurrence_tests::{is_child, run, run_child, run_with};

/// Recurses `depth` frames of at least 1 KiB each.
fn deep(depth: u32) -> u64 {
    let frame = black_box([depth as u8; 1024]);
    if depth == 0 {
        frame[0] as u64
    } else {
        deep(depth - 1) + frame[1023] as u64
    }
}

/// What `deep(depth)` returns, computed without recursing.
fn deep_value(depth: u32) -> u64 {
    (1..=depth).map(|d| u64::from(d as u8)).sum()
}

fn deep_diver() -> u64 {
    deep(1_000_000)
}

#[test]
fn every_stack_mode_runs_tasklets() {
    for mode in [StackMode::Auto, StackMode::Guarded, StackMode::Canary] {
        let status = run_with(
            Dispatcher::new().stack_mode(mode).handle_sigint(false),
            move || {
                let tasks: Vec<_> = (0..300u64)
                    .map(|i| {
                        spawn(move || {
                            sleep(Duration::from_millis(1));
                            deep(20) + i
                        })
                    })
                    .collect();
                for (i, t) in tasks.iter().enumerate() {
                    assert_eq!(t.join().unwrap(), deep(20) + i as u64);
                }
            },
        );
        assert!(status.success(), "{mode:?}: {status}");
    }
}

#[test]
fn a_larger_stack_size_allows_deeper_recursion() {
    run(|| {
        let t = Builder::new()
            .stack_size(4 * 1024 * 1024)
            .spawn(|| deep(1000));
        assert_eq!(t.join().unwrap(), deep_value(1000));
    });
}

#[test]
fn stacks_are_reused_across_many_sequential_tasklets() {
    run(|| {
        for i in 0..20_000u32 {
            assert_eq!(spawn(move || i).join().unwrap(), i);
        }
    });
}

#[test]
fn a_guarded_stack_overflow_aborts_naming_the_tasklet() {
    const NAME: &str = "a_guarded_stack_overflow_aborts_naming_the_tasklet";
    if is_child(NAME) {
        let _ = Dispatcher::new().stack_mode(StackMode::Guarded).run(|| {
            // Named after its function: the handler trims the type name without allocating.
            let t = spawn(deep_diver);
            let _ = t.join();
        });
        return;
    }
    let out = run_child(NAME);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("tasklet 'deep_diver' (#2) overflowed its stack"),
        "stderr: {stderr}"
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{:?}", out.status);
}

#[test]
fn a_canary_stack_overflow_is_detected_at_the_next_suspension() {
    const NAME: &str = "a_canary_stack_overflow_is_detected_at_the_next_suspension";
    if is_child(NAME) {
        let _ = Dispatcher::new().stack_mode(StackMode::Canary).run(|| {
            // The first canary stack of a chunk sits on the chunk's guard page; the second has
            // a canary below it, in the first one's reserved top bytes.
            let neighbour = spawn(|| sleep(Duration::from_secs(3600)));
            yield_();
            let t = Builder::new().name("overflower").spawn(|| {
                black_box(deep(90)); // about 100 KiB on a 64 KiB stack
                yield_();
            });
            let _ = t.join();
            neighbour.kill();
        });
        return;
    }
    let out = run_child(NAME);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "tasklet 'overflower' (#3) overflowed its stack of 65472 bytes (canary damaged)"
        ),
        "stderr: {stderr}"
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{:?}", out.status);
}

#[test]
fn a_tiny_stack_size_is_raised_to_the_minimum() {
    run(|| {
        // Six frames of 1 KiB or more (about 12 KiB unoptimised): more than a 1-byte or a
        // 4 KiB stack holds, less than the minimum.
        let t = Builder::new().stack_size(1).spawn(|| deep(5));
        assert_eq!(t.join().unwrap(), deep_value(5));
    });
}
