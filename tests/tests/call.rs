//! Calls and replies: the answer comes back, timeouts, late replies, and calls that fail at
//! once (finished receivers, dropped messages, killed or panicking receivers, calling oneself).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{
    current, message, receive, sleep, spawn, tasklet, yield_, CallError, Reply, TimeoutError,
};
use concurrence_tests::run;

message!(MSG_SUM(i64, i64) -> i64, MSG_MAX(i64, i64) -> i64, MSG_SLOW(u64) -> u64);
message!(MSG_IGNORE -> ());
message!(MSG_HOLD -> u8);

/// Answers sums and maxima; MSG_SLOW(ms) sleeps that long first; MSG_IGNORE is dropped
/// unanswered. Returns how many late replies found their caller gone.
#[tasklet(receives(MSG_SUM, MSG_MAX, MSG_SLOW, MSG_IGNORE))]
fn calculator() -> usize {
    let mut abandoned = 0;
    for msg in receive() {
        match msg {
            CalculatorMsg::MSG_SUM(MSG_SUM(a, b, reply)) => reply.reply(a + b),
            CalculatorMsg::MSG_MAX(MSG_MAX(a, b, reply)) => reply.reply(a.max(b)),
            CalculatorMsg::MSG_SLOW(MSG_SLOW(ms, reply)) => {
                sleep(Duration::from_millis(ms));
                if reply.is_abandoned() {
                    abandoned += 1;
                }
                reply.reply(ms); // never blocks, even when nobody waits any more
            }
            CalculatorMsg::MSG_IGNORE(MSG_IGNORE(reply)) => drop(reply),
        }
    }
    abandoned
}

/// Keeps the first MSG_HOLD token without answering, for a long time.
#[tasklet(receives(MSG_HOLD))]
fn holder() {
    let HolderMsg::MSG_HOLD(MSG_HOLD(reply)) = receive().next().unwrap();
    sleep(Duration::from_secs(3600));
    drop(reply);
}

#[test]
fn call_returns_the_reply() {
    run(|| {
        let calc = Calculator::new().spawn();
        assert_eq!(MSG_SUM::call(&calc)(10, 20), Ok(30));
        assert_eq!(MSG_MAX::call(&calc)(10, 20), Ok(20));
        assert_eq!(calc.call(|reply| MSG_SUM(1, 2, reply)), Ok(3));
        calc.kill();
    });
}

#[test]
fn call_timeout_gives_timed_out_and_the_late_reply_is_dropped_harmlessly() {
    // On virtual time: the timeout's instant is exact, whatever the machine's load.
    let virtual_time = concurrence::Dispatcher::new()
        .handle_sigint(false)
        .virtual_time(true);
    concurrence_tests::run_with(virtual_time, || {
        let calc = Calculator::new().spawn();
        let start = concurrence::now();
        let err = MSG_SLOW::call_timeout(&calc, Duration::from_millis(30))(150).unwrap_err();
        assert_eq!(
            err,
            CallError::TimedOut {
                message: "MSG_SLOW"
            }
        );
        assert!(err.is_timeout());
        assert_eq!(concurrence::now() - start, Duration::from_millis(30));
        // The calculator replies later to nobody, and goes on answering.
        assert_eq!(MSG_SUM::call(&calc)(2, 2), Ok(4));
        calc.kill();
        assert!(calc.join().unwrap_err().is_killed());
    });
}

#[test]
fn a_late_reply_sees_that_the_caller_gave_up() {
    /// Answers one MSG_SLOW late; returns whether its caller had given up by then.
    #[tasklet(receives(MSG_SLOW))]
    fn late() -> bool {
        let LateMsg::MSG_SLOW(MSG_SLOW(ms, reply)) = receive().next().unwrap();
        assert!(!reply.is_abandoned());
        sleep(Duration::from_millis(ms));
        let gave_up = reply.is_abandoned();
        reply.reply(ms);
        gave_up
    }
    run(|| {
        let late = Late::new().spawn();
        let err = MSG_SLOW::call_timeout(&late, Duration::from_millis(10))(60).unwrap_err();
        assert!(err.is_timeout());
        assert!(
            late.join().unwrap(),
            "the reply did not see the caller had given up"
        );
    });
}

#[test]
fn call_to_a_finished_tasklet_fails_at_once_and_gives_the_message_back() {
    run(|| {
        let calc = Calculator::new().spawn();
        calc.kill();
        let start = Instant::now();
        let err = MSG_SUM::call_timeout(&calc, Duration::from_secs(30))(1, 2).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(err.to_string().contains("MSG_SUM"), "{err}");
        let CallError::Finished {
            message,
            undelivered,
        } = err
        else {
            panic!("not Finished: {err:?}");
        };
        assert_eq!(message, "MSG_SUM");
        assert_eq!(
            (undelivered.0, undelivered.1),
            (1, 2),
            "the message came back"
        );
    });
}

#[test]
fn call_fails_at_once_when_the_receiver_drops_the_message_without_replying() {
    run(|| {
        let calc = Calculator::new().spawn();
        let start = Instant::now();
        let err = MSG_IGNORE::call_timeout(&calc, Duration::from_secs(30))().unwrap_err();
        assert_eq!(
            err,
            CallError::NoReply {
                message: "MSG_IGNORE"
            }
        );
        assert!(start.elapsed() < Duration::from_secs(10));
        calc.kill();
    });
}

#[test]
fn call_fails_at_once_when_the_receiver_finishes_with_the_message_queued() {
    #[tasklet(receives(MSG_SUM))]
    fn quitter() {
        sleep(Duration::from_millis(20));
    }
    run(|| {
        let quitter = Quitter::new().spawn();
        let start = Instant::now();
        let err = MSG_SUM::call_timeout(&quitter, Duration::from_secs(30))(1, 1).unwrap_err();
        assert_eq!(err, CallError::NoReply { message: "MSG_SUM" });
        assert!(start.elapsed() < Duration::from_secs(10));
    });
}

#[test]
fn call_fails_at_once_when_the_receiver_is_killed_while_handling_it() {
    run(|| {
        let calc = Calculator::new().spawn();
        let target = calc.clone();
        let killer = spawn(move || {
            sleep(Duration::from_millis(20)); // the calculator is in MSG_SLOW's sleep
            target.kill();
        });
        let err = MSG_SLOW::call(&calc)(10_000).unwrap_err();
        assert_eq!(
            err,
            CallError::NoReply {
                message: "MSG_SLOW"
            }
        );
        killer.join().unwrap();
    });
}

#[test]
fn call_fails_at_once_when_the_receiver_panics_while_handling_it() {
    #[tasklet(receives(MSG_SUM))]
    fn fragile() {
        let FragileMsg::MSG_SUM(MSG_SUM(a, b, _reply)) = receive().next().unwrap();
        panic!("cannot add {a} and {b}");
    }
    run(|| {
        let fragile = Fragile::new().spawn();
        assert_eq!(
            MSG_SUM::call(&fragile)(1, 2),
            Err(CallError::NoReply { message: "MSG_SUM" })
        );
        assert!(fragile.join().unwrap_err().is_panic());
    });
}

#[test]
fn a_tasklet_calling_itself_fails_at_once() {
    #[tasklet(receives(MSG_SUM))]
    fn narcissist() -> Result<i64, CallError<MSG_SUM>> {
        let me = current().with_messages::<NarcissistMsg>().unwrap();
        MSG_SUM::call(&me)(1, 2)
    }
    run(|| {
        assert_eq!(
            Narcissist::new().spawn().join().unwrap(),
            Err(CallError::CalledSelf { message: "MSG_SUM" })
        );
    });
}

#[test]
fn reply_never_blocks_the_replier() {
    #[tasklet(receives(MSG_SUM))]
    fn adder(log: Rc<RefCell<Vec<&'static str>>>) {
        for msg in receive() {
            let AdderMsg::MSG_SUM(MSG_SUM(a, b, reply)) = msg;
            reply.reply(a + b);
            log.borrow_mut().push("replier goes on");
        }
    }
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let adder = Adder::new().spawn(log.clone());
        assert_eq!(MSG_SUM::call(&adder)(3, 4), Ok(7));
        log.borrow_mut().push("caller has the answer");
        assert_eq!(*log.borrow(), ["replier goes on", "caller has the answer"]);
        adder.kill();
    });
}

#[test]
fn a_killed_caller_abandons_its_call() {
    run(|| {
        let calc = Calculator::new().spawn();
        let target = calc.clone();
        let caller = spawn(move || MSG_SLOW::call(&target)(50));
        yield_();
        caller.kill();
        assert!(caller.join().unwrap_err().is_killed());
        sleep(Duration::from_millis(80));
        // The calculator replied to nobody and is still answering.
        assert_eq!(MSG_SUM::call(&calc)(5, 5), Ok(10));
        calc.kill();
    });
}

#[test]
fn a_call_waits_for_room_in_a_full_mailbox() {
    run(|| {
        let calc = Calculator::new().max_mailbox_len(1).spawn();
        let mut callers = Vec::new();
        for i in 0..4 {
            let target = calc.clone();
            callers.push(spawn(move || MSG_SUM::call(&target)(i, 100)));
        }
        let answers: Vec<i64> = callers.iter().map(|c| c.join().unwrap().unwrap()).collect();
        assert_eq!(answers, [100, 101, 102, 103]);
        calc.kill();
    });
}

#[test]
fn a_call_that_times_out_waiting_for_room_fails_with_timed_out() {
    run(|| {
        let holder = Holder::new().max_mailbox_len(1).spawn();
        // The holder takes the first message and keeps its token; fill the mailbox, then time
        // out waiting for room.
        let first = holder.clone();
        let _first = spawn(move || MSG_HOLD::call(&first)());
        yield_();
        let second = holder.clone();
        let _second = spawn(move || MSG_HOLD::call(&second)());
        yield_();
        let err = MSG_HOLD::call_timeout(&holder, Duration::from_millis(30))().unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert_eq!(holder.mailbox().len(), 1);
        holder.kill();
    });
}

#[test]
fn reply_tokens_and_call_errors_print_usefully() {
    let text = CallError::<()>::NoReply { message: "MSG_X" }.to_string();
    assert!(
        text.contains("MSG_X") && text.contains("without replying"),
        "{text}"
    );
    assert!(!TimeoutError.to_string().is_empty());
    fn is_debug<T: std::fmt::Debug>() {}
    is_debug::<Reply<u8>>();
}

#[test]
fn callers_are_freed_with_their_unjoined_results() {
    let drops = concurrence_tests::DropCounter::new();
    let counter = drops.clone();
    run(move || {
        let calc = Calculator::new().spawn();
        let callers: Vec<_> = [0, 10_000]
            .into_iter()
            .map(|ms| {
                let (target, token) = (calc.clone(), counter.token());
                spawn(move || {
                    let _ = MSG_SLOW::call_timeout(&target, Duration::from_millis(20))(ms);
                    token
                })
            })
            .collect();
        while !callers.iter().all(|c| c.has_finished()) {
            yield_();
        }
        calc.kill();
    });
    assert_eq!(drops.count(), 2, "a tasklet record leaked");
}

#[test]
fn a_handle_typed_from_children_sends_and_a_finished_tasklet_gives_the_message_back() {
    run(|| {
        let calc = Calculator::new().spawn();
        // An erased handle from the tree, typed once its set is known.
        let child = concurrence::current()
            .children()
            .pop()
            .expect("calc is a child");
        let typed = child
            .with_messages::<CalculatorMsg>()
            .expect("calc receives CalculatorMsg");
        assert_eq!(MSG_SUM::call(&typed)(2, 3), Ok(5));
        // A tasklet with another set is not mistaken for this one.
        assert!(concurrence::current()
            .with_messages::<CalculatorMsg>()
            .is_none());
        calc.kill();
        // After it finished, the same handle still types, and sends give the message back.
        let err = MSG_SUM::call(&typed)(4, 5).unwrap_err();
        assert!(matches!(err, CallError::Finished { .. }), "{err:?}");
        assert_eq!(err.into_undelivered().map(|m| (m.0, m.1)), Some((4, 5)));
        let late = child
            .with_messages::<CalculatorMsg>()
            .expect("typed after its end");
        assert!(MSG_SUM::call_timeout(&late, Duration::from_millis(10))(1, 1).is_err());
    });
}

message!(MSG_KEEP(u32) -> u32, MSG_ANSWER_KEPT);

/// Answers each MSG_KEEP at once, except the first, whose token it keeps until told to answer
/// it (with the number that call carried).
#[tasklet(receives(MSG_KEEP, MSG_ANSWER_KEPT))]
fn keeper_of_tokens() {
    let mut kept: Option<(u32, Reply<u32>)> = None;
    let mut first = true;
    for msg in receive() {
        match msg {
            KeeperOfTokensMsg::MSG_KEEP(MSG_KEEP(n, reply)) if first => {
                kept = Some((n, reply));
                first = false;
            }
            KeeperOfTokensMsg::MSG_KEEP(MSG_KEEP(n, reply)) => reply.reply(n),
            KeeperOfTokensMsg::MSG_ANSWER_KEPT(MSG_ANSWER_KEPT) => {
                if let Some((n, reply)) = kept.take() {
                    reply.reply(n);
                }
            }
        }
    }
}

#[test]
fn each_call_gets_its_own_answer_while_an_earlier_calls_token_is_still_held() {
    // Reply slots are reused from call to call: a slot whose token someone still holds must
    // not be, or the late answer to the first call would land in a later one.
    run(|| {
        let keeper = KeeperOfTokens::new().spawn();
        let first = MSG_KEEP::call_timeout(&keeper, Duration::from_millis(5))(1);
        assert!(matches!(first, Err(CallError::TimedOut { .. })));
        for n in 2..50 {
            assert_eq!(MSG_KEEP::call(&keeper)(n), Ok(n));
            if n == 10 {
                // The first call's late answer goes nowhere: its caller gave up.
                MSG_ANSWER_KEPT::send(&keeper)().unwrap();
            }
        }
        // Calls of different kinds in turn, each with its own answer type.
        let calc = Calculator::new().spawn();
        for n in 0..20 {
            assert_eq!(MSG_KEEP::call(&keeper)(n), Ok(n));
            assert_eq!(MSG_SUM::call(&calc)(n.into(), 1), Ok(i64::from(n) + 1));
        }
        keeper.kill();
        calc.kill();
    });
}
