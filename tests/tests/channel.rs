//! Channels: rendezvous in both orders, who runs first, timeouts both ways, waiters that time out
//! or are killed, and exceptions sent to the receiver.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{sleep, spawn, yield_, Channel, SendError, TimeoutError};
use concurrence_tests::{run, DropCounter, OnDrop};

#[test]
fn receive_takes_the_value_of_a_waiting_sender() {
    run(|| {
        let channel = Channel::new();
        let sender = {
            let channel = channel.clone();
            spawn(move || channel.send("hello"))
        };
        yield_(); // the sender waits for a receiver
        assert!(channel.has_sender());
        assert!(!channel.has_receiver());
        assert_eq!(channel.receive(), "hello");
        assert!(!channel.has_sender());
        sender.join().unwrap();
    });
}

#[test]
fn a_sender_meeting_a_waiting_receiver_lets_the_receiver_run_first() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let channel = Channel::new();
        let receiver = {
            let (channel, log) = (channel.clone(), log.clone());
            spawn(move || {
                let value = channel.receive();
                log.borrow_mut().push(format!("receiver got {value}"));
            })
        };
        let bystander = {
            let log = log.clone();
            spawn(move || {
                yield_(); // ready again while the rendezvous happens
                log.borrow_mut().push("bystander".to_owned());
            })
        };
        yield_(); // the receiver waits; the bystander has yielded once
        assert!(channel.has_receiver());
        channel.send(1);
        log.borrow_mut().push("sender goes on".to_owned());
        receiver.join().unwrap();
        bystander.join().unwrap();
        // The receiver ran at once; the sender went to the back of the queue, behind the
        // bystander.
        assert_eq!(
            *log.borrow(),
            ["receiver got 1", "bystander", "sender goes on"]
        );
    });
}

#[test]
fn a_receiver_meeting_a_waiting_sender_goes_on_and_the_sender_runs_later() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let channel = Channel::new();
        let sender = {
            let (channel, log) = (channel.clone(), log.clone());
            spawn(move || {
                channel.send(7);
                log.borrow_mut().push("sender resumed".to_owned());
            })
        };
        yield_();
        let value = channel.receive();
        log.borrow_mut().push(format!("receiver got {value}"));
        sender.join().unwrap();
        assert_eq!(*log.borrow(), ["receiver got 7", "sender resumed"]);
    });
}

#[test]
fn send_timeout_without_a_receiver_gives_the_value_back() {
    run(|| {
        let channel = Channel::new();
        let start = Instant::now();
        match channel.send_timeout(String::from("unsent"), Duration::from_millis(30)) {
            Err(SendError::TimedOut(value)) => assert_eq!(value, "unsent"),
            other => panic!("expected TimedOut, got {other:?}"),
        }
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(!channel.has_sender(), "a timed-out sender is still listed");
    });
}

#[test]
fn receive_timeout_without_a_sender_times_out() {
    run(|| {
        let channel: Channel<u8> = Channel::new();
        let start = Instant::now();
        assert_eq!(
            channel.receive_timeout(Duration::from_millis(30)),
            Err(TimeoutError)
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(
            !channel.has_receiver(),
            "a timed-out receiver is still listed"
        );
    });
}

#[test]
fn send_and_receive_within_their_timeouts_succeed() {
    run(|| {
        let channel = Channel::new();
        let receiver = {
            let channel = channel.clone();
            spawn(move || channel.receive_timeout(Duration::from_secs(30)))
        };
        sleep(Duration::from_millis(10));
        channel.send_timeout(3, Duration::from_secs(30)).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(3));
    });
}

#[test]
fn has_receiver_is_false_after_the_receiver_is_killed() {
    run(|| {
        let channel: Channel<u32> = Channel::new();
        let receiver = {
            let channel = channel.clone();
            spawn(move || channel.receive())
        };
        yield_();
        assert!(channel.has_receiver());
        receiver.kill();
        assert!(!channel.has_receiver());
        // The channel still works: a new receiver gets the next value.
        let next = {
            let channel = channel.clone();
            spawn(move || channel.receive())
        };
        yield_();
        channel.send(9);
        assert_eq!(next.join().unwrap(), 9);
    });
}

#[test]
fn has_sender_is_false_after_the_sender_is_killed() {
    run(|| {
        let channel = Channel::new();
        let sender = {
            let channel = channel.clone();
            spawn(move || channel.send(1))
        };
        yield_();
        assert!(channel.has_sender());
        sender.kill();
        assert!(!channel.has_sender());
        assert_eq!(
            channel.receive_timeout(Duration::from_millis(10)),
            Err(TimeoutError)
        );
    });
}

#[test]
fn senders_are_received_in_the_order_they_came() {
    run(|| {
        let channel = Channel::new();
        let senders: Vec<_> = (0..5)
            .map(|i| {
                let channel = channel.clone();
                spawn(move || channel.send(i))
            })
            .collect();
        yield_();
        let got: Vec<i32> = (0..5).map(|_| channel.receive()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        for s in &senders {
            s.join().unwrap();
        }
    });
}

#[test]
fn send_exception_raises_it_in_the_receiver() {
    #[derive(Debug, PartialEq)]
    struct Cancelled(&'static str);
    run(|| {
        let channel: Channel<u32> = Channel::new();
        let receiver = {
            let channel = channel.clone();
            spawn(move || {
                let raised = catch_unwind(AssertUnwindSafe(|| channel.receive())).unwrap_err();
                *raised.downcast::<Cancelled>().unwrap()
            })
        };
        yield_();
        channel.send_exception(Cancelled("stop"));
        assert_eq!(receiver.join().unwrap(), Cancelled("stop"));
    });
}

#[test]
fn an_uncaught_exception_ends_the_receiver_with_a_panic() {
    run(|| {
        let channel: Channel<u32> = Channel::new();
        let receiver = {
            let channel = channel.clone();
            spawn(move || channel.receive())
        };
        let sender = {
            let channel = channel.clone();
            spawn(move || channel.send_exception("connection lost"))
        };
        let err = receiver.join().unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("connection lost"), "{err}");
        sender.join().unwrap();
    });
}

#[test]
fn send_exception_timeout_without_a_receiver_times_out() {
    run(|| {
        let channel: Channel<u32> = Channel::new();
        assert_eq!(
            channel.send_exception_timeout("nobody", Duration::from_millis(20)),
            Err(TimeoutError)
        );
        assert!(!channel.has_sender());
    });
}

#[test]
fn tasklets_that_waited_on_a_channel_are_freed_with_their_unjoined_results() {
    let drops = concurrence_tests::DropCounter::new();
    let counter = drops.clone();
    run(move || {
        let channel: Channel<u8> = Channel::new();
        let token = counter.token();
        let receiver = {
            let channel = channel.clone();
            spawn(move || {
                channel.receive();
                token
            })
        };
        let token = counter.token();
        let sender = {
            let channel = channel.clone();
            spawn(move || {
                channel.send(1);
                channel.send(2);
                token
            })
        };
        yield_();
        assert_eq!(channel.receive(), 2);
        while !(receiver.has_finished() && sender.has_finished()) {
            yield_();
        }
    });
    assert_eq!(drops.count(), 2, "a tasklet record leaked");
}

#[test]
fn a_timed_send_whose_deadline_passed_while_the_dispatcher_was_busy_gets_its_value_back() {
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        let channel = Channel::new();
        let sender = {
            let channel = channel.clone();
            let token = d.token();
            spawn(move || channel.send_timeout(token, Duration::from_millis(20)))
        };
        let receiver = {
            let channel = channel.clone();
            spawn(move || {
                // Due before the sender's deadline: woken first by the same round of timers.
                sleep(Duration::from_millis(10));
                channel.receive_timeout(Duration::from_millis(30))
            })
        };
        yield_(); // both wait
        std::thread::sleep(Duration::from_millis(60)); // busy: both deadlines pass meanwhile
        match sender.join().unwrap() {
            Err(SendError::TimedOut(token)) => drop(token),
            Ok(()) => panic!("the send reported delivery, but the receiver got nothing"),
            Err(other) => panic!("unexpected {other:?}"),
        }
        assert!(receiver.join().unwrap().is_err(), "the receiver timed out");
        assert_eq!(d.count(), 1, "dropped once, by its sender who got it back");
    });
}

#[test]
fn a_received_value_reaches_the_receiver_before_anything_the_sender_spawned_runs() {
    run(|| {
        let got = Rc::new(RefCell::new(None));
        let channel = Channel::new();
        let receiver = {
            let (channel, got) = (channel.clone(), got.clone());
            spawn(move || *got.borrow_mut() = Some(channel.receive()))
        };
        yield_(); // the receiver waits
        let r = receiver.clone();
        // Spawned before the send: it would run first if the receiver did not.
        let killer = spawn(move || r.kill());
        channel.send("delivered");
        killer.join().unwrap();
        assert_eq!(*got.borrow(), Some("delivered"), "nothing is lost");
        assert!(
            receiver.join().is_ok(),
            "the receiver ended with its value, not killed"
        );
    });
}

#[test]
fn a_receiver_killed_after_being_woken_leaves_the_value_to_the_next_receiver() {
    run(|| {
        let channel = Channel::new();
        let first = {
            let channel = channel.clone();
            spawn(move || channel.receive())
        };
        let second = {
            let channel = channel.clone();
            spawn(move || channel.receive())
        };
        let sender = {
            let channel = channel.clone();
            spawn(move || {
                let _sends = OnDrop::new(move || {
                    assert_eq!(channel.send_timeout(5, Duration::from_secs(10)), Ok(()));
                });
                sleep(Duration::from_secs(3600));
            })
        };
        yield_(); // all three wait
                  // The sender's destructor sends while it unwinds, on our stack: it wakes the first
                  // receiver and waits for it, and the kill returns with the first receiver ready.
        sender.kill();
        assert!(!sender.has_finished());
        first.kill(); // woken, but it never ran to take the value
        assert!(first.join().unwrap_err().is_killed());
        assert_eq!(
            second.join().unwrap(),
            5,
            "the value went to the next receiver"
        );
        assert!(sender.join().unwrap_err().is_killed());
    });
}
