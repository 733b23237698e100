//! Joining: results, failures, timeouts, several joiners, join_all and join_children.

use std::time::{Duration, Instant};

use concurrence::{
    current, join_all, join_all_timeout, join_children, join_children_timeout, sleep, spawn,
    yield_, JoinCause, Tasklet,
};
use concurrence_tests::run;

#[test]
fn join_returns_the_value_of_the_function() {
    run(|| {
        let t1 = spawn(|| 10 + 20);
        let t2 = spawn(|| String::from("seventy"));
        assert_eq!(t1.join().unwrap(), 30);
        assert_eq!(t2.join().unwrap(), "seventy");
    });
}

#[test]
fn join_waits_for_a_sleeping_tasklet() {
    run(|| {
        let start = Instant::now();
        let t = spawn(|| {
            sleep(Duration::from_millis(50));
            7
        });
        assert_eq!(t.join().unwrap(), 7);
        assert!(start.elapsed() >= Duration::from_millis(50));
    });
}

#[test]
fn join_of_a_panicked_tasklet_gives_join_error_with_message_and_name() {
    run(|| {
        let t = concurrence::Builder::new()
            .name("doomed")
            .spawn(|| -> u8 { panic!("boom {}", 42) });
        let err = t.join().unwrap_err();
        assert_eq!(err.cause(), &JoinCause::Panicked("boom 42".into()));
        assert_eq!(err.tasklet_name(), "doomed");
        assert_eq!(err.tasklet_id(), t.id());
        assert!(err.to_string().contains("doomed"));
        assert!(err.to_string().contains("boom 42"));
        // Every join sees the panic.
        assert!(t.join().unwrap_err().is_panic());
    });
}

#[test]
fn join_of_a_killed_tasklet_gives_killed() {
    run(|| {
        let t = spawn(|| sleep(Duration::from_secs(3600)));
        yield_();
        t.kill();
        let err = t.join().unwrap_err();
        assert_eq!(err.cause(), &JoinCause::Killed);
        assert!(err.to_string().contains("killed"));
    });
}

#[test]
fn second_join_of_a_finished_tasklet_reports_already_joined() {
    run(|| {
        let t = spawn(|| vec![1, 2, 3]);
        assert_eq!(t.join().unwrap(), [1, 2, 3]);
        assert_eq!(t.join().unwrap_err().cause(), &JoinCause::AlreadyJoined);
        assert_eq!(
            t.clone().join().unwrap_err().cause(),
            &JoinCause::AlreadyJoined
        );
    });
}

#[test]
fn join_timeout_then_retry_gets_the_value() {
    run(|| {
        let t = spawn(|| {
            sleep(Duration::from_millis(200));
            "late"
        });
        let start = Instant::now();
        assert!(t.join_timeout(Duration::from_millis(20)).is_err());
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(!t.has_finished());
        assert_eq!(
            t.join_timeout(Duration::from_secs(30)).unwrap().unwrap(),
            "late"
        );
    });
}

#[test]
fn join_timeout_returns_at_once_for_a_finished_tasklet() {
    run(|| {
        let t = spawn(|| 5);
        yield_();
        assert!(t.has_finished());
        assert_eq!(t.join_timeout(Duration::ZERO).unwrap().unwrap(), 5);
    });
}

#[test]
fn several_tasklets_can_wait_on_the_same_one() {
    run(|| {
        let target = spawn(|| {
            sleep(Duration::from_millis(30));
            1
        });
        let waiters: Vec<Tasklet<Option<u32>>> = (0..3)
            .map(|_| {
                let target = target.clone();
                spawn(move || match target.join() {
                    Ok(v) => Some(v),
                    Err(e) => {
                        assert_eq!(e.cause(), &JoinCause::AlreadyJoined);
                        None
                    }
                })
            })
            .collect();
        let seen: Vec<Option<u32>> = join_all(&waiters).into_iter().map(Result::unwrap).collect();
        // The value goes to the first joiner; the others are woken too and learn it was taken.
        assert_eq!(seen, [Some(1), None, None]);
    });
}

#[test]
fn joining_itself_is_an_error_not_a_hang() {
    run(|| {
        let me: Tasklet = current();
        assert_eq!(me.join().unwrap_err().cause(), &JoinCause::JoinedSelf);
    });
}

#[test]
fn join_all_returns_results_in_input_order_with_failures_inline() {
    run(|| {
        let tasks: Vec<Tasklet<u32>> = vec![
            spawn(|| {
                sleep(Duration::from_millis(30));
                1
            }),
            spawn(|| panic!("second fails")),
            spawn(|| 3),
            spawn(|| {
                sleep(Duration::from_secs(3600));
                4
            }),
        ];
        yield_();
        tasks[3].kill();
        let results = join_all(&tasks);
        assert_eq!(results[0], Ok(1));
        assert_eq!(
            results[1].as_ref().unwrap_err().cause(),
            &JoinCause::Panicked("second fails".into())
        );
        assert_eq!(results[2], Ok(3));
        assert!(results[3].as_ref().unwrap_err().is_killed());
    });
}

#[test]
fn join_all_timeout_raises_timeout_with_one_overall_deadline() {
    run(|| {
        let tasks: Vec<Tasklet<&str>> = vec![
            spawn(|| {
                sleep(Duration::from_millis(50));
                "quick"
            }),
            spawn(|| {
                sleep(Duration::from_secs(3600));
                "never"
            }),
            spawn(|| {
                sleep(Duration::from_secs(3600));
                "never"
            }),
        ];
        let start = Instant::now();
        assert!(join_all_timeout(&tasks, Duration::from_millis(100)).is_err());
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(100));
        assert!(waited < Duration::from_secs(20), "waited {waited:?}");
        // Nothing was taken: a retry gets every result, the quick one's value included.
        tasks[1].kill();
        tasks[2].kill();
        let results = join_all_timeout(&tasks, Duration::from_secs(30)).unwrap();
        assert_eq!(results[0], Ok("quick"));
        assert!(results[1].as_ref().unwrap_err().is_killed());
        assert!(results[2].as_ref().unwrap_err().is_killed());
    });
}

#[test]
fn join_all_timeout_deadline_covers_the_whole_set_not_each_tasklet() {
    run(|| {
        // Each finishes within 100 ms of the previous one, but not all within 100 ms: a
        // per-tasklet timeout would wait for all three; the overall deadline must not.
        let tasks: Vec<Tasklet<u64>> = [80u64, 160, 240]
            .into_iter()
            .map(|ms| {
                spawn(move || {
                    sleep(Duration::from_millis(ms));
                    ms
                })
            })
            .collect();
        assert!(join_all_timeout(&tasks, Duration::from_millis(100)).is_err());
        let results = join_all_timeout(&tasks, Duration::from_secs(30)).unwrap();
        assert_eq!(results, [Ok(80), Ok(160), Ok(240)]);
    });
}

#[test]
fn join_children_joins_every_child_with_boxed_results() {
    run(|| {
        spawn(|| 1u8);
        spawn(|| "two");
        spawn(|| -> u8 { panic!("three") });
        let results = join_children();
        assert_eq!(results.len(), 3);
        let mut results = results.into_iter();
        assert_eq!(
            *results.next().unwrap().unwrap().downcast::<u8>().unwrap(),
            1
        );
        assert_eq!(
            *results.next().unwrap().unwrap().downcast::<&str>().unwrap(),
            "two"
        );
        assert!(results.next().unwrap().unwrap_err().is_panic());
        assert!(current().children().is_empty());
    });
}

#[test]
fn join_children_timeout_times_out_on_a_slow_child() {
    run(|| {
        let slow = spawn(|| sleep(Duration::from_secs(3600)));
        assert!(join_children_timeout(Duration::from_millis(20)).is_err());
        slow.kill();
        assert_eq!(join_children_timeout(Duration::ZERO).unwrap().len(), 0);
    });
}

#[test]
fn erased_handle_joins_as_box_any() {
    run(|| {
        let t = spawn(|| 99u64);
        let erased: Tasklet = t.erase();
        let value = erased.join().unwrap();
        assert_eq!(*value.downcast::<u64>().unwrap(), 99);
    });
}

#[test]
fn join_from_outside_a_tasklet_works_once_finished() {
    let kept = std::rc::Rc::new(std::cell::RefCell::new(None));
    let k = kept.clone();
    let status = concurrence::Dispatcher::new()
        .handle_sigint(false)
        .run(move || {
            let t = spawn(|| 12);
            yield_();
            *k.borrow_mut() = Some(t);
        });
    assert!(status.success());
    let t: Tasklet<i32> = kept.borrow_mut().take().unwrap();
    assert!(t.has_finished());
    assert_eq!(t.join().unwrap(), 12);
}
