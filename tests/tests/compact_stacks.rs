//! Compact stacks (`StackMode::compact`): tasklets share a few guarded stacks and keep their
//! used bytes on the heap while another runs there. What must hold: every tasklet finds its
//! frames as it left them, through sleeps, messages, channels, panics, kills and shutdown; a
//! kill between two tasklets of one shared stack still unwinds the victim before it returns;
//! an overflow is still caught by the guard page.

use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::os::unix::process::ExitStatusExt;
use std::rc::Rc;
use std::time::Duration;

use concurrence::{
    sleep, spawn, yield_, Builder, Channel, Dispatcher, JoinCause, Mailbox, StackMode, Tasklet,
};
use concurrence_tests::{is_child, run_child, run_status_with, run_with};

/// A dispatcher whose tasklets run on compact stacks.
fn compact() -> Dispatcher {
    Dispatcher::new()
        .stack_mode(compact_mode())
        .handle_sigint(false)
}

/// The compact stack mode.
fn compact_mode() -> StackMode {
    // SAFETY: no tasklet of these tests lends a borrow of its stack to another thread or pins a
    // registered value on it across a suspension: they share values through `Rc`s, mailboxes
    // and channels only.
    unsafe { StackMode::compact() }
}

/// Recurses `depth` frames, each holding 256 bytes derived from `seed`, calls `at_bottom` at
/// the deepest one, then checks every frame on the way back up: a frame whose bytes changed
/// while the tasklet was suspended panics naming it.
fn frames(seed: u64, depth: u32, at_bottom: &mut dyn FnMut()) -> u64 {
    let mut frame = [0u64; 32];
    for (i, word) in frame.iter_mut().enumerate() {
        *word = seed
            .wrapping_mul(31)
            .wrapping_add(u64::from(depth) * 1000 + i as u64);
    }
    let frame = black_box(frame);
    let below = if depth == 0 {
        at_bottom();
        0
    } else {
        frames(seed, depth - 1, at_bottom)
    };
    for (i, word) in frame.iter().enumerate() {
        let expected = seed
            .wrapping_mul(31)
            .wrapping_add(u64::from(depth) * 1000 + i as u64);
        assert_eq!(
            *word, expected,
            "tasklet {seed}: frame {depth} word {i} changed"
        );
    }
    below + frame[7]
}

fn expected(seed: u64, depth: u32) -> u64 {
    (0..=depth)
        .map(|d| seed.wrapping_mul(31).wrapping_add(u64::from(d) * 1000 + 7))
        .fold(0u64, u64::wrapping_add)
}

#[test]
fn compact_tasklets_find_their_frames_intact_after_sleeping_and_yielding() {
    run_with(compact(), || {
        // Many more tasklets than shared stacks, woken in an order unrelated to their start.
        let tasks: Vec<Tasklet<u64>> = (0..300u64)
            .map(|seed| {
                spawn(move || {
                    frames(seed, 12, &mut || {
                        sleep(Duration::from_millis(1 + (seed * 7919) % 23));
                        yield_();
                        sleep(Duration::from_millis(1 + (seed * 104_729) % 17));
                    })
                })
            })
            .collect();
        for (seed, task) in tasks.iter().enumerate() {
            assert_eq!(task.join().unwrap(), expected(seed as u64, 12));
        }
    });
}

#[test]
fn compact_tasklets_pass_messages_and_channel_values_around_a_ring() {
    run_with(compact(), || {
        const RING: usize = 20;
        const ROUNDS: u64 = 50;
        let boxes: Vec<Mailbox<u64>> = (0..RING).map(|_| Mailbox::new()).collect();
        let done = Channel::<u64>::new();
        let tasks: Vec<Tasklet<u64>> = (0..RING)
            .map(|i| {
                let inbox = boxes[i].clone();
                let next = boxes[(i + 1) % RING].clone();
                let done = done.clone();
                spawn(move || {
                    let mut sum = 0u64;
                    frames(i as u64, 6, &mut || {
                        for _ in 0..ROUNDS {
                            let token = inbox.popleft();
                            sum += token;
                            next.append(token + 1).unwrap();
                        }
                    });
                    done.send(sum);
                    sum
                })
            })
            .collect();
        boxes[0].append(0).unwrap();
        let total: u64 = (0..RING).map(|_| done.receive()).sum();
        let tokens = ROUNDS * RING as u64;
        // The token visited every tasklet in turn, counting up; the last append is unread.
        assert_eq!(total, (0..tokens).sum::<u64>());
        for task in &tasks {
            task.join().unwrap();
        }
    });
}

#[test]
fn a_panic_and_a_kill_unwind_a_compact_tasklet_on_its_own_frames() {
    run_with(compact(), || {
        let dropped = Rc::new(Cell::new(0));
        struct Guard(Rc<Cell<u32>>, u64);
        impl Drop for Guard {
            fn drop(&mut self) {
                // Its frames are in place while it unwinds: the values are still there.
                assert_eq!(black_box(self.1), 0xC0FFEE);
                self.0.set(self.0.get() + 1);
            }
        }
        let panicker = {
            let dropped = dropped.clone();
            spawn(move || {
                frames(1, 8, &mut || {
                    let _guard = Guard(dropped.clone(), 0xC0FFEE);
                    sleep(Duration::from_millis(5));
                    panic!("on purpose");
                })
            })
        };
        let sleeper = {
            let dropped = dropped.clone();
            spawn(move || {
                frames(2, 8, &mut || {
                    let _guard = Guard(dropped.clone(), 0xC0FFEE);
                    sleep(Duration::from_secs(3600));
                })
            })
        };
        // Others run on the shared stacks meanwhile.
        let others: Vec<_> = (0..40u64)
            .map(|seed| spawn(move || frames(seed, 4, &mut || sleep(Duration::from_millis(2)))))
            .collect();
        let err = panicker.join().unwrap_err();
        assert!(matches!(err.cause(), JoinCause::Panicked(m) if m.contains("on purpose")));
        sleeper.kill();
        assert!(matches!(
            sleeper.join().unwrap_err().cause(),
            JoinCause::Killed
        ));
        assert_eq!(dropped.get(), 2);
        for (seed, task) in others.iter().enumerate() {
            assert_eq!(task.join().unwrap(), expected(seed as u64, 4));
        }
    });
}

#[test]
fn a_kill_between_tasklets_of_one_shared_stack_unwinds_the_victim_before_it_returns() {
    run_with(compact(), || {
        // A size of their own: these ten tasklets share the eight stacks of that size, so the
        // killer shares its stack with at least one victim (the first eight have one each).
        const SIZE: usize = 96 * 1024;
        let victims: Vec<(Tasklet<u64>, Rc<Cell<bool>>)> = (0..9u64)
            .map(|seed| {
                let unwound = Rc::new(Cell::new(false));
                let flag = unwound.clone();
                let task = Builder::new().stack_size(SIZE).spawn(move || {
                    struct Flag(Rc<Cell<bool>>);
                    impl Drop for Flag {
                        fn drop(&mut self) {
                            yield_(); // blocks once while unwinding
                            self.0.set(true);
                        }
                    }
                    frames(seed, 5, &mut || {
                        let _flag = Flag(flag.clone());
                        sleep(Duration::from_secs(3600));
                    })
                });
                (task, unwound)
            })
            .collect();
        // Each has started and sleeps, holding its shared stack's bytes or its own saved.
        sleep(Duration::from_millis(20));
        let killer = Builder::new().stack_size(SIZE).spawn(move || {
            frames(99, 5, &mut || {
                for (victim, unwound) in &victims {
                    victim.kill();
                    assert!(unwound.get(), "the victim unwound before kill returned");
                    assert!(matches!(
                        victim.join().unwrap_err().cause(),
                        JoinCause::Killed
                    ));
                }
            })
        });
        assert_eq!(killer.join().unwrap(), expected(99, 5));
    });
}

#[test]
fn compact_tasklets_left_at_the_end_are_killed_and_their_destructors_run() {
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = dropped.clone();
    let status = run_status_with(compact(), move || {
        struct Count(std::sync::Arc<std::sync::atomic::AtomicUsize>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        for seed in 0..50u64 {
            let count = Count(counter.clone());
            Builder::new().daemon(true).spawn(move || {
                frames(seed, 3, &mut || {
                    let _count = &count;
                    sleep(Duration::from_secs(3600));
                })
            });
        }
        sleep(Duration::from_millis(10));
    });
    assert!(status.success(), "{status}");
    assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 50);
}

#[test]
fn a_compact_stack_overflow_aborts_naming_the_tasklet() {
    const NAME: &str = "a_compact_stack_overflow_aborts_naming_the_tasklet";
    if is_child(NAME) {
        let _ = compact().run(|| {
            let diver = Builder::new().name("compact_diver").spawn(|| {
                fn dive(n: u64) -> u64 {
                    let frame = black_box([n; 128]);
                    if black_box(n) == u64::MAX {
                        return frame[0];
                    }
                    dive(n + 1) + frame[3]
                }
                dive(0)
            });
            let _ = diver.join();
        });
        return;
    }
    let out = run_child(NAME);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tasklet 'compact_diver' (#2) overflowed its stack (guard page hit)"),
        "{stderr}"
    );
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{:?}", out.status);
}

#[test]
fn compact_and_guarded_tasklets_run_side_by_side() {
    run_with(compact(), || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<Tasklet<u64>> = (0..40u64)
            .map(|seed| {
                let mode = if seed % 2 == 0 {
                    StackMode::GUARDED
                } else {
                    compact_mode()
                };
                let log = log.clone();
                Builder::new().stack_mode(mode).spawn(move || {
                    frames(seed, 6, &mut || {
                        yield_();
                        log.borrow_mut().push(seed);
                        sleep(Duration::from_millis(seed % 5));
                    })
                })
            })
            .collect();
        for (seed, task) in tasks.iter().enumerate() {
            assert_eq!(task.join().unwrap(), expected(seed as u64, 6));
        }
        assert_eq!(log.borrow().len(), 40);
    });
}
