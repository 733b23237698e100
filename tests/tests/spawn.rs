//! Spawning: queue order, the creator running on, names, parents, children and the tree.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concurrence::{current, sleep, spawn, try_current, yield_, Builder, Tasklet};
use concurrence_tests::{run, run_status};

#[test]
fn creator_keeps_running_until_it_blocks_and_children_run_in_spawn_order() {
    let out = Arc::new(Mutex::new(Vec::new()));
    let o = out.clone();
    let status = run_status(move || {
        for word in ["Hello", "World"] {
            let o = o.clone();
            spawn(move || o.lock().unwrap().push(word));
        }
        o.lock().unwrap().push("start done.");
    });
    assert!(status.success());
    assert_eq!(*out.lock().unwrap(), ["start done.", "Hello", "World"]);
}

#[test]
fn spawned_tasklet_runs_when_creator_yields() {
    run(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        spawn(move || l.borrow_mut().push("child"));
        log.borrow_mut().push("before yield");
        yield_();
        log.borrow_mut().push("after yield");
        assert_eq!(*log.borrow(), ["before yield", "child", "after yield"]);
    });
}

fn named_after_this_function() -> String {
    current().name().to_owned()
}

#[test]
fn a_default_name_is_the_function_and_the_spawn_site() {
    run(|| {
        let (t, line) = (spawn(named_after_this_function), line!());
        let expected = format!("named_after_this_function@{}:{line}", file!());
        assert_eq!(t.name(), expected);
        assert_eq!(t.join().unwrap(), expected, "the tasklet sees its own name");
        // A closure is named after the function it was written in, and where it was spawned:
        // two closures of one function are told apart.
        let (a, b, line) = (spawn(|| ()), spawn(|| ()), line!());
        let site = format!(
            "a_default_name_is_the_function_and_the_spawn_site@{}:{line}",
            file!()
        );
        assert_eq!(a.name(), site);
        assert_eq!(b.name(), site);
        let (periodic, line) = (concurrence::loop_(concurrence::yield_), line!());
        let name = periodic.name().to_owned();
        periodic.kill();
        assert_eq!(name, format!("yield_@{}:{line}", file!()));
    });
}

#[test]
fn the_first_tasklet_and_tasklet_functions_are_named_after_their_functions_alone() {
    #[concurrence::tasklet]
    fn worker() {}
    run(|| {
        assert_eq!(
            current().name(),
            "the_first_tasklet_and_tasklet_functions_are_named_after_their_functions_alone"
        );
        assert_eq!(Worker::new().spawn().name(), "worker");
    });
}

#[test]
fn builder_name_is_used_and_ids_increase() {
    run(|| {
        let a = Builder::new().name("alpha").spawn(|| ());
        let b = Builder::new().name(String::from("beta")).spawn(|| ());
        assert_eq!(a.name(), "alpha");
        assert_eq!(b.name(), "beta");
        assert!(b.id() > a.id());
        assert_eq!(a.to_string(), format!("alpha#{}", a.id()));
    });
}

#[test]
fn current_returns_the_running_tasklet_and_none_outside() {
    assert!(try_current().is_none());
    run(|| {
        let t: Tasklet<Tasklet> = Builder::new().name("me").spawn(current);
        let seen = t.join().unwrap();
        assert_eq!(seen, t.erase());
        assert_eq!(seen.name(), "me");
        assert_ne!(current(), t.erase());
    });
}

#[test]
fn parent_is_the_creator_and_none_for_first_tasklet_and_daemons() {
    run(|| {
        let me = current();
        assert!(me.parent().is_none(), "the first tasklet has no parent");
        let child = spawn(|| sleep(Duration::from_millis(20)));
        assert_eq!(child.parent(), Some(me.clone()));
        let daemon = Builder::new()
            .daemon(true)
            .spawn(|| sleep(Duration::from_millis(20)));
        assert!(daemon.is_daemon());
        assert!(daemon.parent().is_none());
        assert_eq!(me.children(), vec![child.erase()]);
        child.join().unwrap();
        daemon.join().unwrap();
    });
}

#[test]
fn parent_is_none_once_the_parent_has_finished() {
    run(|| {
        let parent = spawn(|| spawn(|| sleep(Duration::from_millis(30))));
        let grandchild = parent.join().unwrap();
        assert!(parent.has_finished());
        assert!(grandchild.parent().is_none());
        grandchild.join().unwrap();
    });
}

#[test]
fn a_finished_tasklet_has_no_children_and_its_children_no_parent() {
    run(|| {
        let parent = Builder::new().name("parent").spawn(|| {
            Builder::new()
                .name("child")
                .spawn(|| sleep(Duration::from_millis(50)))
        });
        let child = parent.join().unwrap();
        assert!(!child.has_finished());
        assert!(parent.children().is_empty(), "{:?}", parent.children());
        assert_eq!(parent.tree().len(), 1);
        assert!(child.parent().is_none());
        // The orphan is nobody's child, not even its grandparent's.
        assert!(!current().children().contains(&child.erase()));
        assert!(!current().tree().iter().any(|(t, _)| t.name() == "child"));
        child.join().unwrap();
    });
}

#[test]
fn children_leave_the_list_when_they_finish() {
    run(|| {
        let quick = spawn(|| ());
        let slow = spawn(|| sleep(Duration::from_millis(30)));
        assert_eq!(current().children().len(), 2);
        quick.join().unwrap();
        assert_eq!(current().children(), vec![slow.erase()]);
        slow.join().unwrap();
        assert!(current().children().is_empty());
    });
}

#[test]
fn tree_walks_depth_first_with_levels_and_prints_indented() {
    run(|| {
        let a = Builder::new().name("task1").spawn(|| {
            Builder::new()
                .name("task1a")
                .spawn(|| sleep(Duration::from_millis(50)));
            sleep(Duration::from_millis(50));
        });
        let b = Builder::new()
            .name("task2")
            .spawn(|| sleep(Duration::from_millis(50)));
        sleep(Duration::from_millis(10));
        let tree = current().tree();
        let names: Vec<(String, usize)> = tree
            .iter()
            .map(|(t, l)| (t.name().to_owned(), *l))
            .collect();
        let root = current().name().to_owned();
        assert_eq!(
            names,
            [
                (root.clone(), 0),
                ("task1".into(), 1),
                ("task1a".into(), 2),
                ("task2".into(), 1)
            ]
        );
        let dump = tree.to_string();
        let lines: Vec<&str> = dump.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with(&root));
        assert!(lines[1].starts_with("    task1#"));
        assert!(lines[2].starts_with("        task1a#"));
        assert!(lines[3].starts_with("    task2#"));
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn has_finished_turns_true_when_the_function_returns() {
    run(|| {
        let t = spawn(|| sleep(Duration::from_millis(10)));
        assert!(!t.has_finished());
        t.join().unwrap();
        assert!(t.has_finished());
    });
}

#[test]
fn yield_is_a_noop_when_nothing_else_is_ready() {
    run(|| {
        let start = std::time::Instant::now();
        for _ in 0..1000 {
            yield_();
        }
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn a_tasklet_spinning_on_yield_still_lets_sleepers_wake() {
    run(|| {
        let flag = Rc::new(std::cell::Cell::new(false));
        let f = flag.clone();
        spawn(move || {
            sleep(Duration::from_millis(20));
            f.set(true);
        });
        let start = std::time::Instant::now();
        while !flag.get() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the sleeper never woke"
            );
            yield_();
        }
    });
}

#[test]
fn yield_runs_every_other_ready_tasklet_once_round_robin() {
    run(|| {
        let log = Rc::new(RefCell::new(String::new()));
        let tasks: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|name| {
                let log = log.clone();
                spawn(move || {
                    for _ in 0..3 {
                        log.borrow_mut().push_str(name);
                        yield_();
                    }
                })
            })
            .collect();
        concurrence::join_all(&tasks);
        assert_eq!(*log.borrow(), "abcabcabc");
    });
}

#[test]
fn spawning_and_joining_100k_tasklets_works() {
    run(|| {
        let tasks: Vec<Tasklet<u64>> = (0..100_000u64).map(|i| spawn(move || i * 2)).collect();
        let sum: u64 = concurrence::join_all(&tasks)
            .into_iter()
            .map(Result::unwrap)
            .sum();
        assert_eq!(sum, 2 * (100_000 * 99_999 / 2));
    });
}

#[test]
fn spawning_outside_a_dispatcher_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| spawn(|| ())).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(msg.contains("no dispatcher is running"), "{msg}");
}

#[test]
fn tasklets_spawned_by_a_tasklet_run_next_in_spawn_order_so_trees_run_depth_first() {
    use std::cell::RefCell;
    use std::rc::Rc;
    run(|| {
        let order = Rc::new(RefCell::new(Vec::new()));
        let log = |name: &'static str| {
            let order = order.clone();
            move || order.borrow_mut().push(name)
        };
        let (a1, a2, b) = (log("a1"), log("a2"), log("b"));
        let a_log = log("a");
        let a = spawn(move || {
            a_log();
            let children = [spawn(a1), spawn(a2)];
            concurrence::join_all(&children);
        });
        let b = spawn(b);
        a.join().unwrap();
        b.join().unwrap();
        // a's children run before b, which was spawned earlier but by another tasklet.
        assert_eq!(*order.borrow(), ["a", "a1", "a2", "b"]);
    });
}

#[test]
fn a_tasklet_spawning_and_joining_in_a_loop_does_not_starve_the_others() {
    use std::cell::Cell;
    use std::rc::Rc;
    run(|| {
        let turns = Rc::new(Cell::new(0u32));
        let counter = turns.clone();
        let other = concurrence::Builder::new()
            .daemon(true)
            .spawn(move || loop {
                counter.set(counter.get() + 1);
                yield_();
            });
        yield_(); // the other tasklet is now queued behind us
        let rounds = 10_000;
        for i in 0..rounds {
            // Each child runs next and wakes us next: only the fairness rule lets the other in.
            assert_eq!(spawn(move || i).join().unwrap(), i);
        }
        let turns = turns.get();
        assert!(
            turns >= rounds / 100,
            "the other tasklet ran only {turns} times"
        );
        other.kill();
    });
}
