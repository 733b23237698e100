//! Stacks: sizes, modes, reuse, trimming, and overflow detection (which aborts: tested in a
//! child process).

use std::hint::black_box;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use concurrence::{sleep, spawn, yield_, Builder, Dispatcher, StackMode};
use concurrence_tests::{
    assert_child_passed, is_child, rss_bytes, run, run_child, run_status_with, run_with,
};

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

/// The unguarded mode, for the tests that compare it with the default.
fn canary() -> StackMode {
    // SAFETY: the tests that use it either stay far within their stacks or overflow on
    // purpose in a child process whose abort is the expected outcome.
    unsafe { StackMode::unguarded_canary() }
}

/// Sleepers past the old guarded-stack budget (a quarter of vm.max_map_count, 16,382 on a
/// stock machine), each on a 64 KiB stack; returns once every one holds its stack.
fn many_sleepers(n: usize) {
    sleepers(n, Builder::new().stack_size(64 * 1024));
}

/// `n` daemon sleepers spawned by `builder`; returns once every one holds its stack.
fn sleepers(n: usize, builder: Builder) {
    let started = std::rc::Rc::new(std::cell::Cell::new(0));
    for _ in 0..n {
        let started = started.clone();
        builder.clone().daemon(true).spawn(move || {
            started.set(started.get() + 1);
            sleep(Duration::from_secs(3600))
        });
    }
    while started.get() < n {
        yield_();
    }
}

/// Asserts that a child ended by SIGABRT after printing `expected` on stderr.
/// A `deep_diver@file:line` name in `expected` stands for any spawn line of this file.
fn assert_aborted_with(out: &std::process::Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let found = match expected.split_once("deep_diver@SITE") {
        Some((before, after)) => stderr
            .split(&format!("{before}deep_diver@{}:", file!()))
            .nth(1)
            .is_some_and(|rest| {
                rest.trim_start_matches(|c: char| c.is_ascii_digit())
                    .starts_with(after)
            }),
        None => stderr.contains(expected),
    };
    assert!(found, "{expected:?} not in stderr: {stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{:?}", out.status);
}

#[test]
fn every_stack_mode_runs_tasklets() {
    // SAFETY: these tasklets lend nothing on their stacks to anyone across a suspension.
    let compact = unsafe { StackMode::compact() };
    for mode in [StackMode::GUARDED, compact, canary()] {
        let status = run_status_with(
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
fn a_64_kib_buffer_on_the_stack_fits_the_default_stack() {
    run(|| {
        let t = spawn(|| {
            let buffer = black_box([7u8; 64 * 1024]);
            let text = format!("{:?}", &buffer[..4]);
            buffer.iter().map(|&b| u64::from(b)).sum::<u64>() + text.len() as u64
        });
        assert_eq!(
            t.join().unwrap(),
            7 * 64 * 1024 + "[7, 7, 7, 7]".len() as u64
        );
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
fn a_tasklet_starts_only_on_a_finished_tasklets_coroutine_of_its_own_stack_size() {
    // A finished tasklet's coroutine waits for the next tasklet; one that asks for a larger
    // stack must get a coroutine of its size (an overflow here would abort the child).
    const NAME: &str =
        "a_tasklet_starts_only_on_a_finished_tasklets_coroutine_of_its_own_stack_size";
    if is_child(NAME) {
        run(|| {
            for i in 0..100u64 {
                let small = Builder::new().stack_size(64 * 1024).spawn(move || i);
                assert_eq!(small.join().unwrap(), i);
            }
            let large = Builder::new()
                .stack_size(4 * 1024 * 1024)
                .spawn(|| deep(1000));
            assert_eq!(large.join().unwrap(), deep_value(1000));
            // And the small ones after it, on their own coroutines again.
            for i in 0..100u64 {
                let small = Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || deep(20) + i);
                assert_eq!(small.join().unwrap(), deep_value(20) + i);
            }
        });
        return;
    }
    assert_child_passed(NAME);
}

#[test]
fn an_overflow_on_a_coroutine_that_ran_another_tasklet_names_the_one_that_overflowed() {
    const NAME: &str =
        "an_overflow_on_a_coroutine_that_ran_another_tasklet_names_the_one_that_overflowed";
    if is_child(NAME) {
        let _ = Dispatcher::new().stack_mode(StackMode::GUARDED).run(|| {
            // The first child's coroutine waits for the next tasklet: the diver runs on it.
            assert_eq!(spawn(|| 7).join().unwrap(), 7);
            let t = spawn(deep_diver);
            let _ = t.join();
        });
        return;
    }
    let out = run_child(NAME);
    assert_aborted_with(
        &out,
        "tasklet 'deep_diver@SITE' (#3) overflowed its stack (guard page hit)",
    );
}

#[test]
fn a_guarded_stack_overflow_aborts_naming_the_tasklet() {
    const NAME: &str = "a_guarded_stack_overflow_aborts_naming_the_tasklet";
    if is_child(NAME) {
        let _ = Dispatcher::new().stack_mode(StackMode::GUARDED).run(|| {
            // Named after its function: the handler trims the type name without allocating.
            let t = spawn(deep_diver);
            let _ = t.join();
        });
        return;
    }
    let out = run_child(NAME);
    assert_aborted_with(
        &out,
        "tasklet 'deep_diver@SITE' (#2) overflowed its stack (guard page hit)",
    );
}

#[test]
fn an_overflow_on_a_slot_whose_guard_came_with_a_run_of_slots_is_named() {
    const NAME: &str = "an_overflow_on_a_slot_whose_guard_came_with_a_run_of_slots_is_named";
    if is_child(NAME) {
        let _ = Dispatcher::new().stack_mode(StackMode::GUARDED).run(|| {
            // The main tasklet and five sleepers take slots 0 to 5 of the size class; the guards
            // of slots 4 to 7 are installed at once when slot 4 is carved, so the diver's slot
            // (6) got its guard with a run of slots.
            sleepers(5, Builder::new());
            let t = spawn(deep_diver);
            let _ = t.join();
        });
        return;
    }
    let out = run_child(NAME);
    assert_aborted_with(
        &out,
        "tasklet 'deep_diver@SITE' (#7) overflowed its stack (guard page hit)",
    );
}

#[test]
fn an_infinite_recursion_past_the_old_mapping_budget_is_still_named() {
    const NAME: &str = "an_infinite_recursion_past_the_old_mapping_budget_is_still_named";
    if is_child(NAME) {
        let _ = Dispatcher::new().run(|| {
            many_sleepers(20_000);
            let t = spawn(deep_diver);
            let _ = t.join();
        });
        return;
    }
    let out = run_child(NAME);
    assert_aborted_with(
        &out,
        "tasklet 'deep_diver@SITE' (#20002) overflowed its stack (guard page hit)",
    );
}

/// A frame larger than the whole stack that writes only at its far end: stack probes touch one
/// word a page, which a canary can miss; a guard page cannot be missed.
fn big_frame() -> u8 {
    let mut frame = [0u8; 128 * 1024];
    black_box(&mut frame)[0] = 1;
    black_box(&frame)[0]
}

#[test]
fn a_frame_larger_than_its_stack_faults_in_the_guard_page_and_corrupts_nothing() {
    const NAME: &str =
        "a_frame_larger_than_its_stack_faults_in_the_guard_page_and_corrupts_nothing";
    if is_child(NAME) {
        let status = Dispatcher::new()
            .stack_size(64 * 1024)
            .handle_sigint(false)
            .run(|| {
                many_sleepers(20_000);
                let neighbour = spawn(|| {
                    let marker = black_box([0xA5u8; 512]);
                    sleep(Duration::from_millis(50));
                    marker.iter().all(|&b| b == 0xA5)
                });
                yield_();
                let t = Builder::new().name("big_frame").spawn(big_frame);
                let _ = t.join();
                assert!(
                    neighbour.join().unwrap(),
                    "the neighbour's stack was overwritten"
                );
            });
        println!("ended with {status}");
        return;
    }
    let out = run_child(NAME);
    assert_aborted_with(
        &out,
        "tasklet 'big_frame' (#20003) overflowed its stack (guard page hit)",
    );
}

#[test]
fn an_unguarded_canary_overflow_is_detected_at_the_next_suspension() {
    const NAME: &str = "an_unguarded_canary_overflow_is_detected_at_the_next_suspension";
    if is_child(NAME) {
        let _ = Dispatcher::new()
            .stack_mode(canary())
            .stack_size(64 * 1024)
            .run(|| {
                // The first canary stack of a chunk sits on the chunk's guard page; the second
                // has a canary below it, in the first one's reserved top bytes.
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
    assert_aborted_with(
        &out,
        "tasklet 'overflower' (#3) overflowed its stack of 65472 bytes (canary damaged)",
    );
}

#[test]
fn an_infinite_recursion_on_an_unguarded_canary_stack_is_named() {
    const NAME: &str = "an_infinite_recursion_on_an_unguarded_canary_stack_is_named";
    if is_child(NAME) {
        let _ = Dispatcher::new().stack_mode(canary()).run(|| {
            let neighbour = spawn(|| sleep(Duration::from_secs(3600)));
            yield_();
            let _ = spawn(deep_diver).join();
            neighbour.kill();
        });
        return;
    }
    let out = run_child(NAME);
    assert_aborted_with(&out, "tasklet 'deep_diver@SITE' (#3) overflowed its stack");
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

#[test]
fn a_stack_that_went_deep_gives_its_memory_back_once_its_tasklet_ended() {
    const NAME: &str = "a_stack_that_went_deep_gives_its_memory_back_once_its_tasklet_ended";
    if is_child(NAME) {
        run_with(Dispatcher::new().handle_sigint(false), || {
            let before = rss_bytes();
            let peak = Builder::new()
                .stack_size(4 * 1024 * 1024)
                .spawn(|| {
                    black_box(deep(500)); // 500 KiB or more
                    rss_bytes()
                })
                .join()
                .unwrap();
            assert!(peak > before + 400 * 1024, "{before} -> {peak}");
            // Two trim periods: the stack is trimmed once it sat unused through one.
            sleep(Duration::from_millis(1500));
            let after = rss_bytes();
            println!("rss before {before}, peak {peak}, after {after}");
            assert!(
                after + 400 * 1024 < peak,
                "rss before {before}, peak {peak}, after {after}"
            );
        });
        return;
    }
    let out = run_child(NAME);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_reused_stack_keeps_working_after_it_was_trimmed() {
    run(|| {
        let deep_one = Builder::new()
            .stack_size(4 * 1024 * 1024)
            .spawn(|| deep(500));
        assert_eq!(deep_one.join().unwrap(), deep_value(500));
        sleep(Duration::from_millis(1200)); // trimmed meanwhile
        for _ in 0..3 {
            let again = Builder::new()
                .stack_size(4 * 1024 * 1024)
                .spawn(|| deep(500));
            assert_eq!(again.join().unwrap(), deep_value(500));
        }
    });
}

/// The address of a page the foreign handler below makes accessible when it faults.
static FOREIGN_PAGE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

extern "C" fn foreign_handler(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = FOREIGN_PAGE.load(std::sync::atomic::Ordering::SeqCst);
    if page != 0 && (page..page + 4096).contains(&addr) {
        // SAFETY: the page is a mapping this test made; making it writable ends the fault.
        unsafe {
            libc::mprotect(
                page as *mut libc::c_void,
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        return;
    }
    // Not ours either: the default action, on the next attempt.
    // SAFETY: plain data, a valid default action.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(libc::SIGSEGV, &default, std::ptr::null_mut());
    }
}

#[test]
fn the_fault_handler_stays_installed_after_passing_on_a_foreign_fault() {
    const NAME: &str = "the_fault_handler_stays_installed_after_passing_on_a_foreign_fault";
    if is_child(NAME) {
        // SAFETY: installing a handler of the SA_SIGINFO signature for SIGSEGV, and mapping a
        // fresh page that only this test touches.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = foreign_handler as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut());
            let page = libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(page, libc::MAP_FAILED);
            FOREIGN_PAGE.store(page as usize, std::sync::atomic::Ordering::SeqCst);
        }
        let _ = Dispatcher::new().run(|| {
            let page = FOREIGN_PAGE.load(std::sync::atomic::Ordering::SeqCst) as *mut u8;
            // SAFETY: the page becomes writable in the foreign handler, which the write faults
            // into through ours.
            unsafe { std::ptr::write_volatile(page, 42) };
            // SAFETY: as above, now writable.
            assert_eq!(unsafe { std::ptr::read_volatile(page) }, 42);
            eprintln!("foreign fault handled");
            let _ = spawn(deep_diver).join();
        });
        return;
    }
    let out = run_child(NAME);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("foreign fault handled"), "stderr: {stderr}");
    assert_aborted_with(
        &out,
        "tasklet 'deep_diver@SITE' (#2) overflowed its stack (guard page hit)",
    );
}
