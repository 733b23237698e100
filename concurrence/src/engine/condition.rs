//! Waiting for any of several conditions: the [`Condition`] trait and [`any`], the one
//! multi-wait every condition goes through.
//!
//! A multi-wait is the runtime's one blocking primitive ([`Wait`]) with several
//! registrations: each condition registers the same wake-up token (tasklet and epoch) where its
//! event will come from. Then:
//!
//! 1. every condition is *polled* in order; the first that has its event now gives it, and
//!    nothing is registered;
//! 2. otherwise a wait begins, every condition is *armed* with its token, and the tasklet
//!    suspends until the earliest deadline among them;
//! 3. once woken, the conditions are polled again in order: the first that has its event wins;
//! 4. every condition is *disarmed*: its registration leaves the source, and a condition whose
//!    event is there but was not taken (another one won) passes the wake-up on to the source's
//!    next waiter, so no wake-up is lost. If none had its event (a spurious wake-up: another
//!    tasklet took the item first), the wait starts again at 2.
//!
//! Polling takes an event only from the condition that wins: a message that did not fire stays
//! in the mailbox, a channel's value with its sender. A kill during the wait unwinds through a
//! guard that disarms every armed condition, so no source keeps a stale waiter.

use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::engine::clock;
use crate::engine::scheduler::Sched;
use crate::engine::state::{Task, WaitOn};
use crate::engine::timer::deadline_after;
use crate::engine::wait::{Ended, Wait};

/// Something a tasklet can wait for, among others: [`wait_for::any`](crate::wait_for::any)
/// and [`select!`](crate::select) wait until the first of several conditions has its event,
/// and give that event back as a value.
///
/// The conditions are made by the functions of [`wait_for`](crate::wait_for) (`timeout`,
/// `join`, `message`, `receive`, `readable`, `signal`, `exit`, `call`, `idle`, ...); the trait
/// is implemented by them only. A mutable reference to a condition is a condition too, so an
/// object can be reused across waits (a [`Timeout`] keeps its deadline), and
/// [`map`](Condition::map) and [`boxed`](Condition::boxed) give conditions of different kinds
/// one event type, for a set built at run time.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a wait condition",
    label = "not a wait condition",
    note = "the conditions are made by the functions of `concurrence::wait_for`: \
            `timeout(d)`, `deadline(t)`, `join(&t)`, `message()`, `message_matching(f)`, \
            `receive(&ch)`, `receiver(&ch)`, `popleft(&mb)`, `pop(&mb)`, `readable(fd)`, \
            `writable(fd)`, `signal(&s)`, `exit(&mut child)`, `call(&cw)`, `idle()`, \
            `acquire(&sem)`, `lock(&mutex)`, `read_lock(&l)`, `write_lock(&l)`, \
            `notified(&n)`, `barrier(&b)`, `recv(&rx)`, `changed(&rx)`"
)]
pub trait Condition: sealed::Sealed {
    /// What the condition gives when it fires.
    type Output;

    /// Takes the event if it has happened, without blocking (step 1 and 3 above).
    #[doc(hidden)]
    fn poll(&mut self) -> Option<Self::Output>;

    /// Registers `waiter` where the event will come from (step 2).
    #[doc(hidden)]
    fn arm(&mut self, waiter: &Waiter);

    /// Takes the registration back, passing a wake-up on if the event is there (step 4).
    #[doc(hidden)]
    fn disarm(&mut self, waiter: &Waiter);

    /// When the condition fires by itself, if it does (a timeout).
    #[doc(hidden)]
    fn fires_at(&self) -> Option<Instant> {
        None
    }

    /// What a deadlock report says the tasklet waits for, when this is its only condition.
    #[doc(hidden)]
    fn label(&self) -> Label {
        Label(WaitOn::Any(1))
    }

    /// How many conditions it is: more than one for the conditions of a `select!`, chained.
    #[doc(hidden)]
    fn arms(&self) -> usize {
        1
    }

    /// Waits for this condition alone and gives its event. The condition stays usable: a
    /// [`Timeout`] waited for in a loop fires once a period (kiwi's `yield timeout`).
    ///
    /// # Panics
    ///
    /// Panics when it has to block outside a tasklet.
    #[track_caller]
    fn wait(&mut self) -> Self::Output
    where
        Self: Sized,
    {
        any(std::slice::from_mut(self)).1
    }

    /// This condition with its event passed through `f`: conditions of different kinds mapped
    /// to one enum can wait side by side in [`wait_for::any`](crate::wait_for::any).
    fn map<U, F: FnMut(Self::Output) -> U>(self, f: F) -> Map<Self, F>
    where
        Self: Sized,
    {
        Map { condition: self, f }
    }

    /// This condition in a box, its kind erased: conditions of different kinds with one event
    /// type fit in one `Vec`.
    fn boxed<'a>(self) -> Box<dyn Condition<Output = Self::Output> + 'a>
    where
        Self: Sized + 'a,
    {
        Box::new(self)
    }
}

pub(crate) mod sealed {
    /// Only the crate's conditions are conditions: their methods use the runtime's internals.
    pub trait Sealed {}
}

/// The wait a condition is armed for: the waiting tasklet and the epoch its wake-up tokens
/// carry. Hidden: it appears only in the hidden methods of [`Condition`].
#[doc(hidden)]
pub struct Waiter {
    pub(crate) sched: Sched,
    pub(crate) task: Rc<Task>,
    pub(crate) epoch: u32,
}

impl Waiter {
    fn new(wait: &Wait) -> Waiter {
        Waiter {
            sched: wait.sched(),
            task: wait.task().clone(),
            epoch: wait.epoch(),
        }
    }

    /// Makes the wait end at once (a condition that finds its event while arming): the token is
    /// used before the tasklet suspends, so the suspension returns at its next turn.
    pub(crate) fn wake(&self) {
        self.sched.wake(
            &self.task,
            self.epoch,
            crate::engine::coroutine::Wake::Ready,
        );
    }
}

/// What a condition waits for, for deadlock reports. Hidden: it appears only in the hidden
/// methods of [`Condition`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Label(pub(crate) WaitOn);

/// Waits until the first of `conditions` fires and gives its index and its event (kiwi's
/// `yield cond1, cond2`, with the event as the return value rather than a global
/// `get_event()`).
///
/// The conditions are checked in order, so when several have their events the first one wins;
/// the others keep theirs (a message that did not win stays in the mailbox). Nothing is taken
/// from a condition that did not win. A kill during the wait unwinds and leaves every source as
/// if the wait had not been made.
///
/// # Panics
///
/// Panics when `conditions` is empty (such a wait could never end), and when it has to block
/// outside a tasklet.
///
/// # Examples
///
/// Waiting for whichever of several workers finishes first:
///
/// ```
/// use std::time::Duration;
/// use concurrence::{dispatch, sleep, spawn, wait_for};
///
/// dispatch(|| {
///     let workers: Vec<_> = [30, 10, 20]
///         .into_iter()
///         .map(|ms| spawn(move || { sleep(Duration::from_millis(ms)); ms }))
///         .collect();
///     let mut ends: Vec<_> = workers.iter().map(wait_for::join).collect();
///     let (first, result) = wait_for::any(&mut ends);
///     assert_eq!((first, result.unwrap()), (1, 10));
/// });
/// ```
#[track_caller]
pub fn any<C: Condition>(conditions: &mut [C]) -> (usize, C::Output) {
    loop {
        // Ended early only by a kill of a tasklet already unwinding, which cannot be reported
        // here: wait on.
        if let Ok(fired) = first(conditions) {
            return fired;
        }
    }
}

/// [`any`], ending with `Err(Ended::Killed)` when the tasklet, already unwinding, is killed
/// again (see [`Wait::suspend`]) before a condition fired.
#[track_caller]
pub(crate) fn first<C: Condition>(conditions: &mut [C]) -> Result<(usize, C::Output), Ended> {
    assert!(
        !conditions.is_empty(),
        "concurrence: wait_for::any needs at least one condition (with none it could never end)"
    );
    loop {
        if let Some(fired) = poll_all(conditions) {
            return Ok(fired);
        }
        let on = match conditions {
            [only] => only.label().0,
            _ => WaitOn::Any(conditions.len()),
        };
        let wait = Wait::begin(on);
        let deadline = conditions.iter().filter_map(|c| c.fires_at()).min();
        let waiter = Waiter::new(&wait);
        let mut armed = Armed {
            waiter: &waiter,
            conditions: &mut *conditions,
            count: 0,
        };
        while armed.count < armed.conditions.len() {
            armed.conditions[armed.count].arm(armed.waiter);
            armed.count += 1;
        }
        // Woken, or timed out (a timeout condition fires), or killed: a kill unwinds through
        // `armed`, which disarms.
        let ended = wait.suspend(deadline);
        let fired = poll_all(armed.conditions);
        drop(armed);
        match (fired, ended) {
            (Some(fired), _) => return Ok(fired),
            (None, Err(Ended::Killed)) => return Err(Ended::Killed),
            (None, _) => {} // a spurious wake-up: another tasklet took the event first
        }
    }
}

/// Waits for `condition` until `deadline`: `None` when the deadline passed first (or the
/// tasklet, already unwinding, was killed again). The timed form of a single-condition wait.
#[track_caller]
pub(crate) fn wait_until<C: Condition>(
    condition: C,
    deadline: Option<Instant>,
) -> Option<C::Output> {
    let mut until = Until {
        condition,
        deadline,
    };
    first(std::slice::from_mut(&mut until)).ok()?.1
}

/// A condition or a deadline, whichever comes first: `None` for the deadline.
struct Until<C> {
    condition: C,
    deadline: Option<Instant>,
}

impl<C: Condition> sealed::Sealed for Until<C> {}

impl<C: Condition> Condition for Until<C> {
    type Output = Option<C::Output>;

    fn poll(&mut self) -> Option<Option<C::Output>> {
        match self.condition.poll() {
            Some(event) => Some(Some(event)),
            None if self.deadline.is_some_and(|d| d <= clock::now()) => Some(None),
            None => None,
        }
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.condition.arm(waiter);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        self.condition.disarm(waiter);
    }

    fn fires_at(&self) -> Option<Instant> {
        match (self.condition.fires_at(), self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn label(&self) -> Label {
        self.condition.label()
    }

    fn arms(&self) -> usize {
        self.condition.arms()
    }
}

/// The first condition that has its event, with its index.
fn poll_all<C: Condition>(conditions: &mut [C]) -> Option<(usize, C::Output)> {
    conditions
        .iter_mut()
        .enumerate()
        .find_map(|(i, c)| c.poll().map(|event| (i, event)))
}

/// The conditions armed for a wait; disarmed when dropped, after the wait or while a kill (or a
/// panic in a condition) unwinds through it.
struct Armed<'a, C: Condition> {
    waiter: &'a Waiter,
    conditions: &'a mut [C],
    /// How many, from the first, are armed.
    count: usize,
}

impl<C: Condition> Drop for Armed<'_, C> {
    fn drop(&mut self) {
        for condition in &mut self.conditions[..self.count] {
            condition.disarm(self.waiter);
        }
    }
}

/// A condition whose event is passed through a function: [`Condition::map`].
pub struct Map<C, F> {
    condition: C,
    f: F,
}

impl<C: Condition, U, F: FnMut(C::Output) -> U> sealed::Sealed for Map<C, F> {}

impl<C: Condition, U, F: FnMut(C::Output) -> U> Condition for Map<C, F> {
    type Output = U;

    fn poll(&mut self) -> Option<U> {
        self.condition.poll().map(&mut self.f)
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.condition.arm(waiter);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        self.condition.disarm(waiter);
    }

    fn fires_at(&self) -> Option<Instant> {
        self.condition.fires_at()
    }

    fn label(&self) -> Label {
        self.condition.label()
    }

    fn arms(&self) -> usize {
        self.condition.arms()
    }
}

impl<C, F> std::fmt::Debug for Map<C, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Map").finish_non_exhaustive()
    }
}

/// Two conditions with one event type as one, `first` before `second`: what `select!` makes of
/// its arms (`Or(c0, Or(c1, c2))`), so that a multi-wait calls each arm's methods directly,
/// without a table of `dyn Condition`s. It fires with the first's event if that has one, else
/// with the second's; both are armed and disarmed, and its deadline is the earlier of theirs.
/// Hidden: `select!`'s expansion makes it through `wait_for::__or`.
#[doc(hidden)]
pub struct Or<A, B> {
    first: A,
    second: B,
}

impl<A, B> Or<A, B> {
    pub(crate) fn new(first: A, second: B) -> Or<A, B> {
        Or { first, second }
    }
}

impl<A: Condition, B: Condition<Output = A::Output>> sealed::Sealed for Or<A, B> {}

impl<A: Condition, B: Condition<Output = A::Output>> Condition for Or<A, B> {
    type Output = A::Output;

    #[inline]
    fn poll(&mut self) -> Option<A::Output> {
        match self.first.poll() {
            Some(event) => Some(event),
            None => self.second.poll(),
        }
    }

    #[inline]
    fn arm(&mut self, waiter: &Waiter) {
        self.first.arm(waiter);
        // Should arming the second panic, the first is disarmed on the way out, as `first`
        // disarms what it armed of a list.
        let armed = Armed {
            waiter,
            conditions: std::slice::from_mut(&mut self.first),
            count: 1,
        };
        self.second.arm(waiter);
        std::mem::forget(armed);
    }

    #[inline]
    fn disarm(&mut self, waiter: &Waiter) {
        self.first.disarm(waiter);
        self.second.disarm(waiter);
    }

    fn fires_at(&self) -> Option<Instant> {
        match (self.first.fires_at(), self.second.fires_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::Any(self.arms()))
    }

    fn arms(&self) -> usize {
        self.first.arms() + self.second.arms()
    }
}

impl<A, B> std::fmt::Debug for Or<A, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Or").finish_non_exhaustive()
    }
}

/// A pointer to a condition is that condition: `&mut C` (reuse across waits) and `Box<C>` (a
/// set of different kinds).
macro_rules! forward_condition {
    ($($pointer:ty),*) => {$(
        impl<C: Condition + ?Sized> sealed::Sealed for $pointer {}

        impl<C: Condition + ?Sized> Condition for $pointer {
            type Output = C::Output;

            fn poll(&mut self) -> Option<C::Output> {
                (**self).poll()
            }

            fn arm(&mut self, waiter: &Waiter) {
                (**self).arm(waiter);
            }

            fn disarm(&mut self, waiter: &Waiter) {
                (**self).disarm(waiter);
            }

            fn fires_at(&self) -> Option<Instant> {
                (**self).fires_at()
            }

            fn label(&self) -> Label {
                (**self).label()
            }

            fn arms(&self) -> usize {
                (**self).arms()
            }
        }
    )*};
}

forward_condition!(&mut C, Box<C>);

/// A point in time to wait for (kiwi's `WaitForTimeout`): made by
/// [`wait_for::timeout`](crate::wait_for::timeout) (relative) or
/// [`wait_for::deadline`](crate::wait_for::deadline) (absolute). It fires once its deadline has
/// passed, giving `()`.
///
/// Reused across waits (through `&mut`), a timeout keeps its deadline until it fires: a loop
/// that waits for "a message or the end of the period" does not stretch the period with each
/// message. After it fired, a relative timeout's next wait starts a new period from then (kiwi's
/// counter, which ticks once per period), and an absolute one fires at once. [`restart`]
/// starts the period again from now.
///
/// [`restart`]: Timeout::restart
///
/// # Examples
///
/// Messages are handled as they come, and the tick comes once a period all the same:
///
/// ```
/// use std::time::Duration;
/// use concurrence::{dispatch, select, spawn, wait_for, Mailbox};
///
/// dispatch(|| {
///     let inbox = Mailbox::new();
///     let sender = inbox.clone();
///     spawn(move || {
///         for n in 0..3 {
///             sender.append(n).unwrap();
///             concurrence::sleep(Duration::from_millis(5));
///         }
///     });
///     let mut tick = wait_for::timeout(Duration::from_millis(50));
///     let mut got = Vec::new();
///     loop {
///         select! {
///             n = wait_for::popleft(&inbox) => got.push(n),
///             () = &mut tick => break,
///         }
///     }
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Timeout {
    /// When it fires; `None` after a relative timeout fired: the next wait starts a period.
    deadline: Option<Instant>,
    /// The period of a relative timeout.
    period: Option<Duration>,
}

impl Timeout {
    /// A timeout that fires `period` from now.
    pub fn after(period: Duration) -> Timeout {
        Timeout {
            deadline: Some(deadline_after(period)),
            period: Some(period),
        }
    }

    /// A timeout that fires at `deadline` (or at the deadline of the tasklet's scope, see
    /// [`with_deadline`](crate::with_deadline), when that comes first).
    pub fn at(deadline: Instant) -> Timeout {
        Timeout {
            deadline: Some(crate::engine::deadline::clamp(Some(deadline)).unwrap_or(deadline)),
            period: None,
        }
    }

    /// Starts the period again from now (an absolute timeout keeps its deadline).
    pub fn restart(&mut self) {
        if let Some(period) = self.period {
            self.deadline = Some(deadline_after(period));
        }
    }

    /// When it fires: its deadline, or for a relative timeout that fired already, a period
    /// from now.
    pub fn deadline(&self) -> Instant {
        match (self.deadline, self.period) {
            (Some(deadline), _) => deadline,
            (None, Some(period)) => deadline_after(period),
            (None, None) => unreachable!("an absolute timeout keeps its deadline"),
        }
    }

    /// Whether its deadline has passed.
    pub fn has_passed(&self) -> bool {
        self.deadline.is_some_and(|d| d <= clock::now())
    }

    /// The deadline of the period that starts now, if it fired already.
    fn start(&mut self) -> Instant {
        let deadline = self.deadline();
        self.deadline = Some(deadline);
        deadline
    }
}

impl sealed::Sealed for Timeout {}

impl Condition for Timeout {
    type Output = ();

    fn poll(&mut self) -> Option<()> {
        let deadline = self.start();
        if deadline > clock::now() {
            return None;
        }
        if self.period.is_some() {
            self.deadline = None; // fired: the next wait starts a new period
        }
        Some(())
    }

    fn arm(&mut self, _: &Waiter) {}

    fn disarm(&mut self, _: &Waiter) {}

    fn fires_at(&self) -> Option<Instant> {
        self.deadline
    }

    fn label(&self) -> Label {
        Label(WaitOn::Sleep)
    }
}
