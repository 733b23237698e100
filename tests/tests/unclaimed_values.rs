//! Values nobody took, and user code the runtime calls: an unjoined result, the closure of a
//! tasklet that never ran, a panic payload, unread messages, a selective receive's filter.
//! Their destructors (or the filter) may block, panic or call the runtime: the dispatcher always
//! returns, and nothing runs while the runtime holds a borrow of its own state.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use concurrence::{
    message, receive_matching, sleep, spawn, tasklet, try_receive, yield_, Builder, ExitReason,
};
use concurrence_tests::{run, run_status, DropCounter, OnDrop};

#[test]
fn an_unjoined_result_whose_destructor_blocks_is_dropped_in_a_tasklet() {
    let drops = DropCounter::new();
    let d = drops.clone();
    run(move || {
        let token = d.token();
        let t = spawn(move || {
            OnDrop::new(move || {
                sleep(Duration::from_millis(10)); // blocks: needs a tasklet to run in
                drop(token);
            })
        });
        yield_(); // it returns its value, which nobody joins
        drop(t); // the last handle: the value goes
        sleep(Duration::from_millis(50));
        assert_eq!(d.count(), 1, "dropped soon after its last handle went");
    });
    assert_eq!(drops.count(), 1);
}

#[test]
fn an_unjoined_result_whose_destructor_panics_does_not_take_the_dispatcher_down() {
    let status = run_status(|| {
        let t = spawn(|| OnDrop::new(|| panic!("a destructor that panics")));
        yield_();
        drop(t);
        sleep(Duration::from_millis(20)); // the first tasklet goes on
    });
    assert_eq!(status.reason(), &ExitReason::Finished, "{status}");
}

#[test]
fn a_never_started_daemon_whose_closure_blocks_in_its_destructor_is_dropped_at_shutdown() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let status = run_status(move || {
        let token = d.token();
        let captured = OnDrop::new(move || {
            sleep(Duration::from_millis(10));
            drop(token);
        });
        Builder::new().daemon(true).spawn(move || {
            let _keep = captured;
        });
        // The first tasklet ends before the daemon ever runs.
    });
    assert!(status.success(), "{status}");
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_result_still_unjoined_when_the_dispatcher_ends_is_dropped_even_if_it_blocks() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let status = run_status(move || {
        let token = d.token();
        let t = spawn(move || {
            OnDrop::new(move || {
                sleep(Duration::from_millis(10));
                drop(token);
            })
        });
        yield_();
        std::mem::forget(t.clone()); // a handle that is never dropped: the record stays
        drop(t);
    });
    assert!(status.success(), "{status}");
}

/// A panic payload whose own destructor panics.
struct PanickyPayload;

impl Drop for PanickyPayload {
    fn drop(&mut self) {
        panic!("the payload's destructor panics too");
    }
}

#[test]
fn a_panic_payload_whose_destructor_panics_is_reported_and_the_dispatcher_returns() {
    let status = run_status(|| {
        let t = spawn(|| -> u32 { std::panic::panic_any(PanickyPayload) });
        let err = t.join().unwrap_err();
        assert!(err.is_panic(), "{err}");
    });
    assert_eq!(status.reason(), &ExitReason::Finished, "{status}");
}

message!(MSG_ITEM(u32), MSG_MARK);

#[tasklet(receives(MSG_ITEM, MSG_MARK))]
fn picky() -> Vec<u32> {
    let me = concurrence::current()
        .with_messages::<PickyMsg>()
        .expect("it receives PickyMsg");
    // A filter that calls the runtime: it sends to its own mailbox and tries to receive.
    let mut looked = 0;
    let first = receive_matching(|m: &PickyMsg| {
        looked += 1;
        if looked == 1 {
            assert!(
                try_receive::<PickyMsg>().is_none(),
                "the filter sees an empty mailbox"
            );
            MSG_MARK::send(&me)().unwrap();
        }
        matches!(m, PickyMsg::MSG_ITEM(MSG_ITEM(2)))
    });
    let mut order = vec![match first {
        PickyMsg::MSG_ITEM(MSG_ITEM(n)) => n,
        PickyMsg::MSG_MARK(_) => unreachable!("the filter took item 2"),
    }];
    // A filter that panics leaves every message in place.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        receive_matching(|_: &PickyMsg| panic!("a filter that panics"))
    }));
    assert!(caught.is_err());
    while let Some(m) = try_receive::<PickyMsg>() {
        order.push(match m {
            PickyMsg::MSG_ITEM(MSG_ITEM(n)) => n,
            PickyMsg::MSG_MARK(_) => 100,
        });
    }
    order
}

#[test]
fn a_selective_receive_filter_may_call_the_runtime_and_a_panicking_one_loses_nothing() {
    run(|| {
        let p = Picky::new().spawn();
        for n in 1..=3 {
            MSG_ITEM::send(&p)(n).unwrap();
        }
        // Item 2 first; then 1 and 3 in order, and the mark the filter sent, after them.
        assert_eq!(p.join().unwrap(), [2, 1, 3, 100]);
    });
}

message!(MSG_SLOW(OnDrop));

#[tasklet(receives(MSG_SLOW))]
fn never_reads() {
    sleep(Duration::from_millis(5));
}

#[test]
fn unread_messages_whose_destructor_blocks_are_dropped_on_their_finished_tasklet_stack() {
    run(move || {
        let s = Rc::new(Cell::new(0));
        let t = NeverReads::new().spawn();
        for _ in 0..2 {
            let s = s.clone();
            MSG_SLOW::send(&t)(OnDrop::new(move || {
                sleep(Duration::from_millis(5)); // blocks: fine on the tasklet's own stack
                s.set(s.get() + 1);
            }))
            .unwrap();
        }
        t.join().unwrap();
        assert_eq!(
            s.get(),
            2,
            "both destructors ran to their end before the tasklet ended"
        );
    });
}
