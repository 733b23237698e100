//! later, loop_, interval and rate: timing, panics logged and survived, kill ends them; and
//! what the runtime logs (unjoined panics, tasklets that refuse to die).

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, resume_unwind};
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{
    interval, later, loop_, now, rate, sleep, spawn, yield_, Builder, Dispatcher, JoinCause,
    TaskletExit,
};
use concurrence_tests::{capture_logs, logged, run, run_status, run_with};

/// A dispatcher on virtual time: these tests pin the schedule, not the clock.
fn virtual_time() -> Dispatcher {
    Dispatcher::new().handle_sigint(false).virtual_time(true)
}

#[test]
fn later_runs_the_function_after_the_delay() {
    run_with(virtual_time(), || {
        let start = now();
        let t = later(Duration::from_millis(40), move || now() - start);
        assert_eq!(t.join().unwrap(), Duration::from_millis(40));
    });
}

#[test]
fn later_killed_before_the_delay_never_runs() {
    run(|| {
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let t = later(Duration::from_millis(30), move || r.set(true));
        yield_();
        t.kill();
        sleep(Duration::from_millis(60));
        assert!(!ran.get());
    });
}

#[test]
fn loop_calls_the_function_until_killed() {
    run(|| {
        let calls = Rc::new(Cell::new(0u32));
        let c = calls.clone();
        let t = loop_(move || {
            c.set(c.get() + 1);
            sleep(Duration::from_millis(1));
        });
        while calls.get() < 5 {
            sleep(Duration::from_millis(1));
        }
        t.kill();
        let at_kill = calls.get();
        sleep(Duration::from_millis(20));
        assert_eq!(calls.get(), at_kill, "no call after the kill");
        assert!(t.join().unwrap_err().is_killed());
    });
}

#[test]
fn loop_logs_a_panic_and_goes_on() {
    capture_logs();
    run(|| {
        let calls = Rc::new(Cell::new(0u32));
        let c = calls.clone();
        let t = Builder::new().name("flaky-loop").loop_(move || {
            c.set(c.get() + 1);
            if c.get() == 2 {
                panic!("flaky-loop second call fails");
            }
            sleep(Duration::from_millis(1));
        });
        while calls.get() < 4 {
            sleep(Duration::from_millis(1));
        }
        t.kill();
    });
    let lines = logged("flaky-loop second call fails");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("ERROR"));
    assert!(lines[0].contains("'flaky-loop'"));
}

#[test]
fn interval_calls_every_period_and_not_more_often() {
    run_with(virtual_time(), || {
        let times = Rc::new(RefCell::new(Vec::new()));
        let t2 = times.clone();
        let start = now();
        let t = interval(Duration::from_millis(20), false, move || {
            t2.borrow_mut().push((now() - start).as_millis())
        });
        sleep(Duration::from_millis(310));
        t.kill();
        // A period before the first call, then one a period.
        assert_eq!(
            *times.borrow(),
            (1..=15).map(|i| i * 20).collect::<Vec<_>>()
        );
    });
}

#[test]
fn interval_immediate_calls_before_the_first_period() {
    run(|| {
        let calls = Rc::new(Cell::new(0u32));
        let c = calls.clone();
        let t = interval(Duration::from_secs(3600), true, move || c.set(c.get() + 1));
        yield_();
        assert_eq!(calls.get(), 1);
        t.kill();
    });
}

#[test]
fn interval_logs_a_panic_and_goes_on_and_kill_stops_it() {
    capture_logs();
    run(|| {
        let calls = Rc::new(Cell::new(0u32));
        let c = calls.clone();
        let t = interval(Duration::from_millis(2), true, move || {
            c.set(c.get() + 1);
            panic!("interval call {} fails", c.get());
        });
        while calls.get() < 3 {
            sleep(Duration::from_millis(2));
        }
        t.kill();
        let at_kill = calls.get();
        sleep(Duration::from_millis(20));
        assert_eq!(calls.get(), at_kill);
    });
    assert_eq!(logged("interval call 1 fails").len(), 1);
    assert_eq!(logged("interval call 3 fails").len(), 1);
}

#[test]
fn rate_keeps_pace_with_the_clock_when_the_function_takes_time() {
    run(|| {
        let stamps = Rc::new(RefCell::new(Vec::new()));
        let s = stamps.clone();
        // 50 calls a second, each busy for 5 ms: an interval of 20 ms would manage at most
        // 1000 / 25 = 40 a second; the rate waits only what is left of each period and keeps 50.
        let t = rate(50.0, move |now| {
            s.borrow_mut().push(now);
            let busy = Instant::now();
            while busy.elapsed() < Duration::from_millis(5) {}
        });
        let start = Instant::now();
        sleep(Duration::from_secs(2));
        t.kill();
        let elapsed = start.elapsed().as_secs_f64();
        let stamps = stamps.borrow();
        let per_second = stamps.len() as f64 / elapsed;
        assert!(
            stamps.windows(2).all(|w| w[1] > w[0]),
            "f gets the current time"
        );
        assert!(per_second > 42.0, "{per_second:.1} calls a second");
        assert!(per_second < 60.0, "{per_second:.1} calls a second");
    });
}

#[test]
fn rate_keeps_pace_when_the_function_takes_most_of_a_period() {
    run(|| {
        let calls = Rc::new(Cell::new(0u32));
        let c = calls.clone();
        // 100 calls a second, each busy for 6 ms: the 4 ms left in each period are enough to
        // keep the pace, so 2 s hold 200 calls.
        let t = rate(100.0, move |_| {
            c.set(c.get() + 1);
            let busy = Instant::now();
            while busy.elapsed() < Duration::from_millis(6) {}
        });
        let start = Instant::now();
        sleep(Duration::from_secs(2));
        t.kill();
        let due = (start.elapsed().as_secs_f64() * 100.0) as u32;
        let calls = calls.get();
        assert!(calls + 12 >= due, "{calls} calls where {due} were due");
        assert!(calls <= due + 1, "{calls} calls where {due} were due");
    });
}

#[test]
fn rate_rejects_a_non_positive_rate_with_a_clear_panic() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let status = run_status(move || {
            rate(bad, |_| ());
        });
        let concurrence::ExitReason::Panicked(msg) = status.reason() else {
            panic!("rate({bad}) was accepted: {status}");
        };
        assert!(
            msg.contains("per_second must be a positive finite number"),
            "{msg}"
        );
    }
}

#[test]
fn a_panic_nobody_joins_is_logged_when_it_happens_and_a_later_join_still_sees_it() {
    capture_logs();
    run(|| {
        let t = Builder::new()
            .name("nobody-joins-me")
            .spawn(|| -> () { panic!("unjoined failure") });
        yield_(); // it runs and panics, with nobody joining it
        let lines = logged("nobody is joining it");
        assert!(
            lines
                .iter()
                .any(|l| l.contains("nobody-joins-me") && l.contains("unjoined failure")),
            "logged when it ended, while its handle is still held: {lines:?}"
        );
        let err = t.join().unwrap_err();
        assert_eq!(err.cause(), &JoinCause::Panicked("unjoined failure".into()));
        let joined = Builder::new()
            .name("somebody-joins-me")
            .spawn(|| -> () { panic!("joined failure") });
        assert!(joined.join().is_err());
    });
    let lines = logged("nobody is joining it");
    assert!(
        !lines.iter().any(|l| l.contains("somebody-joins-me")),
        "{lines:?}"
    );
}

#[test]
fn a_tasklet_that_refuses_to_die_at_shutdown_is_leaked_and_logged() {
    capture_logs();
    let status = run_status(|| {
        Builder::new().name("immortal").daemon(true).spawn(|| loop {
            match catch_unwind(|| sleep(Duration::from_secs(3600))) {
                Err(p) if !p.is::<TaskletExit>() => resume_unwind(p),
                _ => {}
            }
        });
        yield_();
    });
    assert!(status.success());
    let lines = logged("refused to die");
    assert!(lines.iter().any(|l| l.contains("'immortal'")), "{lines:?}");
}

#[test]
fn spawn_in_loop_body_makes_children_of_the_loop_tasklet() {
    run(|| {
        let made = Rc::new(Cell::new(0u32));
        let m = made.clone();
        let t = loop_(move || {
            let child = spawn(|| ());
            assert_eq!(
                child.parent().unwrap().name(),
                concurrence::current().name()
            );
            m.set(m.get() + 1);
            sleep(Duration::from_millis(1));
        });
        while made.get() < 2 {
            sleep(Duration::from_millis(1));
        }
        t.kill();
    });
}

#[test]
fn sleep_until_returns_at_the_deadline_or_at_once_when_it_passed() {
    run(|| {
        let deadline = Instant::now() + Duration::from_millis(30);
        concurrence::sleep_until(deadline);
        assert!(Instant::now() >= deadline);
        let start = Instant::now();
        concurrence::sleep_until(start - Duration::from_millis(1));
        assert!(start.elapsed() < Duration::from_secs(5));
    });
}

#[test]
fn every_kind_of_tasklet_can_have_a_mailbox() {
    use concurrence::{message, message_set, try_receive, Dispatcher, Messages};
    message!(MSG_SET(u32));
    message_set!(
        enum KnobMsg {
            MSG_SET,
        }
    );
    let status = Dispatcher::new()
        .handle_sigint(false)
        .receives::<KnobMsg>()
        .run(|| {
            // The first tasklet's own mailbox, reached through a typed handle to itself.
            let me = concurrence::current().with_messages::<KnobMsg>().unwrap();
            MSG_SET::send(&me)(1).unwrap();
            let KnobMsg::MSG_SET(MSG_SET(first)) = try_receive::<KnobMsg>().unwrap();
            // An interval, a loop and a rate that each read their mailbox at every call.
            let seen = Rc::new(RefCell::new(Vec::new()));
            let (s1, s2, s3) = (seen.clone(), seen.clone(), seen.clone());
            let every = Builder::new().receives::<KnobMsg>().interval(
                Duration::from_millis(1),
                false,
                move || {
                    while let Some(m) = try_receive::<KnobMsg>() {
                        s1.borrow_mut()
                            .push(format!("interval {}", m.message_name()));
                    }
                },
            );
            let looping = Builder::new().receives::<KnobMsg>().loop_(move || {
                let KnobMsg::MSG_SET(MSG_SET(n)) =
                    concurrence::receive::<KnobMsg>().next().unwrap();
                s2.borrow_mut().push(format!("loop {n}"));
            });
            let paced = Builder::new().receives::<KnobMsg>().rate(500.0, move |_| {
                if let Some(KnobMsg::MSG_SET(MSG_SET(n))) = try_receive::<KnobMsg>() {
                    s3.borrow_mut().push(format!("rate {n}"));
                }
            });
            MSG_SET::send(&every)(2).unwrap();
            MSG_SET::send(&looping)(3).unwrap();
            MSG_SET::send(&paced)(4).unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            while seen.borrow().len() < 3 && Instant::now() < deadline {
                sleep(Duration::from_millis(1));
            }
            for t in [every, looping, paced] {
                t.kill();
            }
            let mut seen = seen.take();
            seen.sort();
            (first, seen)
        });
    let (first, seen) = status.into_value().expect("the first tasklet returned");
    assert_eq!(first, 1);
    assert_eq!(seen, ["interval MSG_SET", "loop 3", "rate 4"]);
}
