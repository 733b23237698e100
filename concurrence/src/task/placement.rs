//! Tasklets on other dispatchers of the program ([`Dispatcher::threads`]): [`spawn_on`] and
//! [`spawn_next`] start one there, [`SendTasklet`] is the handle that may cross threads, and
//! [`current_dispatcher`] and [`dispatcher_count`] say where the caller runs.
//!
//! [`Dispatcher::threads`]: crate::Dispatcher::threads

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::end::Down;
use crate::engine::group::Group;
use crate::engine::reactor::Remote;
use crate::engine::scheduler::{self, SpawnOptions};
use crate::engine::state::{Name, WaitOn};
use crate::engine::timer::deadline_after;
use crate::engine::wait::{RemoteToken, WaitList};
use crate::error::{JoinCause, JoinError, TimeoutError};

/// The number of the dispatcher the caller runs on: 0 for the first (the thread that called
/// [`Dispatcher::run`](crate::Dispatcher::run)), up to [`dispatcher_count`]` - 1`.
///
/// # Panics
///
/// When no dispatcher runs on this thread.
pub fn current_dispatcher() -> usize {
    scheduler::get().index
}

/// How many dispatchers the program runs on ([`Dispatcher::threads`](crate::Dispatcher::threads)).
///
/// # Panics
///
/// When no dispatcher runs on this thread.
pub fn dispatcher_count() -> usize {
    scheduler::get()
        .group
        .as_ref()
        .map_or(1, |group| group.size())
}

/// Spawns a tasklet running `f` on dispatcher `dispatcher` of the program (see
/// [`Dispatcher::threads`](crate::Dispatcher::threads)), where it lives and dies, and returns
/// a handle that may cross threads. On the caller's own dispatcher it is a plain spawn; on
/// another the tasklet starts once that dispatcher has taken the request, which does not wait
/// for the caller to block. It is not a daemon (the program waits for it), and it has no
/// parent: it is not among the caller's [`children`](crate::Tasklet::children).
///
/// # Panics
///
/// When no dispatcher runs on this thread, or `dispatcher` is not below
/// [`dispatcher_count`].
///
/// # Examples
///
/// Work spread over two dispatchers, each summing part of a range:
///
/// ```
/// use concurrence::{spawn_on, Dispatcher};
///
/// let status = Dispatcher::new().threads(2).run(|| {
///     let parts: Vec<_> = (0..4u64)
///         .map(|i| spawn_on(i as usize % 2, move || (i * 250..(i + 1) * 250).sum::<u64>()))
///         .collect();
///     parts.iter().map(|p| p.join().unwrap()).sum::<u64>()
/// });
/// assert_eq!(status.into_value(), Some((0..1000).sum()));
/// ```
#[track_caller]
pub fn spawn_on<F, T>(dispatcher: usize, f: F) -> SendTasklet<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let sched = scheduler::get();
    let count = sched.group.as_ref().map_or(1, |group| group.size());
    assert!(
        dispatcher < count,
        "concurrence: spawn_on({dispatcher}): the program runs {count} dispatcher(s); \
         Dispatcher::threads sets how many"
    );
    let name = scheduler::default_name::<F>();
    let remote = match &sched.group {
        Some(group) => group.remote(dispatcher).clone(),
        None => sched.reactor.borrow().remote().clone(),
    };
    let shared = Arc::new(Shared {
        dispatcher,
        remote,
        group: sched.group.clone(),
        slot: Mutex::new(Slot::default()),
        done: Condvar::new(),
    });
    let start = Start {
        shared: Some(shared.clone()),
    };
    let job = move || start.spawn(f, Name::Derived(name));
    match &sched.group {
        Some(group) if dispatcher != sched.index => group.post(dispatcher, Box::new(job)),
        _ => job(),
    }
    SendTasklet { shared }
}

/// [`spawn_on`] the next dispatcher, round-robin over all of them (the caller's included):
/// spreads tasklets evenly when each does about the same work.
///
/// # Panics
///
/// When no dispatcher runs on this thread.
#[track_caller]
pub fn spawn_next<F, T>(f: F) -> SendTasklet<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let next = scheduler::get()
        .group
        .as_ref()
        .map_or(0, |group| group.pick_next());
    spawn_on(next, f)
}

/// A handle on a tasklet started with [`spawn_on`] that may cross threads: `Send`, `Sync` and
/// `Clone` (clones share the result: the first join takes it). [`join`](SendTasklet::join)
/// works from a tasklet on any dispatcher (only that tasklet waits) and from a plain thread
/// (the thread blocks).
pub struct SendTasklet<T> {
    shared: Arc<Shared<T>>,
}

/// What the handles of one tasklet share with the tasklet's dispatcher.
struct Shared<T> {
    dispatcher: usize,
    /// The tasklet's dispatcher's address, for a kill from elsewhere.
    remote: Arc<Remote>,
    /// The group of the dispatcher that spawned it: a tasklet of the same group that joins
    /// waits as an internal wait (see `engine::group`).
    group: Option<Arc<Group>>,
    slot: Mutex<Slot<T>>,
    /// Signalled when the tasklet ends, for joining threads.
    done: Condvar,
}

/// The tasklet's side: who it is once started, how it ended, and who waits.
struct Slot<T> {
    id: Option<u64>,
    name: Option<String>,
    /// Set when it ended; taken by the first join.
    result: Option<Result<T, JoinError>>,
    ended: bool,
    /// A kill was asked for before the tasklet started: it is killed as soon as it does.
    kill_requested: bool,
    /// Tasklets joining it, on any dispatcher.
    joiners: WaitList<RemoteToken>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            id: None,
            name: None,
            result: None,
            ended: false,
            kill_requested: false,
            joiners: WaitList::default(),
        }
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The tasklet ended with `result`: every joiner is woken.
    fn end(&self, result: Result<T, JoinError>) {
        let mut slot = self.lock();
        if slot.ended {
            return;
        }
        slot.result = Some(result);
        slot.ended = true;
        slot.joiners.wake_all_remote();
        drop(slot);
        self.done.notify_all();
    }

    /// What a join gets once the tasklet ended: its result, or `AlreadyJoined`.
    fn take(slot: &mut Slot<T>) -> Option<Result<T, JoinError>> {
        if !slot.ended {
            return None;
        }
        Some(slot.result.take().unwrap_or_else(|| {
            Err(JoinError {
                name: slot.name.clone().unwrap_or_default(),
                id: slot.id.unwrap_or(0),
                cause: JoinCause::AlreadyJoined,
            })
        }))
    }
}

/// Starts the tasklet on its dispatcher and reports its end to [`Shared`]; dropped without
/// having done so (the request never ran: the program ended first; or the tasklet was leaked at
/// shutdown), it reports the tasklet killed, so that no joiner waits for ever.
struct Start<T> {
    shared: Option<Arc<Shared<T>>>,
}

impl<T: Send + 'static> Start<T> {
    /// Spawns the tasklet on this thread's dispatcher, and a monitor that reports its end.
    fn spawn<F>(mut self, f: F, name: Name)
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let sched = scheduler::get();
        let opts = SpawnOptions {
            name: None,
            daemon: false,
            stack_size: None,
            stack_mode: None,
            inbox: None,
        };
        // No parent: a tasklet started at another dispatcher's request belongs to no tasklet.
        let task = sched.spawn_detached(opts, f, name);
        let kill = {
            let shared = self.shared.as_ref().expect("a start reports once");
            let mut slot = shared.lock();
            slot.id = Some(task.id);
            slot.name = Some(task.name().to_owned());
            slot.kill_requested
        };
        let id = task.id;
        let victim = kill.then(|| task.clone());
        sched.add_monitor(
            id,
            Box::new(move |down: Down| {
                let result = match down.result {
                    Ok(()) => task.take_result::<T>(),
                    Err(err) => Err(err),
                };
                if let Some(shared) = self.shared.take() {
                    shared.end(result);
                    // Here, in the dispatcher's loop, no user code may run: a result nobody
                    // can join any more is dropped in a tasklet (see `scheduler::bury`).
                    if let Some(alone) = Arc::into_inner(shared) {
                        scheduler::bury(Box::new(alone));
                    }
                }
            }),
        );
        if let Some(victim) = victim {
            sched.kill(&victim); // killed before it started: only its closure is dropped
        }
    }
}

impl<T> Drop for Start<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            let (id, name) = {
                let slot = shared.lock();
                (slot.id.unwrap_or(0), slot.name.clone().unwrap_or_default())
            };
            shared.end(Err(JoinError {
                name,
                id,
                cause: JoinCause::Killed,
            }));
        }
    }
}

impl<T: Send + 'static> SendTasklet<T> {
    /// Waits for the tasklet to finish and returns what it returned, as
    /// [`Tasklet::join`](crate::Tasklet::join) does: a tasklet that panicked or was killed gives
    /// a [`JoinError`] saying so, a second join [`JoinCause::AlreadyJoined`]. In a tasklet
    /// only the caller waits; on a plain thread the thread blocks.
    ///
    /// # Panics
    ///
    /// On a dispatcher's thread outside a tasklet (that would block the dispatcher).
    #[track_caller]
    pub fn join(&self) -> Result<T, JoinError> {
        self.join_until(None).unwrap_or_else(|_| {
            // A tasklet already unwinding, killed again, ends its wait early.
            Err(self.error(JoinCause::Interrupted))
        })
    }

    /// [`join`](SendTasklet::join), waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when the tasklet did not finish in time (it goes on).
    #[track_caller]
    pub fn join_timeout(&self, timeout: Duration) -> Result<Result<T, JoinError>, TimeoutError> {
        self.join_until(Some(deadline_after(timeout)))
    }

    #[track_caller]
    fn join_until(&self, deadline: Option<Instant>) -> Result<Result<T, JoinError>, TimeoutError> {
        match scheduler::try_get() {
            Some(sched) if sched.current().is_some() => {
                let internal = match (&sched.group, &self.shared.group) {
                    (Some(mine), Some(its)) => Arc::ptr_eq(mine, its),
                    _ => false,
                };
                let joined = Joined {
                    shared: &self.shared,
                    internal,
                    armed: None,
                };
                wait_until(joined, deadline).ok_or(TimeoutError)
            }
            Some(_) => panic!(
                "concurrence: SendTasklet::join outside a tasklet on a dispatcher's thread would \
                 block the dispatcher; join from a tasklet or another thread"
            ),
            None => {
                let mut slot = self.shared.lock();
                loop {
                    if let Some(result) = Shared::take(&mut slot) {
                        return Ok(result);
                    }
                    slot = match deadline {
                        None => self
                            .shared
                            .done
                            .wait(slot)
                            .unwrap_or_else(PoisonError::into_inner),
                        Some(deadline) => {
                            let left = deadline.saturating_duration_since(Instant::now());
                            if left.is_zero() {
                                return Err(TimeoutError);
                            }
                            self.shared
                                .done
                                .wait_timeout(slot, left)
                                .unwrap_or_else(PoisonError::into_inner)
                                .0
                        }
                    };
                }
            }
        }
    }
}

impl<T> SendTasklet<T> {
    /// Kills the tasklet: it unwinds where it waits, on its own dispatcher, as with
    /// [`Tasklet::kill`](crate::Tasklet::kill), and its joins see [`JoinCause::Killed`]. From a
    /// tasklet of the same dispatcher it has unwound when this returns; from anywhere else the
    /// kill is a request that its dispatcher carries out soon (Erlang's `exit/2` and tokio's
    /// `abort` are asynchronous too): [`join`](SendTasklet::join) waits for the end. A tasklet
    /// that has not started yet is killed as it starts (its closure is dropped, on its
    /// dispatcher); a finished one is left alone.
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{sleep, spawn_on, Dispatcher, JoinCause};
    /// use std::time::Duration;
    ///
    /// let status = Dispatcher::new().threads(2).run(|| {
    ///     let sleeper = spawn_on(1, || sleep(Duration::from_secs(3600)));
    ///     sleeper.kill();
    ///     assert_eq!(sleeper.join().unwrap_err().cause(), &JoinCause::Killed);
    /// });
    /// assert!(status.success());
    /// ```
    pub fn kill(&self) {
        let id = {
            let mut slot = self.shared.lock();
            if slot.ended {
                return;
            }
            slot.kill_requested = true;
            slot.id
        };
        let Some(id) = id else {
            return; // not started yet: killed as it starts
        };
        match scheduler::try_get() {
            Some(sched)
                if sched.index == self.shared.dispatcher
                    && Arc::ptr_eq(sched.reactor.borrow().remote(), &self.shared.remote) =>
            {
                sched.kill_by_id(id);
            }
            _ => self
                .shared
                .remote
                .post(Box::new(move || scheduler::get().kill_by_id(id))),
        }
    }

    /// Whether the tasklet has finished (returned, panicked or been killed).
    pub fn has_finished(&self) -> bool {
        self.shared.lock().ended
    }

    /// The dispatcher the tasklet runs on.
    pub fn dispatcher(&self) -> usize {
        self.shared.dispatcher
    }

    /// The tasklet's id on its dispatcher (ids are per dispatcher), once it started there.
    pub fn id(&self) -> Option<u64> {
        self.shared.lock().id
    }

    fn error(&self, cause: JoinCause) -> JoinError {
        let slot = self.shared.lock();
        JoinError {
            name: slot.name.clone().unwrap_or_default(),
            id: slot.id.unwrap_or(0),
            cause,
        }
    }
}

impl<T> Clone for SendTasklet<T> {
    fn clone(&self) -> Self {
        SendTasklet {
            shared: self.shared.clone(),
        }
    }
}

impl<T> fmt::Debug for SendTasklet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = self.shared.lock();
        f.debug_struct("SendTasklet")
            .field("dispatcher", &self.shared.dispatcher)
            .field("id", &slot.id)
            .field("name", &slot.name)
            .field("finished", &slot.ended)
            .finish()
    }
}

/// A [`SendTasklet`]'s end, as a calling tasklet waits for it: armed, the joiner is a remote
/// wait of its dispatcher that the tasklet's end wakes from any thread; disarmed (on every way
/// out, a kill's unwinding included) it is withdrawn.
struct Joined<'a, T> {
    shared: &'a Shared<T>,
    /// Whether the joiner is of the same group as the tasklet (see `engine::group`).
    internal: bool,
    armed: Option<RemoteToken>,
}

impl<T> sealed::Sealed for Joined<'_, T> {}

impl<T> Condition for Joined<'_, T> {
    type Output = Result<T, JoinError>;

    fn poll(&mut self) -> Option<Result<T, JoinError>> {
        Shared::take(&mut self.shared.lock())
    }

    fn arm(&mut self, waiter: &Waiter) {
        // Checked and registered under one lock: an end on another thread cannot slip in.
        let mut slot = self.shared.lock();
        let token = if self.internal {
            RemoteToken::register_internal(&waiter.sched, &waiter.task, waiter.epoch)
        } else {
            RemoteToken::register(&waiter.sched, &waiter.task, waiter.epoch)
        };
        slot.joiners.push_remote(token.share());
        self.armed = Some(token);
        if slot.ended {
            waiter.wake();
        }
    }

    fn disarm(&mut self, waiter: &Waiter) {
        if let Some(token) = self.armed.take() {
            self.shared.lock().joiners.leave_remote(&token, false);
            token.forget(&waiter.sched);
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::Join(self.shared.lock().id.unwrap_or(0)))
    }
}
