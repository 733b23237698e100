//! Joining tasklets: [`Tasklet::join`] and its timed form, the join condition of the
//! multi-wait, and joining several at once.

use std::any::Any;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::engine::condition::{sealed, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::engine::wait::{Ended, Wait};
use crate::error::{JoinCause, JoinError, TimeoutError};
use crate::task::tasklet::{current, try_current, Tasklet};

impl<T: 'static, M> Tasklet<T, M> {
    /// Blocks the current tasklet until this one finishes, and returns its result.
    ///
    /// The value goes to the first join that asks for it; a later join of the same tasklet
    /// (from the same or another tasklet) gets [`JoinCause::AlreadyJoined`]. A panic or kill is
    /// reported to every join. Several tasklets may wait on the same one at once: all are woken
    /// when it finishes, in the order they started waiting.
    ///
    /// # Errors
    ///
    /// [`JoinError`] when the tasklet panicked, was killed, could not start, was already joined,
    /// or is the current tasklet itself.
    ///
    /// # Panics
    ///
    /// Panics when the tasklet has not finished and the caller is not a tasklet.
    #[track_caller]
    pub fn join(&self) -> Result<T, JoinError> {
        match self.join_until(None) {
            Ok(result) => result,
            Err(_) => Err(self.task.join_error(JoinCause::Interrupted)),
        }
    }

    /// As [`join`](Tasklet::join), giving up after `timeout`. The outer `Result` says whether
    /// the tasklet finished in time, the inner one what it finished with. A join that timed out
    /// took nothing and may be retried.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the tasklet is still running after `timeout` (or the joining
    /// tasklet, already unwinding, was killed again: see [`Tasklet::kill`]).
    #[track_caller]
    pub fn join_timeout(&self, timeout: Duration) -> Result<Result<T, JoinError>, TimeoutError> {
        Ok(self.join_until(Some(deadline_after(timeout)))?)
    }

    /// Waits for the tasklet until `deadline`; `Err` when the wait ended first.
    #[track_caller]
    fn join_until(&self, deadline: Option<Instant>) -> Result<Result<T, JoinError>, Ended> {
        if let Some(sched) = scheduler::try_get() {
            if sched.is_current(&self.task) {
                return Ok(Err(self.task.join_error(JoinCause::JoinedSelf)));
            }
        }
        if !self.task.is_finished() {
            let wait = Wait::begin(WaitOn::Join(self.task.id));
            self.task.add_joiner(wait.task().clone(), wait.epoch());
            wait.suspend(deadline)?;
        }
        Ok(self.task.take_result::<T>())
    }
}

/// A tasklet finishing (kiwi's `WaitForTasklet`): the condition of
/// [`wait_for::join`](crate::wait_for::join). It fires with what [`Tasklet::join`] would
/// return, taking the result as a join does.
pub struct Join<'a, T, M> {
    tasklet: &'a Tasklet<T, M>,
}

impl<'a, T, M> Join<'a, T, M> {
    pub(crate) fn new(tasklet: &'a Tasklet<T, M>) -> Join<'a, T, M> {
        Join { tasklet }
    }
}

impl<T: 'static, M> sealed::Sealed for Join<'_, T, M> {}

impl<T: 'static, M> Condition for Join<'_, T, M> {
    type Output = Result<T, JoinError>;

    fn poll(&mut self) -> Option<Result<T, JoinError>> {
        let task = &self.tasklet.task;
        if scheduler::try_get().is_some_and(|s| s.is_current(task)) {
            return Some(Err(task.join_error(JoinCause::JoinedSelf)));
        }
        task.is_finished().then(|| task.take_result::<T>())
    }

    // Waited for as the tasklet's end is.
    fn arm(&mut self, waiter: &Waiter) {
        Finished::new(self.tasklet).arm(waiter);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        Finished::new(self.tasklet).disarm(waiter);
    }

    fn label(&self) -> Label {
        Finished::new(self.tasklet).label()
    }
}

/// A tasklet having finished, its result left for a join: the condition of
/// [`wait_for::finished`](crate::wait_for::finished).
pub struct Finished<'a, T, M> {
    tasklet: &'a Tasklet<T, M>,
}

impl<'a, T, M> Finished<'a, T, M> {
    pub(crate) fn new(tasklet: &'a Tasklet<T, M>) -> Finished<'a, T, M> {
        Finished { tasklet }
    }
}

impl<T, M> sealed::Sealed for Finished<'_, T, M> {}

impl<T, M> Condition for Finished<'_, T, M> {
    type Output = ();

    fn poll(&mut self) -> Option<()> {
        self.tasklet.task.is_finished().then_some(())
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.tasklet
            .task
            .add_joiner(waiter.task.clone(), waiter.epoch);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        self.tasklet.task.remove_joiner(Rc::as_ptr(&waiter.task));
    }

    fn label(&self) -> Label {
        Label(WaitOn::Join(self.tasklet.task.id))
    }
}

impl<T, M> fmt::Debug for Finished<'_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finished")
            .field("tasklet", &self.tasklet.task.id)
            .finish()
    }
}

impl<T, M> fmt::Debug for Join<'_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("tasklet", &self.tasklet.task.id)
            .finish()
    }
}

/// Waits for every tasklet in `tasks` to finish and returns their results in the same order;
/// a tasklet that failed has its [`JoinError`] in its place.
///
/// # Panics
///
/// Panics when a tasklet has not finished and the caller is not a tasklet.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, join_all, spawn};
///
/// dispatch(|| {
///     let tasks: Vec<_> = (0..3).map(|i| spawn(move || i * 10)).collect();
///     let results: Vec<i32> = join_all(&tasks).into_iter().map(Result::unwrap).collect();
///     assert_eq!(results, [0, 10, 20]);
/// });
/// ```
#[track_caller]
pub fn join_all<T: 'static, M>(tasks: &[Tasklet<T, M>]) -> Vec<Result<T, JoinError>> {
    // Ended early only by a kill while unwinding: what finished is reported, the rest as
    // interrupted.
    let _ = join_all_until(tasks, None);
    tasks
        .iter()
        .map(|t| {
            if t.task.is_finished() || try_current().is_some_and(|me| me.task.id == t.task.id) {
                t.join()
            } else {
                Err(t.task.join_error(JoinCause::Interrupted))
            }
        })
        .collect()
}

/// As [`join_all`], with one overall `timeout` for the whole set.
///
/// # Errors
///
/// [`TimeoutError`] when some tasklet is still running after `timeout`; then no result has been
/// taken, and the join may be retried.
#[track_caller]
pub fn join_all_timeout<T: 'static, M>(
    tasks: &[Tasklet<T, M>],
    timeout: Duration,
) -> Result<Vec<Result<T, JoinError>>, TimeoutError> {
    join_all_until(tasks, Some(deadline_after(timeout)))?;
    Ok(tasks.iter().map(Tasklet::join).collect())
}

/// Waits until every tasklet of `tasks` (but the caller) has finished, or `deadline`.
#[track_caller]
fn join_all_until<T: 'static, M>(
    tasks: &[Tasklet<T, M>],
    deadline: Option<Instant>,
) -> Result<(), Ended> {
    let me = try_current();
    // Waiting for the last first: tasklets spawned together usually end in spawn order, so the
    // others have ended by then and the waiter is woken once, not once per tasklet.
    for tasklet in tasks.iter().rev() {
        if me.as_ref().is_some_and(|me| me.task.id == tasklet.task.id) {
            continue; // reported as JoinedSelf, without waiting
        }
        while !tasklet.task.is_finished() {
            let wait = Wait::begin(WaitOn::JoinAll);
            tasklet.task.add_joiner(wait.task().clone(), wait.epoch());
            wait.suspend(deadline)?;
        }
    }
    Ok(())
}

/// The result of joining a tasklet through a handle that does not know its result type, as
/// [`join_children`] returns them: downcast the box to what the tasklet returns.
pub type ErasedResult = Result<Box<dyn Any>, JoinError>;

/// Joins every child of the current tasklet, as [`join_all`] on [`Tasklet::children`] taken at
/// the time of the call. Results are `Box<dyn Any>`: downcast them to what each child returns.
///
/// # Panics
///
/// Panics outside a tasklet.
#[track_caller]
pub fn join_children() -> Vec<ErasedResult> {
    join_all(&current().children())
}

/// As [`join_children`], with one overall `timeout`.
///
/// # Errors
///
/// [`TimeoutError`] when some child is still running after `timeout`.
#[track_caller]
pub fn join_children_timeout(timeout: Duration) -> Result<Vec<ErasedResult>, TimeoutError> {
    join_all_timeout(&current().children(), timeout)
}
