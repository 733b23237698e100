//! `sync::broadcast`: every receiver sees every value, a receiver that falls behind is told
//! how many it missed, the end comes after the last value, and a losing `select!` arm leaves
//! the receiver where it was.

use std::time::Duration;

use concurrence::sync::broadcast::{self, RecvError, TryRecvError};
use concurrence::{select, spawn, wait_for, yield_, Mailbox, TimeoutError};
use concurrence_tests::run;

const LONG: Duration = Duration::from_secs(30);

#[test]
fn every_receiver_sees_every_value_in_order() {
    run(|| {
        let (tx, rx) = broadcast::channel(8);
        let listeners: Vec<_> = (0..3)
            .map(|_| {
                let rx = tx.subscribe();
                spawn(move || {
                    let mut seen = Vec::new();
                    while let Ok(n) = rx.recv() {
                        seen.push(n);
                    }
                    seen
                })
            })
            .collect();
        yield_();
        for n in 0..5 {
            assert_eq!(tx.send(n).unwrap(), 4); // three listeners and rx
            if n % 2 == 0 {
                yield_();
            }
        }
        drop(tx);
        for l in listeners {
            assert_eq!(l.join().unwrap(), [0, 1, 2, 3, 4]);
        }
        assert_eq!(rx.len(), 5);
    });
}

#[test]
fn a_receiver_that_falls_behind_is_told_how_many_it_missed() {
    run(|| {
        let (tx, rx) = broadcast::channel(2);
        for n in 0..5 {
            tx.send(n).unwrap();
        }
        assert_eq!(rx.recv(), Err(RecvError::Lagged(3)));
        assert_eq!(rx.recv(), Ok(3)); // the oldest kept
        assert_eq!(rx.try_recv(), Ok(4));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        for n in 5..8 {
            tx.send(n).unwrap();
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
        assert_eq!(rx.try_recv(), Ok(6));
    });
}

#[test]
fn the_end_comes_after_the_last_value_and_sending_to_nobody_fails() {
    run(|| {
        let (tx, rx) = broadcast::channel(4);
        tx.send("last").unwrap();
        let tx2 = tx.clone();
        drop(tx);
        assert!(rx.try_recv().is_ok()); // "last": one sender is left
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx2);
        assert_eq!(rx.recv(), Err(RecvError::Closed));
        let (tx, rx) = broadcast::channel::<u8>(1);
        drop(rx);
        assert_eq!(tx.send(1).unwrap_err().0, 1);
        let late = tx.subscribe();
        tx.send(2).unwrap();
        assert_eq!(late.try_recv(), Ok(2));
    });
}

#[test]
fn a_waiting_receiver_wakes_when_the_last_sender_goes() {
    run(|| {
        let (tx, rx) = broadcast::channel::<u8>(1);
        let waiter = spawn(move || rx.recv());
        yield_();
        drop(tx);
        assert_eq!(waiter.join().unwrap(), Err(RecvError::Closed));
    });
}

#[test]
fn recv_timeout_times_out_and_a_killed_receiver_leaves_the_others_be() {
    run(|| {
        let (tx, rx) = broadcast::channel(4);
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(20)),
            Err(TimeoutError)
        );
        let doomed = {
            let rx = rx.clone();
            spawn(move || rx.recv())
        };
        let other = {
            let rx = rx.clone();
            spawn(move || rx.recv())
        };
        yield_();
        tx.send(7).unwrap();
        doomed.kill();
        assert_eq!(other.join_timeout(LONG).unwrap().unwrap(), Ok(7));
        assert_eq!(rx.recv_timeout(LONG), Ok(Ok(7)));
    });
}

#[test]
fn a_select_arm_that_loses_leaves_the_receiver_where_it_was() {
    run(|| {
        let (tx, rx) = broadcast::channel(4);
        let inbox = Mailbox::new();
        tx.send(1).unwrap();
        inbox.append("first").unwrap();
        select! {
            item = wait_for::popleft(&inbox) => assert_eq!(item, "first"),
            _ = wait_for::recv(&rx) => panic!("the recv arm won"),
        }
        select! {
            n = wait_for::recv(&rx) => assert_eq!(n, Ok(1)),
            () = wait_for::timeout(LONG) => panic!("no value"),
        }
    });
}
