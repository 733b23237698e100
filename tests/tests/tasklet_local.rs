//! Tasklet-local values (`tasklet_local!`): one per tasklet, made on first use, dropped in the
//! tasklet when it ends (returned, panicked or killed), inherited by children when declared so.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use concurrence::{sleep, spawn, tasklet_local, yield_, AccessError, Builder};
use concurrence_tests::run;

thread_local! {
    /// What the values' destructors saw: the name of the tasklet each ran in.
    static DROPPED_IN: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static MADE: Cell<u32> = const { Cell::new(0) };
}

/// A value that records where it is dropped.
struct Recorder;

impl Drop for Recorder {
    fn drop(&mut self) {
        let name = concurrence::try_current().map_or("(none)".into(), |t| t.name().to_string());
        DROPPED_IN.with(|d| d.borrow_mut().push(name));
    }
}

tasklet_local! {
    static COUNTER: Cell<u32> = { MADE.with(|m| m.set(m.get() + 1)); Cell::new(0) };
    static RECORDER: Recorder = Recorder;
    #[inherit]
    static REQUEST: RefCell<String> = RefCell::new("none".into());
    /// Inherited, never set by the first tasklet.
    #[inherit]
    static TRACE: RefCell<String> = RefCell::new("fresh".into());
    static SELFISH: u32 = SELFISH.try_with(|v| *v).map_or(7, |v| v + 1);
    static FRAGILE: u32 = if MADE.with(|m| m.get()) == 0 { panic!("not yet") } else { 5 };
    static SLOW: u32 = { sleep(Duration::from_secs(3600)); 1 };
}

#[test]
fn each_tasklet_has_its_own_value_made_on_first_use() {
    run(|| {
        MADE.with(|m| m.set(0));
        let workers: Vec<_> = (1..=3u32)
            .map(|i| {
                spawn(move || {
                    for _ in 0..i {
                        COUNTER.with(|c| c.set(c.get() + 1));
                        yield_();
                    }
                    COUNTER.with(|c| c.get())
                })
            })
            .collect();
        let idle = spawn(|| yield_()); // never uses it: nothing made
        let counts: Vec<u32> = workers.iter().map(|w| w.join().unwrap()).collect();
        idle.join().unwrap();
        assert_eq!(counts, [1, 2, 3]);
        assert_eq!(MADE.with(|m| m.get()), 3);
    });
}

#[test]
fn values_are_dropped_in_their_tasklet_when_it_returns_panics_or_is_killed() {
    run(|| {
        DROPPED_IN.with(|d| d.borrow_mut().clear());
        let returns = Builder::new()
            .name("returns")
            .spawn(|| RECORDER.with(|_| ()));
        let panics = Builder::new().name("panics").spawn(|| {
            RECORDER.with(|_| ());
            panic!("on purpose");
        });
        let killed = Builder::new().name("killed").spawn(|| {
            RECORDER.with(|_| ());
            sleep(Duration::from_secs(3600));
        });
        yield_();
        killed.kill();
        returns.join().unwrap();
        assert!(panics.join().is_err());
        assert!(killed.join().is_err());
        let mut names = DROPPED_IN.with(|d| d.borrow().clone());
        names.sort();
        assert_eq!(names, ["killed", "panics", "returns"]);
    });
}

#[test]
fn an_inherited_value_is_copied_into_children_and_others_start_fresh() {
    run(|| {
        REQUEST.with(|r| *r.borrow_mut() = "req-1".into());
        COUNTER.with(|c| c.set(10));
        let child = spawn(|| {
            let inherited = REQUEST.with(|r| r.borrow().clone());
            REQUEST.with(|r| *r.borrow_mut() = "changed in child".into());
            let grandchild = Builder::new()
                .daemon(true)
                .spawn(|| REQUEST.with(|r| r.borrow().clone()));
            (
                inherited,
                COUNTER.with(|c| c.get()),
                grandchild.join().unwrap(),
            )
        });
        let (inherited, counter, grandchild) = child.join().unwrap();
        assert_eq!(inherited, "req-1");
        assert_eq!(counter, 0, "not inherited: fresh");
        assert_eq!(
            grandchild, "changed in child",
            "a daemon inherits from its spawner"
        );
        assert_eq!(
            REQUEST.with(|r| r.borrow().clone()),
            "req-1",
            "a copy, not shared"
        );
        // A tasklet spawned by one that never used an inherited key starts from its
        // initializer.
        let fresh = spawn(|| TRACE.with(|t| t.borrow().clone()));
        assert_eq!(fresh.join().unwrap(), "fresh");
    });
}

#[test]
fn a_destructor_that_blocks_runs_to_its_end_in_the_tasklet() {
    struct Slow(Rc<Cell<bool>>);
    impl Drop for Slow {
        fn drop(&mut self) {
            sleep(Duration::from_millis(20));
            self.0.set(true);
        }
    }
    tasklet_local! {
        static DONE: RefCell<Option<Slow>> = RefCell::new(None);
    }
    run(|| {
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let t = spawn(move || DONE.with(|s| *s.borrow_mut() = Some(Slow(d))));
        t.join().unwrap();
        assert!(done.get(), "the join waited for the destructor");
    });
}

#[test]
fn outside_a_tasklet_and_in_its_own_initializer_a_value_cannot_be_reached() {
    assert_eq!(
        COUNTER.try_with(|c| c.get()),
        Err(AccessError::NotInTasklet)
    );
    let refused = std::panic::catch_unwind(|| COUNTER.with(|c| c.get()));
    let message = *refused.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("used outside a tasklet"), "{message}");
    run(|| {
        // SELFISH's initializer reads SELFISH: refused there, so it falls back to 7.
        assert_eq!(SELFISH.with(|v| *v), 7);
        assert_eq!(spawn(|| SELFISH.with(|v| *v)).join().unwrap(), 7);
    });
}

#[test]
fn an_initializer_that_panics_is_tried_again_and_one_that_is_killed_unwinds_the_tasklet() {
    run(|| {
        MADE.with(|m| m.set(0));
        let first = spawn(|| {
            let failed = std::panic::catch_unwind(|| FRAGILE.with(|v| *v)).is_err();
            MADE.with(|m| m.set(1));
            (failed, FRAGILE.with(|v| *v)) // tried again, and made this time
        });
        assert_eq!(first.join().unwrap(), (true, 5));
        let stuck = spawn(|| SLOW.with(|v| *v));
        yield_();
        stuck.kill();
        assert!(stuck.join().is_err());
    });
}
