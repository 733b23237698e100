//! How a dispatcher ends when user code misbehaves around it: a logger that panics when the
//! runtime logs from its own loop, a tasklet that refuses to die and keeps lending its stack to
//! a scoped thread. Each case ran into freed memory before (a SIGSEGV), so each runs in a child
//! process: a crash fails one test only.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use concurrence::{
    sleep, spawn, yield_, Dispatcher, ExitReason, ExitStatus, SendError, Tasklet, TaskletExit,
};
use concurrence_tests::{assert_child_passed, is_child};

/// A logger that names the running tasklet, as many do: outside a tasklet (the dispatcher's own
/// loop) `concurrence::current()` panics.
struct TaskletNamingLogger;

static LOGGED: AtomicUsize = AtomicUsize::new(0);

impl log::Log for TaskletNamingLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let name = concurrence::current().name().to_owned();
        LOGGED.fetch_add(1, Ordering::SeqCst);
        eprintln!("[{name}] {}", record.args());
    }

    fn flush(&self) {}
}

concurrence::message!(MSG_PING(u32));
concurrence::message_set!(
    enum KeptMsg {
        MSG_PING,
    }
);

thread_local! {
    /// A handle kept past its dispatcher, to be used in the next one.
    static KEPT: RefCell<Option<Tasklet<(), KeptMsg>>> = const { RefCell::new(None) };
}

/// Spawns a tasklet that waits for ever and keeps its handle in [`KEPT`].
fn keep_a_waiter() {
    let waiter = concurrence::Builder::new()
        .name("waiter")
        .receives::<KeptMsg>()
        .spawn(|| sleep(Duration::from_secs(3600)));
    KEPT.with(|k| *k.borrow_mut() = Some(waiter));
}

/// Uses the kept handle in a new dispatcher: a send gets its message back and a kill does
/// nothing, since the tasklet ended with its dispatcher (before the fix: a resume on an unmapped
/// stack, SIGSEGV).
fn use_the_kept_handle_in_a_new_dispatcher() {
    let kept = KEPT
        .with(|k| k.borrow_mut().take())
        .expect("a handle was kept");
    assert!(
        kept.has_finished(),
        "the dispatcher's end killed the waiter"
    );
    let second = Dispatcher::new().handle_sigint(false).run(move || {
        let Err(SendError::Finished(MSG_PING(n))) = kept.send(MSG_PING(7)) else {
            panic!("a tasklet of an ended dispatcher took a message");
        };
        assert_eq!(n, 7);
        kept.kill();
        assert!(kept.join().unwrap_err().is_killed());
    });
    assert!(second.success(), "{second}");
}

/// Installs [`TaskletNamingLogger`].
fn install_the_logger() {
    log::set_logger(&TaskletNamingLogger).expect("the only logger");
    log::set_max_level(log::LevelFilter::Trace);
}

#[test]
fn a_logger_that_panics_in_the_loop_neither_escapes_dispatch_nor_leaves_tasklets_to_resume() {
    const NAME: &str =
        "a_logger_that_panics_in_the_loop_neither_escapes_dispatch_nor_leaves_tasklets_to_resume";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    install_the_logger();
    let first = Dispatcher::new().handle_sigint(false).run(|| {
        keep_a_waiter();
        // Panics, and nobody joins it: the loop logs that, outside any tasklet.
        let _unjoined = spawn(|| panic!("unjoined"));
        yield_();
        yield_();
        concurrence::quit(4);
    });
    assert_eq!(first.reason(), &ExitReason::Quit(4), "{first}");
    use_the_kept_handle_in_a_new_dispatcher();
}

#[test]
fn a_logger_that_panics_while_the_dispatcher_reports_a_deadlock_does_not_escape_dispatch() {
    const NAME: &str =
        "a_logger_that_panics_while_the_dispatcher_reports_a_deadlock_does_not_escape_dispatch";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    install_the_logger();
    let status = Dispatcher::new().handle_sigint(false).run(|| {
        let waiter = concurrence::Builder::new()
            .name("waiter")
            .receives::<KeptMsg>()
            .spawn(|| {
                concurrence::Channel::<u8>::new().receive();
            });
        KEPT.with(|k| *k.borrow_mut() = Some(waiter));
        concurrence::Channel::<u8>::new().receive(); // nobody sends: a deadlock
    });
    assert_eq!(status.code(), ExitStatus::DEADLOCK, "{status}");
    use_the_kept_handle_in_a_new_dispatcher();
}

/// A scoped thread that reads the words a tasklet lends it until told to stop; counts the
/// words that were not what the tasklet wrote.
fn watch(words: &[u64], stop: &AtomicBool, wrong: &AtomicUsize) {
    while !stop.load(Ordering::Relaxed) {
        let bad = words
            .iter()
            .filter(|&&w| w != 0x1111_1111_1111_1111)
            .count();
        wrong.fetch_max(bad, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_tasklet_that_refuses_to_die_keeps_its_stack_mapped_after_dispatch() {
    const NAME: &str = "a_tasklet_that_refuses_to_die_keeps_its_stack_mapped_after_dispatch";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    static STOP: AtomicBool = AtomicBool::new(false);
    static WRONG: AtomicUsize = AtomicUsize::new(0);
    static READING: AtomicBool = AtomicBool::new(false);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let status = Dispatcher::new().handle_sigint(false).run(move || {
        spawn(move || {
            let words = std::hint::black_box([0x1111_1111_1111_1111u64; 512]);
            std::thread::scope(|s| {
                s.spawn(|| {
                    READING.store(true, Ordering::SeqCst);
                    watch(&words, &STOP, &WRONG);
                    let _ = done_tx.send(());
                });
                loop {
                    // Catches every kill: it never ends, and so never leaves the scope.
                    let caught = std::panic::catch_unwind(|| sleep(Duration::from_secs(3600)));
                    if let Err(payload) = caught {
                        assert!(payload.is::<TaskletExit>());
                    }
                }
            });
        });
        while !READING.load(Ordering::SeqCst) {
            sleep(Duration::from_millis(1));
        }
        concurrence::quit(0);
    });
    assert_eq!(status.reason(), &ExitReason::Quit(0), "{status}");
    // The dispatcher is gone; its pool of stacks with it. The scoped thread still reads the
    // survivor's stack: it must still be mapped, and hold what the tasklet wrote.
    let mut churn: Vec<Vec<u8>> = Vec::new();
    for i in 0..64 {
        churn.push(vec![i as u8; 64 * 1024]); // mappings of others may reuse freed addresses
    }
    let more = Dispatcher::new().handle_sigint(false).run(|| {
        let busy: Vec<_> = (0..64)
            .map(|_| {
                spawn(|| {
                    let fill = std::hint::black_box([0x2222_2222_2222_2222u64; 4096]);
                    sleep(Duration::from_millis(5));
                    fill[7]
                })
            })
            .collect();
        busy.into_iter().map(|t| t.join().unwrap() % 7).sum::<u64>()
    });
    assert!(more.success());
    std::thread::sleep(Duration::from_millis(50));
    STOP.store(true, Ordering::SeqCst);
    done_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the scoped thread ended its reads");
    assert_eq!(WRONG.load(Ordering::SeqCst), 0, "the lent words changed");
    drop(churn);
    // The scoped thread is still borrowed by the leaked tasklet: end the process here.
    std::process::exit(0);
}
