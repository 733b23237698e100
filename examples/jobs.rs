//! A job queue across processes, over NATS: workers serve the subject `jobs` in one queue
//! group, so each job goes to one of them; a producer calls them with many jobs at once and
//! gathers the results, which come back as the calls' replies.
//!
//! With a NATS server on 127.0.0.1:4222 (`nats-server -a 127.0.0.1`), in three terminals:
//!
//! ```text
//! cargo run --example jobs -- worker 127.0.0.1:4222 left
//! cargo run --example jobs -- worker 127.0.0.1:4222 right
//! cargo run --example jobs -- produce 127.0.0.1:4222 1000
//! ```
//!
//! A job is a number; its result the length of its Collatz sequence, and who worked it out.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use concurrence::{
    dispatch, join_all, match_message, message, receive, spawn, tasklet, ExitStatus,
};
use concurrence_nats::{Nats, RemoteError};
use serde::{Deserialize, Serialize};

/// A worked job.
#[derive(Debug, Serialize, Deserialize)]
struct Done {
    worker: String,
    job: u64,
    steps: u32,
}

message!(MSG_JOB(u64) -> Done);

/// The number of steps the Collatz sequence of `n` takes to reach 1.
fn collatz(mut n: u64) -> u32 {
    let mut steps = 0;
    while n > 1 {
        n = if n.is_multiple_of(2) {
            n / 2
        } else {
            3 * n + 1
        };
        steps += 1;
    }
    steps
}

#[tasklet(receives(MSG_JOB), remote)]
fn worker(name: String) {
    for msg in receive() {
        match_message!(msg: WorkerMsg {
            MSG_JOB(job, reply) => reply.reply(Done { worker: name.clone(), job, steps: collatz(job) }),
        })
    }
}

/// Serves jobs under the name `name` until interrupted.
fn work(nats: &Nats, name: String) {
    let worker = Worker::new().spawn(name.clone());
    nats.serve_in_group("jobs", "workers", &worker)
        .expect("subscribed to jobs");
    println!("worker {name} ready");
}

/// How many jobs are in flight at once.
const CALLERS: u64 = 32;

/// Calls the workers with jobs 1..=count, 32 at a time, and prints who did how many.
fn produce(nats: &Nats, count: u64) -> Result<(), RemoteError> {
    let jobs = nats.reach::<WorkerMsg>("jobs");
    let next = Rc::new(Cell::new(1));
    let by_worker = Rc::new(RefCell::new(BTreeMap::<String, u64>::new()));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (jobs, next, by_worker) = (jobs.clone(), next.clone(), by_worker.clone());
            spawn(move || -> Result<u64, RemoteError> {
                let mut steps = 0;
                loop {
                    let job = next.get();
                    if job > count {
                        return Ok(steps);
                    }
                    next.set(job + 1);
                    let done = jobs.call(|reply| MSG_JOB(job, reply))?;
                    assert_eq!(
                        (done.job, done.steps),
                        (job, collatz(job)),
                        "a wrong result"
                    );
                    steps += u64::from(done.steps);
                    *by_worker.borrow_mut().entry(done.worker).or_default() += 1;
                }
            })
        })
        .collect();
    let mut steps = 0;
    for result in join_all(&callers) {
        steps += result.expect("a caller panicked")?;
    }
    for (worker, jobs) in by_worker.borrow().iter() {
        println!("worker {worker}: {jobs} jobs");
    }
    println!("done {count} jobs, {steps} steps in all");
    Ok(())
}

fn main() -> ExitStatus {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: jobs worker NATS_ADDRESS NAME | jobs produce NATS_ADDRESS COUNT";
    let (mode, addr, arg) = match &args[..] {
        [mode, addr, arg] if mode == "worker" || mode == "produce" => {
            (mode.clone(), addr.clone(), arg.clone())
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let count = if mode == "produce" {
        match arg.parse::<u64>() {
            Ok(count) => Some(count),
            Err(_) => {
                eprintln!("jobs: COUNT must be a number, not {arg:?}\n{usage}");
                std::process::exit(2);
            }
        }
    } else {
        None
    };
    dispatch(move || {
        let nats = Nats::connect(addr).unwrap_or_else(|err| {
            eprintln!("jobs: cannot connect to NATS: {err}");
            std::process::exit(1);
        });
        match count {
            None => work(&nats, arg),
            Some(count) => {
                if let Err(err) = produce(&nats, count) {
                    eprintln!("jobs: {err}");
                    std::process::exit(1);
                }
            }
        }
    })
}
