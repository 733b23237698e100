//! [`Supervisor`]: restarts children that end abnormally, one for one, within a restart budget
//! (Erlang/OTP's `one_for_one` supervisor, with transient children).

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use crate::engine::end::Down;
use crate::messaging::mailbox::Mailbox;
use crate::task::builder::Builder;
use crate::task::monitor::monitor_into;
use crate::task::tasklet::Tasklet;

/// How a supervisor gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SupervisorError {
    /// More than the budget of restarts happened within its period; the last failure is the
    /// child's.
    TooManyRestarts {
        /// The child whose failure went over the budget.
        child: String,
        /// How it failed.
        last: Down,
    },
}

impl fmt::Display for SupervisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SupervisorError::TooManyRestarts { child, last } => write!(
                f,
                "supervisor gave up: too many restarts, the last of child '{child}' ({})",
                match &last.result {
                    Ok(()) => "returned".to_owned(),
                    Err(err) => err.to_string(),
                }
            ),
        }
    }
}

impl std::error::Error for SupervisorError {}

/// A child: its name and how to start it.
struct ChildSpec {
    name: String,
    start: Box<dyn Fn() -> Tasklet>,
}

/// Starts children and restarts each one that panics or is killed, alone (one for one), while
/// the restarts stay within a budget: at most `max_restarts` within `period`. Past it the
/// supervisor kills the children left and ends with [`SupervisorError::TooManyRestarts`]. A
/// child that returns is done and not restarted; when every child is done the supervisor
/// returns `Ok`. Killing the supervisor kills its children.
///
/// It watches its children through monitors (as [`MSG_DOWN`](crate::MSG_DOWN) reports them), so
/// it notices every end, however the child ends.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, Supervisor};
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// dispatch(|| {
///     let attempts = Rc::new(Cell::new(0));
///     let a = attempts.clone();
///     let supervisor = Supervisor::new(5, Duration::from_secs(1))
///         .child("flaky", move || {
///             let a = a.clone();
///             concurrence::spawn(move || {
///                 a.set(a.get() + 1);
///                 if a.get() < 3 {
///                     panic!("not yet");
///                 }
///             })
///             .erase()
///         })
///         .spawn();
///     assert_eq!(supervisor.join().unwrap(), Ok(()));
///     assert_eq!(attempts.get(), 3); // failed twice, restarted twice
/// });
/// ```
pub struct Supervisor {
    max_restarts: usize,
    period: Duration,
    children: Vec<ChildSpec>,
}

impl Supervisor {
    /// A supervisor that allows `max_restarts` restarts within any `period`.
    pub fn new(max_restarts: usize, period: Duration) -> Supervisor {
        Supervisor {
            max_restarts,
            period,
            children: Vec::new(),
        }
    }

    /// Adds a child: `start` spawns it (again after each abnormal end) and returns its handle.
    pub fn child<T, M>(
        mut self,
        name: impl Into<String>,
        start: impl Fn() -> Tasklet<T, M> + 'static,
    ) -> Supervisor {
        self.children.push(ChildSpec {
            name: name.into(),
            start: Box::new(move || start().erase()),
        });
        self
    }

    /// Starts the supervisor tasklet (named `supervisor`), which starts the children.
    ///
    /// # Panics
    ///
    /// Outside a dispatcher.
    pub fn spawn(self) -> Tasklet<Result<(), SupervisorError>> {
        Builder::new()
            .name("supervisor")
            .spawn(move || supervise(self))
    }
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("max_restarts", &self.max_restarts)
            .field("period", &self.period)
            .field(
                "children",
                &self.children.iter().map(|c| &c.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The running children, killed when the supervisor ends (or is killed).
struct Running(Vec<Option<Tasklet>>);

impl Drop for Running {
    fn drop(&mut self) {
        for child in self.0.iter().flatten() {
            child.kill();
        }
    }
}

/// The supervisor's body.
fn supervise(spec: Supervisor) -> Result<(), SupervisorError> {
    let downs: Mailbox<Down> = Mailbox::new();
    let start = |i: usize| {
        let child = (spec.children[i].start)();
        monitor_into(&child, &downs);
        child
    };
    let mut running = Running((0..spec.children.len()).map(|i| Some(start(i))).collect());
    let mut restarts: VecDeque<Instant> = VecDeque::new();
    while running.0.iter().any(Option::is_some) {
        let down = downs.popleft();
        let Some(i) = running
            .0
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.id() == down.id))
        else {
            continue; // a child restarted since, or not ours
        };
        if down.result.is_ok() {
            running.0[i] = None; // done
            continue;
        }
        let now = crate::engine::timer::now();
        restarts.push_back(now);
        while restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > spec.period)
        {
            restarts.pop_front();
        }
        if restarts.len() > spec.max_restarts {
            running.0[i] = None;
            return Err(SupervisorError::TooManyRestarts {
                child: spec.children[i].name.clone(),
                last: down,
            });
        }
        crate::engine::logging::log_at!(
            Warn,
            "supervisor: restarting child '{}' after {}",
            spec.children[i].name,
            down.result
                .as_ref()
                .map_or_else(ToString::to_string, |()| String::new())
        );
        running.0[i] = Some(start(i));
    }
    Ok(())
}
