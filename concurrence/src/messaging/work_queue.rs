//! [`WorkQueue`]: a queue of work that tasklets on every dispatcher, and plain threads, push to
//! and pop from: the way to spread jobs over the cores of a program of several dispatchers
//! (the fork's `QueueChannel`, across threads).

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::engine::wait::{RemoteToken, WaitList};
use crate::error::TimeoutError;
use crate::messaging::oneshot::block_thread;

/// A first-in, first-out queue of work shared by every thread: `Send`, `Sync` and `Clone`
/// (clones share the queue) when the items are `Send`. [`push`](WorkQueue::push) never blocks;
/// [`pop`](WorkQueue::pop) waits for an item: in a tasklet only the tasklet waits, on a plain
/// thread the thread blocks. Each item goes to one popper: the one that has waited longest
/// among the tasklets (a popping thread is woken when no tasklet waits).
///
/// [`close`](WorkQueue::close) ends the work: pushes fail from then on, and poppers get `None`
/// once the queue is empty, so workers written as `while let Some(job) = queue.pop()` end.
///
/// A tasklet waiting to pop counts as waiting for another thread (any thread may push), so it
/// is never reported deadlocked while it waits.
///
/// # Examples
///
/// Jobs spread over the workers of two dispatchers:
///
/// ```
/// use concurrence::{spawn_on, Dispatcher, WorkQueue};
///
/// let status = Dispatcher::new().threads(2).run(|| {
///     let jobs = WorkQueue::new();
///     let workers: Vec<_> = (0..4)
///         .map(|i| {
///             let jobs = jobs.clone();
///             spawn_on(i % 2, move || {
///                 let mut sum = 0u64;
///                 while let Some(n) = jobs.pop() {
///                     sum += n;
///                 }
///                 sum
///             })
///         })
///         .collect();
///     for n in 1..=100u64 {
///         jobs.push(n).unwrap();
///     }
///     jobs.close();
///     workers.iter().map(|w| w.join().unwrap()).sum::<u64>()
/// });
/// assert_eq!(status.into_value(), Some(5050));
/// ```
pub struct WorkQueue<T> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled for popping threads.
    ready: Condvar,
}

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
    /// Tasklets waiting to pop, oldest first, as remote waits of their dispatchers.
    poppers: WaitList<RemoteToken>,
    /// Threads waiting to pop.
    threads: usize,
}

impl<T> State<T> {
    /// What a pop finds: an item, `None` when closed and empty, or nothing yet.
    fn take(&mut self) -> Option<Option<T>> {
        match self.items.pop_front() {
            Some(item) => Some(Some(item)),
            None if self.closed => Some(None),
            None => None,
        }
    }

    /// Wakes one popper for one new item: the oldest tasklet, else a thread.
    fn wake_one(&mut self, ready: &Condvar) {
        if !self.poppers.wake_one_remote() && self.threads > 0 {
            ready.notify_one();
        }
    }
}

impl<T> WorkQueue<T> {
    /// An empty, open queue.
    pub fn new() -> WorkQueue<T> {
        WorkQueue {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    items: VecDeque::new(),
                    closed: false,
                    poppers: WaitList::default(),
                    threads: 0,
                }),
                ready: Condvar::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `item` at the end and wakes one popper. Never blocks.
    ///
    /// # Errors
    ///
    /// The item back when the queue was closed.
    pub fn push(&self, item: T) -> Result<(), T> {
        let mut state = self.lock();
        if state.closed {
            return Err(item);
        }
        state.items.push_back(item);
        state.wake_one(&self.shared.ready);
        Ok(())
    }

    /// Takes the oldest item, waiting for one while the queue is empty; `None` once the queue
    /// is closed and empty.
    ///
    /// # Panics
    ///
    /// On a dispatcher's thread outside a tasklet, when it would have to wait.
    #[track_caller]
    pub fn pop(&self) -> Option<T> {
        loop {
            if let Ok(item) = self.pop_until(None) {
                return item;
            }
            // Ended early only by a kill of a tasklet already unwinding: wait on.
        }
    }

    /// [`pop`](WorkQueue::pop), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no item came in time.
    #[track_caller]
    pub fn pop_timeout(&self, timeout: Duration) -> Result<Option<T>, TimeoutError> {
        self.pop_until(Some(deadline_after(timeout)))
    }

    /// Takes the oldest item if there is one; never waits.
    pub fn try_pop(&self) -> Option<T> {
        self.lock().items.pop_front()
    }

    #[track_caller]
    fn pop_until(&self, deadline: Option<Instant>) -> Result<Option<T>, TimeoutError> {
        match scheduler::try_get() {
            Some(sched) if sched.current().is_some() => {
                wait_until(Pop::new(self), deadline).ok_or(TimeoutError)
            }
            Some(_) => self.try_take().ok_or_else(|| {
                panic!(
                    "concurrence: WorkQueue::pop outside a tasklet on a dispatcher's thread \
                     would block the dispatcher; pop from a tasklet or another thread"
                )
            }),
            None => {
                let mut state = self.lock();
                state.threads += 1;
                let found = block_thread(state, &self.shared.ready, deadline, State::take);
                self.lock().threads -= 1;
                found.ok_or(TimeoutError)
            }
        }
    }

    fn try_take(&self) -> Option<Option<T>> {
        self.lock().take()
    }

    /// Closes the queue: pushes fail from now on, and poppers get `None` once it is empty.
    /// Every waiting popper is woken.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.poppers.wake_all_remote();
        drop(state);
        self.shared.ready.notify_all();
    }

    /// Whether it was closed.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// How many items wait.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether no item waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An item of a [`WorkQueue`] (or its close): the condition of
/// [`wait_for::work`](crate::wait_for::work). It fires with what [`WorkQueue::pop`] returns,
/// taking the item; armed, the tasklet is a remote wait of its dispatcher that a push from
/// any thread ends.
pub struct Pop<'a, T> {
    queue: &'a WorkQueue<T>,
    armed: Option<RemoteToken>,
}

impl<'a, T> Pop<'a, T> {
    pub(crate) fn new(queue: &'a WorkQueue<T>) -> Pop<'a, T> {
        Pop { queue, armed: None }
    }
}

impl<T> sealed::Sealed for Pop<'_, T> {}

impl<T> Condition for Pop<'_, T> {
    type Output = Option<T>;

    fn poll(&mut self) -> Option<Option<T>> {
        self.queue.try_take()
    }

    fn arm(&mut self, waiter: &Waiter) {
        // Checked and registered under one lock: a push from another thread cannot slip in.
        let mut state = self.queue.lock();
        let token = RemoteToken::register(&waiter.sched, &waiter.task, waiter.epoch);
        state.poppers.push_remote(token.share());
        self.armed = Some(token);
        if !state.items.is_empty() || state.closed {
            waiter.wake();
        }
    }

    fn disarm(&mut self, waiter: &Waiter) {
        if let Some(token) = self.armed.take() {
            {
                let mut state = self.queue.lock();
                // Woken for an item it did not take (killed, or another arm won): the next
                // popper gets the wake-up.
                let pass_on = !state.items.is_empty();
                state.poppers.leave_remote(&token, false);
                if pass_on {
                    state.wake_one(&self.queue.shared.ready);
                }
            }
            token.forget(&waiter.sched);
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::Receive)
    }
}

impl<T> fmt::Debug for Pop<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pop").finish_non_exhaustive()
    }
}

impl<T> Clone for WorkQueue<T> {
    fn clone(&self) -> Self {
        WorkQueue {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Default for WorkQueue<T> {
    fn default() -> Self {
        WorkQueue::new()
    }
}

impl<T> fmt::Debug for WorkQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("WorkQueue")
            .field("len", &state.items.len())
            .field("closed", &state.closed)
            .finish()
    }
}
