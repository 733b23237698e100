//! The job queue across three processes: two workers in a queue group and a producer, over a
//! real nats-server the test starts on loopback.

#[path = "../../concurrence-nats/tests/util/mod.rs"]
mod nats;
mod util;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nats::NatsServer;
use util::{example, run_with_args, stdout};

/// A worker process, interrupted when dropped.
struct Worker(Child);

impl Worker {
    /// Starts a worker and waits (bounded) for it to say it serves.
    fn start(addr: &str, name: &str) -> Worker {
        let mut child = Command::new(example("jobs"))
            .args(["worker", addr, name])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start a worker");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the worker starts");
        assert_eq!(line.trim(), format!("worker {name} ready"));
        Worker(child)
    }

    /// Interrupts it and waits (bounded) for its end: the exit code.
    fn interrupt(mut self) -> Option<i32> {
        // SAFETY: a signal to our own child, which has not been reaped.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "a worker did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Collatz steps of 1..=n, summed, as the producer adds them up.
fn steps_up_to(n: u64) -> u64 {
    (1..=n)
        .map(|mut k| {
            let mut steps = 0;
            while k > 1 {
                k = if k.is_multiple_of(2) {
                    k / 2
                } else {
                    3 * k + 1
                };
                steps += 1;
            }
            steps
        })
        .sum()
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn two_workers_in_a_queue_group_share_a_thousand_calls_from_a_producer() {
    let server = NatsServer::start();
    let addr = server.addr();
    let left = Worker::start(&addr, "left");
    let right = Worker::start(&addr, "right");
    let out = run_with_args(&example("jobs"), &["produce", &addr, "1000"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text.contains(&format!(
            "done 1000 jobs, {} steps in all",
            steps_up_to(1000)
        )),
        "{text}"
    );
    let jobs_of = |name: &str| -> u64 {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("worker {name}: ")))
            .and_then(|rest| rest.strip_suffix(" jobs"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count for {name} in {text}"))
    };
    let (l, r) = (jobs_of("left"), jobs_of("right"));
    assert_eq!(l + r, 1000);
    // NATS picks a member at random for each message: both get a fair part.
    assert!(l >= 200 && r >= 200, "left {l}, right {r}");
    assert_eq!(left.interrupt(), Some(130));
    assert_eq!(right.interrupt(), Some(130));
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_producer_without_workers_fails_with_no_responder() {
    let server = NatsServer::start();
    let out = run_with_args(&example("jobs"), &["produce", &server.addr(), "10"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`MSG_JOB`: nobody serves the subject"),
        "{stderr}"
    );
}

#[test]
fn the_job_queue_explains_bad_arguments() {
    let out = run_with_args(&example("jobs"), &["produce", "127.0.0.1:4222", "many"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("COUNT must be a number"), "{stderr}");
}
