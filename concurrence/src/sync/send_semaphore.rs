//! [`SendSemaphore`]: a semaphore shared by the tasklets of every dispatcher and by threads.

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
use crate::sync::semaphore::Semaphore;

/// What a deadlock report says a waiter waits for.
const WAITS_FOR: &&str = &"a permit of a SendSemaphore";

/// A [`Semaphore`] for the whole program: `Send`, `Sync` and `Clone` (clones share the count),
/// its permits taken by tasklets of every dispatcher and by plain threads. The same rules:
/// permits are handed to the oldest waiter (tasklet or thread), a [`SendPermit`] gives its
/// permits back when dropped (also when its tasklet is killed or panics, and from any thread),
/// a waiter killed or losing a `select!` ([`wait_for::acquire_send`]) passes on what it was
/// handed, [`add_permits`](SendSemaphore::add_permits) raises the count past its start.
///
/// It costs a mutex and, for a waiter woken, a notice to its dispatcher (as a
/// [`WorkQueue`](crate::WorkQueue)'s poppers): use [`Semaphore`] for the tasklets of one
/// dispatcher. A tasklet waiting for a permit counts as waiting for another thread (any thread
/// may give one back), so it is never reported deadlocked while it waits.
///
/// [`wait_for::acquire_send`]: crate::wait_for::acquire_send
///
/// # Examples
///
/// At most two jobs at once among the workers of two dispatchers:
///
/// ```
/// use concurrence::sync::SendSemaphore;
/// use concurrence::{sleep, spawn_on, Dispatcher};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let status = Dispatcher::new().threads(2).run(|| {
///     let slots = SendSemaphore::new(2);
///     let running = Arc::new(AtomicUsize::new(0));
///     let most = Arc::new(AtomicUsize::new(0));
///     let workers: Vec<_> = (0..6)
///         .map(|i| {
///             let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
///             spawn_on(i % 2, move || {
///                 let _permit = slots.acquire();
///                 let now = running.fetch_add(1, Ordering::SeqCst) + 1;
///                 most.fetch_max(now, Ordering::SeqCst);
///                 sleep(Duration::from_millis(5));
///                 running.fetch_sub(1, Ordering::SeqCst);
///             })
///         })
///         .collect();
///     workers.iter().for_each(|w| w.join().unwrap());
///     most.load(Ordering::SeqCst)
/// });
/// assert!(status.into_value().unwrap() <= 2);
/// ```
#[derive(Clone)]
pub struct SendSemaphore {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a waiting thread was granted its permits.
    granted: Condvar,
}

struct State {
    available: usize,
    waiters: VecDeque<Entry>,
    next_ticket: u64,
}

/// A waiter: a tasklet's remote wake-up token, or a thread (`None`, woken through the condvar).
struct Entry {
    ticket: u64,
    want: usize,
    token: Option<RemoteToken>,
    granted: bool,
}

impl State {
    /// Takes `n` permits if they are free and nobody waits for some.
    fn try_take(&mut self, n: usize) -> bool {
        if self.available < n || self.waiters.iter().any(|e| !e.granted) {
            return false;
        }
        self.available -= n;
        true
    }

    /// Hands the free permits to the waiters, oldest first, while the oldest is satisfied;
    /// whether a thread was granted some (to signal the condvar).
    #[must_use]
    fn hand_on(&mut self) -> bool {
        let mut thread = false;
        for entry in self.waiters.iter_mut().filter(|e| !e.granted) {
            if entry.want > self.available {
                break;
            }
            self.available -= entry.want;
            entry.granted = true;
            match &entry.token {
                Some(token) => token.wake(),
                None => thread = true,
            }
        }
        thread
    }

    fn push(&mut self, want: usize, token: Option<RemoteToken>) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.waiters.push_back(Entry {
            ticket,
            want,
            token,
            granted: false,
        });
        ticket
    }

    /// Removes the entry of `ticket`; whether it had been granted its permits.
    fn remove(&mut self, ticket: u64) -> bool {
        match self.waiters.iter().position(|e| e.ticket == ticket) {
            Some(at) => self.waiters.remove(at).is_some_and(|e| e.granted),
            None => false,
        }
    }

    fn is_granted(&self, ticket: u64) -> bool {
        self.waiters.iter().any(|e| e.ticket == ticket && e.granted)
    }
}

impl SendSemaphore {
    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// Panics when `permits` is more than [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> SendSemaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "concurrence: a semaphore holds at most Semaphore::MAX_PERMITS permits"
        );
        SendSemaphore {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    available: permits,
                    waiters: VecDeque::new(),
                    next_ticket: 0,
                }),
                granted: Condvar::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How many permits are free now.
    pub fn available_permits(&self) -> usize {
        self.lock().available
    }

    /// Takes a permit, waiting until one is free: in a tasklet only the tasklet waits, on a
    /// plain thread the thread blocks.
    ///
    /// # Panics
    ///
    /// On a dispatcher's thread outside a tasklet, when it would have to wait.
    #[track_caller]
    pub fn acquire(&self) -> SendPermit {
        self.acquire_many(1)
    }

    /// Takes `n` permits at once, waiting until they are free (younger waiters wait behind).
    ///
    /// # Panics
    ///
    /// As [`acquire`](SendSemaphore::acquire), and when `n` is more than
    /// [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub fn acquire_many(&self, n: usize) -> SendPermit {
        loop {
            // Ended early only by a kill of a tasklet already unwinding: wait on.
            if let Ok(permit) = self.acquire_until(n, None) {
                return permit;
            }
        }
    }

    /// [`acquire`](SendSemaphore::acquire), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when no permit came in time; nothing was taken.
    #[track_caller]
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<SendPermit, TimeoutError> {
        self.acquire_until(1, Some(deadline_after(timeout)))
    }

    /// [`acquire_many`](SendSemaphore::acquire_many), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the permits did not come in time; nothing was taken.
    #[track_caller]
    pub fn acquire_many_timeout(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<SendPermit, TimeoutError> {
        self.acquire_until(n, Some(deadline_after(timeout)))
    }

    /// Takes a permit if one is free and nobody waits, without blocking.
    pub fn try_acquire(&self) -> Option<SendPermit> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits, without blocking.
    pub fn try_acquire_many(&self, n: usize) -> Option<SendPermit> {
        self.lock().try_take(n).then(|| self.permit(n))
    }

    /// Adds `n` permits, past the count it started with if need be; they go to the waiters
    /// first, oldest first.
    ///
    /// # Panics
    ///
    /// Panics when the count would pass [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        let total = self.lock().available.saturating_add(n);
        assert!(
            total <= Semaphore::MAX_PERMITS,
            "concurrence: a semaphore holds at most Semaphore::MAX_PERMITS permits"
        );
        self.give(n);
    }

    fn give(&self, n: usize) {
        let mut state = self.lock();
        state.available += n;
        if state.hand_on() {
            drop(state);
            self.shared.granted.notify_all();
        }
    }

    fn permit(&self, n: usize) -> SendPermit {
        SendPermit {
            semaphore: self.clone(),
            n,
        }
    }

    #[track_caller]
    fn acquire_until(
        &self,
        n: usize,
        deadline: Option<Instant>,
    ) -> Result<SendPermit, TimeoutError> {
        match scheduler::try_get() {
            Some(sched) if sched.current().is_some() => {
                wait_until(SendAcquire::new(self.clone(), n), deadline).ok_or(TimeoutError)
            }
            Some(_) => self.try_acquire_many(n).ok_or_else(|| {
                panic!(
                    "concurrence: SendSemaphore::acquire outside a tasklet on a dispatcher's \
                     thread would block the dispatcher; acquire from a tasklet or another thread"
                )
            }),
            None => self.acquire_on_thread(n, deadline),
        }
    }

    /// A plain thread's wait, in line with the tasklets.
    fn acquire_on_thread(
        &self,
        n: usize,
        deadline: Option<Instant>,
    ) -> Result<SendPermit, TimeoutError> {
        let mut state = self.lock();
        if state.try_take(n) {
            return Ok(self.permit(n));
        }
        let ticket = state.push(n, None);
        let granted = block_thread(state, &self.shared.granted, deadline, |state| {
            state.is_granted(ticket).then_some(())
        });
        let mut state = self.lock();
        let had = state.remove(ticket);
        match (granted, had) {
            (_, true) => Ok(self.permit(n)), // granted, maybe with the deadline
            _ => {
                // Its place in line may have held younger waiters back.
                let thread = state.hand_on();
                drop(state);
                if thread {
                    self.shared.granted.notify_all();
                }
                Err(TimeoutError)
            }
        }
    }
}

impl fmt::Debug for SendSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSemaphore")
            .field("available", &self.available_permits())
            .finish_non_exhaustive()
    }
}

/// Permits taken from a [`SendSemaphore`]: `Send`; dropping it (on any thread) gives them back,
/// to the oldest waiter first.
#[must_use = "a permit is given back as soon as it is dropped"]
pub struct SendPermit {
    semaphore: SendSemaphore,
    n: usize,
}

impl SendPermit {
    /// How many permits it holds.
    pub fn count(&self) -> usize {
        self.n
    }

    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for SendPermit {
    fn drop(&mut self) {
        if self.n > 0 {
            self.semaphore.give(self.n);
        }
    }
}

impl fmt::Debug for SendPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendPermit")
            .field("count", &self.n)
            .finish()
    }
}

/// Permits of a [`SendSemaphore`]: the condition of
/// [`wait_for::acquire_send`](crate::wait_for::acquire_send). It fires with the
/// [`SendPermit`]; when it does not win, it takes nothing (permits handed to it meanwhile go
/// on). Armed, the tasklet is a remote wait of its dispatcher that a release on any thread
/// ends.
pub struct SendAcquire {
    semaphore: SendSemaphore,
    n: usize,
    /// Its entry among the waiters while it is armed and has not taken its permits.
    ticket: Option<u64>,
    /// Its registration with its dispatcher while it is armed.
    token: Option<RemoteToken>,
}

impl SendAcquire {
    pub(crate) fn new(semaphore: SendSemaphore, n: usize) -> SendAcquire {
        assert!(
            n <= Semaphore::MAX_PERMITS,
            "concurrence: a semaphore holds at most Semaphore::MAX_PERMITS permits, so \
             acquiring more could never end"
        );
        SendAcquire {
            semaphore,
            n,
            ticket: None,
            token: None,
        }
    }
}

impl sealed::Sealed for SendAcquire {}

impl Condition for SendAcquire {
    type Output = SendPermit;

    fn poll(&mut self) -> Option<SendPermit> {
        let mut state = self.semaphore.lock();
        let taken = match self.ticket {
            None => state.try_take(self.n),
            Some(ticket) => {
                let granted = state.is_granted(ticket) && state.remove(ticket);
                if granted {
                    self.ticket = None;
                }
                granted
            }
        };
        drop(state);
        taken.then(|| self.semaphore.permit(self.n))
    }

    fn arm(&mut self, waiter: &Waiter) {
        // Registered and handed on under one lock: a release from another thread between the
        // poll and now is not missed.
        let mut state = self.semaphore.lock();
        let token = RemoteToken::register(&waiter.sched, &waiter.task, waiter.epoch);
        self.ticket = Some(state.push(self.n, Some(token.share())));
        self.token = Some(token);
        if state.hand_on() {
            drop(state);
            self.semaphore.shared.granted.notify_all();
        }
    }

    fn disarm(&mut self, waiter: &Waiter) {
        if let Some(ticket) = self.ticket.take() {
            let mut state = self.semaphore.lock();
            if state.remove(ticket) {
                state.available += self.n; // handed but not taken: it goes on
            }
            // Its place in line may also have held younger waiters back.
            let thread = state.hand_on();
            drop(state);
            if thread {
                self.semaphore.shared.granted.notify_all();
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

impl fmt::Debug for SendAcquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendAcquire")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}
