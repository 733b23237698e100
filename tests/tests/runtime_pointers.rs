//! What the runtime reaches through plain pointers rather than counted references: the
//! scheduler of the running dispatcher (a thread-local pointer, valid while `dispatch` runs) and
//! the running tasklet (valid while it runs). These tests pin the invariants written at
//! `scheduler::Sched` and `Scheduler::current`: values that outlive a dispatcher keep a counted
//! reference and stay usable, a blocking call without a dispatcher is a clear panic rather than
//! a dangling read, and the running tasklet is right through nested resumes. `.ci/memcheck`
//! runs them under valgrind, which reports any read of freed memory.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::TcpStream as StdTcpStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use concurrence::net::TcpListener;
use concurrence::{current, sleep, try_current, yield_, Dispatcher, Mailbox};
use concurrence_tests::{run, LIMIT};

/// Runs `body` on a fresh thread; fails the test if it panics or runs past [`LIMIT`].
fn bounded(body: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        body();
        let _ = tx.send(());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(()) => thread.join().expect("test thread"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(payload) = thread.join() {
                std::panic::resume_unwind(payload);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish within {LIMIT:?}"),
    }
}

fn dispatcher() -> Dispatcher {
    Dispatcher::new().handle_sigint(false)
}

#[test]
fn a_socket_kept_past_its_dispatcher_works_in_the_next_one_and_drops_cleanly() {
    bounded(|| {
        // Registered with the first dispatcher by a wait that times out.
        let status = dispatcher().run(|| {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let waited = listener.accept_timeout(Duration::from_millis(5));
            assert!(waited.is_err(), "nobody connects yet");
            listener
        });
        let listener = status.into_value().expect("the first tasklet returned");
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut stream = StdTcpStream::connect(addr).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream.write_all(b"ping").unwrap();
            let mut answer = [0u8; 4];
            stream.read_exact(&mut answer).unwrap();
            answer
        });
        // A second dispatcher on the same thread: the listener registers with it on first use.
        let status = dispatcher().run(move || {
            let (mut stream, _) = listener.accept_timeout(Duration::from_secs(10)).unwrap();
            let mut request = [0u8; 4];
            stream.read_exact(&mut request).unwrap();
            assert_eq!(&request, b"ping");
            stream.write_all(b"pong").unwrap();
            (listener, stream)
        });
        assert_eq!(&client.join().unwrap(), b"pong");
        // Dropped with no dispatcher running: they deregister from a scheduler that is gone
        // but still counted, not freed.
        drop(status.into_value().expect("the first tasklet returned"));
    });
}

#[test]
fn a_blocking_call_after_the_dispatcher_ended_is_a_clear_panic() {
    bounded(|| {
        let status = dispatcher().run(|| {
            let mailbox = Mailbox::new();
            mailbox.append(1u32).unwrap();
            mailbox
        });
        let mailbox: Mailbox<u32> = status.into_value().expect("the first tasklet returned");
        // What needs no wait works without a dispatcher.
        assert_eq!(mailbox.popleft_timeout(Duration::ZERO), Ok(1));
        let blocked = catch_unwind(AssertUnwindSafe(|| mailbox.popleft()));
        let payload = blocked.expect_err("a wait without a dispatcher must panic");
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains("dispatch"),
            "the panic says what is missing: {message}"
        );
        assert!(try_current().is_none());
    });
}

#[test]
fn a_tasklet_nobody_holds_runs_to_its_end_and_knows_itself() {
    let (tx, rx) = mpsc::channel();
    run(move || {
        let done = Mailbox::new();
        let report = done.clone();
        // The handle is dropped at once: only the runtime keeps the record alive.
        drop(concurrence::Builder::new().name("orphan").spawn(move || {
            let mut seen = Vec::new();
            for _ in 0..3 {
                seen.push(current().name().to_owned());
                yield_();
                sleep(Duration::from_millis(1));
            }
            report.append(seen).unwrap();
        }));
        let seen: Vec<String> = done.popleft();
        tx.send(seen).unwrap();
    });
    assert_eq!(rx.recv().unwrap(), ["orphan", "orphan", "orphan"]);
}

#[test]
fn the_running_tasklet_is_right_in_a_victim_resumed_by_its_killer_and_after() {
    let (tx, rx) = mpsc::channel();
    run(move || {
        let log = Rc::new(RefCell::new(Vec::new()));
        struct Record(Rc<RefCell<Vec<String>>>);
        impl Drop for Record {
            fn drop(&mut self) {
                // Runs while the victim unwinds, resumed from inside its killer's `kill`.
                let me = current();
                self.0
                    .borrow_mut()
                    .push(format!("dropping in {}", me.name()));
                yield_();
                self.0
                    .borrow_mut()
                    .push(format!("still in {}", current().name()));
            }
        }
        let record = Record(log.clone());
        let victim = concurrence::Builder::new().name("victim").spawn(move || {
            let _record = record;
            sleep(Duration::from_secs(60));
        });
        let killer_log = log.clone();
        let killer = concurrence::Builder::new().name("killer").spawn(move || {
            sleep(Duration::from_millis(5));
            killer_log
                .borrow_mut()
                .push(format!("{} kills", current().name()));
            victim.kill();
            killer_log
                .borrow_mut()
                .push(format!("back in {}", current().name()));
        });
        killer.join().unwrap();
        tx.send(log.borrow().clone()).unwrap();
    });
    assert_eq!(
        rx.recv().unwrap(),
        [
            "killer kills",
            "dropping in victim",
            "still in victim",
            "back in killer"
        ]
    );
}
