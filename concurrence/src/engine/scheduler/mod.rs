//! The scheduler: run queue, the tick loop, and parking in the reactor when idle.
//!
//! One scheduler per OS thread, reached through a thread-local while [`dispatch`] runs.
//! Tasklets run round-robin from one FIFO queue, with one exception: what a running tasklet
//! spawns, the joiners its end wakes, and a channel receiver it hands a value to run *next*, in
//! that order, as soon as it suspends, ahead of the tasklets already queued. A tree of
//! tasklets that spawn children and join them is so run depth-first, and only the tasklets
//! along one path hold stacks at once (spawned tasklets get their stack when they first run);
//! Go's scheduler runs a new or readied goroutine next for the same reasons. They wait in a
//! queue of their own, `front`, taken before the FIFO `queue`; so that they cannot starve the
//! others, after `NEXT_STREAK` runs in a row from `front` the oldest of `queue` gets a turn.
//! The loop runs them in passes (what was ready when the pass began, or at least `MIN_PASS`
//! runs while tasklets keep becoming ready); after each run it checks whether a tasklet asked
//! it to stop (`quit`, or the last non-daemon tasklet ended), and between passes whether SIGINT
//! or SIGTERM arrived, then it fires expired timers and polls IO without blocking. When nothing
//! is ready the thread blocks in the reactor until the next deadline. No `RefCell` borrow of the
//! scheduler is held while a tasklet runs; the only borrow held across a resume is that of the
//! running tasklet's own coroutine. The run queues are `RunQueue`s (no borrow flag at all), and
//! the scheduler and the running tasklet are reached through plain pointers whose invariants
//! are written at [`Sched`] and `Scheduler::current`.
//!
//! The scheduler's concerns each have a file: running one tasklet (`run`), kills and the
//! unwinding count (`kill`), the tick loop (`run_loop`), values nobody took (`graveyard`),
//! monitors and links (`links`), and the end of the dispatcher with its deadlock report
//! (`shutdown`). This file holds the scheduler's state, how code reaches it (`Sched`), spawning
//! and the wake-ups.
//!
//! [`dispatch`]: crate::dispatch

use std::any::Any;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ptr::{self, NonNull};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Instant;

use crate::engine::compact::SharedStacks;
use crate::engine::coroutine::Wake;
use crate::engine::group::{Group, Settled};
use crate::engine::homes::Home;
use crate::engine::reactor::Reactor;
use crate::engine::readiness::IoTable;
use crate::engine::run_queue::RunQueue;
use crate::engine::stack::{StackMode, StackPool};
use crate::engine::state::{AnyInbox, DerivedName, Name, State, Task};
use crate::engine::wait::{is_live, WaitList};
use crate::engine::wheel::Timers;

mod graveyard;
mod kill;
mod links;
mod run;
mod run_loop;
mod shutdown;

pub(crate) use graveyard::bury;
pub(crate) use kill::{count_panics, exit_caught, panic_caught, raise_exit};
pub(crate) use links::{DeliverDown, TrapExit};
pub(crate) use shutdown::ShutdownGuard;

thread_local! {
    /// The scheduler of the dispatcher running on this thread, or null: see [`Sched`].
    static SCHEDULER: Cell<*const Scheduler> = const { Cell::new(ptr::null()) };
}

/// A handle on the scheduler of the dispatcher running on this thread, without reference
/// counting: one is read from a thread-local at every blocking call and wake-up.
///
/// **Invariant.** The pointer is the scheduler that [`dispatch`] owns (in an `Rc`) while it
/// runs: [`Installed`] sets it after creating the scheduler and clears it before `dispatch`
/// drops it, even when unwinding. Code that holds a `Sched` runs inside that dispatcher (in a
/// tasklet, or in the loop): a tasklet's code cannot outlive its dispatcher, which kills every
/// tasklet before it ends, also when `dispatch` unwinds (`ShutdownGuard`), and makes a tasklet
/// that survives the kills inert: finished, its coroutine leaked, never resumed again (see
/// `Scheduler::leak_survivors`; a handle kept past the dispatcher finds it finished). So a
/// `Sched` must never be stored in a value that can outlive the dispatcher: values that can
/// (sockets, signal sets, child processes) hold an `Rc<Scheduler>` from [`Sched::owned`]. In
/// this crate `Sched` is kept only in locals and in a blocking call's [`Wait`] and
/// [`Waiter`], which live on the waiting tasklet's stack. The type is neither `Send` nor
/// `Sync`.
///
/// [`dispatch`]: crate::dispatch
/// [`Wait`]: crate::engine::wait::Wait
/// [`Waiter`]: crate::engine::condition::Waiter
#[derive(Clone, Copy)]
pub(crate) struct Sched(NonNull<Scheduler>);

impl std::ops::Deref for Sched {
    type Target = Scheduler;

    #[inline]
    fn deref(&self) -> &Scheduler {
        // SAFETY: the pointer was read from `SCHEDULER` while it was set, and the scheduler it
        // names lives until the dispatcher that owns it ends, which no holder of a `Sched`
        // outlives (see the type's invariant).
        unsafe { self.0.as_ref() }
    }
}

impl Sched {
    /// A counted reference, for values that may outlive the dispatcher.
    pub(crate) fn owned(self) -> Rc<Scheduler> {
        let ptr = self.0.as_ptr().cast_const();
        // SAFETY: `Installed` sets the pointer from `Rc::as_ptr` of the `Rc` that `dispatch`
        // holds, still alive (see the type's invariant): its count may be raised and one more
        // `Rc` made from it.
        unsafe {
            Rc::increment_strong_count(ptr);
            Rc::from_raw(ptr)
        }
    }
}

/// The scheduler running on this thread. Panics when there is none.
#[inline]
pub(crate) fn get() -> Sched {
    try_get()
        .expect("concurrence: no dispatcher is running on this thread; call this inside dispatch()")
}

/// Whether this thread runs a dispatcher of `group`: its waits for the group's other
/// dispatchers are internal (see `engine::group`).
pub(crate) fn in_group(group: Option<&Arc<Group>>) -> bool {
    match (try_get(), group) {
        (Some(sched), Some(its)) => sched.group.as_ref().is_some_and(|g| Arc::ptr_eq(g, its)),
        _ => false,
    }
}

/// The scheduler running on this thread, if any.
#[inline]
pub(crate) fn try_get() -> Option<Sched> {
    NonNull::new(SCHEDULER.with(Cell::get).cast_mut()).map(Sched)
}

/// Makes `sched` this thread's scheduler until the guard is dropped (see [`Sched`]).
pub(crate) struct Installed(());

impl Installed {
    /// Installs `sched`, which must outlive the guard. Panics if one is installed already.
    pub(crate) fn new(sched: &Rc<Scheduler>) -> Installed {
        SCHEDULER.with(|s| {
            assert!(s.get().is_null(), "a scheduler is installed already");
            s.set(Rc::as_ptr(sched));
        });
        Installed(())
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        SCHEDULER.with(|s| s.set(ptr::null()));
    }
}

/// The running tasklet's record: for the fault handler, which may not allocate, lock or count
/// references. The pointer stays valid while that tasklet runs (see [`Scheduler::current`]).
pub(crate) fn running_task() -> Option<NonNull<Task>> {
    try_get().and_then(|sched| sched.current.get())
}

/// Tasklet runs in a pass of the loop at least, if they are ready; between passes come the
/// checks for SIGINT, the end, timers and IO.
const MIN_PASS: usize = 64;

/// How many tasklets in a row may run from `front` (spawned, or woken by the one before) before
/// the oldest of the others gets a turn.
const NEXT_STREAK: u32 = 64;

/// What a spawn asks for, besides the closure.
pub(crate) struct SpawnOptions {
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) daemon: bool,
    pub(crate) stack_size: Option<usize>,
    pub(crate) stack_mode: Option<StackMode>,
    /// The mailbox of a tasklet that receives messages.
    pub(crate) inbox: Option<Rc<dyn AnyInbox>>,
}

/// A remote wait's tasklet, the epoch of its wait, and whether another dispatcher of the group
/// ends it (see `Scheduler::remote_wait`).
type RemoteWaiter = (Rc<Task>, u32, bool);

/// One dispatcher's state.
pub(crate) struct Scheduler {
    /// Tasklets due to run, with the epoch they were queued for (stale entries are skipped).
    queue: RunQueue,
    /// Tasklets to run next, before `queue` (see the module docs), same entries.
    front: RunQueue,
    /// What the running tasklet spawned, woke by finishing, or handed a channel value to, so
    /// far: these go to `front`, in this order, when it suspends. Empty while no tasklet runs
    /// (but during shutdown).
    next: RunQueue,
    /// Where the entries of the tasklet running now start in `next` (a tasklet resumed by a
    /// kill adds after its killer's).
    next_base: Cell<usize>,
    /// How many tasklets in a row ran from the front (see `NEXT_STREAK`).
    streak: Cell<u32>,
    /// The running tasklet; null while the scheduler itself runs. Set by `resume` from the
    /// `Rc` its caller holds until `resume` has reset it: non-null, it points to a live record.
    current: Cell<Option<NonNull<Task>>>,
    pub(crate) timers: RefCell<Timers>,
    /// Milliseconds since the timers' tick 0 on the dispatcher's clock, as last read by the
    /// loop (when it fires timers, and every few dozen passes): when waits began, for dumps.
    pub(crate) coarse_ms: Cell<u32>,
    /// Tasklet switches (resumes) so far.
    pub(crate) switches: Cell<u64>,
    /// Polls of the reactor so far.
    pub(crate) polls: Cell<u64>,
    /// The deadlines of tasklets in a scope (see `engine::deadline`).
    pub(crate) deadlines: crate::engine::deadline::Deadlines,
    /// Tasklet-local values (see `engine::locals`).
    pub(crate) locals: crate::engine::locals::Locals,
    /// Small allocations kept for reuse (see `engine::recycle`).
    pub(crate) recycled: crate::engine::recycle::Recycled,
    /// The clock timers run on: real, or virtual time (see `engine::clock`).
    pub(crate) clock: crate::engine::clock::Clock,
    /// Relay coroutines waiting for their next tasklet (see `run::relay_entry`). Declared
    /// before `stacks`: should the scheduler be dropped with some still waiting (shutdown
    /// retires them), they unwind on stacks that are still mapped.
    idle: RefCell<Vec<run::Idle>>,
    /// The tasklet `start` gives a waiting relay coroutine, which takes it when resumed.
    handover: Cell<Option<Rc<Task>>>,
    stacks: RefCell<StackPool>,
    /// The shared stacks of compact tasklets (see `compact.rs`).
    compact: RefCell<SharedStacks>,
    /// When the free stacks were last trimmed, and passes of the loop since it was checked.
    last_trim: Cell<Instant>,
    passes: Cell<u32>,
    /// Values nobody took (results of tasklets never joined, messages never read, closures of
    /// tasklets that never ran): dropped in a tasklet of their own, since their destructors are
    /// user code that may block or panic (see [`bury`]).
    graveyard: RefCell<Vec<Box<dyn Any>>>,
    /// The tasklet that will drop them, while one is pending.
    reaper: Cell<Option<u64>>,
    /// Whether the thread was already unwinding when the dispatcher started, or is while it
    /// shuts down on the way out of an unwinding `dispatch` (then `std::thread::panicking`
    /// says nothing about the tasklets).
    base_panicking: Cell<bool>,
    /// Set once `shutdown` has begun.
    shut_down: Cell<bool>,
    /// Every unfinished tasklet (`Task::live_index` is its place).
    live: RefCell<Vec<Rc<Task>>>,
    /// How many unfinished tasklets are not daemons.
    non_daemon: Cell<usize>,
    next_id: Cell<u64>,
    /// Set by `quit`.
    quit: Cell<Option<i32>>,
    pub(crate) reactor: RefCell<Reactor>,
    /// Registered IO sources by token.
    pub(crate) io: RefCell<IoTable>,
    /// Tasklets waiting for the dispatcher to be idle (`wait_idle`).
    pub(crate) idle_waiters: RefCell<WaitList>,
    /// How many times the idle waiters were woken: an idle condition armed before a change
    /// has fired.
    pub(crate) idle_rounds: Cell<u64>,
    /// Tasklets waiting for IO readiness now: while there are some, nothing is deadlocked.
    pub(crate) io_waiters: Cell<usize>,
    /// Waits other threads end through the reactor's `Remote`, by key (see `remote_wait`),
    /// each with whether another dispatcher of the group ends it (an internal wait).
    remote_waits: RefCell<HashMap<u64, RemoteWaiter>>,
    /// How many of `remote_waits` are internal: those do not keep the dispatcher from being
    /// settled (the group's accounting covers them, see `engine::group`).
    internal_waits: Cell<usize>,
    /// How many of `remote_waits` are patient (`Polled::patient`): the dispatcher does not spin
    /// before parking for those alone.
    patient_waits: Cell<usize>,
    /// Monitors by the id of the tasklet they watch: each tells its watcher once it ends.
    monitors: RefCell<HashMap<u64, Vec<DeliverDown>>>,
    /// Links by tasklet id, both ways.
    links: RefCell<HashMap<u64, Vec<Weak<Task>>>>,
    /// Tasklets that trap exits, with how to tell them.
    trappers: RefCell<HashMap<u64, TrapExit>>,
    next_remote_key: Cell<u64>,
    stack_size: usize,
    stack_mode: StackMode,
    /// The group this dispatcher belongs to, with its place in it (`Dispatcher::threads`).
    pub(crate) group: Option<Arc<Group>>,
    pub(crate) index: usize,
    /// How it stands in its group (see `engine::group`).
    settled: Cell<Settled>,
    /// Its serial, and its `Remote` findable by it (see `engine::homes`).
    pub(crate) home: Home,
    /// What the handles of an unfinished tasklet on other threads share (the task layer's
    /// `SendTasklet` record), by tasklet id, for the tasklets that have such handles.
    pub(crate) sendables: RefCell<HashMap<u64, Box<dyn Any>>>,
}

impl Scheduler {
    /// A scheduler on `reactor`, alone or as dispatcher `index` of `group`.
    pub(crate) fn new(
        reactor: Reactor,
        stack_size: usize,
        stack_mode: StackMode,
        group: Option<(Arc<Group>, usize)>,
    ) -> Scheduler {
        let (group, index) = match group {
            Some((group, index)) => (Some(group), index),
            None => (None, 0),
        };
        let home = Home::register(reactor.remote());
        Scheduler {
            home,
            sendables: RefCell::new(HashMap::new()),
            queue: RunQueue::default(),
            front: RunQueue::default(),
            next: RunQueue::default(),
            next_base: Cell::new(0),
            streak: Cell::new(0),
            current: Cell::new(None),
            timers: RefCell::new(Timers::default()),
            clock: crate::engine::clock::Clock::default(),
            locals: crate::engine::locals::Locals::default(),
            recycled: crate::engine::recycle::Recycled::default(),
            deadlines: crate::engine::deadline::Deadlines::default(),
            coarse_ms: Cell::new(0),
            switches: Cell::new(0),
            polls: Cell::new(0),
            idle: RefCell::new(Vec::new()),
            handover: Cell::new(None),
            stacks: RefCell::new(StackPool::new()),
            compact: RefCell::new(SharedStacks::default()),
            last_trim: Cell::new(Instant::now()),
            passes: Cell::new(0),
            graveyard: RefCell::new(Vec::new()),
            reaper: Cell::new(None),
            base_panicking: Cell::new(std::thread::panicking()),
            shut_down: Cell::new(false),
            live: RefCell::new(Vec::new()),
            non_daemon: Cell::new(0),
            next_id: Cell::new(1),
            quit: Cell::new(None),
            reactor: RefCell::new(reactor),
            io: RefCell::new(IoTable::default()),
            io_waiters: Cell::new(0),
            idle_waiters: RefCell::new(WaitList::default()),
            idle_rounds: Cell::new(0),
            remote_waits: RefCell::new(HashMap::new()),
            internal_waits: Cell::new(0),
            patient_waits: Cell::new(0),
            monitors: RefCell::new(HashMap::new()),
            links: RefCell::new(HashMap::new()),
            trappers: RefCell::new(HashMap::new()),
            next_remote_key: Cell::new(0),
            stack_size,
            stack_mode,
            group,
            index,
            settled: Cell::new(Settled::No),
        }
    }

    /// The running tasklet.
    #[inline]
    pub(crate) fn current(&self) -> Option<Rc<Task>> {
        let task = self.current.get()?.as_ptr().cast_const();
        // SAFETY: a set `current` is a live record made by `Rc::new` (see the field), so its
        // count may be raised and one more `Rc` made from it.
        unsafe {
            Rc::increment_strong_count(task);
            Some(Rc::from_raw(task))
        }
    }

    /// Counts a patient remote wait in (`1`) or out (`-1`).
    pub(crate) fn patient_waits(&self, change: isize) {
        self.patient_waits
            .set(self.patient_waits.get().saturating_add_signed(change));
    }

    /// How many tasklets are alive.
    pub(crate) fn live_count(&self) -> usize {
        self.live.borrow().len()
    }

    /// Every live tasklet (for dumps).
    pub(crate) fn live_tasks(&self) -> Vec<Rc<Task>> {
        self.live.borrow().clone()
    }

    /// How many tasklets were spawned.
    pub(crate) fn spawned(&self) -> u64 {
        self.next_id.get() - 1
    }

    /// How many tasklets are queued to run (started or not).
    pub(crate) fn ready_count(&self) -> usize {
        self.queue.len() + self.front.len() + self.next.len()
    }

    /// Free stacks kept for reuse, and the address space reserved for stack slots.
    pub(crate) fn stack_pool(&self) -> (usize, usize) {
        let stacks = self.stacks.borrow();
        let idle = self.idle.borrow().len();
        (stacks.free_stacks() + idle, stacks.reserved_bytes())
    }

    /// The deadline of the running tasklet's scope, if it is in one (`engine::deadline`).
    #[inline]
    pub(crate) fn scoped_deadline(&self) -> Option<std::time::Instant> {
        if !self.deadlines.is_any() {
            return None;
        }
        self.deadlines.of(self.current_task()?.id)
    }

    /// The running tasklet's record, borrowed: it is the caller's own tasklet (or none), which
    /// lives at least as long as its code runs (the scheduler's list of unfinished tasklets
    /// holds it).
    #[inline]
    pub(crate) fn current_task(&self) -> Option<&Task> {
        // SAFETY: set, `current` points to a live record (see the field); the caller is code
        // of that tasklet, which keeps it alive while it runs (see above).
        self.current.get().map(|task| unsafe { task.as_ref() })
    }

    /// Whether `task` is the running tasklet.
    #[inline]
    pub(crate) fn is_current(&self, task: &Task) -> bool {
        self.current
            .get()
            .is_some_and(|current| std::ptr::addr_eq(current.as_ptr(), task))
    }

    /// Whether any tasklet is queued to run.
    #[inline]
    pub(crate) fn has_ready(&self) -> bool {
        !self.queue.is_empty() || !self.front.is_empty() || !self.next.is_empty()
    }

    /// Asks the loop to stop with `code` after the running tasklet suspends.
    pub(crate) fn request_quit(&self, code: i32) {
        self.quit.set(Some(code));
    }

    /// The code of the last `quit`, if one was made.
    pub(crate) fn quit_code(&self) -> Option<i32> {
        self.quit.get()
    }

    /// Creates a tasklet and queues it: to run next if a tasklet spawns it (see the module
    /// docs), else at the back of the run queue.
    /// Its record, closure and value slot are one allocation.
    pub(crate) fn spawn<F, T>(&self, opts: SpawnOptions, f: F, default_name: Name) -> Rc<Task>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let parent = if opts.daemon { None } else { self.current() };
        let task = self.spawn_under(parent, opts, f, default_name);
        if !self.locals.is_empty() {
            if let Some(spawner) = self.current() {
                self.locals.inherit(spawner.id, task.id);
            }
        }
        task
    }

    /// [`spawn`](Scheduler::spawn) without a parent, whoever spawns it (a tasklet started at
    /// another dispatcher's request belongs to no tasklet here).
    pub(crate) fn spawn_detached<F, T>(
        &self,
        opts: SpawnOptions,
        f: F,
        default_name: Name,
    ) -> Rc<Task>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        self.spawn_under(None, opts, f, default_name)
    }

    /// Creates a tasklet with `parent` (or none) and queues it (see [`spawn`]).
    ///
    /// [`spawn`]: Scheduler::spawn
    #[inline]
    fn spawn_under<F, T>(
        &self,
        parent: Option<Rc<Task>>,
        opts: SpawnOptions,
        f: F,
        default_name: Name,
    ) -> Rc<Task>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let task = Rc::new(Task::new(
            id,
            opts.name.map_or(default_name, Name::Given),
            opts.daemon,
            u32::try_from(opts.stack_size.unwrap_or(self.stack_size)).unwrap_or(u32::MAX),
            opts.stack_mode.unwrap_or(self.stack_mode),
            parent.as_ref().map(Rc::downgrade),
            f,
        ));
        if let Name::Derived(derived) = &task.name {
            task.spawned_at.set(Some(derived.at));
        }
        crate::engine::trace::spawned(&task, parent.as_ref().map(|p| p.id));
        self.register(&task, parent, opts.inbox);
        task
    }

    /// The bookkeeping of a new tasklet: its parent's children, the live list, the run queue.
    fn register(&self, task: &Rc<Task>, parent: Option<Rc<Task>>, inbox: Option<Rc<dyn AnyInbox>>) {
        task.set_inbox(inbox);
        if let Some(parent) = parent {
            let mut children = parent.children.borrow_mut();
            task.child_index.set(children.len() as u32);
            children.push(task.clone());
        }
        {
            let mut live = self.live.borrow_mut();
            task.live_index.set(live.len() as u32);
            live.push(task.clone());
        }
        if !task.daemon {
            self.non_daemon.set(self.non_daemon.get() + 1);
        }
        if self.current.get().is_none() {
            self.queue.push_back((task.clone(), 0));
        } else {
            self.next.push_back((task.clone(), 0));
        }
    }

    /// Uses a wake-up token: makes `task` ready if it still waits in `epoch`.
    #[inline]
    pub(crate) fn wake(&self, task: &Rc<Task>, epoch: u32, why: Wake) {
        if is_live(task, epoch) {
            self.push_ready(task.clone(), epoch, why);
        }
    }

    /// [`wake`](Scheduler::wake) with a token taken out of a list (no count to raise).
    /// Returns whether the token was live (the tasklet is now ready).
    #[inline]
    pub(crate) fn wake_owned(&self, task: Rc<Task>, epoch: u32, why: Wake) -> bool {
        let live = is_live(&task, epoch);
        if live {
            self.push_ready(task, epoch, why);
        }
        live
    }

    /// Makes the waiting `task` ready, woken for `why`, at the back of the run queue.
    #[inline]
    fn push_ready(&self, task: Rc<Task>, epoch: u32, why: Wake) {
        task.state.set(State::Ready);
        task.wake.set(why);
        self.queue.push_back((task, epoch));
    }

    /// Queues the running tasklet `task` behind the ready ones, as if a wait of a new epoch
    /// began and its token was used (a yield).
    #[inline]
    pub(crate) fn requeue(&self, task: Rc<Task>) {
        let epoch = task.bump_epoch();
        task.state.set(State::Ready);
        task.wake.set(Wake::Ready);
        self.queue.push_back((task, epoch));
    }

    /// Like [`wake`](Scheduler::wake), but `task` runs as soon as the running tasklet suspends
    /// (after what it spawned before): a joiner of a finished tasklet.
    pub(crate) fn wake_next(&self, task: &Rc<Task>, epoch: u32) {
        if is_live(task, epoch) {
            task.state.set(State::Ready);
            task.wake.set(Wake::Ready);
            self.next.push_back((task.clone(), epoch));
        }
    }

    /// Like [`wake_next`](Scheduler::wake_next), but ahead of everything the running tasklet
    /// spawned or woke: a channel receiver, which runs right after the hand-off (the original:
    /// "execution will continue in the receiver"). Returns whether the token was live.
    pub(crate) fn wake_first(&self, task: &Rc<Task>, epoch: u32) -> bool {
        let live = is_live(task, epoch);
        if live {
            task.state.set(State::Ready);
            task.wake.set(Wake::Ready);
            self.next
                .insert(self.next_base.get(), (task.clone(), epoch));
        }
        live
    }
}

/// Removes `task` from an index-tracked list in O(1) by swapping the last element in; returns
/// the removed entry, to be dropped by the caller once the list is no longer borrowed.
fn remove_indexed(
    list: &mut Vec<Rc<Task>>,
    task: &Rc<Task>,
    index: fn(&Task) -> &Cell<u32>,
) -> Option<Rc<Task>> {
    let i = index(task).get() as usize;
    if !list.get(i).is_some_and(|t| Rc::ptr_eq(t, task)) {
        return None;
    }
    let removed = list.swap_remove(i);
    if let Some(moved) = list.get(i) {
        index(moved).set(i as u32);
    }
    Some(removed)
}

/// The default name of a tasklet running a value of type `F`, spawned at the caller's location
/// (see [`Name`]).
#[track_caller]
pub(crate) fn default_name<F>() -> DerivedName {
    DerivedName {
        type_name: std::any::type_name::<F>,
        at: std::panic::Location::caller(),
    }
}
