//! `sync::SendSemaphore`: one count for the tasklets of every dispatcher and for plain threads,
//! handed to the oldest waiter, never lost to a killed waiter or holder, taken by a `select!`
//! arm only when it wins.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concurrence::sync::SendSemaphore;
use concurrence::{
    select, sleep, spawn, spawn_on, wait_for, yield_, Dispatcher, Mailbox, TimeoutError,
};
use concurrence_tests::{run, run_with};

const LONG: Duration = Duration::from_secs(30);

#[test]
fn permits_bound_the_tasklets_of_two_dispatchers_together() {
    run_with(Dispatcher::new().threads(2).handle_sigint(false), || {
        let slots = SendSemaphore::new(3);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..12)
            .map(|i| {
                let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
                spawn_on(i % 2, move || {
                    for _ in 0..5 {
                        let _permit = slots.acquire();
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        sleep(Duration::from_millis(1));
                        running.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        workers.iter().for_each(|w| w.join().unwrap());
        assert!(most.load(Ordering::SeqCst) <= 3, "{most:?}");
        assert_eq!(slots.available_permits(), 3);
    });
}

#[test]
fn a_plain_thread_waits_in_line_with_the_tasklets() {
    let sem = SendSemaphore::new(1);
    let held = sem.acquire(); // outside any dispatcher: at once
    let order = Arc::new(Mutex::new(Vec::new()));
    let thread = {
        let (sem, order) = (sem.clone(), order.clone());
        std::thread::spawn(move || {
            let permit = sem.acquire(); // blocks the thread
            order.lock().unwrap().push("thread");
            drop(permit);
        })
    };
    // Wait until the thread waits (it queued first).
    let start = Instant::now();
    while sem.try_acquire_many(0).is_some() {
        assert!(start.elapsed() < LONG, "the thread never waited");
        std::thread::sleep(Duration::from_millis(1));
    }
    let (sem2, order2) = (sem.clone(), order.clone());
    run(move || {
        let tasklet = spawn(move || {
            let _permit = sem2.acquire();
            order2.lock().unwrap().push("tasklet");
        });
        yield_(); // it waits behind the thread
        drop(held);
        tasklet.join_timeout(LONG).unwrap().unwrap();
    });
    thread.join().unwrap();
    assert_eq!(*order.lock().unwrap(), ["thread", "tasklet"]);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn waiters_are_served_oldest_first_and_a_newcomer_cannot_barge() {
    run(|| {
        let sem = SendSemaphore::new(0);
        let order = Arc::new(Mutex::new(Vec::new()));
        let waiters: Vec<_> = (0..4)
            .map(|i| {
                let (sem, order) = (sem.clone(), order.clone());
                spawn(move || {
                    let permit = sem.acquire();
                    order.lock().unwrap().push(i);
                    permit.forget();
                })
            })
            .collect();
        yield_();
        sem.add_permits(1);
        assert!(
            sem.try_acquire().is_none(),
            "a newcomer took the waiter's permit"
        );
        sem.add_permits(3);
        waiters.iter().for_each(|w| w.join().unwrap());
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
    });
}

#[test]
fn acquire_timeout_times_out_and_takes_nothing() {
    run(|| {
        let sem = SendSemaphore::new(1);
        let held = sem.acquire();
        let start = Instant::now();
        assert_eq!(
            sem.acquire_timeout(Duration::from_millis(30)).unwrap_err(),
            TimeoutError
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        drop(held);
        assert_eq!(sem.available_permits(), 1);
        assert_eq!(sem.acquire_many_timeout(1, LONG).unwrap().count(), 1);
    });
    let sem = SendSemaphore::new(0); // on a plain thread
    assert!(sem.acquire_timeout(Duration::from_millis(10)).is_err());
    sem.add_permits(1);
    assert!(sem.acquire_timeout(LONG).is_ok());
}

#[test]
fn a_waiter_killed_after_being_handed_the_permit_passes_it_on() {
    run(|| {
        let sem = SendSemaphore::new(1);
        let held = sem.acquire();
        let first = {
            let sem = sem.clone();
            spawn(move || drop(sem.acquire()))
        };
        let second = {
            let sem = sem.clone();
            spawn(move || sem.acquire().count())
        };
        yield_();
        drop(held); // handed to the first...
        first.kill(); // ...which dies before it runs
        assert_eq!(second.join_timeout(LONG).unwrap().unwrap(), 1);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn a_killed_holder_on_another_dispatcher_gives_its_permit_back() {
    run_with(Dispatcher::new().threads(2).handle_sigint(false), || {
        let sem = SendSemaphore::new(1);
        let holder = {
            let sem = sem.clone();
            spawn_on(1, move || {
                let _permit = sem.acquire();
                sleep(LONG);
            })
        };
        let start = Instant::now();
        while sem.available_permits() == 1 {
            assert!(start.elapsed() < LONG, "the holder never took the permit");
            sleep(Duration::from_millis(1));
        }
        holder.kill();
        let permit = sem.acquire_timeout(LONG).expect("given back by the kill");
        assert!(holder.join().unwrap_err().is_killed());
        drop(permit);
    });
}

#[test]
fn a_select_arm_that_loses_takes_no_permit() {
    run(|| {
        let sem = SendSemaphore::new(1);
        let inbox = Mailbox::new();
        let held = sem.acquire();
        let selecting = {
            let (sem, inbox) = (sem.clone(), inbox.clone());
            spawn(move || {
                select! {
                    item = wait_for::popleft(&inbox) => item,
                    _permit = wait_for::acquire_send(&sem) => "permit",
                }
            })
        };
        yield_();
        drop(held); // handed to the select...
        inbox.append("message").unwrap(); // ...whose first arm wins
        assert_eq!(selecting.join().unwrap(), "message");
        assert_eq!(sem.available_permits(), 1);
        let got = select! {
            p = wait_for::acquire_send(&sem) => p.count(),
            () = wait_for::timeout(LONG) => 0,
        };
        assert_eq!(got, 1);
    });
}
