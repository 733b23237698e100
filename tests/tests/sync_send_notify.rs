//! `sync::SendNotify`: notifications between tasklets of every dispatcher and plain threads,
//! kept once, handed on when their waiter is killed or loses a `select!`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concurrence::sync::SendNotify;
use concurrence::{select, spawn, spawn_on, wait_for, yield_, Dispatcher, Mailbox, TimeoutError};
use concurrence_tests::{run, run_with};

const LONG: Duration = Duration::from_secs(30);

#[test]
fn a_tasklet_on_another_dispatcher_and_a_thread_notify_each_other() {
    let ping = SendNotify::new();
    let pong = SendNotify::new();
    let thread = {
        let (ping, pong) = (ping.clone(), pong.clone());
        std::thread::spawn(move || {
            for _ in 0..100 {
                ping.notified(); // a plain thread blocks
                pong.notify_one();
            }
        })
    };
    run_with(
        Dispatcher::new().threads(2).handle_sigint(false),
        move || {
            let player = spawn_on(1, move || {
                for _ in 0..100 {
                    ping.notify_one();
                    pong.notified_timeout(LONG).expect("pong");
                }
            });
            player.join().unwrap();
        },
    );
    thread.join().unwrap();
}

#[test]
fn notify_one_is_kept_once_and_notify_waiters_keeps_nothing() {
    run(|| {
        let notify = SendNotify::new();
        notify.notify_one();
        notify.notify_one();
        assert!(notify.try_notified());
        assert!(!notify.try_notified());
        notify.notify_waiters();
        assert_eq!(
            notify.notified_timeout(Duration::from_millis(20)),
            Err(TimeoutError)
        );
        notify.notify_one();
        let start = Instant::now();
        notify.notified(); // the kept one, at once
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn notify_waiters_reaches_tasklets_of_every_dispatcher() {
    run_with(Dispatcher::new().threads(2).handle_sigint(false), || {
        let notify = SendNotify::new();
        let woken = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..4)
            .map(|i| {
                let (notify, woken) = (notify.clone(), woken.clone());
                spawn_on(i % 2, move || {
                    let mut wait = wait_for::notified_send(&notify);
                    select! {
                        () = &mut wait => { woken.fetch_add(1, Ordering::SeqCst); }
                        () = wait_for::timeout(LONG) => {}
                    }
                })
            })
            .collect();
        // A waiter that had not armed yet misses a round (nothing is kept): go on until all
        // were reached, each round waking those that wait.
        let start = Instant::now();
        while woken.load(Ordering::SeqCst) < 4 {
            assert!(
                start.elapsed() < LONG,
                "notify_waiters missed waiting tasklets"
            );
            notify.notify_waiters();
            concurrence::sleep(Duration::from_millis(2));
        }
        assert!(!notify.try_notified(), "notify_waiters kept a notification");
        waiters.iter().for_each(|w| w.join().unwrap());
        assert_eq!(woken.load(Ordering::SeqCst), 4);
    });
}

#[test]
fn a_waiter_killed_after_being_notified_passes_the_notification_on() {
    run(|| {
        let notify = SendNotify::new();
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
        first.kill(); // ...which dies before it ran
        second.join_timeout(LONG).unwrap().unwrap();
        assert!(!notify.try_notified());
    });
}

#[test]
fn a_select_arm_that_loses_leaves_the_notification() {
    run(|| {
        let notify = SendNotify::new();
        let inbox = Mailbox::new();
        let selecting = {
            let (notify, inbox) = (notify.clone(), inbox.clone());
            spawn(move || {
                select! {
                    item = wait_for::popleft(&inbox) => item,
                    () = wait_for::notified_send(&notify) => "notified",
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
    });
}

#[test]
fn a_thread_times_out_and_takes_nothing() {
    let notify = SendNotify::new();
    assert_eq!(
        notify.notified_timeout(Duration::from_millis(20)),
        Err(TimeoutError)
    );
    notify.notify_one(); // nobody waits any more: kept
    assert!(notify.try_notified());
}
