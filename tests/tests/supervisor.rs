//! The supervisor: one-for-one restarts of children that panic or are killed, within a budget.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use concurrence::{sleep, spawn, yield_, Supervisor, SupervisorError};
use concurrence_tests::run;

#[test]
fn a_child_that_keeps_failing_exhausts_the_budget_and_the_others_are_stopped() {
    run(|| {
        let starts = Rc::new(Cell::new(0));
        let s = starts.clone();
        let steady_alive = Rc::new(Cell::new(false));
        let alive = steady_alive.clone();
        let supervisor = Supervisor::new(3, Duration::from_secs(10))
            .child("crasher", move || {
                s.set(s.get() + 1);
                spawn(|| -> () { panic!("always") })
            })
            .child("steady", move || {
                let alive = alive.clone();
                spawn(move || {
                    struct Flag(Rc<Cell<bool>>);
                    impl Drop for Flag {
                        fn drop(&mut self) {
                            self.0.set(false);
                        }
                    }
                    alive.set(true);
                    let _flag = Flag(alive);
                    sleep(Duration::from_secs(3600));
                })
            })
            .spawn();
        let result = supervisor.join().unwrap();
        let Err(SupervisorError::TooManyRestarts { child, last }) = result else {
            panic!("expected to give up, got {result:?}");
        };
        assert_eq!(child, "crasher");
        assert!(last.result.unwrap_err().is_panic());
        assert_eq!(starts.get(), 4, "the first start and three restarts");
        assert!(!steady_alive.get(), "the other child was stopped");
    });
}

#[test]
fn a_killed_child_is_restarted_and_a_returning_one_is_done() {
    run(|| {
        let current = Rc::new(Cell::new(None));
        let c = current.clone();
        let starts = Rc::new(Cell::new(0));
        let s = starts.clone();
        let supervisor = Supervisor::new(5, Duration::from_secs(10))
            .child("worker", move || {
                s.set(s.get() + 1);
                let round = s.get();
                let t = spawn(move || {
                    if round == 1 {
                        sleep(Duration::from_secs(3600)); // killed below
                    }
                });
                c.set(Some(t.erase()));
                t
            })
            .spawn();
        yield_();
        let first = current.take().expect("started");
        first.kill(); // an abnormal end: restarted, and the second run returns
        assert_eq!(supervisor.join().unwrap(), Ok(()));
        assert_eq!(starts.get(), 2);
    });
}

#[test]
fn killing_the_supervisor_kills_its_children() {
    run(|| {
        let alive = Rc::new(Cell::new(0));
        let a = alive.clone();
        let supervisor = Supervisor::new(1, Duration::from_secs(1))
            .child("sleeper", move || {
                let a = a.clone();
                spawn(move || {
                    struct Count(Rc<Cell<i32>>);
                    impl Drop for Count {
                        fn drop(&mut self) {
                            self.0.set(self.0.get() - 1);
                        }
                    }
                    a.set(a.get() + 1);
                    let _count = Count(a);
                    sleep(Duration::from_secs(3600));
                })
            })
            .spawn();
        yield_();
        yield_();
        assert_eq!(alive.get(), 1);
        supervisor.kill();
        assert_eq!(alive.get(), 0, "the child went with its supervisor");
    });
}
