//! Unix signals as events: a tasklet waits for them while the others run, arrivals are kept and
//! coalesced, SIGINT can be a tasklet's own, SIGTERM stops cleanly when asked, and a signal
//! nobody catches any more has its default action back. Every case runs in a child process:
//! signals reach the whole process.

use std::cell::Cell;
use std::os::unix::process::ExitStatusExt;
use std::rc::Rc;
use std::time::Duration;

use concurrence::signal::Signals;
use concurrence::{sleep, spawn, yield_, Dispatcher, ExitReason};
use concurrence_tests::{assert_child_passed, is_child, run, run_child, DropCounter};

fn raise(signal: libc::c_int) {
    // SAFETY: raise(3) sends a signal to the calling thread; the tests catch every signal they
    // raise, or expect the process to die of it.
    unsafe { libc::raise(signal) };
}

#[test]
fn a_tasklet_waits_for_sighup_while_the_others_run() {
    const NAME: &str = "a_tasklet_waits_for_sighup_while_the_others_run";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    run(|| {
        let hangups = Signals::new(&[libc::SIGHUP]).unwrap();
        let ticks = Rc::new(Cell::new(0));
        let t = ticks.clone();
        let ticker = spawn(move || loop {
            sleep(Duration::from_millis(2));
            t.set(t.get() + 1);
        });
        let reloader = spawn(move || hangups.wait());
        sleep(Duration::from_millis(30));
        assert!(!reloader.has_finished(), "no SIGHUP yet");
        assert!(ticks.get() > 3, "the others ran while it waited");
        raise(libc::SIGHUP);
        assert_eq!(reloader.join().unwrap(), libc::SIGHUP);
        ticker.kill();
    });
}

#[test]
fn signals_that_arrive_while_nobody_waits_are_kept_and_coalesced() {
    const NAME: &str = "signals_that_arrive_while_nobody_waits_are_kept_and_coalesced";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    run(|| {
        let signals = Signals::new(&[libc::SIGUSR1, libc::SIGUSR2]).unwrap();
        for _ in 0..3 {
            raise(libc::SIGUSR1);
        }
        raise(libc::SIGUSR2);
        assert_eq!(signals.wait(), libc::SIGUSR1, "kept for the next wait");
        assert_eq!(signals.wait(), libc::SIGUSR2);
        assert_eq!(signals.try_next(), None, "three SIGUSR1 coalesced into one");
        let err = signals.wait_timeout(Duration::from_millis(20)).unwrap_err();
        assert_eq!(err, concurrence::TimeoutError);
    });
}

#[test]
fn sigint_that_a_tasklet_waits_for_does_not_stop_the_dispatcher_until_released() {
    const NAME: &str =
        "sigint_that_a_tasklet_waits_for_does_not_stop_the_dispatcher_until_released";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    let status = Dispatcher::new().run(|| {
        let interrupts = Signals::new(&[libc::SIGINT]).unwrap();
        raise(libc::SIGINT);
        assert_eq!(interrupts.wait(), libc::SIGINT);
        sleep(Duration::from_millis(20)); // the dispatcher goes on
        drop(interrupts);
        raise(libc::SIGINT); // the dispatcher's again
        sleep(Duration::from_secs(30));
        unreachable!("stopped by SIGINT in the sleep");
    });
    assert_eq!(status.reason(), &ExitReason::Interrupted);
}

#[test]
fn sigterm_stops_a_dispatcher_that_handles_it_with_every_destructor_run() {
    const NAME: &str = "sigterm_stops_a_dispatcher_that_handles_it_with_every_destructor_run";
    if !is_child(NAME) {
        return assert_child_passed(NAME);
    }
    let drops = DropCounter::new();
    let d = drops.clone();
    let status = Dispatcher::new().handle_sigterm(true).run(move || {
        let token = d.token();
        spawn(move || {
            let _held = token;
            sleep(Duration::from_secs(30));
        });
        yield_();
        raise(libc::SIGTERM);
        sleep(Duration::from_secs(30));
    });
    assert_eq!(status.reason(), &ExitReason::Terminated);
    assert_eq!(status.code(), concurrence::ExitStatus::SIGTERM);
    assert_eq!(drops.count(), 1, "the sleeper's destructor ran");
}

#[test]
fn a_signal_no_longer_caught_has_its_default_action_again() {
    const NAME: &str = "a_signal_no_longer_caught_has_its_default_action_again";
    if is_child(NAME) {
        run(|| {
            let hangups = Signals::new(&[libc::SIGHUP]).unwrap();
            raise(libc::SIGHUP);
            assert_eq!(hangups.wait(), libc::SIGHUP);
            drop(hangups);
            raise(libc::SIGHUP); // ends the process, as SIGHUP does by default
            sleep(Duration::from_secs(30));
        });
        return;
    }
    let out = run_child(NAME);
    assert_eq!(out.status.signal(), Some(libc::SIGHUP), "{:?}", out.status);
}

#[test]
fn signals_that_cannot_be_caught_are_refused() {
    for signal in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
        let err = Signals::new(&[libc::SIGUSR1, signal]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    }
    assert!(Signals::new(&[100_000]).is_err(), "not a signal");
}
