//! `WorkQueue`: work spread over tasklets on every dispatcher and plain threads: each item
//! goes to exactly one popper, a close ends the workers, a popper that leaves passes its
//! wake-up on, and waits are bounded by timeouts.

use std::collections::HashSet;
use std::time::Duration;

use concurrence::{io, select, sleep, spawn, spawn_on, wait_for, WorkQueue};
use concurrence_tests::{run, run_value, two};

#[test]
fn items_pushed_from_two_dispatchers_and_a_thread_are_each_popped_exactly_once() {
    const EACH: u64 = 10_000;
    let status = run_value(two(), || {
        let queue = WorkQueue::new();
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let queue = queue.clone();
                spawn_on(i % 2, move || {
                    let mut got = Vec::new();
                    while let Some(item) = queue.pop() {
                        got.push(item);
                    }
                    got
                })
            })
            .collect();
        let thread_worker = {
            let queue = queue.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(item) = queue.pop() {
                    got.push(item);
                }
                got
            })
        };
        let producers: Vec<_> = (0..2u64)
            .map(|p| {
                let queue = queue.clone();
                spawn_on(p as usize, move || {
                    for n in 0..EACH {
                        queue.push(p * EACH + n).unwrap();
                    }
                })
            })
            .collect();
        let thread_producer = {
            let queue = queue.clone();
            std::thread::spawn(move || {
                for n in 0..EACH {
                    queue.push(2 * EACH + n).unwrap();
                }
            })
        };
        for p in producers {
            p.join().unwrap();
        }
        io::blocking(move || thread_producer.join().unwrap());
        queue.close();
        let mut all: Vec<u64> = workers.iter().flat_map(|w| w.join().unwrap()).collect();
        all.extend(io::blocking(move || thread_worker.join().unwrap()));
        all
    });
    let all = status.into_value().expect("the program returned the items");
    assert_eq!(all.len() as u64, 3 * EACH, "items lost or duplicated");
    let unique: HashSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len() as u64, 3 * EACH, "an item was popped twice");
}

#[test]
fn closing_the_queue_ends_waiting_workers_and_fails_later_pushes() {
    run(|| {
        let queue: WorkQueue<u32> = WorkQueue::new();
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let queue = queue.clone();
                spawn(move || queue.pop())
            })
            .collect();
        sleep(Duration::from_millis(10)); // all three wait
        queue.push(1).unwrap();
        queue.close();
        let mut got: Vec<_> = waiting.iter().map(|w| w.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, [None, None, Some(1)]);
        assert_eq!(queue.push(2), Err(2));
        assert!(queue.is_closed());
    });
}

#[test]
fn a_popper_killed_after_it_was_woken_passes_the_item_on() {
    run(|| {
        let queue: WorkQueue<&str> = WorkQueue::new();
        let first = {
            let queue = queue.clone();
            spawn(move || queue.pop())
        };
        let second = {
            let queue = queue.clone();
            spawn(move || queue.pop())
        };
        sleep(Duration::from_millis(10)); // both wait, the first one longest
        queue.push("job").unwrap(); // wakes the first...
        first.kill(); // ...which leaves before it ran
        assert_eq!(
            second
                .join_timeout(Duration::from_secs(10))
                .unwrap()
                .unwrap(),
            Some("job")
        );
        assert!(queue.is_empty());
    });
}

#[test]
fn pop_timeout_times_out_on_an_empty_queue_in_a_tasklet_and_on_a_thread() {
    run(|| {
        let queue: WorkQueue<u8> = WorkQueue::new();
        assert!(queue.pop_timeout(Duration::from_millis(20)).is_err());
        let remote = queue.clone();
        let thread = std::thread::spawn(move || remote.pop_timeout(Duration::from_millis(20)));
        assert!(io::blocking(move || thread.join().unwrap()).is_err());
        queue.push(7).unwrap();
        assert_eq!(queue.pop_timeout(Duration::from_millis(20)), Ok(Some(7)));
    });
}

#[test]
fn a_select_on_work_takes_the_item_only_when_its_arm_wins() {
    run(|| {
        let queue: WorkQueue<u8> = WorkQueue::new();
        let timed_out = select! {
            item = wait_for::work(&queue) => item.is_some(),
            () = wait_for::timeout(Duration::from_millis(10)) => false,
        };
        assert!(!timed_out);
        queue.push(3).unwrap();
        let got = select! {
            item = wait_for::work(&queue) => item,
            () = wait_for::timeout(Duration::from_secs(10)) => None,
        };
        assert_eq!(got, Some(3));
    });
}
