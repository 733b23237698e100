//! How a tasklet ends, and how a dispatcher does: the kill payload, the report of a finished
//! tasklet that monitors and links deliver, and the exit reason with its blocked tasklets. The
//! engine produces them; the layers above deliver and show them (re-exported at the crate's
//! root).

use std::fmt;

use crate::engine::scheduler;
use crate::engine::state::{Outcome, Task};
use crate::error::{JoinCause, JoinError};

/// The panic payload a killed tasklet unwinds with.
///
/// [`Tasklet::kill`](crate::Tasklet::kill) makes the victim's blocking call unwind with this payload (through
/// [`std::panic::resume_unwind`], so no panic message is printed), which runs every destructor on
/// the way. A tasklet may catch it with [`std::panic::catch_unwind`] and go on, refusing to die, as
/// the original allows; it should normally resume the unwind.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, sleep, spawn, TaskletExit};
/// use std::panic::{catch_unwind, resume_unwind};
/// use std::time::Duration;
///
/// dispatch(|| {
///     let stubborn = spawn(|| {
///         let caught = catch_unwind(|| sleep(Duration::from_secs(60)));
///         match caught {
///             Err(payload) if payload.is::<TaskletExit>() => "survived a kill",
///             Err(payload) => resume_unwind(payload),
///             Ok(()) => "slept",
///         }
///     });
///     concurrence::yield_(); // let it start sleeping
///     stubborn.kill();
///     assert_eq!(stubborn.join().unwrap(), "survived a kill");
/// });
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct TaskletExit {
    /// The tasklet it unwinds: dropping the payload (it was caught) tells the runtime that this
    /// tasklet is no longer unwinding.
    tasklet: u64,
}

impl TaskletExit {
    pub(crate) fn new(tasklet: u64) -> TaskletExit {
        TaskletExit { tasklet }
    }
}

impl Drop for TaskletExit {
    fn drop(&mut self) {
        scheduler::exit_caught(self.tasklet);
    }
}

/// How a tasklet ended, as a monitor's [`MSG_DOWN`](crate::MSG_DOWN) and a link's
/// [`MSG_EXIT`](crate::MSG_EXIT) report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down {
    /// The tasklet's id.
    pub id: u64,
    /// The tasklet's name.
    pub name: String,
    /// `Ok` when it returned (its value stays for a join); the [`JoinError`] of a panic, a
    /// kill, or a start without a stack.
    pub result: Result<(), JoinError>,
}

/// How `task`, finished, ended.
pub(crate) fn down_of(task: &Task) -> Down {
    let cause = match &*task.outcome.borrow() {
        Outcome::Value(_) | Outcome::Taken | Outcome::Pending(_) => None,
        Outcome::Panicked(message) => Some(JoinCause::Panicked(message.to_string())),
        Outcome::Killed => Some(JoinCause::Killed),
        Outcome::NoStack(why) => Some(JoinCause::NoStack(why.to_string())),
    };
    Down {
        id: task.id,
        name: task.name().to_owned(),
        result: match cause {
            None => Ok(()),
            Some(cause) => Err(task.join_error(cause)),
        },
    }
}

/// Why a dispatcher ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitReason {
    /// Every non-daemon tasklet finished. Status 0.
    Finished,
    /// Every non-daemon tasklet finished, but the first one (the function given to
    /// [`dispatch`](crate::dispatch)) panicked with this message. Status 101, as for a panicking `main`.
    Panicked(String),
    /// Every non-daemon tasklet finished, but the first one was killed before it returned (by
    /// another tasklet, by itself, or as the partner of a linked tasklet that crashed). Status
    /// 137, the shells' convention for a process killed by SIGKILL (128 + 9).
    Killed,
    /// [`quit`](crate::quit) was called with this code, which is the status.
    Quit(i32),
    /// SIGINT arrived. Status 130, the shells' convention for death by SIGINT (128 + 2).
    Interrupted,
    /// SIGTERM arrived, with [`Dispatcher::handle_sigterm`](crate::Dispatcher::handle_sigterm) on. Status 143 (128 + 15).
    Terminated,
    /// Tasklets were left that nothing could ever wake: nothing ready, no timer, no IO source.
    /// These are the blocked tasklets. Status 70 (`EX_SOFTWARE`).
    Deadlock(Vec<BlockedTasklet>),
}

/// A tasklet found blocked forever when a dispatcher deadlocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedTasklet {
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: u64,
    /// Whether it is a daemon.
    pub daemon: bool,
    /// What it was waiting for, e.g. `"join of tasklet #3"`.
    pub waiting_on: String,
    /// Where the blocking call was made, as `file:line:column`.
    pub at: String,
    /// The dispatcher it runs on (0 but with [`Dispatcher::threads`](crate::Dispatcher::threads)).
    pub dispatcher: usize,
}

impl fmt::Display for BlockedTasklet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tasklet '{}' (#{}{}{}) blocked in {} at {}",
            self.name,
            self.id,
            if self.daemon { ", daemon" } else { "" },
            match self.dispatcher {
                0 => String::new(),
                n => format!(", dispatcher {n}"),
            },
            self.waiting_on,
            self.at
        )
    }
}
