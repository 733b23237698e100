//! `sync::Semaphore`: permits handed to the oldest waiter, given back by dropping, never lost
//! to a killed waiter or holder, and taken by a `select!` arm only when it wins.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::sync::Semaphore;
use concurrence::{select, sleep, spawn, wait_for, yield_, ExitReason, Mailbox, TimeoutError};
use concurrence_tests::{run, run_status};

const LONG: Duration = Duration::from_secs(30);

#[test]
fn a_dropped_permit_gives_its_permit_back() {
    run(|| {
        let sem = Semaphore::new(2);
        let a = sem.acquire();
        let b = sem.try_acquire().expect("a second permit");
        assert_eq!(sem.available_permits(), 0);
        assert!(sem.try_acquire().is_none());
        drop(a);
        assert_eq!(sem.available_permits(), 1);
        drop(b);
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn acquire_blocks_until_a_permit_is_given_back() {
    run(|| {
        let sem = Semaphore::new(1);
        let held = sem.acquire();
        let waiter = {
            let sem = sem.clone();
            spawn(move || {
                let start = Instant::now();
                let _permit = sem.acquire();
                start.elapsed()
            })
        };
        sleep(Duration::from_millis(30));
        drop(held);
        let waited = waiter.join().unwrap();
        assert!(waited >= Duration::from_millis(30), "{waited:?}");
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn waiters_are_served_oldest_first() {
    run(|| {
        let sem = Semaphore::new(0);
        let order = Rc::new(RefCell::new(Vec::new()));
        let waiters: Vec<_> = (0..5)
            .map(|i| {
                let (sem, order) = (sem.clone(), order.clone());
                spawn(move || {
                    let permit = sem.acquire();
                    order.borrow_mut().push(i);
                    permit.forget(); // one permit each, not passed along
                })
            })
            .collect();
        yield_(); // all five wait, in spawn order
        for _ in 0..5 {
            sem.add_permits(1);
            yield_();
        }
        waiters.iter().for_each(|w| w.join().unwrap());
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn a_given_back_permit_goes_to_the_waiter_not_to_a_later_try_acquire() {
    run(|| {
        let sem = Semaphore::new(1);
        let held = sem.acquire();
        let waiter = {
            let sem = sem.clone();
            spawn(move || sem.acquire().count())
        };
        yield_(); // it waits
        drop(held); // handed to the waiter, which has not run yet
        assert!(
            sem.try_acquire().is_none(),
            "a newcomer took the waiter's permit"
        );
        assert_eq!(sem.available_permits(), 0);
        assert_eq!(waiter.join().unwrap(), 1);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn try_acquire_fails_while_an_older_waiter_wants_more_than_is_free() {
    run(|| {
        let sem = Semaphore::new(1);
        let big = {
            let sem = sem.clone();
            spawn(move || sem.acquire_many(2).count())
        };
        yield_(); // it waits for two, one is free
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.try_acquire().is_none(), "jumped the line");
        let small = {
            let sem = sem.clone();
            spawn(move || sem.acquire().count())
        };
        yield_();
        assert!(
            !small.has_finished(),
            "a younger waiter overtook an older one"
        );
        sem.add_permits(1);
        assert_eq!(big.join().unwrap(), 2); // its permits are back: the small one's turn
        assert_eq!(small.join().unwrap(), 1);
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn acquire_timeout_times_out_and_takes_nothing() {
    run(|| {
        let sem = Semaphore::new(1);
        let held = sem.acquire();
        let start = Instant::now();
        assert_eq!(
            sem.acquire_timeout(Duration::from_millis(30)).unwrap_err(),
            TimeoutError
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        for _ in 0..1000 {
            assert!(sem.acquire_timeout(Duration::ZERO).is_err());
        }
        drop(held);
        assert_eq!(sem.available_permits(), 1);
        let permit = sem.acquire_timeout(LONG).expect("a free permit");
        assert_eq!(permit.count(), 1);
    });
}

#[test]
fn a_waiter_killed_after_being_handed_the_permit_passes_it_on() {
    run(|| {
        let sem = Semaphore::new(1);
        let held = sem.acquire();
        let first = {
            let sem = sem.clone();
            spawn(move || drop(sem.acquire()))
        };
        let second = {
            let sem = sem.clone();
            spawn(move || sem.acquire().count())
        };
        yield_(); // both wait
        drop(held); // handed to the first...
        first.kill(); // ...which dies before it runs: the second must get it
        assert!(first.join().unwrap_err().is_killed());
        assert_eq!(second.join_timeout(LONG).unwrap().unwrap(), 1);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn a_killed_waiter_takes_nothing_and_keeps_nobody_waiting() {
    run(|| {
        let sem = Semaphore::new(0);
        let doomed = {
            let sem = sem.clone();
            spawn(move || drop(sem.acquire_many(3)))
        };
        let patient = {
            let sem = sem.clone();
            spawn(move || sem.acquire().count())
        };
        yield_();
        sem.add_permits(1); // the doomed one, ahead, wants three: the patient one waits
        yield_();
        assert!(!patient.has_finished());
        doomed.kill();
        assert_eq!(patient.join_timeout(LONG).unwrap().unwrap(), 1);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn a_killed_holder_gives_its_permit_back() {
    run(|| {
        let sem = Semaphore::new(1);
        let holder = {
            let sem = sem.clone();
            spawn(move || {
                let _permit = sem.acquire();
                sleep(LONG);
            })
        };
        let waiter = {
            let sem = sem.clone();
            spawn(move || sem.acquire().count())
        };
        yield_();
        assert_eq!(sem.available_permits(), 0);
        holder.kill();
        assert_eq!(waiter.join_timeout(LONG).unwrap().unwrap(), 1);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn a_panicking_holder_gives_its_permit_back() {
    run(|| {
        let sem = Semaphore::new(1);
        let holder = {
            let sem = sem.clone();
            spawn(move || {
                let _permit = sem.acquire();
                sleep(Duration::from_millis(5));
                panic!("the holder fails");
            })
        };
        yield_(); // it holds the permit
        assert_eq!(sem.available_permits(), 0);
        let permit = sem.acquire_timeout(LONG).expect("the permit, given back");
        assert!(holder.join().unwrap_err().is_panic());
        drop(permit);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn a_select_arm_that_loses_takes_no_permit() {
    run(|| {
        let sem = Semaphore::new(1);
        let inbox = Mailbox::new();
        inbox.append("first").unwrap();
        select! {
            item = wait_for::popleft(&inbox) => assert_eq!(item, "first"),
            _permit = wait_for::acquire(&sem) => panic!("the acquire arm won"),
        }
        assert_eq!(sem.available_permits(), 1);
        select! {
            permit = wait_for::acquire(&sem) => assert_eq!(permit.count(), 1),
            () = wait_for::timeout(LONG) => panic!("no permit"),
        }
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn a_permit_handed_to_a_select_that_another_arm_wins_goes_on() {
    run(|| {
        let sem = Semaphore::new(1);
        let inbox = Mailbox::new();
        let held = sem.acquire();
        let selecting = {
            let (sem, inbox) = (sem.clone(), inbox.clone());
            spawn(move || {
                select! {
                    item = wait_for::popleft(&inbox) => item,
                    _permit = wait_for::acquire(&sem) => "permit",
                }
            })
        };
        let next = {
            let sem = sem.clone();
            spawn(move || sem.acquire().count())
        };
        yield_(); // both wait
        drop(held); // handed to the select...
        inbox.append("message").unwrap(); // ...whose first arm also fires, and wins
        assert_eq!(selecting.join().unwrap(), "message");
        assert_eq!(next.join_timeout(LONG).unwrap().unwrap(), 1);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn add_permits_raises_the_count_past_its_start_and_forget_lowers_it() {
    run(|| {
        let sem = Semaphore::new(1);
        sem.add_permits(2);
        assert_eq!(sem.available_permits(), 3);
        let permit = sem.acquire_many(2);
        assert_eq!(permit.count(), 2);
        permit.forget();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn a_tasklet_waiting_forever_is_reported_waiting_for_a_permit() {
    let status = run_status(|| {
        let sem = Semaphore::new(0);
        let _never = sem.acquire();
    });
    let ExitReason::Deadlock(blocked) = status.reason() else {
        panic!("expected a deadlock, got {status}");
    };
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0].waiting_on, "a permit of a semaphore");
    assert!(
        blocked[0].at.contains("sync_semaphore.rs"),
        "{}",
        blocked[0].at
    );
}

#[test]
fn an_acquire_in_a_scope_whose_deadline_passes_ends_with_the_scope_and_takes_nothing() {
    run(|| {
        let sem = Semaphore::new(1);
        let held = sem.acquire();
        let behind = {
            let sem = sem.clone();
            spawn(move || {
                yield_(); // queued behind the scoped waiter
                sem.acquire().count()
            })
        };
        let scoped = concurrence::with_timeout(Duration::from_millis(20), || sem.acquire());
        assert_eq!(scoped.unwrap_err(), TimeoutError);
        drop(held);
        assert_eq!(behind.join_timeout(LONG).unwrap().unwrap(), 1);
        assert_eq!(sem.available_permits(), 1);
    });
}
