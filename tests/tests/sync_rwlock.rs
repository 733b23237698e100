//! `sync::RwLock`: readers together, a writer alone, served in arrival order (a waiting writer
//! holds later readers back), released by killed or panicking holders, and taken by a
//! `select!` arm only when it wins.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use concurrence::sync::RwLock;
use concurrence::{select, sleep, spawn, wait_for, yield_, Mailbox, TimeoutError};
use concurrence_tests::run;

const LONG: Duration = Duration::from_secs(30);

#[test]
fn readers_hold_it_together_and_a_writer_alone() {
    run(|| {
        let lock = RwLock::new(1);
        let a = lock.read();
        let b = lock.try_read().expect("a second reader");
        assert_eq!(*a + *b, 2);
        assert!(lock.try_write().is_none());
        drop((a, b));
        let mut w = lock.try_write().expect("no reader left");
        *w = 5;
        assert!(lock.try_read().is_none());
        drop(w);
        assert_eq!(*lock.read(), 5);
    });
}

#[test]
fn a_waiting_writer_holds_later_readers_back_and_all_are_served_in_order() {
    run(|| {
        let lock = Rc::new(RwLock::new(0));
        let log = Rc::new(RefCell::new(Vec::new()));
        let early = lock.read();
        let writer = {
            let (lock, log) = (lock.clone(), log.clone());
            spawn(move || {
                let mut n = lock.write();
                log.borrow_mut().push("writer");
                *n += 1;
            })
        };
        yield_(); // the writer waits for the early reader
        let late = {
            let (lock, log) = (lock.clone(), log.clone());
            spawn(move || {
                let n = lock.read();
                log.borrow_mut().push("late reader");
                *n
            })
        };
        yield_();
        assert!(
            lock.try_read().is_none(),
            "a reader overtook the waiting writer"
        );
        assert!(log.borrow().is_empty());
        drop(early);
        assert_eq!(late.join().unwrap(), 1); // read after the write
        writer.join().unwrap();
        assert_eq!(*log.borrow(), ["writer", "late reader"]);
    });
}

#[test]
fn readers_waiting_behind_a_writer_are_let_in_together() {
    run(|| {
        let lock = Rc::new(RwLock::new(()));
        let w = lock.write();
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let lock = lock.clone();
                spawn(move || {
                    let _r = lock.read();
                    sleep(Duration::from_millis(20));
                })
            })
            .collect();
        yield_();
        drop(w);
        yield_(); // all three hold it now
        assert!(lock.try_write().is_none());
        for r in &readers {
            assert!(!r.has_finished());
        }
        readers.iter().for_each(|r| r.join().unwrap());
        assert!(lock.try_write().is_some());
    });
}

#[test]
fn read_and_write_timeouts_take_nothing() {
    run(|| {
        let lock = RwLock::new(0);
        let r = lock.read();
        assert_eq!(
            lock.write_timeout(Duration::from_millis(20)).unwrap_err(),
            TimeoutError
        );
        assert!(
            lock.try_read().is_some(),
            "the timed-out writer still holds readers back"
        );
        drop(r);
        let w = lock.write();
        assert!(lock.read_timeout(Duration::from_millis(20)).is_err());
        drop(w);
        assert!(lock.write_timeout(LONG).is_ok());
    });
}

#[test]
fn a_killed_writer_and_a_panicking_reader_release_the_lock() {
    run(|| {
        let lock = Rc::new(RwLock::new(0));
        let writer = {
            let lock = lock.clone();
            spawn(move || {
                let mut n = lock.write();
                *n = 3;
                sleep(LONG);
            })
        };
        yield_();
        assert!(lock.try_read().is_none());
        writer.kill();
        assert_eq!(*lock.try_read().expect("released by the kill"), 3);
        let reader = {
            let lock = lock.clone();
            spawn(move || {
                let _r = lock.read();
                sleep(Duration::from_millis(5));
                panic!("the reader fails");
            })
        };
        yield_();
        assert!(lock.try_write().is_none());
        assert!(lock.write_timeout(LONG).is_ok(), "released by the panic");
        assert!(reader.join().unwrap_err().is_panic());
    });
}

#[test]
fn a_killed_waiting_writer_lets_the_readers_behind_it_in() {
    run(|| {
        let lock = Rc::new(RwLock::new(()));
        let early = lock.read();
        let writer = {
            let lock = lock.clone();
            spawn(move || drop(lock.write()))
        };
        yield_();
        let reader = {
            let lock = lock.clone();
            spawn(move || drop(lock.read()))
        };
        yield_();
        assert!(!reader.has_finished());
        writer.kill();
        reader.join_timeout(LONG).unwrap().unwrap();
        drop(early);
    });
}

#[test]
fn a_select_arm_that_loses_takes_no_lock() {
    run(|| {
        let lock = Rc::new(RwLock::new(0));
        let inbox = Mailbox::new();
        let r = lock.read();
        let selecting = {
            let (lock, inbox) = (lock.clone(), inbox.clone());
            spawn(move || {
                select! {
                    item = wait_for::popleft(&inbox) => item,
                    mut n = wait_for::write_lock(&lock) => { *n = 99; -1 }
                }
            })
        };
        yield_();
        drop(r); // the write lock is handed to the select...
        inbox.append(4).unwrap(); // ...whose first arm wins
        assert_eq!(selecting.join().unwrap(), 4);
        assert_eq!(*lock.try_write().expect("given back"), 0);
        let n = select! {
            n = wait_for::read_lock(&lock) => *n,
            () = wait_for::timeout(LONG) => -1,
        };
        assert_eq!(n, 0);
    });
}
