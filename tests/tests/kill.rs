//! Killing: synchronous unwinding at every kind of suspension point, destructors, refusal.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{current, sleep, spawn, yield_, JoinCause, TaskletExit};
use concurrence_tests::{run, run_status, DropCounter};

#[test]
fn kill_while_sleeping_unwinds_before_kill_returns_and_runs_destructors() {
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        let token = d.token();
        let t = spawn(move || {
            let _held = token;
            sleep(Duration::from_secs(3600));
        });
        yield_();
        assert_eq!(d.count(), 0);
        let start = Instant::now();
        t.kill();
        assert_eq!(d.count(), 1, "the destructor ran before kill returned");
        assert!(t.has_finished());
        assert!(start.elapsed() < Duration::from_secs(5));
    });
    assert_eq!(drops.count(), 1);
}

#[test]
fn kill_while_joining_unwinds_the_joiner_only() {
    run(|| {
        let target = spawn(|| {
            sleep(Duration::from_millis(30));
            "done"
        });
        let t2 = target.clone();
        let joiner = spawn(move || t2.join().unwrap());
        yield_();
        joiner.kill();
        assert!(joiner.join().unwrap_err().is_killed());
        assert!(!target.has_finished());
        assert_eq!(target.join().unwrap(), "done");
    });
}

#[test]
fn kill_of_a_queued_tasklet_finishes_it_without_running_its_function() {
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let token = d.token();
        let t = spawn(move || {
            let _held = token;
            r.set(true);
        });
        t.kill();
        assert!(t.has_finished());
        assert_eq!(d.count(), 1, "the captured values were dropped");
        yield_();
        assert!(!ran.get(), "a killed tasklet never runs");
        assert_eq!(t.join().unwrap_err().cause(), &JoinCause::Killed);
    });
}

#[test]
fn kill_of_a_finished_tasklet_is_a_noop() {
    run(|| {
        let t = spawn(|| 5);
        yield_();
        assert!(t.has_finished());
        t.kill();
        assert_eq!(t.join().unwrap(), 5);
    });
}

#[test]
fn kill_of_itself_unwinds_at_once() {
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        let after = Rc::new(Cell::new(false));
        let a = after.clone();
        let token = d.token();
        let t = spawn(move || {
            let _held = token;
            current().kill();
            a.set(true);
        });
        assert!(t.join().unwrap_err().is_killed());
        assert!(!after.get());
        assert_eq!(d.count(), 1);
    });
}

#[test]
fn kill_of_a_ready_tasklet_in_the_run_queue_unwinds_it_where_it_yielded() {
    run(|| {
        let steps = Rc::new(Cell::new(0));
        let s = steps.clone();
        let t = spawn(move || loop {
            s.set(s.get() + 1);
            yield_();
        });
        yield_(); // t runs once and is queued again
        assert_eq!(steps.get(), 1);
        t.kill();
        assert!(t.has_finished());
        yield_();
        yield_();
        assert_eq!(steps.get(), 1, "the stale queue entry did not run it again");
    });
}

#[test]
fn a_tasklet_may_catch_the_kill_and_go_on() {
    run(|| {
        let t = spawn(|| {
            let caught = catch_unwind(|| sleep(Duration::from_secs(3600)));
            match caught {
                Err(p) if p.is::<TaskletExit>() => {}
                Err(p) => resume_unwind(p),
                Ok(()) => panic!("the sleep should not have ended"),
            }
            sleep(Duration::from_millis(10));
            "survived"
        });
        yield_();
        t.kill();
        assert!(!t.has_finished(), "it refused to die and sleeps again");
        assert_eq!(t.join().unwrap(), "survived");
    });
}

#[test]
fn destructors_of_every_frame_run_when_killed_deep_in_a_call_chain() {
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        fn nest(depth: u32, d: &DropCounter) {
            let _frame = d.token();
            if depth == 0 {
                sleep(Duration::from_secs(3600));
            } else {
                nest(depth - 1, d);
            }
        }
        let d2 = d.clone();
        let t = spawn(move || nest(9, &d2));
        yield_();
        t.kill();
        assert_eq!(d.count(), 10);
    });
    assert_eq!(drops.count(), 10);
}

#[test]
fn victim_killing_its_killer_while_unwinding_kills_the_killer_after() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let killer_slot: Rc<RefCell<Option<concurrence::Tasklet>>> = Rc::new(RefCell::new(None));
        let ks = killer_slot.clone();
        struct OnDrop(
            Rc<RefCell<Option<concurrence::Tasklet>>>,
            Rc<RefCell<Vec<&'static str>>>,
        );
        impl Drop for OnDrop {
            fn drop(&mut self) {
                self.1.borrow_mut().push("victim unwinding");
                if let Some(k) = self.0.borrow().as_ref() {
                    k.kill();
                }
            }
        }
        let victim = spawn(move || {
            let _d = OnDrop(ks, l);
            sleep(Duration::from_secs(3600));
        });
        let l2 = log.clone();
        let v2 = victim.clone();
        let killer = spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(|| v2.kill())).map_err(|p| {
                l2.borrow_mut().push("killer killed");
                resume_unwind(p)
            });
            l2.borrow_mut().push("killer went on");
        });
        *killer_slot.borrow_mut() = Some(killer.erase());
        yield_();
        assert!(victim.has_finished());
        assert!(killer.join().unwrap_err().is_killed());
        assert_eq!(*log.borrow(), ["victim unwinding", "killer killed"]);
    });
}

#[test]
fn kill_is_reported_to_a_waiting_joiner() {
    run(|| {
        let sleeper = spawn(|| sleep(Duration::from_secs(3600)));
        let s2 = sleeper.clone();
        let watcher = spawn(move || s2.join().unwrap_err().cause().clone());
        yield_();
        sleeper.kill();
        assert_eq!(watcher.join().unwrap(), JoinCause::Killed);
    });
}

#[test]
fn a_destructor_that_blocks_during_a_kill_is_ended_by_a_second_kill() {
    struct SleepsOnDrop(Rc<Cell<&'static str>>);
    impl Drop for SleepsOnDrop {
        fn drop(&mut self) {
            self.0.set("cleaning up");
            sleep(Duration::from_secs(3600));
            self.0.set("cleaned up");
        }
    }
    let status = run_status(|| {
        let stage = Rc::new(Cell::new("running"));
        let s = stage.clone();
        let t = spawn(move || {
            let _guard = SleepsOnDrop(s);
            sleep(Duration::from_secs(3600));
        });
        yield_();
        t.kill();
        assert_eq!(
            stage.get(),
            "cleaning up",
            "the destructor blocks in its sleep"
        );
        assert!(!t.has_finished());
        t.kill();
        assert_eq!(stage.get(), "cleaned up", "the second kill ended the sleep");
        assert!(t.join().unwrap_err().is_killed());
    });
    assert!(status.success());
}

#[test]
fn shutdown_copes_with_a_destructor_that_blocks() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let status = run_status(move || {
        let token = d.token();
        concurrence::Builder::new().daemon(true).spawn(move || {
            struct Slow(Option<concurrence_tests::Token>);
            impl Drop for Slow {
                fn drop(&mut self) {
                    sleep(Duration::from_secs(3600));
                    drop(self.0.take()); // counted once the blocked sleep has ended
                }
            }
            let _slow = Slow(Some(token));
            sleep(Duration::from_secs(3600));
        });
        yield_();
    });
    assert!(status.success());
    assert_eq!(drops.count(), 1);
}
