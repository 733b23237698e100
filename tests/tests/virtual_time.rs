//! Virtual time (`Dispatcher::virtual_time`): the clock jumps to the next timer when every
//! tasklet waits, so schedules of minutes run in milliseconds and in the same order every time;
//! IO that has come is taken first; waits on other threads run in real time.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use concurrence::{
    io, join_all, later, message, now, rate, receive_timeout, sleep, spawn, tasklet, Dispatcher,
    ExitReason,
};
use concurrence_tests::{run_status_with, run_with};

fn virtual_time() -> Dispatcher {
    Dispatcher::new().handle_sigint(false).virtual_time(true)
}

/// The attempts of a retry schedule with backoff over ten minutes, and when each was made.
fn retry_schedule() -> Vec<(u32, u64)> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let start = now();
    let workers: Vec<_> = (0..3u32)
        .map(|worker| {
            let log = log.clone();
            spawn(move || {
                let mut delay = Duration::from_millis(500 + 250 * u64::from(worker));
                while now() - start < Duration::from_secs(600) {
                    log.borrow_mut()
                        .push((worker, (now() - start).as_millis() as u64));
                    sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(60));
                }
            })
        })
        .collect();
    join_all(&workers);
    log.take()
}

#[test]
fn a_ten_minute_retry_schedule_runs_in_milliseconds_and_the_same_every_time() {
    let real = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    run_with(virtual_time(), move || tx.send(retry_schedule()).unwrap());
    let first_run = rx.recv().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    run_with(virtual_time(), move || tx.send(retry_schedule()).unwrap());
    let second_run = rx.recv().unwrap();
    assert_eq!(first_run, second_run);
    // Worker 0: 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 63.5, then a minute apart.
    let worker0: Vec<u64> = first_run
        .iter()
        .filter(|(w, _)| *w == 0)
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(
        &worker0[..8],
        [0, 500, 1500, 3500, 7500, 15500, 31500, 63500]
    );
    assert_eq!(worker0[8] - worker0[7], 60_000);
    assert!(worker0.last().copied().unwrap() < 600_000);
    // Attempts in the order of their times.
    assert!(first_run.windows(2).all(|w| w[0].1 <= w[1].1));
    assert!(
        real.elapsed() < Duration::from_secs(10),
        "{:?}",
        real.elapsed()
    );
}

message!(MSG_PING);

#[tasklet(receives(MSG_PING))]
fn listener() -> Option<Duration> {
    let start = now();
    receive_timeout::<ListenerMsg>(Duration::from_secs(90))
        .err()
        .map(|_| now() - start)
}

#[test]
fn timeouts_and_rates_follow_the_virtual_clock() {
    run_with(virtual_time(), || {
        // A receive that nothing answers times out after exactly its timeout.
        let waited = Listener::new().spawn().join().unwrap();
        assert_eq!(waited, Some(Duration::from_secs(90)));
        // A join with a timeout, on a tasklet that takes an hour.
        let slow = later(Duration::from_secs(3600), || 7);
        let start = now();
        assert!(slow.join_timeout(Duration::from_secs(60)).is_err());
        assert_eq!(now() - start, Duration::from_secs(60));
        assert_eq!(slow.join().unwrap(), 7);
        assert_eq!(now() - start, Duration::from_secs(3600));
        // A rate of 10 a second for a minute: 600 calls, each on the grid.
        let stamps = Rc::new(RefCell::new(Vec::new()));
        let s = stamps.clone();
        let start = now();
        let ticker = rate(10.0, move |at| s.borrow_mut().push(at));
        sleep(Duration::from_millis(60_050));
        ticker.kill();
        let stamps = stamps.borrow();
        assert_eq!(stamps.len(), 600);
        assert!(stamps
            .iter()
            .enumerate()
            .all(|(i, at)| *at - start == Duration::from_millis(100 * (i as u64 + 1))));
    });
}

#[test]
fn io_that_has_arrived_is_taken_before_time_jumps() {
    run_with(virtual_time(), || {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let b = concurrence::net::UnixStream::from_std(b).unwrap();
        (&a).write_all(b"ready").unwrap();
        let reader = spawn(move || {
            let mut buf = [0u8; 5];
            (&b).read_exact(&mut buf).unwrap();
            (now(), buf)
        });
        let start = now();
        let sleeper = spawn(|| sleep(Duration::from_secs(10)));
        let (read_at, bytes) = reader.join().unwrap();
        assert_eq!(&bytes, b"ready");
        assert_eq!(read_at, start, "the read came before the ten seconds");
        sleeper.join().unwrap();
        assert_eq!(now() - start, Duration::from_secs(10));
        drop(a);
    });
}

#[test]
fn a_wait_on_another_thread_runs_in_real_time_and_holds_the_clock_back() {
    run_with(virtual_time(), || {
        let start = now();
        let worker = spawn(|| {
            io::blocking(|| std::thread::sleep(Duration::from_millis(50)));
            now()
        });
        let sleeper = spawn(|| {
            sleep(Duration::from_secs(10));
            now()
        });
        let worked_at = worker.join().unwrap();
        let slept_at = sleeper.join().unwrap();
        // The blocking job ended first, about 50 ms in (in real time, so at least that);
        // only then did the clock jump to the sleeper's ten seconds.
        assert!(worked_at - start >= Duration::from_millis(50));
        assert!(worked_at - start < Duration::from_secs(10));
        assert_eq!(slept_at - start, Duration::from_secs(10));
    });
}

#[test]
fn a_deadlock_is_still_reported_under_virtual_time() {
    let status = run_status_with(virtual_time(), || {
        let mailbox = concurrence::Mailbox::<u8>::new();
        sleep(Duration::from_secs(5));
        mailbox.pop();
    });
    assert!(
        matches!(status.reason(), ExitReason::Deadlock(_)),
        "{status:?}"
    );
}

#[test]
fn virtual_time_for_several_dispatchers_is_refused_with_a_clear_panic() {
    let refused = std::panic::catch_unwind(|| {
        Dispatcher::new()
            .threads(2)
            .virtual_time(true)
            .handle_sigint(false)
            .run(|| ())
    });
    let message = *refused.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains("virtual time runs one dispatcher, not 2"),
        "{message}"
    );
}

#[test]
fn the_clock_is_the_real_one_without_virtual_time_and_outside_a_dispatcher() {
    let before = Instant::now();
    assert!(now() >= before);
    run_with(Dispatcher::new().handle_sigint(false), move || {
        let start = now();
        sleep(Duration::from_millis(20));
        assert!(now() - start >= Duration::from_millis(20));
        assert!(Instant::now() - start >= Duration::from_millis(20));
    });
}
