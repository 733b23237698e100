//! Tasklets on other dispatchers of the program ([`Dispatcher::threads`]): [`spawn_on`] and
//! [`spawn_next`] start one there, [`SendTasklet`] is the handle that may cross threads, and
//! [`current_dispatcher`] and [`dispatcher_count`] say where the caller runs.
//!
//! [`Dispatcher::threads`]: crate::Dispatcher::threads

use std::any::Any;
use std::fmt;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::end::{down_of, Down};
use crate::engine::group::Group;
use crate::engine::reactor::Remote;
use crate::engine::scheduler::{self, Sched, SpawnOptions};
use crate::engine::state::{Name, Task, WaitOn};
use crate::engine::timer::deadline_after;
use crate::engine::wait::{RemoteToken, WaitList};
use crate::engine::work::Payload;
use crate::error::{JoinCause, JoinError, TimeoutError};
use crate::messaging::message::NoMessages;
use crate::messaging::oneshot::block_thread;
use crate::messaging::port::Port;
use crate::task::builder::{Builder, SpawnMessages};
use crate::task::tasklet::Tasklet;

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
    let shared = new_shared(sched, dispatcher);
    let start = Start {
        shared: Some(shared.clone()),
    };
    let name = scheduler::default_name::<F>();
    post_start(sched, dispatcher, move || {
        start.spawn(f, Name::Derived(name))
    });
    SendTasklet { shared, port: None }
}

/// The record the handles of a tasklet about to start on `dispatcher` share.
#[track_caller]
fn new_shared<T>(sched: Sched, dispatcher: usize) -> Arc<Shared<T>> {
    let count = sched.group.as_ref().map_or(1, |group| group.size());
    assert!(
        dispatcher < count,
        "concurrence: spawn_on({dispatcher}): the program runs {count} dispatcher(s); \
         Dispatcher::threads sets how many"
    );
    let remote = match &sched.group {
        Some(group) => group.remote(dispatcher).clone(),
        None => sched.reactor.borrow().remote().clone(),
    };
    Arc::new(Shared {
        dispatcher,
        remote,
        group: sched.group.clone(),
        slot: Mutex::new(Slot::default()),
        done: Condvar::new(),
    })
}

/// Runs `start` on `dispatcher`: here, or in a job of that dispatcher's loop.
fn post_start(sched: Sched, dispatcher: usize, start: impl FnOnce() + Send + 'static) {
    match &sched.group {
        Some(group) if dispatcher != sched.index => group.post(dispatcher, Box::new(start)),
        _ => start(),
    }
}

impl<M: SpawnMessages + Send> Builder<M> {
    /// Starts the tasklet on dispatcher `dispatcher` of the program, as [`spawn_on`] does, with
    /// this builder's options, and returns a handle that may cross threads: it sends the
    /// messages of `M` ([`SendTasklet::send`], [`SendTasklet::call`]) as well as it joins.
    ///
    /// # Panics
    ///
    /// As [`spawn_on`].
    ///
    /// # Examples
    ///
    /// A counter on dispatcher 1, called from dispatcher 0:
    ///
    /// ```
    /// use concurrence::{message, receive, tasklet, Builder, Dispatcher};
    ///
    /// message!(MSG_ADD(u64), MSG_TOTAL -> u64);
    ///
    /// #[tasklet(receives(MSG_ADD, MSG_TOTAL))]
    /// fn counter() {
    ///     let mut total = 0;
    ///     for msg in receive::<CounterMsg>() {
    ///         match msg {
    ///             CounterMsg::MSG_ADD(MSG_ADD(n)) => total += n,
    ///             CounterMsg::MSG_TOTAL(MSG_TOTAL(reply)) => reply.reply(total),
    ///         }
    ///     }
    /// }
    ///
    /// let status = Dispatcher::new().threads(2).run(|| {
    ///     let counter = Builder::new().receives::<CounterMsg>().daemon(true).spawn_on(1, counter);
    ///     for n in 1..=10 {
    ///         counter.send(MSG_ADD(n)).unwrap();
    ///     }
    ///     counter.call(MSG_TOTAL).unwrap()
    /// });
    /// assert_eq!(status.into_value(), Some(55));
    /// ```
    #[track_caller]
    pub fn spawn_on<F, T>(self, dispatcher: usize, f: F) -> SendTasklet<T, M>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let sched = scheduler::get();
        let shared = new_shared(sched, dispatcher);
        let port = M::RECEIVES.then(|| {
            let port = Port::new(self.is_bounded(), sched.group.clone());
            port.add_handle(); // the handle returned below; its courier starts with the tasklet
            port
        });
        let start = Start {
            shared: Some(shared.clone()),
        };
        let name = scheduler::default_name::<F>();
        let unstarted = ClosePort(port.clone());
        post_start(sched, dispatcher, move || {
            let (task, inbox) = self.spawn_detached_here(f, name);
            let mut unstarted = unstarted;
            if let (Some(inbox), Some(port)) = (inbox, unstarted.0.take()) {
                inbox.port(|_| port.clone());
                port.start_courier(inbox, task.name());
            }
            start.started(task);
        });
        SendTasklet { shared, port }
    }
}

/// The port of a tasklet whose start request was dropped unrun: closed, so that its senders
/// get their messages back.
struct ClosePort<M>(Option<Arc<Port<M>>>);

impl<M> Drop for ClosePort<M> {
    fn drop(&mut self) {
        if let Some(port) = self.0.take() {
            drop(port.close());
        }
    }
}

impl<T: Send + 'static, M: SpawnMessages + Send> Tasklet<T, M> {
    /// A handle on this tasklet that may cross threads: `Send`, `Sync` and `Clone`, it sends
    /// the tasklet's messages ([`SendTasklet::send`], [`SendTasklet::call`], ...), joins,
    /// kills and asks whether it finished, from a tasklet on any dispatcher (only that tasklet
    /// waits) or from a plain thread (it blocks), with the errors of this handle. It needs the
    /// tasklet's message set and result to be `Send`.
    ///
    /// The result goes to the first join that asks for it, through this handle, another
    /// sendable one, or a join on this dispatcher.
    ///
    /// # Examples
    ///
    /// A plain thread sends to a tasklet:
    ///
    /// ```
    /// use concurrence::{dispatch, io, message, receive, tasklet};
    ///
    /// message!(MSG_LINE(String), MSG_END);
    ///
    /// #[tasklet(receives(MSG_LINE, MSG_END))]
    /// fn collector() -> Vec<String> {
    ///     let mut lines = Vec::new();
    ///     for msg in receive::<CollectorMsg>() {
    ///         match msg {
    ///             CollectorMsg::MSG_LINE(MSG_LINE(line)) => lines.push(line),
    ///             CollectorMsg::MSG_END(_) => break,
    ///         }
    ///     }
    ///     lines
    /// }
    ///
    /// dispatch(|| {
    ///     let collector = Collector::new().spawn();
    ///     let handle = collector.sendable();
    ///     let thread = std::thread::spawn(move || {
    ///         handle.send(MSG_LINE("from a thread".into())).unwrap();
    ///         handle.send(MSG_END).unwrap();
    ///     });
    ///     assert_eq!(collector.join().unwrap(), ["from a thread"]);
    ///     io::blocking(move || thread.join().unwrap());
    /// });
    /// ```
    pub fn sendable(&self) -> SendTasklet<T, M> {
        let sched = scheduler::get();
        let shared = shared_record::<T>(sched, &self.task);
        let port = self.inbox.as_ref().map(|inbox| {
            let port = inbox.port(|bounded| Port::new(bounded, sched.group.clone()));
            if port.add_handle() {
                port.start_courier(inbox.clone(), self.task.name());
            }
            port
        });
        SendTasklet { shared, port }
    }
}

/// The record the sendable handles of `task`, a tasklet of this dispatcher, share: made on
/// the first call, with a monitor that forwards the result at the end (see
/// `Task::forward_value`).
fn shared_record<T: Send + 'static>(sched: Sched, task: &Rc<Task>) -> Arc<Shared<T>> {
    if let Some(shared) = sched
        .sendables
        .borrow()
        .get(&task.id)
        .and_then(|any| any.downcast_ref::<Arc<Shared<T>>>())
    {
        return shared.clone();
    }
    let shared = Arc::new(Shared {
        dispatcher: sched.index,
        remote: sched.reactor.borrow().remote().clone(),
        group: sched.group.clone(),
        slot: Mutex::new(Slot {
            id: Some(task.id),
            name: Some(task.name().to_owned()),
            ..Slot::default()
        }),
        done: Condvar::new(),
    });
    if task.is_finished() {
        // A record made after the end takes the value from wherever it is now.
        forward_end(task, &shared, down_of(task).result);
        return shared;
    }
    sched
        .sendables
        .borrow_mut()
        .insert(task.id, Box::new(shared.clone()));
    let watched = task.clone();
    let record = shared.clone();
    sched.add_monitor(
        task.id,
        Box::new(move |down: Down| {
            let sched = scheduler::get();
            let kept = sched.sendables.borrow_mut().remove(&watched.id);
            drop(kept);
            forward_end(&watched, &record, down.result);
            // In the loop no user code may run: a value nobody can join any more is dropped
            // in a tasklet (see `scheduler::bury`).
            if let Some(alone) = Arc::into_inner(record) {
                scheduler::bury(Box::new(alone));
            }
        }),
    );
    shared
}

/// Tells the sendable handles of `task` how it ended: a value it returned moves to `shared`,
/// where the first join anywhere takes it.
fn forward_end<T: Send + 'static>(
    task: &Rc<Task>,
    shared: &Arc<Shared<T>>,
    result: Result<(), JoinError>,
) {
    let result = match result {
        Ok(()) => {
            let mut value = None;
            let forwarded = task.forward_value::<T>(|v| {
                value = Some(v);
                Box::new(Forward {
                    shared: shared.clone(),
                })
            });
            match (forwarded, value) {
                (true, Some(value)) => Ok(value),
                _ => Err(task.join_error(JoinCause::AlreadyJoined)),
            }
        }
        Err(err) => Err(err),
    };
    shared.end(result);
}

/// Takes the place of a forwarded value in its tasklet's record: a join on the tasklet's own
/// dispatcher takes the value from the shared record, unless a sendable handle's join took it.
struct Forward<T> {
    shared: Arc<Shared<T>>,
}

impl<T: 'static> Payload for Forward<T> {
    fn run(&self) {}

    fn drop_closure(&self) {}

    fn take_value(&self, out: &mut dyn Any) {
        let mut slot = self.shared.lock();
        if !matches!(slot.result, Some(Ok(_))) {
            return;
        }
        let Some(Ok(value)) = slot.result.take() else {
            return;
        };
        drop(slot);
        if let Some(out) = out.downcast_mut::<Option<T>>() {
            *out = Some(value);
        } else if let Some(out) = out.downcast_mut::<Option<Box<dyn Any>>>() {
            *out = Some(Box::new(value));
        }
    }

    fn needs_drop(&self) -> bool {
        false
    }
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
pub struct SendTasklet<T, M = NoMessages> {
    pub(crate) shared: Arc<Shared<T>>,
    /// The tasklet's mailbox as other threads reach it, when it receives `M`.
    pub(crate) port: Option<Arc<Port<M>>>,
}

/// What the handles of one tasklet share with the tasklet's dispatcher.
pub(crate) struct Shared<T> {
    dispatcher: usize,
    /// The tasklet's dispatcher's address, for a kill from elsewhere.
    pub(crate) remote: Arc<Remote>,
    /// The group of the dispatcher that spawned it: a tasklet of the same group that joins
    /// waits as an internal wait (see `engine::group`).
    pub(crate) group: Option<Arc<Group>>,
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
    fn spawn<F>(self, f: F, name: Name)
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let opts = SpawnOptions {
            name: None,
            daemon: false,
            stack_size: None,
            stack_mode: None,
            inbox: None,
        };
        // No parent: a tasklet started at another dispatcher's request belongs to no tasklet.
        self.started(scheduler::get().spawn_detached(opts, f, name));
    }

    /// Records `task`, just spawned on this dispatcher, as the tasklet this start was for, and
    /// adds a monitor that reports its end.
    fn started(mut self, task: Rc<Task>) {
        let sched = scheduler::get();
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

impl<T: Send + 'static, M> SendTasklet<T, M> {
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
                let joined = Joined {
                    shared: &self.shared,
                    internal: scheduler::in_group(self.shared.group.as_ref()),
                    armed: None,
                };
                wait_until(joined, deadline).ok_or(TimeoutError)
            }
            Some(_) => panic!(
                "concurrence: SendTasklet::join outside a tasklet on a dispatcher's thread would \
                 block the dispatcher; join from a tasklet or another thread"
            ),
            None => block_thread(self.shared.lock(), &self.shared.done, deadline, |slot| {
                Shared::take(slot)
            })
            .ok_or(TimeoutError),
        }
    }
}

impl<T, M> SendTasklet<T, M> {
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

impl<T, M> Clone for SendTasklet<T, M> {
    fn clone(&self) -> Self {
        if let Some(port) = &self.port {
            // Another handle of a running courier (this one keeps it running): nothing to start.
            port.add_handle();
        }
        SendTasklet {
            shared: self.shared.clone(),
            port: self.port.clone(),
        }
    }
}

impl<T, M> Drop for SendTasklet<T, M> {
    fn drop(&mut self) {
        if let Some(port) = &self.port {
            port.drop_handle();
        }
    }
}

impl<T, M> fmt::Debug for SendTasklet<T, M> {
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
