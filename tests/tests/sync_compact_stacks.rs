//! The sync primitives keep their waiters on the heap, never in a tasklet's frames: compact
//! tasklets wait on each of them while others overwrite the shared stacks they ran on, and are
//! all woken, in order.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use concurrence::sync::{broadcast, watch, Barrier, Mutex, Notify, Semaphore};
use concurrence::{sleep, spawn, Dispatcher, StackMode};
use concurrence_tests::run_with;

/// Runs eight tasklets that each put 4 KiB of their own on the shared stacks.
fn scribble() {
    let others: Vec<_> = (0..8u8)
        .map(|i| {
            spawn(move || {
                let bytes = [i; 4096];
                sleep(Duration::from_millis(2));
                std::hint::black_box(bytes)
                    .iter()
                    .map(|&b| b as u64)
                    .sum::<u64>()
            })
        })
        .collect();
    for other in others {
        other.join().unwrap();
    }
}

#[test]
fn compact_tasklets_waiting_on_every_primitive_are_woken_after_others_ran_on_their_stacks() {
    // SAFETY: no tasklet lends a borrow of its stack to another thread or registers a value
    // pinned on it: they share values through `Rc`s and the primitives under test, whose
    // waiters are on the heap (what this test checks).
    let mode = unsafe { StackMode::compact() };
    run_with(
        Dispatcher::new().stack_mode(mode).handle_sigint(false),
        || {
            let sem = Semaphore::new(0);
            let mutex = Rc::new(Mutex::new(()));
            let notify = Notify::new();
            let barrier = Barrier::new(4);
            let (btx, brx) = broadcast::channel(4);
            let (wtx, wrx) = watch::channel(0);
            let order = Rc::new(RefCell::new(Vec::new()));
            let held = mutex.lock();
            let waiters: Vec<_> = (0..3)
                .map(|i| {
                    let (sem, mutex, notify, barrier) =
                        (sem.clone(), mutex.clone(), notify.clone(), barrier.clone());
                    let (brx, wrx, order) = (brx.clone(), wrx.clone(), order.clone());
                    spawn(move || {
                        let mut padding = [i as u8 + 1; 512]; // frames of its own
                        padding[0] = i as u8;
                        sem.acquire().forget();
                        drop(mutex.lock());
                        notify.notified();
                        barrier.wait();
                        assert_eq!(brx.recv(), Ok(7)); // every receiver sees it
                        wrx.changed().unwrap();
                        order.borrow_mut().push(i);
                        std::hint::black_box(padding)[1]
                    })
                })
                .collect();
            scribble(); // they wait for the semaphore meanwhile
            for _ in 0..3 {
                sem.add_permits(1);
                scribble();
            }
            drop(held);
            scribble();
            for _ in 0..3 {
                notify.notify_one();
                scribble();
            }
            barrier.wait();
            scribble();
            btx.send(7).unwrap();
            scribble();
            wtx.send(1).unwrap();
            for (i, w) in waiters.into_iter().enumerate() {
                assert_eq!(w.join().unwrap(), i as u8 + 1);
            }
            assert_eq!(*order.borrow(), [0, 1, 2]);
        },
    );
}
