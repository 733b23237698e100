//! Messages across threads: a tasklet's `SendTasklet` handle (`Tasklet::sendable`,
//! `Builder::spawn_on`) sends and calls from a tasklet on any dispatcher or from a plain
//! thread, with the local handle's semantics and errors: nothing lost or duplicated, the
//! message back on every failure, answers that find their caller wherever it waits.

use std::time::Duration;

use concurrence::{
    io, message, receive, sleep, spawn_on, tasklet, Builder, CallError, JoinCause, SendError,
    SendTasklet,
};
use concurrence_tests::{run_value, two, LIMIT};

message!(MSG_ITEM(u32, u32), MSG_DONE, MSG_ECHO(u64) -> u64, MSG_HOLD(u64) -> u64);

/// Receives items from `sources` senders until each said it is done; returns how many came
/// from each, checking that each sender's items arrive once, in order.
#[tasklet(receives(MSG_ITEM, MSG_DONE))]
fn collector(sources: usize) -> Vec<u32> {
    let mut next = vec![0u32; sources];
    let mut done = 0;
    for msg in receive::<CollectorMsg>() {
        match msg {
            CollectorMsg::MSG_ITEM(MSG_ITEM(source, n)) => {
                assert_eq!(
                    n, next[source as usize],
                    "source {source}: lost or out of order"
                );
                next[source as usize] += 1;
            }
            CollectorMsg::MSG_DONE(_) => {
                done += 1;
                if done == sources {
                    break;
                }
            }
        }
    }
    next
}

#[test]
fn a_million_messages_from_tasklets_on_two_dispatchers_and_two_threads_arrive_once_in_order() {
    const EACH: u32 = 250_000;
    let status = run_value(two(), || {
        let collector = Collector::new().spawn(4);
        let handle = collector.sendable();
        let mut senders = Vec::new();
        for (source, dispatcher) in [(0u32, 0usize), (1, 1)] {
            let handle = handle.clone();
            senders.push(spawn_on(dispatcher, move || {
                for n in 0..EACH {
                    handle.send(MSG_ITEM(source, n)).unwrap();
                }
                handle.send(MSG_DONE).unwrap();
            }));
        }
        let threads: Vec<_> = (2u32..4)
            .map(|source| {
                let handle = handle.clone();
                std::thread::spawn(move || {
                    for n in 0..EACH {
                        handle.send(MSG_ITEM(source, n)).unwrap();
                    }
                    handle.send(MSG_DONE).unwrap();
                })
            })
            .collect();
        drop(handle);
        let counts = collector.join().unwrap();
        for sender in senders {
            sender.join().unwrap();
        }
        io::blocking(move || threads.into_iter().for_each(|t| t.join().unwrap()));
        counts
    });
    assert_eq!(status.into_value(), Some(vec![EACH; 4]));
}

/// Never receives: its bounded mailbox stays full.
#[tasklet(receives(MSG_ITEM))]
fn deaf() {
    sleep(Duration::from_secs(3600));
}

#[test]
fn senders_on_another_dispatcher_blocked_on_a_full_mailbox_get_their_messages_back_when_the_receiver_is_killed(
) {
    let status = run_value(two(), || {
        let deaf = Deaf::new().max_mailbox_len(1).spawn();
        let handle = deaf.sendable();
        handle.send(MSG_ITEM(0, 0)).unwrap(); // fills it
        let senders: Vec<_> = (1..4)
            .map(|n| {
                let handle = handle.clone();
                spawn_on(1, move || match handle.send(MSG_ITEM(n, n * 10)) {
                    Err(SendError::Finished(MSG_ITEM(source, value))) => (source, value),
                    other => panic!("sender {n}: {other:?}"),
                })
            })
            .collect();
        sleep(Duration::from_millis(100)); // the senders block on the full mailbox
        assert!(senders.iter().all(|s| !s.has_finished()));
        deaf.kill();
        let mut back: Vec<_> = senders.iter().map(|s| s.join().unwrap()).collect();
        back.sort();
        back
    });
    assert_eq!(status.into_value(), Some(vec![(1, 10), (2, 20), (3, 30)]));
}

#[test]
fn try_send_and_send_timeout_from_another_thread_to_a_full_mailbox_give_the_message_back() {
    let status = run_value(two(), || {
        let deaf = Deaf::new().max_mailbox_len(1).daemon(true).spawn();
        let handle = deaf.sendable();
        handle.try_send(MSG_ITEM(0, 0)).unwrap();
        let from_dispatcher_1 = {
            let handle = handle.clone();
            spawn_on(1, move || handle.try_send(MSG_ITEM(1, 1)))
        };
        let Err(SendError::Full(MSG_ITEM(1, 1))) = from_dispatcher_1.join().unwrap() else {
            panic!("try_send to a full mailbox from dispatcher 1 did not come back Full");
        };
        let thread = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let result = handle.send_timeout(MSG_ITEM(2, 2), Duration::from_millis(50));
            (result, started.elapsed())
        });
        let (result, waited) = io::blocking(move || thread.join().unwrap());
        let Err(SendError::TimedOut(MSG_ITEM(2, 2))) = result else {
            panic!("send_timeout to a full mailbox from a thread did not time out: {result:?}");
        };
        assert!(
            waited >= Duration::from_millis(50),
            "gave up early: {waited:?}"
        );
    });
    assert!(status.success());
}

#[test]
fn a_send_to_a_finished_tasklet_from_another_thread_gives_the_message_back() {
    let status = run_value(two(), || {
        let collector = Collector::new().spawn(1);
        let handle = collector.sendable();
        handle.send(MSG_DONE).unwrap();
        assert_eq!(collector.join().unwrap(), [0]);
        let thread = std::thread::spawn(move || handle.send(MSG_ITEM(0, 7)));
        match io::blocking(move || thread.join().unwrap()) {
            Err(SendError::Finished(MSG_ITEM(0, 7))) => {}
            other => panic!("a send to a finished tasklet: {other:?}"),
        }
    });
    assert!(status.success());
}

/// Answers `MSG_ECHO` at once; holds `MSG_HOLD` calls and ends (unanswered) on `MSG_DONE`, or
/// hands the reply to dispatcher 1, which drops it or answers there, by the number.
#[tasklet(receives(MSG_ECHO, MSG_HOLD, MSG_DONE))]
fn echo() {
    let mut held = Vec::new();
    for msg in receive::<EchoMsg>() {
        match msg {
            EchoMsg::MSG_ECHO(MSG_ECHO(n, reply)) => reply.reply(n),
            EchoMsg::MSG_HOLD(MSG_HOLD(0, reply)) => held.push(reply),
            EchoMsg::MSG_HOLD(MSG_HOLD(1, reply)) => {
                spawn_on(1, move || drop(reply));
            }
            EchoMsg::MSG_HOLD(MSG_HOLD(n, reply)) => {
                spawn_on(1, move || reply.reply(n * 2));
            }
            EchoMsg::MSG_DONE(_) => return, // the held calls are dropped unanswered
        }
    }
}

#[test]
fn calls_from_another_dispatcher_and_a_thread_are_answered_and_a_callee_that_ends_mid_call_fails_them(
) {
    let status = run_value(two(), || {
        let echo = Echo::new().spawn();
        let handle = echo.sendable();
        let caller = {
            let handle = handle.clone();
            spawn_on(1, move || {
                let answered = handle.call(|r| MSG_ECHO(5, r));
                let held = handle.call(|r| MSG_HOLD(0, r));
                (answered, held)
            })
        };
        let thread = {
            let handle = handle.clone();
            std::thread::spawn(move || handle.call_timeout(|r| MSG_ECHO(6, r), LIMIT))
        };
        assert_eq!(io::blocking(move || thread.join().unwrap()), Ok(6));
        sleep(Duration::from_millis(50)); // the held call waits
        handle.send(MSG_DONE).unwrap();
        let (answered, held) = caller.join().unwrap();
        assert_eq!(answered, Ok(5));
        assert_eq!(
            held,
            Err(CallError::NoReply {
                message: "MSG_HOLD"
            })
        );
        echo.join().unwrap();
        // Finished now: a call gives its message back.
        match handle.call(|r| MSG_ECHO(7, r)) {
            Err(CallError::Finished {
                undelivered: MSG_ECHO(7, _),
                ..
            }) => {}
            other => panic!("a call to a finished tasklet: {other:?}"),
        }
    });
    assert!(status.success());
}

#[test]
fn a_reply_handed_to_another_dispatcher_answers_its_caller_or_fails_the_call_when_dropped() {
    let status = run_value(two(), || {
        let echo = Echo::new().daemon(true).spawn();
        // A caller on the receiver's own dispatcher: its reply token is confined to it, and
        // goes home from dispatcher 1.
        let answered = MSG_HOLD::call(&echo)(21);
        let dropped = MSG_HOLD::call(&echo)(1);
        (answered, dropped)
    });
    assert_eq!(
        status.into_value(),
        Some((
            Ok(42),
            Err(CallError::NoReply {
                message: "MSG_HOLD"
            })
        ))
    );
}

#[test]
fn a_call_timeout_from_a_plain_thread_times_out_and_the_call_fails_with_timed_out() {
    let status = run_value(two(), || {
        let echo = Echo::new().spawn();
        let handle = echo.sendable();
        let thread = {
            let handle = handle.clone();
            std::thread::spawn(move || {
                handle.call_timeout(|r| MSG_HOLD(0, r), Duration::from_millis(50))
            })
        };
        assert_eq!(
            io::blocking(move || thread.join().unwrap()),
            Err(CallError::TimedOut {
                message: "MSG_HOLD"
            })
        );
        handle.send(MSG_DONE).unwrap();
        echo.join().unwrap();
    });
    assert!(status.success());
}

#[test]
fn a_tasklet_calling_itself_through_its_sendable_handle_fails_with_called_self() {
    let status = run_value(two(), || {
        type Me = SendTasklet<Result<u64, CallError<MSG_ECHO>>, EchoMsg>;
        let (tx, rx) = std::sync::mpsc::channel::<Me>();
        let me = Builder::new()
            .receives::<EchoMsg>()
            .spawn(move || rx.recv().unwrap().call(|r| MSG_ECHO(1, r)));
        tx.send(me.sendable()).unwrap();
        me.join().unwrap()
    });
    assert_eq!(
        status.into_value(),
        Some(Err(CallError::CalledSelf {
            message: "MSG_ECHO"
        }))
    );
}

#[test]
fn the_first_join_anywhere_takes_the_value_and_a_later_local_join_sees_already_joined() {
    let status = run_value(two(), || {
        let worker = concurrence::spawn(|| String::from("done"));
        let handle = worker.sendable();
        let remote = spawn_on(1, move || handle.join());
        assert_eq!(remote.join().unwrap().unwrap(), "done");
        assert_eq!(
            worker.join().unwrap_err().cause(),
            &JoinCause::AlreadyJoined
        );
    });
    assert!(status.success());
}
