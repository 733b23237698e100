//! Sending and receiving messages: order, wake-ups, timeouts, batches, selective receive,
//! bounded mailboxes, and what happens to the messages of finished tasklets.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{
    current, message, receive, receive_batch, receive_matching, receive_matching_timeout,
    receive_timeout, receiver, sleep, spawn, tasklet, try_receive, yield_, ExitReason, SendError,
    TimeoutError,
};
use concurrence_tests::{capture_logs, logged, run, run_status, DropCounter, Token};

message!(MSG_PING(u32), MSG_PONG(u32), MSG_STOP);
message!(MSG_WORK(u32), MSG_URGENT(u32));
message!(MSG_ITEM(Token));

/// Answers each ping with a pong to `peer`, until stopped; returns how many it answered.
#[tasklet(receives(MSG_PING, MSG_STOP))]
fn ponger(peer: concurrence::Tasklet<Box<dyn std::any::Any>, PingerMsg>) -> usize {
    let mut answered = 0;
    for msg in receive() {
        match msg {
            PongerMsg::MSG_PING(MSG_PING(n)) => {
                MSG_PONG::send(&peer)(n + 1).unwrap();
                answered += 1;
            }
            PongerMsg::MSG_STOP(MSG_STOP) => return answered,
        }
    }
    unreachable!("receive never ends")
}

/// Pings a child `rounds` times and collects the pongs.
#[tasklet(receives(MSG_PONG))]
fn pinger(first: u32, rounds: usize) -> Vec<u32> {
    let me = current().with_messages::<PingerMsg>().unwrap();
    let child = Ponger::new().spawn(me);
    let mut pongs = Vec::new();
    let mut n = first;
    for _ in 0..rounds {
        MSG_PING::send(&child)(n).unwrap();
        let PingerMsg::MSG_PONG(MSG_PONG(m)) = receive().next().unwrap();
        pongs.push(m);
        n = m + 1;
    }
    MSG_STOP::send(&child)().unwrap();
    assert_eq!(child.join().unwrap(), rounds);
    pongs
}

/// Records every message it gets, until stopped.
#[tasklet(receives(MSG_WORK, MSG_URGENT, MSG_STOP))]
fn recorder(log: Rc<RefCell<Vec<String>>>) {
    for msg in receive() {
        let entry = match msg {
            RecorderMsg::MSG_WORK(MSG_WORK(n)) => format!("work {n}"),
            RecorderMsg::MSG_URGENT(MSG_URGENT(n)) => format!("urgent {n}"),
            RecorderMsg::MSG_STOP(MSG_STOP) => return,
        };
        log.borrow_mut().push(entry);
    }
}

/// Receives nothing until told to go (a `sleep`), then returns its unread mailbox length.
#[tasklet(receives(MSG_WORK, MSG_URGENT, MSG_STOP))]
fn idler(nap: Duration) {
    sleep(nap);
}

#[tasklet(receives(MSG_ITEM))]
fn hoarder() {
    sleep(Duration::from_secs(3600));
}

#[test]
fn ping_pong_of_six_messages_between_parent_and_child() {
    run(|| {
        let pinger = Pinger::new().spawn(1, 3);
        // Three pings and three pongs: 1 -> 2, 3 -> 4, 5 -> 6.
        assert_eq!(pinger.join().unwrap(), [2, 4, 6]);
    });
}

#[test]
fn send_wakes_a_waiting_receiver_which_runs_after_the_sender_blocks() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let recorder = Recorder::new().spawn(log.clone());
        yield_(); // the recorder now waits in receive
        MSG_WORK::send(&recorder)(1).unwrap();
        log.borrow_mut().push("sender goes on".to_owned());
        MSG_WORK::send(&recorder)(2).unwrap();
        MSG_STOP::send(&recorder)().unwrap();
        recorder.join().unwrap();
        assert_eq!(*log.borrow(), ["sender goes on", "work 1", "work 2"]);
    });
}

#[test]
fn messages_are_received_in_the_order_they_were_sent() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let recorder = Recorder::new().spawn(log.clone());
        for n in 0..100 {
            if n % 3 == 0 {
                MSG_URGENT::send(&recorder)(n).unwrap();
            } else {
                recorder.send(MSG_WORK(n)).unwrap();
            }
            if n % 7 == 0 {
                yield_();
            }
        }
        MSG_STOP::send(&recorder)().unwrap();
        recorder.join().unwrap();
        let expected: Vec<String> = (0..100)
            .map(|n| match n % 3 {
                0 => format!("urgent {n}"),
                _ => format!("work {n}"),
            })
            .collect();
        assert_eq!(*log.borrow(), expected);
    });
}

#[test]
fn receive_timeout_on_an_empty_mailbox_times_out() {
    #[tasklet(receives(MSG_WORK))]
    fn waiter() -> (Result<u32, TimeoutError>, Duration) {
        let start = concurrence::now();
        let got = receive_timeout::<WaiterMsg>(Duration::from_millis(50))
            .map(|WaiterMsg::MSG_WORK(MSG_WORK(n))| n);
        (got, concurrence::now() - start)
    }
    // On virtual time: the timeout's instant is exact, whatever the machine's load.
    let virtual_time = concurrence::Dispatcher::new()
        .handle_sigint(false)
        .virtual_time(true);
    concurrence_tests::run_with(virtual_time, || {
        let (got, waited) = Waiter::new().spawn().join().unwrap();
        assert_eq!(got, Err(TimeoutError));
        assert_eq!(waited, Duration::from_millis(50));
    });
}

#[test]
fn receive_timeout_returns_a_message_that_arrives_in_time() {
    #[tasklet(receives(MSG_WORK))]
    fn waiter() -> Result<u32, TimeoutError> {
        receive_timeout::<WaiterMsg>(Duration::from_secs(30))
            .map(|WaiterMsg::MSG_WORK(MSG_WORK(n))| n)
    }
    run(|| {
        let waiter = Waiter::new().spawn();
        sleep(Duration::from_millis(20));
        MSG_WORK::send(&waiter)(7).unwrap();
        assert_eq!(waiter.join().unwrap(), Ok(7));
    });
}

#[test]
fn try_receive_takes_a_queued_message_or_none() {
    #[tasklet(receives(MSG_WORK))]
    fn taker() -> (Option<u32>, Option<u32>) {
        let first = try_receive::<TakerMsg>().map(|TakerMsg::MSG_WORK(MSG_WORK(n))| n);
        let second = try_receive::<TakerMsg>().map(|TakerMsg::MSG_WORK(MSG_WORK(n))| n);
        (first, second)
    }
    run(|| {
        let taker = Taker::new().spawn();
        MSG_WORK::send(&taker)(5).unwrap();
        assert_eq!(taker.join().unwrap(), (Some(5), None));
    });
}

#[test]
fn send_to_a_finished_tasklet_gives_the_message_back() {
    run(|| {
        let idler = Idler::new().spawn(Duration::ZERO);
        idler.join().unwrap();
        match MSG_WORK::send(&idler)(42) {
            Err(SendError::Finished(MSG_WORK(n))) => assert_eq!(n, 42),
            other => panic!("expected Finished, got {other:?}"),
        }
        let err = idler.try_send(MSG_URGENT(1)).unwrap_err();
        assert!(err.to_string().contains("finished"), "{err}");
        assert_eq!(err.into_inner().0, 1);
    });
}

#[test]
fn send_to_a_killed_tasklet_gives_the_message_back() {
    run(|| {
        let idler = Idler::new().spawn(Duration::from_secs(3600));
        yield_();
        idler.kill();
        let err = MSG_WORK::send(&idler)(9).unwrap_err();
        assert!(matches!(err, SendError::Finished(MSG_WORK(9))));
    });
}

#[test]
fn unread_messages_are_dropped_when_their_tasklet_finishes() {
    run(|| {
        let drops = DropCounter::new();
        let hoarder = Hoarder::new().spawn();
        for _ in 0..5 {
            MSG_ITEM::send(&hoarder)(drops.token()).unwrap();
        }
        assert_eq!(hoarder.mailbox().len(), 5);
        assert_eq!(drops.count(), 0);
        hoarder.kill();
        assert_eq!(drops.count(), 5, "the unread messages were not dropped");
        assert!(hoarder.mailbox().is_closed());
    });
}

#[test]
fn receive_batch_takes_what_is_queued_up_to_max_size() {
    #[tasklet(receives(MSG_WORK))]
    fn batcher() -> Vec<Vec<u32>> {
        let numbers = |batch: Vec<BatcherMsg>| -> Vec<u32> {
            batch
                .into_iter()
                .map(|BatcherMsg::MSG_WORK(MSG_WORK(n))| n)
                .collect()
        };
        let first = numbers(receive_batch(4, Some(Duration::ZERO)));
        let second = numbers(receive_batch(4, Some(Duration::ZERO)));
        vec![first, second]
    }
    run(|| {
        let batcher = Batcher::new().spawn();
        for n in 0..6 {
            MSG_WORK::send(&batcher)(n).unwrap();
        }
        assert_eq!(batcher.join().unwrap(), [vec![0, 1, 2, 3], vec![4, 5]]);
    });
}

#[test]
fn receive_batch_waits_for_the_first_message_then_until_the_batch_timeout() {
    #[tasklet(receives(MSG_WORK))]
    fn batcher() -> (Vec<u32>, Duration) {
        let batch = receive_batch::<BatcherMsg>(10, Some(Duration::from_millis(100)));
        let after_first = Instant::now();
        let batch: Vec<u32> = batch
            .into_iter()
            .map(|BatcherMsg::MSG_WORK(MSG_WORK(n))| n)
            .collect();
        (batch, after_first.elapsed())
    }
    run(|| {
        let batcher = Batcher::new().spawn();
        sleep(Duration::from_millis(30)); // nothing yet: the batch waits for a first message
        MSG_WORK::send(&batcher)(1).unwrap();
        let first_sent = Instant::now();
        sleep(Duration::from_millis(20));
        MSG_WORK::send(&batcher)(2).unwrap();
        let (batch, _) = batcher.join().unwrap();
        // Two messages: the batch closed at the timeout, short of its max size, but not empty.
        assert_eq!(batch, [1, 2]);
        assert!(first_sent.elapsed() >= Duration::from_millis(100));
    });
}

#[test]
fn receive_batch_without_timeout_waits_until_the_batch_is_full() {
    #[tasklet(receives(MSG_WORK))]
    fn batcher() -> usize {
        receive_batch::<BatcherMsg>(3, None).len()
    }
    run(|| {
        let batcher = Batcher::new().spawn();
        for n in 0..3 {
            MSG_WORK::send(&batcher)(n).unwrap();
            sleep(Duration::from_millis(10));
        }
        assert_eq!(batcher.join().unwrap(), 3);
    });
}

#[test]
fn receiver_calls_its_function_for_each_message_and_survives_panics() {
    capture_logs();
    run(|| {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        let worker = receiver(move |msg: RecorderMsg| match msg {
            RecorderMsg::MSG_WORK(MSG_WORK(n)) => log.borrow_mut().push(n),
            RecorderMsg::MSG_URGENT(MSG_URGENT(n)) => panic!("urgent {n} not handled"),
            RecorderMsg::MSG_STOP(MSG_STOP) => {}
        });
        MSG_WORK::send(&worker)(1).unwrap();
        MSG_URGENT::send(&worker)(2).unwrap();
        MSG_WORK::send(&worker)(3).unwrap();
        while !worker.mailbox().is_empty() {
            yield_();
        }
        yield_();
        assert_eq!(*seen.borrow(), [1, 3]);
        assert!(!worker.has_finished());
        worker.kill();
    });
    assert_eq!(logged("urgent 2 not handled").len(), 1);
}

#[test]
fn selective_receive_takes_the_accepted_message_and_keeps_the_others_in_order() {
    #[tasklet(receives(MSG_WORK, MSG_URGENT, MSG_STOP))]
    fn selective() -> Vec<String> {
        let mut order = Vec::new();
        // Wait for the urgent message, whatever came before it.
        let urgent = receive_matching(|m: &SelectiveMsg| matches!(m, SelectiveMsg::MSG_URGENT(_)));
        let SelectiveMsg::MSG_URGENT(MSG_URGENT(n)) = urgent else {
            unreachable!("only urgent messages are accepted")
        };
        order.push(format!("urgent {n}"));
        for msg in receive() {
            match msg {
                SelectiveMsg::MSG_WORK(MSG_WORK(n)) => order.push(format!("work {n}")),
                SelectiveMsg::MSG_URGENT(MSG_URGENT(n)) => order.push(format!("urgent {n}")),
                SelectiveMsg::MSG_STOP(MSG_STOP) => return order,
            }
        }
        unreachable!("receive never ends")
    }
    run(|| {
        let selective = Selective::new().spawn();
        MSG_WORK::send(&selective)(1).unwrap();
        MSG_WORK::send(&selective)(2).unwrap();
        yield_(); // it waits for an urgent message; the work stays queued
        assert_eq!(selective.mailbox().len(), 2);
        MSG_WORK::send(&selective)(3).unwrap();
        MSG_URGENT::send(&selective)(4).unwrap();
        MSG_URGENT::send(&selective)(5).unwrap();
        MSG_STOP::send(&selective)().unwrap();
        assert_eq!(
            selective.join().unwrap(),
            ["urgent 4", "work 1", "work 2", "work 3", "urgent 5"]
        );
    });
}

#[test]
fn selective_receive_timeout_takes_nothing() {
    #[tasklet(receives(MSG_WORK, MSG_URGENT))]
    fn selective() -> (bool, usize) {
        let got = receive_matching_timeout(
            |m: &SelectiveMsg| matches!(m, SelectiveMsg::MSG_URGENT(_)),
            Duration::from_millis(30),
        );
        let left = current()
            .with_messages::<SelectiveMsg>()
            .unwrap()
            .mailbox()
            .len();
        (got.is_err(), left)
    }
    run(|| {
        let selective = Selective::new().spawn();
        MSG_WORK::send(&selective)(1).unwrap();
        MSG_WORK::send(&selective)(2).unwrap();
        assert_eq!(selective.join().unwrap(), (true, 2));
    });
}

#[test]
fn a_full_mailbox_blocks_the_sender_until_the_receiver_takes_a_message() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let recorder = Recorder::new().max_mailbox_len(2).spawn(log.clone());
        let sender_log = log.clone();
        let target = recorder.clone();
        let sender = spawn(move || {
            for n in 0..5 {
                MSG_WORK::send(&target)(n).unwrap();
                sender_log.borrow_mut().push(format!("sent {n}"));
            }
        });
        sender.join().unwrap();
        MSG_STOP::send(&recorder)().unwrap();
        recorder.join().unwrap();
        let log = log.borrow();
        // The sender never ran more than two messages ahead of the receiver.
        for n in 2..5 {
            let sent = log.iter().position(|e| *e == format!("sent {n}")).unwrap();
            let worked = log
                .iter()
                .position(|e| *e == format!("work {}", n - 2))
                .unwrap();
            assert!(
                worked < sent,
                "sent {n} before work {} was taken: {log:?}",
                n - 2
            );
        }
        assert_eq!(log.iter().filter(|e| e.starts_with("work")).count(), 5);
    });
}

#[test]
fn try_send_to_a_full_mailbox_fails_at_once_with_the_message() {
    run(|| {
        let idler = Idler::new()
            .max_mailbox_len(1)
            .spawn(Duration::from_secs(3600));
        MSG_WORK::try_send(&idler)(1).unwrap();
        match MSG_WORK::try_send(&idler)(2) {
            Err(SendError::Full(MSG_WORK(2))) => {}
            other => panic!("expected Full, got {other:?}"),
        }
        assert_eq!(idler.mailbox().len(), 1);
        idler.kill();
    });
}

#[test]
fn send_timeout_to_a_full_mailbox_times_out_with_the_message() {
    let virtual_time = concurrence::Dispatcher::new()
        .handle_sigint(false)
        .virtual_time(true);
    concurrence_tests::run_with(virtual_time, || {
        let idler = Idler::new()
            .max_mailbox_len(1)
            .spawn(Duration::from_secs(3600));
        MSG_WORK::send(&idler)(1).unwrap();
        let start = concurrence::now();
        match MSG_WORK::send_timeout(&idler, Duration::from_millis(40))(2) {
            Err(SendError::TimedOut(MSG_WORK(2))) => {}
            other => panic!("expected TimedOut, got {other:?}"),
        }
        assert_eq!(concurrence::now() - start, Duration::from_millis(40));
        idler.kill();
    });
}

#[test]
fn a_sender_blocked_on_a_full_mailbox_gets_its_message_back_when_the_receiver_ends() {
    run(|| {
        let idler = Idler::new()
            .max_mailbox_len(1)
            .spawn(Duration::from_millis(30));
        MSG_WORK::send(&idler)(1).unwrap();
        let start = Instant::now();
        match MSG_WORK::send(&idler)(2) {
            Err(SendError::Finished(MSG_WORK(2))) => {}
            other => panic!("expected Finished, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(20));
    });
}

#[test]
fn a_killed_blocked_sender_leaves_the_mailbox_usable() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let recorder = Recorder::new().max_mailbox_len(1).spawn(log.clone());
        MSG_WORK::send(&recorder)(1).unwrap(); // full: the recorder has not run yet
        let target = recorder.clone();
        let blocked = spawn(move || MSG_WORK::send(&target)(2).unwrap());
        yield_(); // the recorder takes 1 and waits; ...
        MSG_WORK::send(&recorder)(3).unwrap();
        blocked.kill();
        MSG_WORK::send(&recorder)(4).unwrap();
        MSG_STOP::send(&recorder)().unwrap();
        recorder.join().unwrap();
        let log = log.borrow();
        assert!(log.starts_with(&["work 1".to_owned()]), "{log:?}");
        assert!(log.contains(&"work 4".to_owned()), "{log:?}");
    });
}

#[test]
fn receive_in_a_tasklet_without_a_mailbox_panics_with_a_clear_message() {
    run(|| {
        let plain = spawn(|| {
            let _ = receive::<RecorderMsg>();
        });
        let err = plain.join().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("has no mailbox"), "{text}");
    });
}

#[test]
fn receive_of_another_message_set_panics_naming_both() {
    #[tasklet(receives(MSG_WORK))]
    fn confused() {
        let _ = receive::<RecorderMsg>();
    }
    run(|| {
        let err = Confused::new().spawn().join().unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("ConfusedMsg") && text.contains("RecorderMsg"),
            "{text}"
        );
    });
}

#[test]
fn a_deadlock_report_shows_tasklets_waiting_in_receive() {
    let status = run_status(|| {
        let idle = Recorder::new()
            .name("idle recorder")
            .spawn(Rc::new(RefCell::new(Vec::new())));
        idle.join().unwrap();
    });
    let ExitReason::Deadlock(blocked) = status.reason() else {
        panic!("expected a deadlock, got {status:?}")
    };
    let recorder = blocked
        .iter()
        .find(|b| b.name == "idle recorder")
        .expect("the recorder is listed");
    assert_eq!(recorder.waiting_on, "receive");
}

#[test]
fn tasklets_are_named_after_their_function_unless_named() {
    run(|| {
        let a = Recorder::new().spawn(Rc::new(RefCell::new(Vec::new())));
        let b = Recorder::new()
            .name("custom")
            .daemon(true)
            .stack_size(128 * 1024)
            .spawn(Rc::new(RefCell::new(Vec::new())));
        assert_eq!(a.name(), "recorder");
        assert_eq!(b.name(), "custom");
        assert!(b.is_daemon());
        MSG_STOP::send(&a)().unwrap();
        a.join().unwrap();
        b.kill();
    });
}

/// Returns its token after one message: the token is dropped only when the tasklet's record is.
#[tasklet(receives(MSG_WORK))]
fn keeper(token: Token) -> Token {
    let _ = receive::<KeeperMsg>().next();
    token
}

#[test]
fn tasklets_that_waited_on_mailboxes_are_freed_with_their_unjoined_results() {
    let drops = DropCounter::new();
    let counter = drops.clone();
    run(move || {
        // One waits in receive...
        let keeper = Keeper::new().spawn(counter.token());
        yield_();
        MSG_WORK::send(&keeper)(1).unwrap();
        // ...one waits for room in a full mailbox until its receiver ends.
        let idler = Idler::new()
            .max_mailbox_len(1)
            .spawn(Duration::from_millis(20));
        MSG_WORK::send(&idler)(1).unwrap();
        let token = counter.token();
        let sender = spawn(move || {
            assert!(MSG_WORK::send(&idler)(2).is_err());
            token
        });
        while !(keeper.has_finished() && sender.has_finished()) {
            yield_();
        }
    });
    assert_eq!(drops.count(), 2, "a tasklet record leaked");
}
