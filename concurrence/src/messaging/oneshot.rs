//! [`Oneshot`]: one value handed from any thread to one waiter on any thread: the answer of a
//! call from another thread ([`CallWait`](crate::CallWait), a [`Reply`](crate::Reply) sent
//! across), and the verdict on a message sent to a tasklet of another dispatcher.
//!
//! The waiter is a tasklet (only it suspends: its dispatcher registers a remote wait that the
//! value ends from any thread) or a plain thread (it blocks on a condvar). On a dispatcher's
//! thread outside a tasklet, blocking would stop the dispatcher that may have to produce the
//! value, so waiting there panics.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::wait::RemoteToken;

/// A slot for one value, set once from any thread, taken by the one who waits for it.
pub(crate) struct Oneshot<V> {
    state: Mutex<State<V>>,
    /// Signalled when the value comes, for a waiting thread.
    ready: Condvar,
}

struct State<V> {
    value: Option<V>,
    /// A value was set (it may have been taken since): later ones are refused.
    settled: bool,
    /// The waiter gave up: later values are refused.
    abandoned: bool,
    /// A waiting tasklet, as a remote wait of its dispatcher.
    waiter: Option<RemoteToken>,
}

/// How a wait on a [`Oneshot`] shows and counts.
#[derive(Clone, Copy)]
pub(crate) struct Waiting {
    /// What a waiting tasklet waits on, for reports.
    pub(crate) label: WaitOn,
    /// Whether the value comes from a dispatcher of the waiter's group (an internal wait, see
    /// `engine::group`), rather than from any thread.
    pub(crate) internal: bool,
    /// What waiting on a dispatcher's thread outside a tasklet panics with.
    pub(crate) misuse: &'static str,
}

impl<V> Oneshot<V> {
    /// An empty slot, shared.
    pub(crate) fn new() -> Arc<Oneshot<V>> {
        Arc::new(Oneshot::empty())
    }

    /// An empty slot.
    pub(crate) fn empty() -> Oneshot<V> {
        Oneshot {
            state: Mutex::new(State {
                value: None,
                settled: false,
                abandoned: false,
                waiter: None,
            }),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the value and wakes the waiter; gives it back when a value was set already or the
    /// waiter gave up.
    pub(crate) fn set(&self, value: V) -> Result<(), V> {
        let mut state = self.lock();
        if state.settled || state.abandoned {
            return Err(value);
        }
        state.value = Some(value);
        state.settled = true;
        if let Some(waiter) = state.waiter.take() {
            waiter.wake();
        }
        drop(state);
        self.ready.notify_all();
        Ok(())
    }

    /// The value, if it came and was not taken yet.
    pub(crate) fn take(&self) -> Option<V> {
        self.lock().value.take()
    }

    /// The waiter gives up: a value set from now on is refused. Returns a value that came
    /// meanwhile.
    pub(crate) fn abandon(&self) -> Option<V> {
        let mut state = self.lock();
        state.abandoned = true;
        state.value.take()
    }

    /// Whether the waiter gave up.
    pub(crate) fn is_abandoned(&self) -> bool {
        self.lock().abandoned
    }

    /// Waits for the value until `deadline`: `None` when the deadline passed first (or a
    /// waiting tasklet, already unwinding, was killed again). A value that came with the
    /// deadline is still taken.
    ///
    /// # Panics
    ///
    /// On a dispatcher's thread outside a tasklet, with `how.misuse`.
    #[track_caller]
    pub(crate) fn wait(&self, deadline: Option<Instant>, how: Waiting) -> Option<V> {
        match scheduler::try_get() {
            Some(sched) if sched.current().is_some() => {
                let arrival = Arrival {
                    oneshot: self,
                    how,
                    armed: None,
                };
                wait_until(arrival, deadline).or_else(|| self.take())
            }
            Some(_) => panic!("{}", how.misuse),
            None => block_thread(self.lock(), &self.ready, deadline, |state| {
                state.value.take()
            }),
        }
    }
}

/// Blocks this thread on `ready` until `check`, run under the lock each time the thread is
/// signalled, finds what it waits for; `None` once `deadline` passed first.
pub(crate) fn block_thread<S, R>(
    mut guard: MutexGuard<'_, S>,
    ready: &Condvar,
    deadline: Option<Instant>,
    mut check: impl FnMut(&mut S) -> Option<R>,
) -> Option<R> {
    loop {
        if let Some(found) = check(&mut guard) {
            return Some(found);
        }
        guard = match deadline {
            None => ready.wait(guard).unwrap_or_else(PoisonError::into_inner),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return None;
                }
                ready
                    .wait_timeout(guard, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        };
    }
}

/// The value of a [`Oneshot`] coming, as a tasklet waits for it. Armed, the tasklet is a
/// remote wait of its dispatcher, which [`Oneshot::set`] ends from any thread; disarmed (on
/// every way out, a kill's unwinding included) it is withdrawn.
struct Arrival<'a, V> {
    oneshot: &'a Oneshot<V>,
    how: Waiting,
    armed: Option<RemoteToken>,
}

impl<V> sealed::Sealed for Arrival<'_, V> {}

impl<V> Condition for Arrival<'_, V> {
    type Output = V;

    fn poll(&mut self) -> Option<V> {
        self.oneshot.take()
    }

    fn arm(&mut self, waiter: &Waiter) {
        // Checked and registered under one lock: a value from another thread cannot slip in
        // between.
        let mut state = self.oneshot.lock();
        let token = if self.how.internal {
            RemoteToken::register_internal(&waiter.sched, &waiter.task, waiter.epoch)
        } else {
            RemoteToken::register(&waiter.sched, &waiter.task, waiter.epoch)
        };
        state.waiter = Some(token.share());
        self.armed = Some(token);
        if state.value.is_some() {
            waiter.wake();
        }
    }

    fn disarm(&mut self, waiter: &Waiter) {
        if let Some(token) = self.armed.take() {
            self.oneshot.lock().waiter = None;
            token.forget(&waiter.sched);
        }
    }

    fn label(&self) -> Label {
        Label(self.how.label)
    }
}
