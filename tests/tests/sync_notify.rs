//! `sync::Notify`: one waiter or all, a notification kept for the next waiter, handed on when
//! its waiter is killed or loses a `select!`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::sync::Notify;
use concurrence::{select, sleep, spawn, wait_for, yield_, Mailbox, TimeoutError};
use concurrence_tests::run;

const LONG: Duration = Duration::from_secs(30);

#[test]
fn notify_one_wakes_the_oldest_waiter_only() {
    run(|| {
        let notify = Notify::new();
        let woken = Rc::new(RefCell::new(Vec::new()));
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let (notify, woken) = (notify.clone(), woken.clone());
                spawn(move || {
                    notify.notified();
                    woken.borrow_mut().push(i);
                })
            })
            .collect();
        yield_();
        notify.notify_one();
        yield_();
        assert_eq!(*woken.borrow(), [0]);
        notify.notify_one();
        notify.notify_one();
        waiters.iter().for_each(|w| w.join().unwrap());
        assert_eq!(*woken.borrow(), [0, 1, 2]);
        assert!(
            !notify.try_notified(),
            "a notification was kept though a waiter took it"
        );
    });
}

#[test]
fn a_notification_with_nobody_waiting_is_kept_once() {
    run(|| {
        let notify = Notify::new();
        notify.notify_one();
        notify.notify_one(); // kept as one
        let start = Instant::now();
        notify.notified(); // at once
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(
            notify.notified_timeout(Duration::from_millis(20)),
            Err(TimeoutError)
        );
        notify.notify_one();
        assert!(notify.try_notified());
        assert!(!notify.try_notified());
    });
}

#[test]
fn notify_waiters_wakes_everyone_waiting_and_keeps_nothing() {
    run(|| {
        let notify = Notify::new();
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let notify = notify.clone();
                spawn(move || notify.notified())
            })
            .collect();
        yield_();
        notify.notify_waiters();
        waiters.iter().for_each(|w| w.join().unwrap());
        assert!(!notify.try_notified());
        notify.notify_waiters(); // nobody waits: nothing kept
        assert!(notify.notified_timeout(Duration::from_millis(10)).is_err());
    });
}

#[test]
fn a_waiter_killed_after_being_notified_passes_the_notification_on() {
    run(|| {
        let notify = Notify::new();
        let first = {
            let notify = notify.clone();
            spawn(move || notify.notified())
        };
        let second = {
            let notify = notify.clone();
            spawn(move || notify.notified())
        };
        yield_();
        notify.notify_one(); // the first's...
        first.kill(); // ...which dies before it runs
        second.join_timeout(LONG).unwrap().unwrap();
        assert!(!notify.try_notified());
    });
}

#[test]
fn a_killed_waiters_notification_is_kept_when_nobody_else_waits() {
    run(|| {
        let notify = Notify::new();
        let only = {
            let notify = notify.clone();
            spawn(move || notify.notified())
        };
        yield_();
        notify.notify_one();
        only.kill();
        assert!(
            notify.try_notified(),
            "the notification was lost with its waiter"
        );
    });
}

#[test]
fn a_timed_out_waiter_takes_nothing() {
    run(|| {
        let notify = Notify::new();
        let start = Instant::now();
        assert!(notify.notified_timeout(Duration::from_millis(30)).is_err());
        assert!(start.elapsed() >= Duration::from_millis(30));
        notify.notify_one(); // nobody waits any more: kept
        assert!(notify.try_notified());
    });
}

#[test]
fn a_select_arm_that_loses_leaves_the_notification() {
    run(|| {
        let notify = Notify::new();
        let inbox = Mailbox::new();
        let selecting = {
            let (notify, inbox) = (notify.clone(), inbox.clone());
            spawn(move || {
                select! {
                    item = wait_for::popleft(&inbox) => item,
                    () = wait_for::notified(&notify) => "notified",
                }
            })
        };
        yield_();
        notify.notify_one(); // handed to the select...
        inbox.append("message").unwrap(); // ...whose first arm wins
        assert_eq!(selecting.join().unwrap(), "message");
        assert!(
            notify.try_notified(),
            "the losing arm took the notification"
        );
        notify.notify_one();
        select! {
            () = wait_for::notified(&notify) => {}
            () = wait_for::timeout(LONG) => panic!("not notified"),
        }
    });
}

#[test]
fn a_notification_sent_while_the_waiter_sleeps_elsewhere_wakes_its_next_wait() {
    run(|| {
        let notify = Notify::new();
        let worker = {
            let notify = notify.clone();
            spawn(move || {
                sleep(Duration::from_millis(20)); // busy: the notification is kept
                notify.notified_timeout(LONG)
            })
        };
        yield_();
        notify.notify_one();
        assert_eq!(worker.join().unwrap(), Ok(()));
    });
}
