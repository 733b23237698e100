//! `sync::watch`: receivers see the latest value, wait for a change, learn that the senders
//! are gone after the last value, and a losing `select!` arm marks nothing seen.

use std::time::Duration;

use concurrence::sync::watch::{self, RecvError};
use concurrence::{select, spawn, wait_for, yield_, Mailbox, TimeoutError};
use concurrence_tests::run;

const LONG: Duration = Duration::from_secs(30);

#[test]
fn a_receiver_sees_the_latest_value_not_every_one() {
    run(|| {
        let (tx, rx) = watch::channel(0);
        assert_eq!(rx.has_changed(), Ok(false));
        for n in 1..=5 {
            tx.send(n).unwrap();
        }
        assert_eq!(rx.has_changed(), Ok(true));
        assert_eq!(rx.changed(), Ok(())); // at once
        assert_eq!(*rx.borrow(), 5);
        assert_eq!(rx.has_changed(), Ok(false));
        assert_eq!(*tx.borrow(), 5);
    });
}

#[test]
fn changed_waits_for_a_value_it_has_not_seen() {
    run(|| {
        let (tx, rx) = watch::channel("a");
        let waiter = spawn(move || {
            rx.changed().unwrap();
            *rx.borrow_and_update()
        });
        yield_();
        assert!(!waiter.has_finished());
        tx.send("b").unwrap();
        assert_eq!(waiter.join().unwrap(), "b");
    });
}

#[test]
fn the_senders_end_is_seen_after_the_latest_value() {
    run(|| {
        let (tx, rx) = watch::channel(1);
        tx.send(2).unwrap();
        drop(tx);
        assert_eq!(rx.changed(), Ok(())); // 2 was not seen yet
        assert_eq!(*rx.borrow(), 2);
        assert_eq!(rx.changed(), Err(RecvError));
        assert_eq!(rx.has_changed(), Err(RecvError));
        let (tx, rx) = watch::channel(0);
        let waiter = spawn(move || rx.changed());
        yield_();
        drop(tx);
        assert_eq!(waiter.join().unwrap(), Err(RecvError));
    });
}

#[test]
fn sending_to_no_receiver_fails_but_send_replace_stores() {
    run(|| {
        let (tx, rx) = watch::channel(1);
        drop(rx);
        assert_eq!(tx.send(2).unwrap_err().0, 2);
        assert_eq!(*tx.borrow(), 1);
        assert_eq!(tx.send_replace(3), 1);
        let late = tx.subscribe();
        assert_eq!(late.has_changed(), Ok(false)); // it has seen 3
        assert_eq!(*late.borrow(), 3);
    });
}

#[test]
fn changed_timeout_times_out_and_a_killed_waiter_leaves_the_others_be() {
    run(|| {
        let (tx, rx) = watch::channel(0);
        assert_eq!(
            rx.changed_timeout(Duration::from_millis(20)),
            Err(TimeoutError)
        );
        let doomed = {
            let rx = rx.clone();
            spawn(move || rx.changed())
        };
        let other = {
            let rx = rx.clone();
            spawn(move || rx.changed().map(|()| *rx.borrow()))
        };
        yield_();
        tx.send(9).unwrap();
        doomed.kill();
        assert_eq!(other.join_timeout(LONG).unwrap().unwrap(), Ok(9));
        assert_eq!(rx.changed_timeout(LONG), Ok(Ok(())));
    });
}

#[test]
fn a_select_arm_that_loses_marks_nothing_seen() {
    run(|| {
        let (tx, rx) = watch::channel(0);
        let inbox = Mailbox::new();
        tx.send(1).unwrap();
        inbox.append("first").unwrap();
        select! {
            item = wait_for::popleft(&inbox) => assert_eq!(item, "first"),
            _ = wait_for::changed(&rx) => panic!("the changed arm won"),
        }
        assert_eq!(rx.has_changed(), Ok(true));
        select! {
            r = wait_for::changed(&rx) => assert_eq!(r, Ok(())),
            () = wait_for::timeout(LONG) => panic!("no change"),
        }
        assert_eq!(rx.has_changed(), Ok(false));
    });
}

#[test]
#[should_panic(expected = "borrow of it was held")]
fn sending_while_a_borrow_is_held_panics_with_a_clear_message() {
    let (tx, rx) = watch::channel(0);
    let _held = rx.borrow();
    tx.send_replace(1);
}
