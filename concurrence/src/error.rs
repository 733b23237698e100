//! The errors of the runtime: [`JoinError`] and [`TimeoutError`].

use std::error::Error;
use std::fmt;

/// Why a joined tasklet produced no value.
///
/// Carried by [`JoinError`]; see [`JoinError::cause`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinCause {
    /// The tasklet panicked; this is the panic message (or `"Box<dyn Any>"` when the payload
    /// was neither a `String` nor a `&str`).
    Panicked(String),
    /// The tasklet was killed with [`Tasklet::kill`](crate::Tasklet::kill) (or by the dispatcher
    /// shutting down) before it returned.
    Killed,
    /// The tasklet returned a value, but an earlier join already took it. A tasklet's value is
    /// moved out by the first successful join; every later join gets this cause.
    AlreadyJoined,
    /// A tasklet tried to join itself, which could never finish.
    JoinedSelf,
    /// The tasklet could not be started: no stack could be allocated for it.
    NoStack(String),
    /// The join gave up before the tasklet finished: the joining tasklet was killed while it
    /// was already unwinding (a destructor that joins, killed a second time), and a second
    /// unwind would abort the process. The joined tasklet may still be running.
    Interrupted,
}

/// The error of a join: the tasklet finished without a value to give.
///
/// It names the tasklet (name and id) and says why ([`JoinCause`]).
///
/// # Examples
///
/// A tasklet that panics makes its join fail; the dispatcher and the joiner carry on.
///
/// ```
/// use concurrence::{dispatch, spawn, JoinCause};
///
/// dispatch(|| {
///     let t = spawn(|| -> u32 { panic!("no luck") });
///     let err = t.join().unwrap_err();
///     assert_eq!(err.cause(), &JoinCause::Panicked("no luck".into()));
///     assert_eq!(err.tasklet_id(), t.id());
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinError {
    pub(crate) name: String,
    pub(crate) id: u64,
    pub(crate) cause: JoinCause,
}

impl JoinError {
    /// The name of the tasklet that was joined.
    pub fn tasklet_name(&self) -> &str {
        &self.name
    }

    /// The id of the tasklet that was joined.
    pub fn tasklet_id(&self) -> u64 {
        self.id
    }

    /// Why the tasklet gave no value.
    pub fn cause(&self) -> &JoinCause {
        &self.cause
    }

    /// Whether the tasklet panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.cause, JoinCause::Panicked(_))
    }

    /// Whether the tasklet was killed.
    pub fn is_killed(&self) -> bool {
        self.cause == JoinCause::Killed
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tasklet '{}' (#{}) ", self.name, self.id)?;
        match &self.cause {
            JoinCause::Panicked(msg) => write!(f, "panicked: {msg}"),
            JoinCause::Killed => write!(f, "was killed"),
            JoinCause::AlreadyJoined => write!(f, "was already joined: its value was taken"),
            JoinCause::JoinedSelf => write!(f, "tried to join itself"),
            JoinCause::NoStack(why) => write!(f, "could not start: {why}"),
            JoinCause::Interrupted => {
                write!(f, "was not joined: the join was interrupted by a kill")
            }
        }
    }
}

impl Error for JoinError {}

/// A bounded wait ran out of time.
///
/// Returned by every `*_timeout` operation. What was waited for is left as it was: a join that
/// timed out can be retried, and nothing was taken.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, sleep, spawn};
/// use std::time::Duration;
///
/// dispatch(|| {
///     let slow = spawn(|| sleep(Duration::from_secs(5)));
///     assert!(slow.join_timeout(Duration::from_millis(10)).is_err());
///     slow.kill();
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeoutError;

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}

impl Error for TimeoutError {}

/// Turns a panic payload into the message it carries.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}
