//! `sync::Mutex`: one holder at a time across suspensions, the lock handed to the oldest
//! waiter, released by a killed or panicking holder (no poisoning), and taken by a `select!`
//! arm only when it wins.

use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::sync::Mutex;
use concurrence::{select, sleep, spawn, wait_for, yield_, ExitReason, Mailbox, TimeoutError};
use concurrence_tests::{run, run_status};

const LONG: Duration = Duration::from_secs(30);

#[test]
fn a_guard_is_held_across_suspensions_and_released_when_dropped() {
    run(|| {
        let mutex = Rc::new(Mutex::new(0));
        let holder = {
            let mutex = mutex.clone();
            spawn(move || {
                let mut n = mutex.lock();
                *n += 1;
                sleep(Duration::from_millis(20)); // held while it sleeps
                *n += 1;
            })
        };
        yield_(); // it holds the lock
        assert!(mutex.is_locked());
        assert!(mutex.try_lock().is_none());
        let start = Instant::now();
        let n = mutex.lock(); // waits for the holder
        assert_eq!(*n, 2, "saw the value half-changed");
        assert!(start.elapsed() >= Duration::from_millis(10));
        drop(n);
        holder.join().unwrap();
        assert!(!mutex.is_locked());
    });
}

#[test]
fn waiters_get_the_lock_oldest_first() {
    run(|| {
        let mutex = Rc::new(Mutex::new(Vec::new()));
        let held = mutex.lock();
        let waiters: Vec<_> = (0..5)
            .map(|i| {
                let mutex = mutex.clone();
                spawn(move || mutex.lock().push(i))
            })
            .collect();
        yield_(); // all five wait, in spawn order
        drop(held);
        waiters.iter().for_each(|w| w.join().unwrap());
        assert_eq!(*mutex.lock(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn a_released_lock_goes_to_the_waiter_not_to_a_later_try_lock() {
    run(|| {
        let mutex = Rc::new(Mutex::new("free"));
        let held = mutex.lock();
        let waiter = {
            let mutex = mutex.clone();
            spawn(move || *mutex.lock() = "waiter's")
        };
        yield_();
        drop(held); // handed to the waiter, which has not run yet
        assert!(mutex.try_lock().is_none(), "a newcomer barged in");
        waiter.join().unwrap();
        assert_eq!(*mutex.try_lock().unwrap(), "waiter's");
    });
}

#[test]
fn lock_timeout_times_out_and_leaves_the_lock_alone() {
    run(|| {
        let mutex = Mutex::new(());
        let held = mutex.lock();
        let start = Instant::now();
        assert_eq!(
            mutex.lock_timeout(Duration::from_millis(30)).unwrap_err(),
            TimeoutError
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        drop(held);
        assert!(mutex.lock_timeout(LONG).is_ok());
        assert!(!mutex.is_locked());
    });
}

#[test]
fn a_killed_holder_releases_the_lock_without_poisoning_it() {
    run(|| {
        let mutex = Rc::new(Mutex::new(0));
        let holder = {
            let mutex = mutex.clone();
            spawn(move || {
                let mut n = mutex.lock();
                *n = 7;
                sleep(LONG);
            })
        };
        yield_();
        assert!(mutex.is_locked());
        holder.kill();
        assert!(holder.join().unwrap_err().is_killed());
        let n = mutex.try_lock().expect("released by the kill");
        assert_eq!(*n, 7); // as the holder left it
    });
}

#[test]
fn a_panicking_holder_releases_the_lock() {
    run(|| {
        let mutex = Rc::new(Mutex::new(String::new()));
        let holder = {
            let mutex = mutex.clone();
            spawn(move || {
                let mut s = mutex.lock();
                s.push_str("partial");
                sleep(Duration::from_millis(5));
                panic!("the holder fails");
            })
        };
        yield_();
        let s = mutex.lock_timeout(LONG).expect("released by the panic");
        assert_eq!(*s, "partial");
        drop(s);
        assert!(holder.join().unwrap_err().is_panic());
    });
}

#[test]
fn a_waiter_killed_after_being_handed_the_lock_passes_it_on() {
    run(|| {
        let mutex = Rc::new(Mutex::new(Vec::new()));
        let held = mutex.lock();
        let first = {
            let mutex = mutex.clone();
            spawn(move || mutex.lock().push("first"))
        };
        let second = {
            let mutex = mutex.clone();
            spawn(move || mutex.lock().push("second"))
        };
        yield_();
        drop(held); // handed to the first...
        first.kill(); // ...which dies before it runs
        second.join_timeout(LONG).unwrap().unwrap();
        assert_eq!(*mutex.lock(), ["second"]);
    });
}

#[test]
fn a_select_arm_that_loses_does_not_take_the_lock() {
    run(|| {
        let mutex = Rc::new(Mutex::new(0));
        let inbox = Mailbox::new();
        let held = mutex.lock();
        let selecting = {
            let (mutex, inbox) = (mutex.clone(), inbox.clone());
            spawn(move || {
                select! {
                    item = wait_for::popleft(&inbox) => item,
                    mut n = wait_for::lock(&mutex) => { *n += 1; -1 }
                }
            })
        };
        let next = {
            let mutex = mutex.clone();
            spawn(move || *mutex.lock() += 10)
        };
        yield_();
        drop(held); // handed to the select...
        inbox.append(5).unwrap(); // ...whose first arm wins
        assert_eq!(selecting.join().unwrap(), 5);
        next.join_timeout(LONG).unwrap().unwrap();
        assert_eq!(*mutex.lock(), 10);
    });
}

#[test]
fn a_select_arm_wins_the_lock_when_it_comes_first() {
    run(|| {
        let mutex = Mutex::new(1);
        let got = select! {
            n = wait_for::lock(&mutex) => *n,
            () = wait_for::timeout(LONG) => 0,
        };
        assert_eq!(got, 1);
        assert!(!mutex.is_locked());
    });
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut mutex = Mutex::new(vec![1]);
    mutex.get_mut().push(2);
    assert_eq!(mutex.into_inner(), [1, 2]);
}

#[test]
fn a_tasklet_locking_twice_is_reported_waiting_for_the_lock() {
    let status = run_status(|| {
        let mutex = Mutex::new(());
        let _first = mutex.lock();
        let _second = mutex.lock(); // not re-entrant
    });
    let ExitReason::Deadlock(blocked) = status.reason() else {
        panic!("expected a deadlock, got {status}");
    };
    assert_eq!(blocked[0].waiting_on, "the lock of a mutex");
}

#[test]
fn every_increment_survives_many_tasklets_holding_the_lock_across_yields() {
    run(|| {
        let mutex = Rc::new(Mutex::new(0u32));
        let workers: Vec<_> = (0..50)
            .map(|_| {
                let mutex = mutex.clone();
                spawn(move || {
                    for _ in 0..20 {
                        let mut n = mutex.lock();
                        let seen = *n;
                        yield_(); // another tasklet runs; it must not get in
                        *n = seen + 1;
                    }
                })
            })
            .collect();
        workers.iter().for_each(|w| w.join().unwrap());
        assert_eq!(*mutex.lock(), 1000);
    });
}
