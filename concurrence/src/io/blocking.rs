//! [`blocking`]: run a blocking function on a small pool of threads and suspend only the
//! calling tasklet until its result comes back (Concurrence's `TaskletPool`, tokio's
//! `spawn_blocking`).
//!
//! The pool is shared by the process: a thread is started when a job finds none idle (up to
//! [`MAX_THREADS`]; past that jobs queue), and an idle thread ends after [`IDLE_TIMEOUT`]. A
//! job's result is stored in a slot shared with the caller, then the caller's dispatcher is
//! woken through its `Remote` (a `mio::Waker`), which ends the caller's wait by key.

use std::collections::VecDeque;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::Duration;

use crate::engine::reactor::Remote;
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::wait::Wait;

/// Threads of the pool at most.
pub const MAX_THREADS: usize = 64;
/// How long an idle pool thread waits for work before it ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    queue: Mutex<Queue>,
    work: Condvar,
}

struct Queue {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        queue: Mutex::new(Queue {
            jobs: VecDeque::new(),
            threads: 0,
            idle: 0,
        }),
        work: Condvar::new(),
    })
}

impl Pool {
    fn submit(&'static self, job: Job) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.jobs.push_back(job);
        if queue.idle > 0 {
            self.work.notify_one();
            return;
        }
        if queue.threads < MAX_THREADS {
            queue.threads += 1;
            let spawned = thread::Builder::new()
                .name("concurrence-blocking".into())
                .spawn(move || self.work_loop());
            if let Err(err) = spawned {
                queue.threads -= 1;
                crate::engine::logging::log_at!(
                    Error,
                    "concurrence: cannot start a blocking-pool thread: {err}"
                );
            }
        }
    }

    fn work_loop(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                drop(queue);
                job(); // panics are caught inside the job
                queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            queue.idle += 1;
            let (q, timeout) = self
                .work
                .wait_timeout(queue, IDLE_TIMEOUT)
                .unwrap_or_else(PoisonError::into_inner);
            queue = q;
            queue.idle -= 1;
            if timeout.timed_out() && queue.jobs.is_empty() {
                queue.threads -= 1;
                return;
            }
        }
    }
}

/// Runs `f` on the blocking pool and returns its result; only the calling tasklet waits
/// meanwhile, and the dispatcher runs the others. Use it for what would block the thread: file
/// IO, a host-name lookup, a synchronous database driver, a long computation.
///
/// A panic in `f` is raised again in the caller. If the caller is killed while `f` runs, `f`
/// runs to its end all the same (a thread cannot be interrupted) and its result is dropped on
/// the pool thread; the pool is not held up. Outside a tasklet `f` just runs on the calling
/// thread.
///
/// # Examples
///
/// ```
/// use concurrence::io::blocking;
/// use concurrence::{dispatch, sleep, spawn};
/// use std::time::Duration;
///
/// dispatch(|| {
///     let ticker = spawn(|| {
///         for _ in 0..3 {
///             sleep(Duration::from_millis(5)); // keeps running while the pool works
///         }
///     });
///     let sum = blocking(|| {
///         std::thread::sleep(Duration::from_millis(30)); // blocks a pool thread only
///         (1..=10).sum::<u32>()
///     });
///     assert_eq!(sum, 55);
///     ticker.join().unwrap();
/// });
/// ```
#[track_caller]
pub fn blocking<F, R>(f: F) -> R
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let Some(sched) = scheduler::try_get().filter(|s| s.current().is_some()) else {
        return f();
    };
    let slot: Arc<Mutex<Option<thread::Result<R>>>> = Arc::new(Mutex::new(None));
    let remote: Arc<Remote> = sched.reactor.borrow().remote().clone();
    let mut wait = Wait::begin(WaitOn::Blocking);
    let key = sched.remote_wait(wait.task().clone(), wait.epoch());
    let _forget = Forget(&sched, key);
    {
        let slot = slot.clone();
        pool().submit(Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(f));
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
            drop(slot); // the result is dropped here if the caller is gone
            remote.wake(key);
        }));
    }
    loop {
        // Ended early only by a kill of a tasklet already unwinding: the result cannot be
        // reported otherwise, so wait on for it.
        let _ = wait.suspend(None);
        let done = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(result) = done {
            return result.unwrap_or_else(|payload| resume_unwind(payload));
        }
        wait = Wait::begin(WaitOn::Blocking);
        sched.renew_remote_wait(key, wait.task().clone(), wait.epoch());
    }
}

/// Forgets the caller's remote wait when it leaves (returns, or unwinds when killed).
struct Forget<'a>(&'a scheduler::Scheduler, u64);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.forget_remote_wait(self.1);
    }
}
