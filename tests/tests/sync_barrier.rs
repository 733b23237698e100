//! `sync::Barrier`: rounds of n tasklets, one leader each, arrivals withdrawn by waiters that
//! are killed, time out or lose a `select!`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use concurrence::sync::Barrier;
use concurrence::{select, spawn, wait_for, yield_, Mailbox, TimeoutError};
use concurrence_tests::run;

const LONG: Duration = Duration::from_secs(30);

#[test]
fn nobody_passes_until_n_arrive_and_the_last_leads() {
    run(|| {
        let barrier = Barrier::new(3);
        let passed = Rc::new(RefCell::new(0));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let (barrier, passed) = (barrier.clone(), passed.clone());
                spawn(move || {
                    let leader = barrier.wait().is_leader();
                    *passed.borrow_mut() += 1;
                    leader
                })
            })
            .collect();
        yield_();
        assert_eq!(*passed.borrow(), 0);
        assert!(barrier.wait().is_leader()); // the third
        for w in waiters {
            assert!(!w.join().unwrap());
        }
        assert_eq!(*passed.borrow(), 2);
    });
}

#[test]
fn the_barrier_is_reused_round_after_round() {
    run(|| {
        let barrier = Barrier::new(2);
        let other = {
            let barrier = barrier.clone();
            spawn(move || (0..5).filter(|_| barrier.wait().is_leader()).count())
        };
        let mine = (0..5).filter(|_| barrier.wait().is_leader()).count();
        assert_eq!(mine + other.join().unwrap(), 5); // one leader a round
    });
}

#[test]
fn a_killed_waiter_withdraws_its_arrival() {
    run(|| {
        let barrier = Barrier::new(2);
        let doomed = {
            let barrier = barrier.clone();
            spawn(move || barrier.wait())
        };
        yield_();
        doomed.kill();
        // Had the killed one still counted, this would pass at once.
        assert_eq!(
            barrier.wait_timeout(Duration::from_millis(20)),
            Err(TimeoutError)
        );
        let partner = {
            let barrier = barrier.clone();
            spawn(move || barrier.wait())
        };
        assert!(barrier.wait_timeout(LONG).is_ok());
        assert!(partner.join().is_ok());
    });
}

#[test]
fn a_timed_out_waiter_withdraws_its_arrival() {
    run(|| {
        let barrier = Barrier::new(2);
        assert!(barrier.wait_timeout(Duration::from_millis(10)).is_err());
        assert!(barrier.wait_timeout(Duration::from_millis(10)).is_err());
        let partner = {
            let barrier = barrier.clone();
            spawn(move || barrier.wait())
        };
        yield_();
        assert!(barrier.wait().is_leader());
        assert!(!partner.join().unwrap().is_leader());
    });
}

#[test]
fn a_select_arm_that_loses_before_the_round_withdraws_its_arrival() {
    run(|| {
        let barrier = Barrier::new(2);
        let inbox = Mailbox::new();
        let selecting = {
            let (barrier, inbox) = (barrier.clone(), inbox.clone());
            spawn(move || {
                select! {
                    item = wait_for::popleft(&inbox) => item,
                    _ = wait_for::barrier(&barrier) => "round",
                }
            })
        };
        yield_(); // it counts as arrived
        inbox.append("message").unwrap();
        assert_eq!(selecting.join().unwrap(), "message");
        assert!(
            barrier.wait_timeout(Duration::from_millis(20)).is_err(),
            "the losing arm's arrival still counted"
        );
    });
}

#[test]
#[should_panic(expected = "one tasklet at least")]
fn a_barrier_for_nobody_is_rejected() {
    let _ = Barrier::new(0);
}
