//! [`Barrier`]: tasklets wait until a number of them have arrived.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::engine::wait::WaitList;
use crate::error::TimeoutError;

/// What a deadlock report says a waiter waits for.
const WAITS_FOR: &&str = &"the other tasklets at a barrier";

/// A meeting point for `n` tasklets: each [`wait`](Barrier::wait)s until `n` have arrived,
/// then all go on together, and the barrier is ready for the next round (std's and tokio's
/// `Barrier`). The last to arrive is the round's *leader*
/// ([`BarrierWaitResult::is_leader`]).
///
/// - **Arrivals are withdrawn, not lost.** A waiter killed while it waits, timing out
///   ([`wait_timeout`](Barrier::wait_timeout)), or losing in a `select!`
///   ([`wait_for::barrier`](crate::wait_for::barrier)) withdraws its arrival: the round still
///   needs `n` tasklets that stay. Once the round is complete its waiters are released: one
///   killed after that (before it ran) was counted, and the others went on.
/// - **One exception to "a condition that does not win takes nothing"**: when the round
///   completes while a waiter's `select!` has another arm that fires too, the other arm wins
///   but the arrival was counted (the others could not be held back for it).
///
/// A `Barrier` is a cheap handle: clones share the count. **One dispatcher** (`!Send`): to
/// meet tasklets of several dispatchers, have each send a message to one tasklet that answers
/// every call once all have come (a [`CallWait`](crate::CallWait) collects such calls from any
/// thread).
///
/// # Examples
///
/// Three workers finish their first phase before any starts its second:
///
/// ```
/// use concurrence::sync::Barrier;
/// use concurrence::{dispatch, sleep, spawn};
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// dispatch(|| {
///     let barrier = Barrier::new(3);
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let workers: Vec<_> = (0..3u64)
///         .map(|i| {
///             let (barrier, log) = (barrier.clone(), log.clone());
///             spawn(move || {
///                 sleep(Duration::from_millis(3 * i)); // phase one takes its time
///                 log.borrow_mut().push("one");
///                 let leader = barrier.wait().is_leader();
///                 log.borrow_mut().push("two");
///                 leader
///             })
///         })
///         .collect();
///     let leaders = workers.iter().filter(|w| w.join().unwrap()).count();
///     assert_eq!(leaders, 1);
///     assert_eq!(*log.borrow(), ["one", "one", "one", "two", "two", "two"]);
/// });
/// ```
#[derive(Clone)]
pub struct Barrier {
    inner: Rc<Inner>,
}

struct Inner {
    n: usize,
    /// How many wait in this round.
    arrived: Cell<usize>,
    /// The round; it moves on when `n` have arrived.
    round: Cell<u64>,
    waiters: RefCell<WaitList>,
}

/// How a tasklet left a [`Barrier`]: whether it was the round's leader (the last to arrive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    leader: bool,
}

impl BarrierWaitResult {
    /// Whether this tasklet completed the round (exactly one per round is).
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

impl Barrier {
    /// A barrier for `n` tasklets.
    ///
    /// # Panics
    ///
    /// Panics when `n` is 0 (no round could ever complete with a tasklet in it).
    pub fn new(n: usize) -> Barrier {
        assert!(n > 0, "concurrence: a barrier needs one tasklet at least");
        Barrier {
            inner: Rc::new(Inner {
                n,
                arrived: Cell::new(0),
                round: Cell::new(0),
                waiters: RefCell::default(),
            }),
        }
    }

    /// How many tasklets each round needs.
    pub fn parties(&self) -> usize {
        self.inner.n
    }

    /// Arrives and waits until `n` tasklets have; the last one returns at once, as the leader.
    ///
    /// # Panics
    ///
    /// Panics when it has to wait outside a tasklet.
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        BarrierWait::new(self.clone()).wait()
    }

    /// [`wait`](Barrier::wait), at most `timeout`; on a timeout the arrival is withdrawn.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the round did not complete in time.
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<BarrierWaitResult, TimeoutError> {
        wait_until(
            BarrierWait::new(self.clone()),
            Some(deadline_after(timeout)),
        )
        .ok_or(TimeoutError)
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.inner.n)
            .field("arrived", &self.inner.arrived.get())
            .finish()
    }
}

/// The round of a barrier completing: the condition of
/// [`wait_for::barrier`](crate::wait_for::barrier). Armed, it counts as an arrival; disarmed
/// before the round completed, the arrival is withdrawn.
pub struct BarrierWait {
    barrier: Barrier,
    /// The round it arrived in, while armed.
    arrived_in: Option<u64>,
}

impl BarrierWait {
    pub(crate) fn new(barrier: Barrier) -> BarrierWait {
        BarrierWait {
            barrier,
            arrived_in: None,
        }
    }
}

impl sealed::Sealed for BarrierWait {}

impl Condition for BarrierWait {
    type Output = BarrierWaitResult;

    fn poll(&mut self) -> Option<BarrierWaitResult> {
        let inner = &self.barrier.inner;
        match self.arrived_in {
            Some(round) if round != inner.round.get() => {
                self.arrived_in = None;
                Some(BarrierWaitResult { leader: false })
            }
            Some(_) => None,
            None if inner.arrived.get() + 1 >= inner.n => {
                // The last one: the round completes, every waiter goes on.
                inner.arrived.set(0);
                inner.round.set(inner.round.get() + 1);
                if let Some(sched) = scheduler::try_get() {
                    inner.waiters.borrow_mut().wake_all(&sched);
                }
                Some(BarrierWaitResult { leader: true })
            }
            None => None,
        }
    }

    fn arm(&mut self, waiter: &Waiter) {
        let inner = &self.barrier.inner;
        inner.arrived.set(inner.arrived.get() + 1);
        self.arrived_in = Some(inner.round.get());
        inner
            .waiters
            .borrow_mut()
            .push_token(&waiter.task, waiter.epoch);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        let inner = &self.barrier.inner;
        if let Some(round) = self.arrived_in.take() {
            if round == inner.round.get() {
                inner.arrived.set(inner.arrived.get() - 1); // withdrawn
            }
        }
        // Every waiter is woken when the round completes: nothing to pass on.
        inner
            .waiters
            .borrow_mut()
            .leave(Rc::as_ptr(&waiter.task), false);
    }

    fn label(&self) -> Label {
        Label(WaitOn::Sync(WAITS_FOR))
    }
}

impl fmt::Debug for BarrierWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait").finish_non_exhaustive()
    }
}
