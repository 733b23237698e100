//! Kills that never abort the process: a tasklet suspended while it unwinds (a destructor that
//! blocks) is tracked on its own, a second kill ends the blocked call instead of unwinding twice,
//! and tasklets that kill themselves or each other from destructors all die. The cases that
//! aborted the process before run in a child process, so that an abort fails one test only.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use concurrence::{
    current, quit, sleep, spawn, yield_, Channel, Dispatcher, JoinCause, Mailbox, Tasklet,
};
use concurrence_tests::{assert_child_passed, is_child, run, DropCounter, OnDrop, Token, LIMIT};

/// A tasklet whose destructor sleeps `nap` while it unwinds, killed and left suspended there.
fn unwinding_in_a_blocking_destructor(nap: Duration, token: Token) -> Tasklet<()> {
    let t = spawn(move || {
        let _slow = OnDrop::new(move || {
            sleep(nap);
            drop(token);
        });
        sleep(Duration::from_secs(3600));
    });
    yield_();
    t.kill(); // it unwinds into the destructor, which sleeps: kill returns before it finished
    assert!(!t.has_finished());
    t
}

#[test]
fn a_kill_unwinds_its_victim_while_another_tasklet_is_suspended_mid_unwind() {
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        let slow = unwinding_in_a_blocking_destructor(Duration::from_millis(50), d.token());
        let token = d.token();
        let victim = spawn(move || {
            let _held = token;
            sleep(Duration::from_secs(3600));
            "woke up and went on"
        });
        yield_();
        victim.kill();
        assert!(
            victim.has_finished(),
            "the victim unwound before kill returned"
        );
        assert_eq!(victim.join().unwrap_err().cause(), &JoinCause::Killed);
        assert_eq!(d.count(), 1);
        assert!(slow.join().unwrap_err().is_killed());
        assert_eq!(d.count(), 2);
    });
    assert_eq!(drops.count(), 2);
}

#[test]
fn a_kill_unwinds_its_victim_while_a_panicking_tasklet_is_suspended_in_a_destructor() {
    run(|| {
        let panicker = spawn(|| {
            let _slow = OnDrop::new(|| sleep(Duration::from_millis(50)));
            panic!("boom");
        });
        yield_(); // it panics and suspends in the destructor's sleep
        assert!(!panicker.has_finished());
        let victim = spawn(|| sleep(Duration::from_secs(3600)));
        yield_();
        victim.kill();
        assert!(victim.has_finished());
        assert!(victim.join().unwrap_err().is_killed());
        let err = panicker.join().unwrap_err();
        assert_eq!(err.cause(), &JoinCause::Panicked("boom".into()));
    });
}

#[test]
fn at_shutdown_every_tasklet_dies_while_one_unwinds_in_a_blocking_destructor() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let status = Dispatcher::new().handle_sigint(false).run(move || {
            // The oldest: suspended mid-unwind while the shutdown kills the younger ones first.
            let _slow = unwinding_in_a_blocking_destructor(Duration::from_secs(3600), d.token());
            for _ in 0..5 {
                let token = d.token();
                spawn(move || {
                    let _held = token;
                    loop {
                        sleep(Duration::from_secs(3600)); // only a kill ends this tasklet
                    }
                });
            }
            yield_();
            quit(0);
        });
        let _ = tx.send((status, std::thread::panicking()));
    });
    let (status, panicking_after) = rx.recv_timeout(LIMIT).expect("dispatch returned in time");
    assert!(status.success(), "{status}");
    assert_eq!(
        drops.count(),
        6,
        "every destructor ran, the blocking one included"
    );
    assert!(
        !panicking_after,
        "the thread is not left unwinding after dispatch"
    );
}

/// What a destructor blocks in, for the second-kill cases.
#[derive(Clone, Copy, Debug)]
enum BlockIn {
    Join,
    Receive,
    Pop,
    ChannelReceive,
}

#[test]
fn a_second_kill_of_a_tasklet_blocked_in_a_destructor_ends_that_wait_without_aborting() {
    const NAME: &str =
        "a_second_kill_of_a_tasklet_blocked_in_a_destructor_ends_that_wait_without_aborting";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    for block_in in [
        BlockIn::Join,
        BlockIn::Receive,
        BlockIn::Pop,
        BlockIn::ChannelReceive,
    ] {
        run(move || {
            let mailbox: Mailbox<u32> = Mailbox::new();
            let channel: Channel<u32> = Channel::new();
            let other = spawn(|| sleep(Duration::from_secs(3600)));
            let (m, c, o) = (mailbox.clone(), channel.clone(), other.clone());
            let after = Rc::new(Cell::new(false));
            let a = after.clone();
            let t = concurrence::Builder::new()
                .receives::<MsgsMsg>()
                .spawn(move || {
                    let _blocking = OnDrop::new(move || {
                        match block_in {
                            BlockIn::Join => {
                                let joined = o.join();
                                assert_eq!(joined.unwrap_err().cause(), &JoinCause::Interrupted);
                            }
                            BlockIn::Receive => {
                                assert!(concurrence::receive::<MsgsMsg>().next().is_none());
                            }
                            BlockIn::Pop => assert_eq!(m.pop(), 7),
                            BlockIn::ChannelReceive => assert_eq!(c.receive(), 8),
                        }
                        a.set(true);
                    });
                    sleep(Duration::from_secs(3600));
                });
            yield_();
            t.kill(); // into the destructor, which blocks
            assert!(!t.has_finished(), "{block_in:?}");
            t.kill(); // again: the blocked call ends (join, receive) or waits on (pop, channel)
            match block_in {
                BlockIn::Join | BlockIn::Receive => {}
                BlockIn::Pop => {
                    assert!(!t.has_finished(), "pop cannot report the kill: it waits on");
                    mailbox.append(7).unwrap();
                }
                BlockIn::ChannelReceive => {
                    assert!(!t.has_finished());
                    channel.send(8);
                }
            }
            assert!(t.join().unwrap_err().is_killed(), "{block_in:?}");
            assert!(after.get(), "{block_in:?}: the destructor ran to its end");
            other.kill();
        });
    }
}

concurrence::message!(MSG_NOTHING);

#[concurrence::tasklet(receives(MSG_NOTHING))]
fn msgs() {}

#[test]
fn a_tasklet_killing_itself_in_a_destructor_during_a_kill_does_not_abort() {
    const NAME: &str = "a_tasklet_killing_itself_in_a_destructor_during_a_kill_does_not_abort";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        let token = d.token();
        let t = spawn(move || {
            let _suicidal = OnDrop::new(move || {
                current().kill(); // already dying: nothing more happens
                drop(token);
            });
            sleep(Duration::from_secs(3600));
        });
        yield_();
        t.kill();
        assert!(t.join().unwrap_err().is_killed());
        assert_eq!(d.count(), 1);
    });
}

#[test]
fn two_tasklets_that_kill_each_other_in_their_destructors_both_die() {
    const NAME: &str = "two_tasklets_that_kill_each_other_in_their_destructors_both_die";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        let partner: Rc<RefCell<Option<Tasklet<()>>>> = Rc::default();
        let linked = |partner: Rc<RefCell<Option<Tasklet<()>>>>, token: Token| {
            spawn(move || {
                let _link = OnDrop::new(move || {
                    let other = partner.borrow_mut().take();
                    if let Some(other) = other {
                        other.kill();
                    }
                    drop(token);
                });
                sleep(Duration::from_secs(3600));
            })
        };
        let a_partner = Rc::new(RefCell::new(None));
        let a = linked(a_partner.clone(), d.token());
        let b = linked(partner.clone(), d.token());
        *a_partner.borrow_mut() = Some(b.clone());
        *partner.borrow_mut() = Some(a.clone());
        yield_();
        a.kill(); // a's destructor kills b, whose destructor kills a, which is unwinding
        assert!(a.has_finished() && b.has_finished());
        assert!(a.join().unwrap_err().is_killed());
        assert!(b.join().unwrap_err().is_killed());
        assert_eq!(d.count(), 2);
    });
}

#[test]
fn a_tasklet_that_kills_its_killer_from_a_destructor_takes_it_down_after_the_kill() {
    run(|| {
        let killer_ended = Rc::new(Cell::new(false));
        let victim_slot: Rc<RefCell<Option<Tasklet<()>>>> = Rc::default();
        let killer = {
            let (slot, ended) = (victim_slot.clone(), killer_ended.clone());
            spawn(move || {
                yield_();
                let victim = slot.borrow_mut().take().unwrap();
                victim.kill(); // the victim kills us back from its destructor
                ended.set(true); // never reached: we unwind when the kill returns
            })
        };
        let k = killer.clone();
        let victim = spawn(move || {
            let _revenge = OnDrop::new(move || k.kill());
            sleep(Duration::from_secs(3600));
        });
        *victim_slot.borrow_mut() = Some(victim.clone());
        assert!(killer.join().unwrap_err().is_killed());
        assert!(victim.join().unwrap_err().is_killed());
        assert!(!killer_ended.get());
    });
}

#[test]
fn killing_a_never_started_tasklet_drops_its_closure_on_its_own_stack_even_if_that_blocks() {
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        let token = d.token();
        let captured = OnDrop::new(move || {
            sleep(Duration::from_millis(20)); // a blocking destructor of a captured value
            drop(token);
        });
        let t = spawn(move || {
            let _keep = captured;
            unreachable!("killed before it ran");
        });
        t.kill();
        assert!(
            !t.has_finished(),
            "its closure's destructor is still sleeping"
        );
        assert!(t.join().unwrap_err().is_killed());
        assert_eq!(d.count(), 1);
    });
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_second_kill_of_a_tasklet_waiting_on_several_conditions_in_a_destructor_does_not_abort() {
    const NAME: &str =
        "a_second_kill_of_a_tasklet_waiting_on_several_conditions_in_a_destructor_does_not_abort";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    run(|| {
        use concurrence::{select, wait_for};
        let jobs: Mailbox<u32> = Mailbox::new();
        let ended = Rc::new(Cell::new(""));
        let (j, e) = (jobs.clone(), ended.clone());
        let t = spawn(move || {
            let _cleanup = OnDrop::new(move || {
                // Waits on several things while unwinding from the first kill.
                e.set(select! {
                    _ = wait_for::popleft(&j) => "job",
                    () = wait_for::timeout(Duration::from_millis(30)) => "timeout",
                });
            });
            sleep(Duration::from_secs(3600));
        });
        yield_();
        t.kill(); // unwinds into the destructor, which waits
        assert!(!t.has_finished());
        t.kill(); // a second kill ends that wait's round; it cannot unwind twice
        assert!(t.join().unwrap_err().is_killed());
        assert_eq!(
            ended.get(),
            "timeout",
            "the wait went on until its timeout fired"
        );
        assert!(jobs.is_empty());
    });
}

/// Tasklet A blocks in a destructor while a kill unwinds it; tasklet B panics and blocks in a
/// destructor during that unwind; then B is killed. B is unwinding: the kill must end B's wait,
/// not unwind B a second time (which aborts the process: "panic in a destructor during
/// cleanup").
fn kill_a_panicking_tasklet_while_another_unwinds_from_a_kill(setup: fn()) {
    run(move || {
        setup();
        let drops = DropCounter::new();
        let a = unwinding_in_a_blocking_destructor(Duration::from_millis(200), drops.token());
        let b = spawn(|| {
            let _slow = OnDrop::new(|| sleep(Duration::from_millis(100)));
            panic!("b fails");
        });
        yield_(); // b panics and suspends in its destructor
        assert!(!b.has_finished());
        b.kill(); // ends b's sleep early; b's unwind goes on
        let err = b.join().unwrap_err();
        assert_eq!(err.cause(), &JoinCause::Panicked("b fails".into()));
        assert!(a.join().unwrap_err().is_killed());
        assert_eq!(drops.count(), 1);
    });
}

/// A panic hook of the program's own, which replaces whatever was installed.
fn install_a_user_panic_hook() {
    std::panic::set_hook(Box::new(|info| eprintln!("user hook: {info}")));
}

#[test]
fn a_kill_of_a_panicking_tasklet_does_not_abort_with_a_user_hook_installed_before_dispatch() {
    const NAME: &str =
        "a_kill_of_a_panicking_tasklet_does_not_abort_with_a_user_hook_installed_before_dispatch";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    install_a_user_panic_hook();
    kill_a_panicking_tasklet_while_another_unwinds_from_a_kill(|| {});
}

#[test]
fn a_kill_of_a_panicking_tasklet_does_not_abort_with_a_user_hook_installed_after_a_dispatch() {
    const NAME: &str =
        "a_kill_of_a_panicking_tasklet_does_not_abort_with_a_user_hook_installed_after_a_dispatch";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    run(|| {}); // the runtime's own hook is installed by the first dispatch
    install_a_user_panic_hook();
    kill_a_panicking_tasklet_while_another_unwinds_from_a_kill(|| {});
}

#[test]
fn a_kill_of_a_panicking_tasklet_does_not_abort_with_a_user_hook_installed_in_a_tasklet() {
    const NAME: &str =
        "a_kill_of_a_panicking_tasklet_does_not_abort_with_a_user_hook_installed_in_a_tasklet";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    kill_a_panicking_tasklet_while_another_unwinds_from_a_kill(install_a_user_panic_hook);
}
