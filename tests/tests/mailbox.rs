//! The Mailbox on its own: both ends, blocking pops and appends, bounds, timeouts, and wake-ups
//! that survive killed waiters.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{sleep, spawn, yield_, Mailbox, SendError, TimeoutError};
use concurrence_tests::run;

#[test]
fn popleft_takes_the_oldest_item_and_pop_the_newest() {
    run(|| {
        let mailbox = Mailbox::new();
        for n in 1..=4 {
            mailbox.append(n).unwrap();
        }
        assert_eq!(mailbox.popleft(), 1);
        assert_eq!(mailbox.pop(), 4);
        assert_eq!(mailbox.try_popleft(), Some(2));
        assert_eq!(mailbox.try_pop(), Some(3));
        assert_eq!(mailbox.try_pop(), None);
        assert!(mailbox.is_empty());
    });
}

#[test]
fn appendleft_puts_an_item_first() {
    run(|| {
        let mailbox: Mailbox<&str> = ["b", "c"].into_iter().collect();
        mailbox.appendleft("a").unwrap();
        assert_eq!(mailbox.len(), 3);
        assert_eq!(
            (mailbox.popleft(), mailbox.popleft(), mailbox.popleft()),
            ("a", "b", "c")
        );
    });
}

#[test]
fn popleft_blocks_until_an_item_is_appended() {
    run(|| {
        let mailbox = Mailbox::new();
        let consumer = {
            let mailbox = mailbox.clone();
            spawn(move || {
                let start = Instant::now();
                (mailbox.popleft(), start.elapsed())
            })
        };
        sleep(Duration::from_millis(30));
        mailbox.append("late").unwrap();
        let (item, waited) = consumer.join().unwrap();
        assert_eq!(item, "late");
        assert!(waited >= Duration::from_millis(30), "{waited:?}");
    });
}

#[test]
fn pop_timeout_on_an_empty_mailbox_times_out() {
    run(|| {
        let mailbox: Mailbox<u8> = Mailbox::new();
        let start = Instant::now();
        assert_eq!(
            mailbox.pop_timeout(Duration::from_millis(30)),
            Err(TimeoutError)
        );
        assert_eq!(
            mailbox.popleft_timeout(Duration::from_millis(30)),
            Err(TimeoutError)
        );
        assert!(start.elapsed() >= Duration::from_millis(60));
        mailbox.append(1).unwrap();
        assert_eq!(mailbox.popleft_timeout(Duration::from_secs(30)), Ok(1));
    });
}

#[test]
fn append_to_a_full_mailbox_blocks_until_an_item_is_taken() {
    run(|| {
        let mailbox = Mailbox::with_max_len(2);
        assert_eq!(mailbox.max_len(), Some(2));
        mailbox.append(1).unwrap();
        mailbox.append(2).unwrap();
        assert!(matches!(mailbox.try_append(3), Err(SendError::Full(3))));
        assert!(matches!(mailbox.try_appendleft(0), Err(SendError::Full(0))));
        let start = Instant::now();
        assert!(matches!(
            mailbox.append_timeout(3, Duration::from_millis(30)),
            Err(SendError::TimedOut(3))
        ));
        assert!(matches!(
            mailbox.appendleft_timeout(0, Duration::from_millis(30)),
            Err(SendError::TimedOut(0))
        ));
        assert!(start.elapsed() >= Duration::from_millis(60));
        let producer = {
            let mailbox = mailbox.clone();
            spawn(move || {
                mailbox.append(3).unwrap();
                mailbox.appendleft(0).unwrap();
            })
        };
        yield_(); // the producer blocks: full
        assert_eq!(mailbox.len(), 2);
        assert_eq!(mailbox.popleft(), 1);
        yield_(); // room for one: 3 goes in, then the producer blocks again
        assert_eq!(mailbox.popleft(), 2);
        producer.join().unwrap();
        assert_eq!((mailbox.popleft(), mailbox.popleft()), (0, 3));
    });
}

#[test]
fn an_unbounded_mailbox_never_blocks_appends() {
    run(|| {
        let mailbox = Mailbox::new();
        assert_eq!(mailbox.max_len(), None);
        for n in 0..10_000 {
            mailbox.try_append(n).unwrap();
        }
        assert_eq!(mailbox.len(), 10_000);
    });
}

#[test]
fn waiting_poppers_are_served_in_the_order_they_came() {
    run(|| {
        let mailbox = Mailbox::new();
        let order = Rc::new(RefCell::new(Vec::new()));
        let poppers: Vec<_> = (0..3)
            .map(|i| {
                let (mailbox, order) = (mailbox.clone(), order.clone());
                spawn(move || {
                    let item = mailbox.popleft();
                    order.borrow_mut().push((i, item));
                })
            })
            .collect();
        yield_();
        for item in ["a", "b", "c"] {
            mailbox.append(item).unwrap();
        }
        for p in &poppers {
            p.join().unwrap();
        }
        assert_eq!(*order.borrow(), [(0, "a"), (1, "b"), (2, "c")]);
    });
}

#[test]
fn a_popper_killed_after_being_woken_passes_its_wake_up_on() {
    run(|| {
        let mailbox = Mailbox::new();
        let first = {
            let mailbox = mailbox.clone();
            spawn(move || mailbox.popleft())
        };
        let second = {
            let mailbox = mailbox.clone();
            spawn(move || mailbox.popleft())
        };
        yield_(); // both wait
        mailbox.append(1).unwrap(); // wakes the first...
        first.kill(); // ...which dies before it runs: the second must get the item
        assert!(first.join().unwrap_err().is_killed());
        assert_eq!(
            second
                .join_timeout(Duration::from_secs(30))
                .unwrap()
                .unwrap(),
            1
        );
    });
}

#[test]
fn a_timed_out_popper_leaves_no_trace() {
    run(|| {
        let mailbox = Mailbox::new();
        for _ in 0..1000 {
            assert!(mailbox.popleft_timeout(Duration::ZERO).is_err());
        }
        let consumer = {
            let mailbox = mailbox.clone();
            spawn(move || mailbox.popleft())
        };
        yield_();
        mailbox.append(5).unwrap();
        assert_eq!(consumer.join().unwrap(), 5);
    });
}

#[test]
#[should_panic(expected = "max_len must be at least 1")]
fn a_mailbox_of_max_len_zero_is_rejected() {
    let _ = Mailbox::<u8>::with_max_len(0);
}

#[test]
fn a_mailbox_works_outside_tasklets_while_nothing_blocks() {
    let mailbox = Mailbox::new();
    mailbox.append(1).unwrap();
    mailbox.appendleft(0).unwrap();
    assert_eq!(mailbox.try_popleft(), Some(0));
    assert_eq!(mailbox.try_pop(), Some(1));
    assert!(format!("{mailbox:?}").contains("len: 0"));
}
