//! [`SendNotify`]: a [`Notify`](crate::sync::Notify) for tasklets of every dispatcher and
//! plain threads.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::engine::wait::RemoteToken;
use crate::error::TimeoutError;
use crate::messaging::oneshot::block_thread;

/// What a deadlock report says a waiter waits for.
const WAITS_FOR: &&str = &"a notification (SendNotify)";

/// A [`Notify`](crate::sync::Notify) for the whole program: `Send`, `Sync` and `Clone`
/// (clones share the event); tasklets of every dispatcher and plain threads wait for it, and
/// any of them notifies. The same rules: [`notify_one`](SendNotify::notify_one) is handed to
/// the oldest waiter (passed on if that waiter leaves without it) or kept, once, for the next;
/// [`notify_waiters`](SendNotify::notify_waiters) reaches the waiters of the moment.
///
/// It costs a mutex and, for a tasklet woken, a notice to its dispatcher: use `Notify` for
/// the tasklets of one dispatcher. A tasklet waiting on it counts as waiting for another
/// thread, so it is never reported deadlocked while it waits.
///
/// # Examples
///
/// A thread tells a tasklet that its work is ready:
///
/// ```
/// use concurrence::sync::SendNotify;
/// use concurrence::{dispatch, spawn};
///
/// let ready = SendNotify::new();
/// let from_thread = ready.clone();
/// let status = dispatch(move || {
///     let waiter = spawn(move || ready.notified());
///     std::thread::spawn(move || from_thread.notify_one());
///     waiter.join().unwrap();
/// });
/// assert!(status.success());
/// ```
#[derive(Clone)]
pub struct SendNotify {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a waiting thread was notified.
    notified: Condvar,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// By `notify_one`: passed on if not taken.
    One,
    /// By `notify_waiters`: dropped if not taken.
    All,
}

struct State {
    /// A `notify_one` nobody waited for.
    kept: bool,
    waiters: VecDeque<Entry>,
    next_ticket: u64,
}

/// A waiter: a tasklet's remote token, or a thread (`None`, woken through the condvar).
struct Entry {
    ticket: u64,
    token: Option<RemoteToken>,
    granted: Option<Grant>,
}

impl State {
    /// Hands a `notify_one` to the oldest waiter not notified yet, or keeps it; whether a
    /// thread was notified (to signal the condvar).
    #[must_use]
    fn notify_one(&mut self) -> bool {
        match self.waiters.iter_mut().find(|e| e.granted.is_none()) {
            Some(entry) => {
                entry.granted = Some(Grant::One);
                wake(entry)
            }
            None => {
                self.kept = true;
                false
            }
        }
    }

    fn push(&mut self, token: Option<RemoteToken>) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.waiters.push_back(Entry {
            ticket,
            token,
            granted: None,
        });
        ticket
    }

    /// Removes the entry of `ticket`; how it was notified, if it was.
    fn remove(&mut self, ticket: u64) -> Option<Grant> {
        let at = self.waiters.iter().position(|e| e.ticket == ticket)?;
        self.waiters.remove(at)?.granted
    }

    fn is_notified(&self, ticket: u64) -> bool {
        self.waiters
            .iter()
            .any(|e| e.ticket == ticket && e.granted.is_some())
    }
}

/// Ends the wait of `entry`'s tasklet; true when it is a thread (the caller signals).
fn wake(entry: &Entry) -> bool {
    match &entry.token {
        Some(token) => {
            token.wake();
            false
        }
        None => true,
    }
}

impl SendNotify {
    /// An event nobody was notified of.
    pub fn new() -> SendNotify {
        SendNotify {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    kept: false,
                    waiters: VecDeque::new(),
                    next_ticket: 0,
                }),
                notified: Condvar::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Notifies the oldest waiter (tasklet or thread); with none waiting, keeps the
    /// notification for the next wait (several are kept as one). From any thread.
    pub fn notify_one(&self) {
        let thread = self.lock().notify_one();
        if thread {
            self.shared.notified.notify_all();
        }
    }

    /// Notifies every waiter of the moment; keeps nothing. From any thread.
    pub fn notify_waiters(&self) {
        let mut state = self.lock();
        let mut thread = false;
        for entry in state.waiters.iter_mut().filter(|e| e.granted.is_none()) {
            entry.granted = Some(Grant::All);
            thread |= wake(entry);
        }
        drop(state);
        if thread {
            self.shared.notified.notify_all();
        }
    }

    /// Waits for a notification (returns at once with a kept one): in a tasklet only the
    /// tasklet waits, on a plain thread the thread blocks.
    ///
    /// # Panics
    ///
    /// On a dispatcher's thread outside a tasklet, when it would have to wait.
    #[track_caller]
    pub fn notified(&self) {
        // Ended early only by a kill of a tasklet already unwinding: wait on.
        while self.notified_until(None).is_err() {}
    }

    /// [`notified`](SendNotify::notified), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no notification came in time.
    #[track_caller]
    pub fn notified_timeout(&self, timeout: Duration) -> Result<(), TimeoutError> {
        self.notified_until(Some(deadline_after(timeout)))
    }

    /// Takes a kept notification, if there is one, without blocking.
    pub fn try_notified(&self) -> bool {
        std::mem::take(&mut self.lock().kept)
    }

    #[track_caller]
    fn notified_until(&self, deadline: Option<Instant>) -> Result<(), TimeoutError> {
        match scheduler::try_get() {
            Some(sched) if sched.current().is_some() => {
                wait_until(SendNotified::new(self.clone()), deadline).ok_or(TimeoutError)
            }
            Some(_) => {
                if self.try_notified() {
                    return Ok(());
                }
                panic!(
                    "concurrence: SendNotify::notified outside a tasklet on a dispatcher's \
                     thread would block the dispatcher; wait from a tasklet or another thread"
                )
            }
            None => self.notified_on_thread(deadline),
        }
    }

    /// A plain thread's wait, in line with the tasklets.
    fn notified_on_thread(&self, deadline: Option<Instant>) -> Result<(), TimeoutError> {
        let mut state = self.lock();
        if std::mem::take(&mut state.kept) {
            return Ok(());
        }
        let ticket = state.push(None);
        let _ = block_thread(state, &self.shared.notified, deadline, |state| {
            state.is_notified(ticket).then_some(())
        });
        let removed = self.lock().remove(ticket);
        match removed {
            Some(_) => Ok(()), // notified, maybe with the deadline
            None => Err(TimeoutError),
        }
    }
}

impl Default for SendNotify {
    fn default() -> Self {
        SendNotify::new()
    }
}

impl fmt::Debug for SendNotify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendNotify")
            .field("kept", &self.lock().kept)
            .finish_non_exhaustive()
    }
}

/// A notification of a [`SendNotify`]: the condition of
/// [`wait_for::notified_send`](crate::wait_for::notified_send). It fires with `()`; when it
/// does not win, it takes nothing (a `notify_one` handed to it meanwhile goes on, or is kept).
/// Armed, the tasklet is a remote wait of its dispatcher that a notification from any thread
/// ends.
pub struct SendNotified {
    notify: SendNotify,
    /// Its entry among the waiters while it is armed and was not notified.
    ticket: Option<u64>,
    /// Its registration with its dispatcher while it is armed.
    token: Option<RemoteToken>,
}

impl SendNotified {
    pub(crate) fn new(notify: SendNotify) -> SendNotified {
        SendNotified {
            notify,
            ticket: None,
            token: None,
        }
    }
}

impl sealed::Sealed for SendNotified {}

impl Condition for SendNotified {
    type Output = ();

    fn poll(&mut self) -> Option<()> {
        let mut state = self.notify.lock();
        match self.ticket {
            None => std::mem::take(&mut state.kept).then_some(()),
            Some(ticket) if state.is_notified(ticket) => {
                state.remove(ticket);
                self.ticket = None;
                Some(())
            }
            Some(_) => None,
        }
    }

    fn arm(&mut self, waiter: &Waiter) {
        // Checked and registered under one lock: a notification from another thread between
        // the poll and now is not missed.
        let mut state = self.notify.lock();
        let token = RemoteToken::register(&waiter.sched, &waiter.task, waiter.epoch);
        self.ticket = Some(state.push(Some(token.share())));
        self.token = Some(token);
        if std::mem::take(&mut state.kept) {
            // Kept meanwhile (nobody waited then): this waiter's, taken by the next poll.
            if let Some(entry) = state.waiters.back_mut() {
                entry.granted = Some(Grant::One);
            }
            waiter.wake();
        }
    }

    fn disarm(&mut self, waiter: &Waiter) {
        if let Some(ticket) = self.ticket.take() {
            let mut state = self.notify.lock();
            let passed = state.remove(ticket) == Some(Grant::One) && state.notify_one();
            drop(state);
            if passed {
                self.notify.shared.notified.notify_all();
            }
        }
        if let Some(token) = self.token.take() {
            token.forget(&waiter.sched);
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::Sync(WAITS_FOR))
    }
}

impl fmt::Debug for SendNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendNotified").finish_non_exhaustive()
    }
}
