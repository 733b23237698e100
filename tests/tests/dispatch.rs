//! The dispatcher: how it ends (finished, quit, deadlock), daemons, and shutdown kills.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concurrence::{dispatch, quit, sleep, spawn, yield_, Builder, ExitReason, Tasklet};
use concurrence_tests::{run, run_status, DropCounter, OnDrop};

#[test]
fn dispatch_returns_success_when_every_tasklet_finished() {
    let status = run_status(|| {
        spawn(|| sleep(Duration::from_millis(10)));
    });
    assert_eq!(status.reason(), &ExitReason::Finished);
    assert_eq!(status.code(), 0);
    assert!(status.success());
}

#[test]
fn dispatch_waits_for_non_daemon_children_of_a_finished_first_tasklet() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let start = Instant::now();
    run(move || {
        let token = d.token();
        spawn(move || {
            sleep(Duration::from_millis(50));
            drop(token);
        });
    });
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert_eq!(drops.count(), 1);
}

#[test]
fn quit_stops_the_dispatcher_with_its_code_and_kills_the_rest() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let status = run_status(move || {
        let token = d.token();
        spawn(move || {
            let _held = token;
            sleep(Duration::from_secs(3600));
        });
        let quitter_token = d.token();
        spawn(move || {
            let _held = quitter_token;
            yield_();
            quit(7);
            // quit returns: the dispatcher stops when the caller next blocks.
            let later = Instant::now();
            sleep(Duration::from_secs(3600));
            unreachable!("killed in the sleep, {:?} after quit", later.elapsed());
        });
        sleep(Duration::from_secs(3600));
    });
    assert_eq!(status.reason(), &ExitReason::Quit(7));
    assert_eq!(status.code(), 7);
    assert_eq!(drops.count(), 2, "every tasklet alive at quit was unwound");
}

#[test]
fn quit_returns_to_its_caller_which_runs_on_until_it_blocks() {
    let ran_on = Arc::new(AtomicBool::new(false));
    let r = ran_on.clone();
    let status = run_status(move || {
        quit(3);
        r.store(true, Ordering::SeqCst);
        for _ in 0..3 {
            spawn(|| sleep(Duration::from_secs(3600))); // spawning does not block
        }
        yield_();
        unreachable!("the dispatcher stopped at the yield");
    });
    assert_eq!(status.reason(), &ExitReason::Quit(3));
    assert!(ran_on.load(Ordering::SeqCst));
}

#[test]
fn daemons_do_not_keep_the_dispatcher_alive_and_are_killed_at_the_end() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let start = Instant::now();
    let status = run_status(move || {
        let token = d.token();
        Builder::new().daemon(true).spawn(move || {
            let _held = token;
            loop {
                sleep(Duration::from_millis(5));
            }
        });
        sleep(Duration::from_millis(20));
    });
    assert!(status.success());
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(drops.count(), 1);
}

#[test]
fn busy_daemons_do_not_keep_the_dispatcher_alive() {
    let status = run_status(|| {
        Builder::new().daemon(true).spawn(|| loop {
            yield_();
        });
        yield_();
    });
    assert!(status.success());
}

#[test]
fn deadlock_is_reported_with_the_blocked_tasklets_instead_of_hanging() {
    let status = run_status(|| {
        let slot: std::rc::Rc<std::cell::RefCell<Option<Tasklet<()>>>> = Default::default();
        let s = slot.clone();
        let a = Builder::new().name("waits-for-b").spawn(move || {
            yield_();
            let b = s.borrow().clone().unwrap();
            b.join().unwrap();
        });
        let a2 = a.clone();
        let b = Builder::new().name("waits-for-a").spawn(move || {
            a2.join().unwrap();
        });
        *slot.borrow_mut() = Some(b);
        a.join().unwrap();
    });
    let ExitReason::Deadlock(blocked) = status.reason() else {
        panic!("expected a deadlock, got {status}");
    };
    assert_eq!(status.code(), concurrence::ExitStatus::DEADLOCK);
    let names: Vec<&str> = blocked.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names.len(), 3, "{status}");
    assert!(names.contains(&"waits-for-a") && names.contains(&"waits-for-b"));
    assert!(blocked
        .iter()
        .all(|b| b.waiting_on.starts_with("join of tasklet #")));
    let report = status.to_string();
    assert!(report.contains("deadlock"), "{report}");
    assert!(report.contains("'waits-for-a'"), "{report}");
    assert!(report.contains(" at tests/tests/dispatch.rs:"), "{report}");
}

#[test]
fn deadlock_kills_the_blocked_tasklets_so_destructors_run() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let status = run_status(move || {
        let _held = d.token();
        let me = concurrence::current();
        spawn(move || me.join().unwrap());
        let child = concurrence::current().children().pop().unwrap();
        child.join().unwrap();
    });
    assert!(matches!(status.reason(), ExitReason::Deadlock(_)));
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_tasklet_sleeping_is_not_a_deadlock() {
    let status = run_status(|| sleep(Duration::from_millis(30)));
    assert!(status.success());
}

#[test]
fn dispatch_inside_a_dispatcher_panics() {
    let status = run_status(|| {
        let inner = std::panic::catch_unwind(|| dispatch(|| ()));
        assert!(inner.is_err());
    });
    assert!(status.success());
}

#[test]
fn dispatch_can_run_again_on_the_same_thread() {
    for round in 0..3 {
        let status = concurrence::Dispatcher::new()
            .handle_sigint(false)
            .run(move || assert_eq!(spawn(move || round).join().unwrap(), round));
        assert!(status.success());
    }
}

#[test]
fn dispatchers_on_several_threads_run_independently() {
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                run(move || {
                    let t: Vec<_> = (0..100).map(|j| spawn(move || i * 1000 + j)).collect();
                    let sum: i32 = concurrence::join_all(&t)
                        .into_iter()
                        .map(Result::unwrap)
                        .sum();
                    assert_eq!(sum, i * 100_000 + 4950);
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn panics_in_tasklets_do_not_take_down_the_dispatcher() {
    let status = run_status(|| {
        for i in 0..10 {
            spawn(move || -> () { panic!("tasklet {i} fails") });
        }
        let survivor = spawn(|| {
            sleep(Duration::from_millis(10));
            "still here"
        });
        assert_eq!(survivor.join().unwrap(), "still here");
        let failures = concurrence::join_children();
        assert!(failures.iter().all(|r| r.as_ref().unwrap_err().is_panic()));
    });
    assert!(status.success());
}

#[test]
fn a_panicking_first_tasklet_ends_the_dispatcher_with_status_101() {
    let status = run_status(|| {
        spawn(|| sleep(Duration::from_millis(10)));
        panic!("first tasklet fails");
    });
    assert_eq!(
        status.reason(),
        &ExitReason::Panicked("first tasklet fails".into())
    );
    assert_eq!(status.code(), concurrence::ExitStatus::PANIC);
}

#[test]
fn sigint_stops_a_dispatcher_and_keeps_its_default_action_outside_one() {
    const NAME: &str = "sigint_stops_a_dispatcher_and_keeps_its_default_action_outside_one";
    if concurrence_tests::is_child(NAME) {
        let drops = DropCounter::new();
        let d = drops.clone();
        let status = dispatch(move || {
            let token = d.token();
            spawn(move || {
                let _held = token;
                sleep(Duration::from_secs(3600));
            });
            sleep(Duration::from_millis(20));
            // SAFETY: raising a signal in our own process; the dispatcher handles SIGINT.
            unsafe { libc::raise(libc::SIGINT) };
            sleep(Duration::from_secs(3600));
        });
        println!("status {} drops {}", status.code(), drops.count());
        // No dispatcher runs now: SIGINT terminates the process as usual.
        // SAFETY: as above.
        unsafe { libc::raise(libc::SIGINT) };
        println!("still alive after the second SIGINT");
        return;
    }
    let out = concurrence_tests::run_child(NAME);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("status 130 drops 1"), "stdout: {stdout}");
    assert!(!stdout.contains("still alive"), "stdout: {stdout}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGINT), "{:?}", out.status);
}

#[test]
fn dispatch_gives_back_the_first_tasklets_value() {
    let status = dispatch(|| {
        let parts: Vec<_> = (1..=4u64).map(|n| spawn(move || n * n)).collect();
        parts.into_iter().map(|p| p.join().unwrap()).sum::<u64>()
    });
    assert!(status.success());
    assert_eq!(status.value(), Some(&30));
    assert_eq!(status.into_value(), Some(30));
}

#[test]
fn the_first_tasklet_can_use_the_question_mark_and_its_error_comes_back() {
    fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
        text.parse()
    }
    let status = dispatch(|| -> Result<u32, std::num::ParseIntError> {
        let a = parse("20")?;
        let b = parse("twenty-two")?;
        Ok(a + b)
    });
    // The dispatcher itself finished well; the value says how the program's work went.
    assert!(status.success());
    let err = status.into_value().unwrap().unwrap_err();
    assert_eq!(err.to_string(), "invalid digit found in string");
}

#[test]
fn a_quit_from_a_destructor_during_shutdown_replaces_the_code() {
    // The first tasklet quits with 3; the shutdown then kills a sleeper whose destructor quits
    // with 7: the later quit wins, as any later quit does.
    let status = run_status(|| {
        spawn(|| {
            let _quit_on_drop = OnDrop::new(|| quit(7));
            sleep(Duration::from_secs(3600));
        });
        yield_();
        quit(3);
    });
    assert_eq!(status.reason(), &ExitReason::Quit(7));
    assert_eq!(status.code(), 7);
    // The same from a daemon killed after every other tasklet finished.
    let status = run_status(|| {
        Builder::new().daemon(true).spawn(|| {
            let _quit_on_drop = OnDrop::new(|| quit(5));
            sleep(Duration::from_secs(3600));
        });
        yield_();
    });
    assert_eq!(status.code(), 5);
}

#[test]
fn a_first_tasklet_killed_by_another_ends_the_dispatcher_with_status_137() {
    let status = run_status(|| {
        let first = concurrence::current();
        spawn(move || first.kill());
        sleep(Duration::from_secs(3600));
    });
    assert_eq!(status.reason(), &ExitReason::Killed);
    assert_eq!(status.code(), concurrence::ExitStatus::KILLED);
    assert_eq!(status.code(), 137);
    assert!(!status.success());
}

#[test]
fn a_first_tasklet_that_did_not_return_leaves_no_value() {
    let status = dispatch(|| -> u32 {
        quit(4);
        sleep(Duration::from_secs(3600)); // killed here by the shutdown
        7
    });
    assert_eq!(status.code(), 4);
    assert_eq!(status.into_value(), None);
    let status = dispatch(|| -> u32 { panic!("no value") });
    assert_eq!(status.code(), concurrence::ExitStatus::PANIC);
    assert_eq!(status.into_value(), None);
}

/// As a test's result, the status ends the test the way `main` would end the process: an `Err`
/// value fails it, printed as `Error: ...`.
#[test]
fn a_main_returning_the_status_of_a_failed_result_reports_the_error_and_fails() {
    const NAME: &str = "a_main_returning_the_status_of_a_failed_result_reports_the_error_and_fails";
    if concurrence_tests::is_child(NAME) {
        let status: concurrence::ExitStatus<Result<(), String>> =
            dispatch(|| Err("the configuration is missing".to_owned()));
        std::process::exit(
            if std::process::Termination::report(status) == std::process::ExitCode::SUCCESS {
                0
            } else {
                9
            },
        );
    }
    let out = concurrence_tests::run_child(NAME);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "stderr: {stderr}");
    assert!(
        stderr.contains("Error: \"the configuration is missing\""),
        "stderr: {stderr}"
    );
}
