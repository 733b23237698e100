//! Call-waits (kiwi's WaitForCall): a tasklet waits to be called, from tasklets and from other
//! threads, and answers.

use std::time::{Duration, Instant};

use concurrence::{select, spawn, wait_for, yield_, CallError, CallWait, ExitReason, Mailbox};
use concurrence_tests::{run, run_status, OnDrop};

#[test]
fn a_tasklet_answers_calls_from_tasklets_and_from_other_threads() {
    run(|| {
        let point: CallWait<String, usize> = CallWait::new();
        let p = point.clone();
        let answerer = spawn(move || {
            for _ in 0..3 {
                let call = p.wait();
                let len = call.args().len();
                call.reply(len);
            }
        });
        assert_eq!(point.call("four".into()), Ok(4));
        let remote = point.clone();
        let thread = std::thread::spawn(move || remote.call("eleven char".into()));
        let p2 = point.clone();
        let caller = spawn(move || p2.call("six!!!".into()));
        assert_eq!(caller.join().unwrap(), Ok(6));
        let from_thread = concurrence::io::blocking(move || thread.join().unwrap());
        assert_eq!(from_thread, Ok(11));
        answerer.join().unwrap();
    });
}

#[test]
fn calls_made_while_nobody_waits_are_queued_in_order() {
    run(|| {
        let point: CallWait<u32, u32> = CallWait::new();
        let callers: Vec<_> = (1..=3)
            .map(|i| {
                let p = point.clone();
                spawn(move || p.call(i))
            })
            .collect();
        yield_(); // all three called: nobody waits yet
        let mut seen = Vec::new();
        for _ in 0..3 {
            let (args, reply) = point.wait().into_parts();
            seen.push(args);
            reply.reply(args * 10);
        }
        assert_eq!(seen, [1, 2, 3]);
        let answers: Vec<_> = callers.iter().map(|c| c.join().unwrap()).collect();
        assert_eq!(answers, [Ok(10), Ok(20), Ok(30)]);
    });
}

#[test]
fn a_call_dropped_without_an_answer_fails_with_no_reply_and_timeouts_work_both_ways() {
    run(|| {
        let point: CallWait<(), ()> = CallWait::new();
        let p = point.clone();
        let dropper = spawn(move || drop(p.wait()));
        assert_eq!(
            point.call(()),
            Err(CallError::NoReply {
                message: "CallWait"
            })
        );
        dropper.join().unwrap();
        assert!(
            point.wait_timeout(Duration::from_millis(10)).is_err(),
            "nobody called"
        );
        let err = point
            .call_timeout((), Duration::from_millis(10))
            .unwrap_err();
        assert!(err.is_timeout());
    });
}

#[test]
fn a_waiter_killed_before_it_took_a_call_leaves_the_call_for_the_next_waiter() {
    run(|| {
        let point: CallWait<u8, u8> = CallWait::new();
        let p = point.clone();
        let first = spawn(move || p.wait().reply(1));
        yield_(); // it waits
        first.kill();
        assert!(first.join().unwrap_err().is_killed());
        let p = point.clone();
        let caller = spawn(move || p.call(7));
        yield_();
        let call = point.wait();
        assert_eq!(*call.args(), 7);
        call.reply(8);
        assert_eq!(caller.join().unwrap(), Ok(8));
    });
}

#[test]
fn a_call_from_a_thread_without_a_dispatcher_times_out_when_nobody_answers() {
    let point: CallWait<(), ()> = CallWait::new();
    let outcome = std::thread::spawn(move || point.call_timeout((), Duration::from_millis(10)))
        .join()
        .unwrap();
    assert!(outcome.unwrap_err().is_timeout());
}

#[test]
fn a_tasklet_that_took_a_queued_call_without_waiting_is_still_running_normally() {
    run(|| {
        let point: CallWait<u8, u8> = CallWait::new();
        let p = point.clone();
        let caller = spawn(move || p.call(1));
        yield_(); // the call is queued before anybody waits
        let call = point.wait(); // taken at once, without suspending
        call.reply(2);
        assert_eq!(caller.join().unwrap(), Ok(2));
        // The taker is an ordinary running tasklet: it can yield, sleep and be killed.
        let p = point.clone();
        let taker = spawn(move || {
            let p2 = p.clone();
            let _caller = spawn(move || p2.call(3));
            yield_();
            let call = p.wait();
            call.reply(4);
            concurrence::current().kill();
            unreachable!("killed itself");
        });
        assert!(taker.join().unwrap_err().is_killed());
    });
}

/// Runs `f`, which ends in a real deadlock (it waits on a mailbox nobody fills), and fails
/// unless the dispatcher reports the deadlock within seconds: a remote wait left registered
/// would keep it polling for ever (bounded by `run_status`'s limit).
fn assert_ends_in_deadlock<F: FnOnce() + Send + 'static>(f: F) {
    let started = Instant::now();
    let status = run_status(move || {
        f();
        Mailbox::<u8>::new().popleft(); // nothing can wake this
    });
    assert!(
        matches!(status.reason(), ExitReason::Deadlock(_)),
        "expected a deadlock, got {status}"
    );
    assert_eq!(status.code(), concurrence::ExitStatus::DEADLOCK);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the deadlock took {:?} to be reported",
        started.elapsed()
    );
}

#[test]
fn a_killed_caller_leaves_no_remote_wait_behind() {
    assert_ends_in_deadlock(|| {
        let point: CallWait<(), ()> = CallWait::new();
        let p = point.clone();
        let caller = spawn(move || p.call(()));
        yield_(); // it waits for an answer
        caller.kill();
        assert!(caller.join().unwrap_err().is_killed());
    });
}

#[test]
fn a_caller_killed_twice_leaves_no_remote_wait_behind() {
    assert_ends_in_deadlock(|| {
        let point: CallWait<(), ()> = CallWait::new();
        let p = point.clone();
        let caller = spawn(move || {
            // Blocks in a call while a kill unwinds it; the second kill ends that call.
            let _call_on_drop = OnDrop::new(move || {
                let _ = p.call(());
            });
            concurrence::sleep(Duration::from_secs(3600));
        });
        yield_();
        caller.kill(); // now blocked in the destructor's call
        caller.kill();
        assert!(caller.join().unwrap_err().is_killed());
    });
}

#[test]
fn a_call_wakes_a_waiter_after_another_waiter_on_a_clone_timed_out() {
    run(|| {
        let point: CallWait<u32, u32> = CallWait::new();
        let a_point = point.clone();
        let a = spawn(move || {
            let call = a_point.wait();
            let n = *call.args();
            call.reply(n + 100);
        });
        yield_(); // A waits
        let b_point = point.clone();
        let b = spawn(move || b_point.wait_timeout(Duration::from_millis(20)).is_err());
        assert!(b.join().unwrap(), "nobody called B");
        assert_eq!(point.call_timeout(7, Duration::from_millis(300)), Ok(107));
        a.join().unwrap();
    });
}

#[test]
fn every_tasklet_waiting_at_one_point_is_served() {
    run(|| {
        let point: CallWait<u32, u32> = CallWait::new();
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let p = point.clone();
                spawn(move || {
                    let call = p.wait();
                    let n = *call.args();
                    call.reply(n + i);
                })
            })
            .collect();
        yield_(); // all three wait
        let mut answers: Vec<u32> = (0..3)
            .map(|_| point.call_timeout(10, Duration::from_secs(5)).unwrap())
            .collect();
        answers.sort_unstable();
        assert_eq!(answers, [10, 11, 12]);
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

#[test]
fn two_arms_waiting_on_one_point_leave_no_remote_wait_behind() {
    assert_ends_in_deadlock(|| {
        let point: CallWait<u32, u32> = CallWait::new();
        let p = point.clone();
        let caller = spawn(move || p.call(1));
        select! {
            call = wait_for::call(&point) => call.reply(10),
            call = wait_for::call(&point) => call.reply(20),
        }
        assert_eq!(caller.join().unwrap(), Ok(10));
    });
}

#[test]
fn two_tasklets_waiting_at_once_leave_no_remote_wait_behind() {
    assert_ends_in_deadlock(|| {
        let point: CallWait<u32, u32> = CallWait::new();
        let p = point.clone();
        let first = spawn(move || p.wait().reply(1));
        yield_(); // it waits
        let p = point.clone();
        let second = spawn(move || p.wait().reply(2));
        yield_(); // both wait
        assert!(point.call(0).is_ok());
        first.kill();
        second.kill();
        let _ = first.join();
        let _ = second.join();
    });
}
