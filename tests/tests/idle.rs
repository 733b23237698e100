//! Waiting for the dispatcher to be idle (kiwi's WaitForIdle).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use concurrence::{sleep, spawn, wait_idle, wait_idle_timeout, yield_, TimeoutError};
use concurrence_tests::run;

#[test]
fn idle_waiters_run_only_once_nothing_else_is_ready_and_timers_have_fired() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let waiters: Vec<_> = (0..2)
            .map(|i| {
                let log = log.clone();
                spawn(move || {
                    wait_idle();
                    log.borrow_mut().push(format!("idle {i}"));
                })
            })
            .collect();
        let l = log.clone();
        let busy = spawn(move || {
            for i in 0..5 {
                l.borrow_mut().push(format!("busy {i}"));
                yield_();
            }
        });
        busy.join().unwrap();
        for w in &waiters {
            w.join().unwrap();
        }
        let log = log.borrow();
        assert_eq!(log[..5], ["busy 0", "busy 1", "busy 2", "busy 3", "busy 4"]);
        assert_eq!(log[5..], ["idle 0", "idle 1"], "woken together, in order");
    });
}

#[test]
fn a_dispatcher_kept_busy_makes_an_idle_wait_time_out() {
    run(|| {
        let spinner = spawn(|| loop {
            yield_(); // always ready
        });
        assert_eq!(
            wait_idle_timeout(Duration::from_millis(20)),
            Err(TimeoutError)
        );
        spinner.kill();
        assert_eq!(wait_idle_timeout(Duration::from_secs(5)), Ok(()));
    });
}

#[test]
fn a_sleeping_tasklet_does_not_keep_the_dispatcher_from_being_idle() {
    run(|| {
        let sleeper = spawn(|| sleep(Duration::from_secs(3600)));
        yield_();
        assert_eq!(wait_idle_timeout(Duration::from_secs(5)), Ok(()));
        sleeper.kill();
    });
}

#[test]
fn a_tasklet_killed_while_it_waits_for_idle_leaves_no_waiter_behind() {
    run(|| {
        let waiter = spawn(wait_idle);
        let spinner = spawn(|| loop {
            yield_();
        });
        yield_();
        waiter.kill();
        assert!(waiter.join().unwrap_err().is_killed());
        spinner.kill();
        wait_idle(); // the dispatcher goes idle and wakes only live waiters
    });
}
