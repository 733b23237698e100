//! Deadlines that scope (`with_deadline`, `with_timeout`): every blocking call in the scope
//! honours the earliest deadline, with its own timeout error or by unwinding to the scope;
//! nested scopes only shorten it; sleep is exempt; calls pass the deadline on. On virtual time,
//! so that every instant is exact.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use concurrence::{
    current_deadline, message, now, receive, remaining_time, select, sleep, spawn, tasklet,
    wait_for, with_deadline, with_timeout, CallError, Channel, Dispatcher, JoinCause, Mailbox,
    SendError, TimeoutError,
};
use concurrence_tests::{run_with, DropCounter};

fn virtual_time() -> Dispatcher {
    Dispatcher::new().handle_sigint(false).virtual_time(true)
}

const MS: Duration = Duration::from_millis(1);

message!(MSG_NOTHING, MSG_ASK(u64) -> Option<u64>);

#[tasklet(receives(MSG_NOTHING))]
fn quiet() {
    for _ in receive::<QuietMsg>() {}
}

#[tasklet(receives(MSG_ASK))]
fn answerer() {
    // Answers with the time left to the caller's deadline, after taking `ms` to think.
    for AnswererMsg::MSG_ASK(MSG_ASK(ms, reply)) in receive() {
        sleep(Duration::from_millis(ms));
        let left = reply
            .deadline()
            .map(|at| at.saturating_duration_since(now()).as_millis() as u64);
        reply.reply(left);
    }
}

#[test]
fn a_call_without_a_timeout_error_unwinds_to_the_scope_running_destructors() {
    run_with(virtual_time(), || {
        let drops = DropCounter::new();
        let token = drops.token();
        let start = now();
        let slow = spawn(|| sleep(Duration::from_secs(3600)));
        let result = with_timeout(50 * MS, move || {
            let _token = token;
            slow.join().unwrap(); // no timeout of its own
            "joined"
        });
        assert_eq!(result, Err(TimeoutError));
        assert_eq!(now() - start, 50 * MS);
        assert_eq!(drops.count(), 1);
        assert_eq!(current_deadline(), None, "the scope is left");
    });
}

#[test]
fn calls_with_a_timeout_error_fail_with_it_at_the_deadline() {
    run_with(virtual_time(), || {
        let start = now();
        let quiet = Quiet::new().daemon(true).max_mailbox_len(1).spawn();
        let mailbox = Mailbox::<u8>::with_max_len(1);
        mailbox.append(1).unwrap();
        let outcome = with_timeout(30 * MS, || {
            // A pop_timeout of ten seconds is cut to the scope's 30 ms.
            let received = Mailbox::<u8>::new()
                .popleft_timeout(Duration::from_secs(10))
                .map(|_| ());
            let after_receive = now() - start;
            // Sends to a full mailbox wait for room until the deadline, which has passed.
            let send = mailbox.append(2);
            (received, after_receive, send)
        });
        let (received, after_receive, send) = outcome.expect("no unwind: each call failed alone");
        assert_eq!(received, Err(TimeoutError));
        assert_eq!(after_receive, 30 * MS);
        assert!(matches!(send, Err(SendError::TimedOut(2))));
        // A call in a scope fails with CallError::TimedOut at the deadline.
        let start = now();
        let call = with_deadline(now() + 20 * MS, || {
            quiet.send(MSG_NOTHING).unwrap();
            concurrence::Tasklet::call(&Answerer::new().daemon(true).spawn(), |r| MSG_ASK(1000, r))
        })
        .unwrap();
        assert!(
            matches!(call, Err(CallError::TimedOut { message: "MSG_ASK" })),
            "{call:?}"
        );
        assert_eq!(now() - start, 20 * MS);
    });
}

#[test]
fn nested_scopes_only_shorten_and_leaving_one_restores_the_outer() {
    run_with(virtual_time(), || {
        let start = now();
        let outer = with_timeout(100 * MS, || {
            let outer_deadline = current_deadline().unwrap();
            // An inner scope of an hour keeps the outer 100 ms.
            with_timeout(Duration::from_secs(3600), || {
                assert_eq!(current_deadline(), Some(outer_deadline));
            })
            .unwrap();
            // An inner scope of 10 ms ends first; its unwind stops at it.
            let inner = with_timeout(10 * MS, || {
                Channel::<u8>::new().receive(); // nobody sends
            });
            assert_eq!(inner, Err(TimeoutError));
            assert_eq!(now() - start, 10 * MS);
            assert_eq!(current_deadline(), Some(outer_deadline), "restored");
            assert_eq!(remaining_time(), Some(90 * MS));
            // Then the outer one's deadline ends what is left.
            Channel::<u8>::new().receive();
            unreachable!("the receive cannot end otherwise");
        });
        assert_eq!(outer, Err(TimeoutError));
        assert_eq!(now() - start, 100 * MS);
        assert_eq!(current_deadline(), None);
    });
}

#[test]
fn sleep_is_exempt_and_code_that_does_not_block_is_not_interrupted() {
    run_with(virtual_time(), || {
        let start = now();
        let slept = with_timeout(10 * MS, || {
            sleep(100 * MS);
            now() - start
        });
        assert_eq!(
            slept,
            Ok(100 * MS),
            "returns once a call that does not sleep blocks"
        );
        let start = now();
        let late = with_timeout(10 * MS, || {
            sleep(20 * MS);
            Channel::<u8>::new().receive() // past the deadline: ends at once
        });
        assert_eq!(late, Err(TimeoutError));
        assert_eq!(now() - start, 20 * MS);
    });
}

#[test]
fn select_honours_the_scope_with_its_timeout_arm_or_by_unwinding() {
    run_with(virtual_time(), || {
        let channel = Channel::<u8>::new();
        let start = now();
        let fired = with_timeout(15 * MS, || {
            select! {
                v = wait_for::receive(&channel) => format!("value {v}"),
                () = wait_for::timeout(Duration::from_secs(60)) => format!("timeout at {:?}", now() - start),
            }
        });
        assert_eq!(fired, Ok("timeout at 15ms".to_string()));
        let mailbox = Mailbox::<u8>::new();
        let unwound = with_timeout(15 * MS, || {
            select! {
                v = wait_for::receive(&channel) => v,
                v = wait_for::popleft(&mailbox) => v,
            }
        });
        assert_eq!(unwound, Err(TimeoutError));
    });
}

#[test]
fn a_call_passes_the_deadline_on_to_the_called_tasklet() {
    run_with(virtual_time(), || {
        let answerer = Answerer::new().daemon(true).spawn();
        // Without a deadline the receiver learns none.
        assert_eq!(MSG_ASK::call(&answerer)(0), Ok(None));
        // A call_timeout passes its own; in a scope, the scope's when it comes first.
        assert_eq!(MSG_ASK::call_timeout(&answerer, 80 * MS)(5), Ok(Some(75)));
        let left = with_timeout(40 * MS, || MSG_ASK::call_timeout(&answerer, 80 * MS)(10)).unwrap();
        assert_eq!(left, Ok(Some(30)));
    });
}

#[test]
fn a_kill_in_a_scope_is_not_taken_for_the_deadline_and_children_are_not_in_it() {
    run_with(virtual_time(), || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let victim = spawn(move || {
            let scope = with_timeout(Duration::from_secs(60), || {
                let child = spawn(|| {
                    assert_eq!(current_deadline(), None, "a child is not in the scope");
                    sleep(Duration::from_secs(3600));
                });
                l.borrow_mut().push("waiting");
                child.join().unwrap();
            });
            l.borrow_mut()
                .push("after the scope: a kill must not get here");
            scope
        });
        sleep(MS);
        victim.kill();
        let err = victim.join().unwrap_err();
        assert_eq!(err.cause(), &JoinCause::Killed);
        assert_eq!(*log.borrow(), ["waiting"]);
    });
}

#[test]
fn a_destructor_that_blocks_while_the_scope_unwinds_is_not_cut_short() {
    struct Flush(Rc<RefCell<Option<Duration>>>);
    impl Drop for Flush {
        fn drop(&mut self) {
            // Blocks past the deadline, during the deadline's own unwind.
            let start = now();
            let worker = spawn(|| sleep(50 * MS));
            worker.join().unwrap();
            *self.0.borrow_mut() = Some(now() - start);
        }
    }
    run_with(virtual_time(), || {
        let flushed = Rc::new(RefCell::new(None));
        let f = flushed.clone();
        let result = with_timeout(10 * MS, move || {
            let _flush = Flush(f);
            Channel::<u8>::new().receive();
        });
        assert_eq!(result, Err(TimeoutError));
        assert_eq!(*flushed.borrow(), Some(50 * MS));
    });
}

#[test]
fn a_panic_in_a_scope_goes_on_as_a_panic_and_a_scope_outside_a_tasklet_panics() {
    run_with(virtual_time(), || {
        let panicked = spawn(|| with_timeout(10 * MS, || panic!("not a timeout")));
        let err = panicked.join().unwrap_err();
        assert!(err.to_string().contains("not a timeout"), "{err}");
    });
    let refused = std::panic::catch_unwind(|| with_timeout(MS, || ()));
    let payload = refused.unwrap_err();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(message.contains("outside a tasklet"), "{message}");
}
