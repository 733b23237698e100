//! A seeded random mix of spawns, sleeps, yields, joins with timeouts and kills, checked for the
//! invariants every run must keep: the dispatcher ends normally, every destructor runs, every
//! join reports either the tasklet's own value or why it has none.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use concurrence::{sleep, spawn, yield_, JoinCause, Tasklet};
use concurrence_tests::{run_status, DropCounter, Rng};

type Registry = Rc<RefCell<Vec<Tasklet<u64>>>>;

/// Counts tokens handed out, and (through [`DropCounter`]) dropped.
#[derive(Clone)]
struct Tokens {
    made: Arc<AtomicUsize>,
    drops: DropCounter,
}

fn worker(id: u64, rng: Rng, all: Registry, tokens: Tokens, depth: u32) -> u64 {
    tokens.made.fetch_add(1, Ordering::SeqCst);
    let _token = tokens.drops.token();
    for _ in 0..20 {
        match rng.below(8) {
            0 => sleep(Duration::from_micros(rng.below(2000))),
            1 => yield_(),
            2 if depth < 3 => {
                let (r, a, d) = (rng.clone(), all.clone(), tokens.clone());
                let child_id = 1000 * id + rng.below(1000);
                let child = spawn(move || worker(child_id, r, a, d, depth + 1));
                all.borrow_mut().push(child);
            }
            3 => {
                let target = pick(&rng, &all);
                if let Some(target) = target {
                    if let Ok(result) = target.join_timeout(Duration::from_micros(rng.below(3000)))
                    {
                        check(&target, result);
                    }
                }
            }
            4 => {
                if let Some(target) = pick(&rng, &all) {
                    target.kill();
                }
            }
            5 => {
                let some: Vec<_> = (0..3).filter_map(|_| pick(&rng, &all)).collect();
                let wait = Duration::from_micros(rng.below(3000));
                if let Ok(results) = concurrence::join_all_timeout(&some, wait) {
                    for (t, r) in some.iter().zip(results) {
                        check(t, r);
                    }
                }
            }
            6 if rng.below(20) == 0 => concurrence::current().kill(),
            _ => {}
        }
    }
    id * 2
}

fn pick(rng: &Rng, all: &Registry) -> Option<Tasklet<u64>> {
    let all = all.borrow();
    if all.is_empty() {
        None
    } else {
        Some(all[rng.below(all.len() as u64) as usize].clone())
    }
}

/// A join gives the tasklet's own value, or a cause that fits what can happen here.
fn check(target: &Tasklet<u64>, result: Result<u64, concurrence::JoinError>) {
    match result {
        Ok(value) => assert_eq!(value % 2, 0, "{target}: {value}"),
        Err(err) => assert!(
            matches!(
                err.cause(),
                JoinCause::Killed | JoinCause::AlreadyJoined | JoinCause::JoinedSelf
            ),
            "{target}: {err}"
        ),
    }
}

fn stress(seed: u64) {
    let tokens = Tokens {
        made: Arc::new(AtomicUsize::new(0)),
        drops: DropCounter::new(),
    };
    let counted = tokens.clone();
    let status = run_status(move || {
        let rng = Rng::new(seed);
        let all: Registry = Rc::new(RefCell::new(Vec::new()));
        for id in 1..=100 {
            let (r, a, d) = (rng.clone(), all.clone(), tokens.clone());
            let t = spawn(move || worker(id, r, a, d, 0));
            all.borrow_mut().push(t);
        }
        // Join everything there is, including tasklets spawned while joining.
        let mut joined = 0;
        while joined < all.borrow().len() {
            let t = all.borrow()[joined].clone();
            check(&t, t.join());
            joined += 1;
        }
        assert!(all.borrow().iter().all(Tasklet::has_finished));
        assert!(concurrence::current().children().is_empty());
    });
    assert!(status.success(), "seed {seed}: {status}");
    // Every worker that started made one token; all were dropped, killed or not.
    let made = counted.made.load(Ordering::SeqCst);
    assert!(made >= 50, "seed {seed}: only {made} workers ran");
    assert_eq!(counted.drops.count(), made, "seed {seed}");
}

#[test]
fn random_mix_of_operations_keeps_the_invariants() {
    for seed in [1, 2, 3, 42, 2026] {
        stress(seed);
    }
}
