//! Call-waits (kiwi's WaitForCall): a tasklet waits to be called, from tasklets and from other
//! threads, and answers.

use std::time::Duration;

use concurrence::{spawn, yield_, CallError, CallWait};
use concurrence_tests::run;

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
