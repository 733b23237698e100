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
//! [`dispatch`]: crate::dispatch

use std::any::Any;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::rc::{Rc, Weak};
use std::time::Instant;

use crate::engine::compact::{self, Saved, SharedStacks};
use crate::engine::coroutine::{Coro, Suspender, Wake};
use crate::engine::end::TaskletExit;
use crate::engine::end::{down_of, Down};
use crate::engine::end::{BlockedTasklet, ExitReason};
use crate::engine::reactor::Reactor;
use crate::engine::readiness::{self, IoTable};
use crate::engine::run_queue::{self, RunQueue};
use crate::engine::stack::{StackMode, StackPool, TRIM_PERIOD};
use crate::engine::state::AnyInbox;
use crate::engine::state::{Body, DerivedName, Name, Outcome, State, Task, WaitOn};
use crate::engine::wait::{is_live, Wait, WaitList};
use crate::engine::wheel::Timers;
use crate::error::panic_message;

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
    /// Waits other threads end through the reactor's `Remote`, by key (see `remote_wait`).
    remote_waits: RefCell<HashMap<u64, (Rc<Task>, u32)>>,
    /// Monitors by the id of the tasklet they watch: each tells its watcher once it ends.
    monitors: RefCell<HashMap<u64, Vec<DeliverDown>>>,
    /// Links by tasklet id, both ways.
    links: RefCell<HashMap<u64, Vec<Weak<Task>>>>,
    /// Tasklets that trap exits, with how to tell them.
    trappers: RefCell<HashMap<u64, TrapExit>>,
    next_remote_key: Cell<u64>,
    stack_size: usize,
    stack_mode: StackMode,
}

impl Scheduler {
    pub(crate) fn new(reactor: Reactor, stack_size: usize, stack_mode: StackMode) -> Scheduler {
        Scheduler {
            queue: RunQueue::default(),
            front: RunQueue::default(),
            next: RunQueue::default(),
            next_base: Cell::new(0),
            streak: Cell::new(0),
            current: Cell::new(None),
            timers: RefCell::new(Timers::default()),
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
            monitors: RefCell::new(HashMap::new()),
            links: RefCell::new(HashMap::new()),
            trappers: RefCell::new(HashMap::new()),
            next_remote_key: Cell::new(0),
            stack_size,
            stack_mode,
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
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let parent = if opts.daemon { None } else { self.current() };
        let task = Rc::new(Task::new(
            id,
            opts.name.map_or(default_name, Name::Given),
            opts.daemon,
            u32::try_from(opts.stack_size.unwrap_or(self.stack_size)).unwrap_or(u32::MAX),
            opts.stack_mode.unwrap_or(self.stack_mode),
            parent.as_ref().map(Rc::downgrade),
            f,
        ));
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

    /// Runs `task` (new or suspended) until it suspends or finishes; then what it spawned or
    /// woke to run next goes to the front (see the module docs).
    pub(crate) fn run(&self, task: &Rc<Task>, why: Wake) {
        // A tasklet resumed by another (a kill) adds to the other's list: only what it added
        // goes to the front now. (The list keeps its capacity: no allocation per run.)
        let base = self.next.len();
        let outer = self.next_base.replace(base);
        self.resume(task, why);
        self.next_base.set(outer);
        while self.next.len() > base {
            let Some(entry) = self.next.pop_back() else {
                break;
            };
            self.front.push_front(entry);
        }
    }

    /// Resumes `task` until it suspends, and finishes it if it returned. A new tasklet resumed
    /// with [`Wake::Killed`] starts only to drop its closure (see [`run_entry`]).
    fn resume(&self, task: &Rc<Task>, why: Wake) {
        if task.state.get() == State::New && !self.start(task, why) {
            return;
        }
        task.state.set(State::Running);
        // `task` (the caller's `Rc`) outlives this call: `current` may point to it until reset.
        let previous = self.current.replace(Some(NonNull::from(&**task)));
        // The coroutine stays borrowed while it runs, not while it is suspended: only its own
        // code runs meanwhile, and nothing touches the coroutine of a running tasklet.
        let finished = match &mut *task.body.borrow_mut() {
            Body::Started(coro) => {
                if let Some(saved) = coro.compact.as_deref_mut() {
                    self.enter_shared_stack(task, saved);
                }
                let finished = coro.resume(why);
                if let Some(saved) = coro.compact.as_deref() {
                    // It suspended last on this thread (or finished: then this is not read).
                    saved
                        .suspended_at
                        .set(crate::engine::coroutine::suspended_at());
                }
                finished
            }
            _ => unreachable!("a started tasklet has a coroutine"),
        };
        self.current.set(previous);
        let stack = task.stack.get();
        if !stack.canary_intact() {
            crate::engine::overflow::canary_damaged(task.name(), task.id, stack.size);
        }
        if finished {
            let body = std::mem::replace(&mut *task.body.borrow_mut(), Body::Done);
            if let Body::Started(coro) = body {
                if let Some(saved) = coro.compact.as_deref() {
                    self.compact.borrow_mut().leave(task, saved);
                }
                self.stacks.borrow_mut().put(coro.into_stack());
            }
            self.finish(task);
        }
    }

    /// Puts a compact tasklet's bytes in its shared stack before it runs (see `compact.rs`).
    #[inline(never)]
    fn enter_shared_stack(&self, task: &Rc<Task>, saved: &mut Saved) {
        let below = compact::save_below().expect("a compact tasklet started, so it is measured");
        self.compact.borrow_mut().enter(task, saved, below);
    }

    /// Whether `task` uses a shared stack that a running tasklet (its killer, or one the killer
    /// is resuming) is on, so that it cannot be resumed here.
    fn shared_stack_busy(&self, task: &Task) -> bool {
        match &*task.body.borrow() {
            Body::Started(coro) => coro
                .compact
                .as_deref()
                .is_some_and(|saved| self.compact.borrow().blocked(task, saved)),
            _ => false,
        }
    }

    /// Kills `task` when it cannot be resumed here (see [`shared_stack_busy`]): it is queued to
    /// unwind as soon as the running tasklet suspends, and the running tasklet waits for its
    /// end, so that it has unwound when `kill` returns, as a kill resumed here would have
    /// (unless the killer is itself killed while it waits).
    ///
    /// [`shared_stack_busy`]: Scheduler::shared_stack_busy
    fn kill_through_loop(&self, task: &Rc<Task>) {
        let epoch = task.bump_epoch();
        task.state.set(State::Ready);
        task.wake.set(Wake::Killed);
        self.next
            .insert(self.next_base.get(), (task.clone(), epoch));
        while !task.is_finished() {
            let wait = Wait::begin(WaitOn::Join(task.id));
            task.add_joiner(wait.task().clone(), wait.epoch());
            if wait.suspend(None).is_err() {
                return; // killed while unwinding: the victim still unwinds, queued
            }
        }
    }

    /// Gives a new tasklet its stack and coroutine. On failure it finishes with `NoStack` (or
    /// `Killed`, when it was started to be killed), its closure buried, and this returns `false`.
    fn start(&self, task: &Rc<Task>, why: Wake) -> bool {
        let size = task.stack_size as usize;
        let stack = if task.stack_mode.is_compact() && compact::save_below().is_some() {
            let mut pool = self.stacks.borrow_mut();
            self.compact
                .borrow_mut()
                .start(task, size, &mut pool)
                .map(|(stack, saved)| (stack, Some(saved)))
        } else {
            let stack = self.stacks.borrow_mut().get(size, task.stack_mode);
            stack.map(|stack| (stack, None))
        };
        let body = std::mem::replace(&mut *task.body.borrow_mut(), Body::Done);
        assert!(matches!(body, Body::New), "only a new tasklet starts");
        let (stack, saved) = match stack {
            Ok(got) => got,
            Err(err) => {
                let work = std::mem::replace(&mut *task.outcome.borrow_mut(), Outcome::Taken);
                *task.outcome.borrow_mut() = if why == Wake::Killed {
                    Outcome::Killed
                } else {
                    crate::engine::logging::log_at!(
                        Error,
                        "tasklet '{}' (#{}) could not start: {err}",
                        task.name(),
                        task.id
                    );
                    Outcome::NoStack(err.to_string().into())
                };
                if let Outcome::Pending(Some(work)) = work {
                    if work.needs_drop() {
                        bury(work);
                    } // else nothing to drop: no user code runs
                }
                self.finish(task);
                return false;
            }
        };
        task.stack.set(stack.info());
        let me = task.clone();
        *task.body.borrow_mut() =
            Body::Started(Coro::new(stack, saved, move |suspender, first| {
                run_entry(me, suspender, first)
            }));
        true
    }

    /// Bookkeeping when a tasklet has finished (its outcome is set, its stack returned).
    fn finish(&self, task: &Rc<Task>) {
        task.state.set(State::Finished);
        task.bump_epoch();
        if let Some(parent) = task.parent() {
            let removed =
                remove_indexed(&mut parent.children.borrow_mut(), task, |t| &t.child_index);
            drop(removed);
        }
        // Its children are nobody's now (the original's tree shows only live parents).
        let orphans = std::mem::take(&mut *task.children.borrow_mut());
        for child in &orphans {
            child.clear_parent();
        }
        let removed = remove_indexed(&mut self.live.borrow_mut(), task, |t| &t.live_index);
        if !task.daemon {
            self.non_daemon.set(self.non_daemon.get() - 1);
        }
        // A tasklet that ran closed its mailbox itself; one that never ran has it closed here.
        // The closed mailbox stays in the record: a handle typed later (`with_messages`) sends
        // into it and gets `SendError::Finished` with its message back.
        if let Some(inbox) = task.inbox().filter(|inbox| !inbox.is_closed()) {
            bury(inbox.close());
        }
        if self.reaper.get() == Some(task.id) {
            self.reaper.set(None);
            if matches!(&*task.outcome.borrow(), Outcome::NoStack(_)) {
                // No stack for a tasklet to drop them in: here, panics caught and reported.
                let dead = std::mem::take(&mut *self.graveyard.borrow_mut());
                drop_caught(
                    dead,
                    "values nobody took (no stack for a tasklet to drop them)",
                );
            }
        }
        let monitors = take_entry(&self.monitors, task.id);
        if let Some(monitors) = monitors {
            for deliver in monitors {
                deliver(down_of(task));
            }
        }
        drop(take_entry(&self.trappers, task.id));
        let partners = take_entry(&self.links, task.id);
        if let Some(partners) = partners {
            let down = down_of(task);
            for partner in partners.iter().filter_map(Weak::upgrade) {
                self.unlink(partner.id, task.id);
                if down.result.is_err() {
                    self.exit_signal(&partner, down.clone());
                }
            }
        }
        let mut joined = false;
        for (joiner, epoch) in task.take_joiners() {
            joined |= is_live(&joiner, epoch);
            self.wake_next(&joiner, epoch);
        }
        // A panic nobody waits for is reported when it happens, as the original does (the
        // first tasklet's is the dispatcher's exit status instead); a later join still sees it.
        if !joined && task.id != FIRST_ID {
            if let Outcome::Panicked(message) = &*task.outcome.borrow() {
                task.panic_seen.set(true);
                crate::engine::logging::log_at!(
                    Error,
                    "tasklet '{}' (#{}) panicked and nobody is joining it: {message}",
                    task.name(),
                    task.id
                );
            }
        }
        drop((orphans, removed));
    }

    /// Kills `task`: it unwinds from its suspension point before this returns. See
    /// [`Tasklet::kill`](crate::Tasklet::kill) for the cases.
    pub(crate) fn kill(&self, task: &Rc<Task>) {
        if task.state.get() != State::Finished && !self.shut_down.get() {
            // Whether the victim unwinds is read from the counts the panic hook keeps: a hook
            // the program installed meanwhile is wrapped first (once for all of shutdown's).
            count_panics();
        }
        match task.state.get() {
            State::Finished => {}
            // Started only to drop its closure, on its own stack: a destructor there may block.
            State::New => {
                self.run(task, Wake::Killed);
                self.honour_pending_kill();
            }
            State::Running => {
                if self.is_current(task) {
                    if self.is_unwinding(task) {
                        return; // dying already: a second unwind would abort the process
                    }
                    raise_exit(task);
                }
                // It is resuming the tasklet that kills it: it unwinds when control returns.
                task.kill_pending.set(true);
            }
            State::Waiting | State::Ready if self.shared_stack_busy(task) => {
                self.kill_through_loop(task);
            }
            State::Waiting | State::Ready => {
                task.bump_epoch();
                self.run(task, Wake::Killed);
                self.honour_pending_kill();
            }
        }
    }

    /// The killer was killed meanwhile (by its victim's destructor, or a link): it unwinds now,
    /// unless it is unwinding already.
    fn honour_pending_kill(&self) {
        if let Some(me) = self.current() {
            if me.kill_pending.replace(false) && !self.is_unwinding(&me) {
                raise_exit(&me);
            }
        }
    }

    /// Whether `task` is unwinding (a kill or a panic is in flight on its stack), so that a
    /// kill must not unwind it a second time (that would abort the process).
    ///
    /// The runtime counts the unwinds it starts (kills) and, through its panic hook, the panics
    /// of tasklets; a count goes down when the runtime catches the panic or the `TaskletExit`
    /// payload is dropped, and is cleared whenever the thread is seen not unwinding at all.
    /// The hook is the runtime's wrapper around the program's own, put back whenever a
    /// dispatcher starts and before each kill ([`count_panics`]). When the count says nothing
    /// but the thread unwinds (a hook installed while the thread was unwinding, when it could
    /// not be wrapped), the tasklet is taken to be the one unwinding unless another tasklet
    /// known to unwind explains it.
    pub(crate) fn is_unwinding(&self, task: &Task) -> bool {
        if task.unwinding.get() > 0 {
            return true;
        }
        if !std::thread::panicking() || self.base_panicking.get() {
            return false;
        }
        !self
            .live
            .borrow()
            .iter()
            .any(|t| !std::ptr::addr_eq(Rc::as_ptr(t), task) && t.unwinding.get() > 0)
    }

    /// Runs tasklets until `quit`, SIGINT, no non-daemon tasklet left, or a deadlock.
    pub(crate) fn run_loop(&self) -> ExitReason {
        loop {
            // A pass runs what was ready when it began, but at least a few dozen tasklets when
            // that many keep becoming ready: the checks between passes are not paid per switch.
            let mut pass = (self.queue.len() + self.front.len()).max(MIN_PASS);
            while pass > 0 {
                pass -= 1;
                let Some((task, epoch)) = self.pop_next() else {
                    break;
                };
                match task.state.get() {
                    State::New if epoch == 0 => self.run(&task, Wake::Ready),
                    State::Ready if task.epoch.get() == epoch => self.run(&task, task.wake.get()),
                    _ => {} // stale: the wait it was queued for has ended
                }
                if self.quit.get().is_some() || self.non_daemon.get() == 0 {
                    break; // the reason is read below
                }
            }
            if let Some(reason) = self.should_stop() {
                return reason;
            }
            self.reap();
            if self.passes.get() >= TRIM_CHECK_PASSES {
                self.maybe_trim();
            }
            self.passes.set(self.passes.get() + 1);
            if self.has_ready() {
                self.refresh();
                continue;
            }
            if !self.idle_waiters.borrow().is_empty() {
                // Nothing ready: the idle waiters' turn, once timers and IO had theirs.
                self.refresh();
                if !self.has_ready() {
                    self.idle_rounds.set(self.idle_rounds.get() + 1);
                    self.idle_waiters.borrow_mut().wake_all(self);
                }
                continue;
            }
            let next_deadline = self.timers.borrow().next_deadline();
            if next_deadline.is_none() && !self.waits_outside() {
                return ExitReason::Deadlock(self.blocked());
            }
            let mut timeout = next_deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if self.stacks.borrow().has_untrimmed() {
                // Idle with free stacks still holding memory: wake up to give it back.
                timeout = Some(timeout.map_or(TRIM_PERIOD, |t| t.min(TRIM_PERIOD)));
            }
            self.poll(timeout);
            self.maybe_trim();
            self.fire_timers();
        }
    }

    /// Trims the free stacks if the last trim is `TRIM_PERIOD` ago (see `stack.rs`).
    fn maybe_trim(&self) {
        self.passes.set(0);
        let now = Instant::now();
        if now.duration_since(self.last_trim.get()) >= TRIM_PERIOD {
            self.last_trim.set(now);
            let mut stacks = self.stacks.borrow_mut();
            if stacks.has_untrimmed() {
                stacks.trim();
            }
        }
    }

    /// Starts a tasklet that drops the values buried so far (see [`bury`]), unless one is
    /// pending already; returns it.
    fn reap(&self) -> Option<Rc<Task>> {
        if self.graveyard.borrow().is_empty() || self.reaper.get().is_some() {
            return None;
        }
        let opts = SpawnOptions {
            name: Some(Cow::Borrowed("drop")),
            daemon: true,
            stack_size: None,
            stack_mode: None,
            inbox: None,
        };
        // It takes the values when it runs, not when it is spawned: a reaper that cannot start
        // (no stack) or is killed first holds nothing.
        let reaper = self.spawn(opts, drop_buried, Name::Function("drop"));
        self.reaper.set(Some(reaper.id));
        Some(reaper)
    }

    /// The next tasklet to run: from `front`, but from `queue` after `NEXT_STREAK` runs in a row
    /// from `front` (or when `front` is empty).
    fn pop_next(&self) -> Option<run_queue::Entry> {
        if self.streak.get() < NEXT_STREAK {
            if let Some(entry) = self.front.pop_front() {
                self.streak.set(self.streak.get() + 1);
                return Some(entry);
            }
        }
        self.streak.set(0);
        self.queue.pop_front().or_else(|| self.front.pop_front())
    }

    /// Why the loop must stop now, if it must.
    fn should_stop(&self) -> Option<ExitReason> {
        if let Some(code) = self.quit.get() {
            Some(ExitReason::Quit(code))
        } else if self.non_daemon.get() == 0 {
            Some(ExitReason::Finished)
        } else if self.reactor.borrow().interrupted() {
            Some(ExitReason::Interrupted)
        } else if self.reactor.borrow().terminated() {
            Some(ExitReason::Terminated)
        } else {
            None
        }
    }

    /// Whether the loop has something to do besides running the caller: a tasklet ready, or a
    /// reason to stop. Fires due timers and polls IO without blocking first.
    #[inline]
    pub(crate) fn has_work(&self) -> bool {
        self.has_ready() || self.has_work_after_refresh()
    }

    /// [`has_work`](Scheduler::has_work) when nothing was ready.
    #[inline(never)]
    fn has_work_after_refresh(&self) -> bool {
        self.refresh();
        self.has_ready() || self.should_stop().is_some()
    }

    /// Makes ready what has become ready without blocking: expired timers, IO readiness.
    fn refresh(&self) {
        let next_deadline = self.timers.borrow().next_deadline();
        if next_deadline.is_some_and(|d| d <= Instant::now()) {
            self.fire_timers();
        }
        if self.waits_outside() {
            self.poll(Some(std::time::Duration::ZERO));
        }
    }

    /// Whether a tasklet waits for something from outside the dispatcher: IO readiness, or a
    /// wait another thread ends (`io::blocking`).
    fn waits_outside(&self) -> bool {
        self.io_waiters.get() > 0 || !self.remote_waits.borrow().is_empty()
    }

    /// Blocks in the reactor for at most `timeout`, then wakes what it reported: tasklets
    /// waiting for IO readiness, and waits ended from other threads.
    fn poll(&self, timeout: Option<std::time::Duration>) {
        let (polled, ready, woken) = {
            let mut reactor = self.reactor.borrow_mut();
            let polled = reactor.poll(timeout);
            (
                polled,
                std::mem::take(&mut reactor.ready),
                reactor.remote().take_woken(),
            )
        };
        // Logged once the reactor is no longer borrowed: the logger may call the runtime.
        if let Err(err) = polled {
            crate::engine::logging::log_at!(
                Error,
                "concurrence: polling the reactor failed: {err}"
            );
        }
        for (token, readiness) in ready {
            let state = self.io.borrow().get(token);
            if let Some(state) = state {
                readiness::deliver(&state, readiness, self);
            }
        }
        for key in woken {
            let waiter = self.remote_waits.borrow_mut().remove(&key);
            if let Some((task, epoch)) = waiter {
                self.wake(&task, epoch, Wake::Ready);
            }
        }
    }

    /// Registers the wait `epoch` of `task` to be ended by another thread through
    /// [`Remote::wake`](crate::engine::reactor::Remote::wake) with the key returned; while registered,
    /// the dispatcher does not count as deadlocked.
    pub(crate) fn remote_wait(&self, task: Rc<Task>, epoch: u32) -> u64 {
        let key = self.next_remote_key.get();
        self.next_remote_key.set(key + 1);
        self.remote_waits.borrow_mut().insert(key, (task, epoch));
        key
    }

    /// Adds a monitor of the tasklet `watched` (see `Tasklet::monitor`).
    pub(crate) fn add_monitor(&self, watched: u64, deliver: DeliverDown) {
        self.monitors
            .borrow_mut()
            .entry(watched)
            .or_default()
            .push(deliver);
    }

    /// Links two tasklets (see `Tasklet::link`).
    pub(crate) fn link(&self, a: &Rc<Task>, b: &Rc<Task>) {
        let mut links = self.links.borrow_mut();
        for (from, to) in [(a, b), (b, a)] {
            let list = links.entry(from.id).or_default();
            if !list
                .iter()
                .any(|w| std::ptr::addr_eq(w.as_ptr(), Rc::as_ptr(to)))
            {
                list.push(Rc::downgrade(to));
            }
        }
    }

    /// Removes the link between the tasklets of ids `a` and `b`.
    pub(crate) fn unlink(&self, a: u64, b: u64) {
        let mut links = self.links.borrow_mut();
        for (from, to) in [(a, b), (b, a)] {
            if let Some(list) = links.get_mut(&from) {
                list.retain(|w| w.upgrade().is_some_and(|t| t.id != to));
            }
        }
    }

    /// Makes the tasklet `id` trap exits.
    pub(crate) fn trap_exits(&self, id: u64, deliver: TrapExit) {
        self.trappers.borrow_mut().insert(id, deliver);
    }

    /// A linked tasklet ended abnormally: `partner` traps it as a message, or is killed.
    pub(crate) fn exit_signal(&self, partner: &Rc<Task>, down: Down) {
        if partner.is_finished() {
            return;
        }
        let trapper = self.trappers.borrow().get(&partner.id).cloned();
        match trapper {
            Some(deliver) => deliver(down),
            // The running tasklet (its kill of the linked one ends here) or one resuming
            // another: unwound when control returns to it.
            None if partner.state.get() == State::Running => partner.kill_pending.set(true),
            None => self.kill(partner),
        }
    }

    /// Points the remote wait `key` at a new wait of its tasklet (one that waits again).
    pub(crate) fn renew_remote_wait(&self, key: u64, task: Rc<Task>, epoch: u32) {
        self.remote_waits.borrow_mut().insert(key, (task, epoch));
    }

    /// Forgets a remote wait that ended otherwise (a timeout, a kill); a later wake-up by its
    /// key does nothing.
    pub(crate) fn forget_remote_wait(&self, key: u64) {
        let removed = self.remote_waits.borrow_mut().remove(&key);
        drop(removed);
    }

    /// Wakes every tasklet whose deadline has passed, in deadline order.
    fn fire_timers(&self) {
        let now = Instant::now();
        loop {
            let expired = self.timers.borrow_mut().pop_expired(now);
            let Some((task, epoch)) = expired else { break };
            self.wake(&task, epoch, Wake::TimedOut);
        }
    }

    /// The unfinished tasklets and what each waits for.
    fn blocked(&self) -> Vec<BlockedTasklet> {
        let mut blocked: Vec<BlockedTasklet> = self
            .live
            .borrow()
            .iter()
            .filter(|t| t.state.get() == State::Waiting)
            .map(|t| BlockedTasklet {
                name: t.name().to_owned(),
                id: t.id,
                daemon: t.daemon,
                waiting_on: t.waiting_on.get().0.to_string(),
                at: t.waiting_on.get().1.to_string(),
            })
            .collect();
        blocked.sort_by_key(|b| b.id);
        blocked
    }

    /// Kills every unfinished tasklet, youngest first, so that their destructors run, and drops
    /// the values nobody took. A tasklet that survives three rounds of kills is leaked with its
    /// stack, and logged; every record is finished afterwards (see [`leak_survivors`]). Runs
    /// once: a second call does nothing.
    ///
    /// [`leak_survivors`]: Scheduler::leak_survivors
    pub(crate) fn shutdown(&self) {
        if self.shut_down.replace(true) {
            return;
        }
        count_panics(); // for every kill below (see `kill`)
                        // The kills run user code (destructors, in the tasklets); a panic that escapes them is
                        // a bug of the runtime, but the records must end inert all the same.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.kill_all())) {
            crate::engine::logging::report(format_args!(
                "concurrence: the dispatcher's shutdown failed: {}",
                panic_message(&*payload)
            ));
            drop_caught_quietly(payload);
        }
        self.leak_survivors();
        self.queue.clear();
        self.front.clear();
        self.next.clear();
        self.timers.borrow_mut().clear();
        self.remote_waits.borrow_mut().clear();
        let monitors = std::mem::take(&mut *self.monitors.borrow_mut());
        drop_caught(monitors, "the monitors left at the dispatcher's end");
        self.links.borrow_mut().clear();
        let trappers = std::mem::take(&mut *self.trappers.borrow_mut());
        drop_caught(trappers, "the exit trappers left at the dispatcher's end");
        // What was buried in the last round has no tasklet left to drop it in.
        let dead = std::mem::take(&mut *self.graveyard.borrow_mut());
        drop_caught(dead, "a value nobody took");
    }

    /// [`shutdown`](Scheduler::shutdown) on the way out of a `dispatch` that is unwinding (a
    /// bug of the runtime: user code runs only where its panics are caught). The thread's
    /// panic says nothing about the tasklets then (see [`is_unwinding`](Scheduler::is_unwinding)).
    pub(crate) fn shutdown_unwinding(&self) {
        if std::thread::panicking() {
            self.base_panicking.set(true);
        }
        self.shutdown();
    }

    /// The kills of [`shutdown`](Scheduler::shutdown): three rounds at most.
    fn kill_all(&self) {
        for _round in 0..3 {
            if let Some(reaper) = self.reap() {
                self.run(&reaper, Wake::Ready); // a destructor that blocks is killed below
            }
            let victims: Vec<Rc<Task>> = self.live.borrow().iter().rev().cloned().collect();
            if victims.is_empty() {
                break;
            }
            for victim in victims {
                self.kill(&victim);
            }
        }
    }

    /// Makes every tasklet still unfinished inert, for good: it is logged, its coroutine and
    /// stack are leaked (never resumed, never unmapped: a scoped thread it lent its stack to
    /// may still read it), its mailbox is closed (a send gets its message back) and it counts
    /// as killed, so that a handle kept past the dispatcher (in a thread-local, used by a later
    /// dispatcher) finds a finished tasklet and never resumes it. Runs no user code but the
    /// destructors of unread messages, caught.
    fn leak_survivors(&self) {
        let survivors = std::mem::take(&mut *self.live.borrow_mut());
        let mut stacks_leaked = false;
        for task in &survivors {
            crate::engine::logging::log_at!(
                Error,
                "tasklet '{}' (#{}) refused to die at dispatcher shutdown; leaking it and its stack",
                task.name(),
                task.id
            );
            // Dropping a suspended coroutine would unwind it once more; it has shown that it
            // catches that, so its stack and closure are leaked instead.
            let body = std::mem::replace(&mut *task.body.borrow_mut(), Body::Done);
            stacks_leaked |= matches!(body, Body::Started(_));
            std::mem::forget(body);
            let outcome = std::mem::replace(&mut *task.outcome.borrow_mut(), Outcome::Killed);
            std::mem::forget(outcome); // a closure still pending would be user code to drop
            task.state.set(State::Finished);
            task.bump_epoch();
            let joiners = task.take_joiners();
            drop(joiners);
            if let Some(inbox) = task.inbox().filter(|inbox| !inbox.is_closed()) {
                drop_caught(inbox.close(), "the unread messages of a leaked tasklet");
            }
        }
        if stacks_leaked {
            // A leaked coroutine's stack lies in a region of the pool or is a shared stack: the
            // pool must not unmap them when the scheduler is dropped.
            self.stacks.borrow_mut().keep_mapped();
            self.compact.borrow_mut().leak();
        } else {
            self.compact
                .borrow_mut()
                .release(&mut self.stacks.borrow_mut());
        }
        self.non_daemon.set(0);
        drop(survivors);
    }
}

/// Runs the dispatcher's shutdown when `dispatch` is left by unwinding (see
/// [`Scheduler::shutdown_unwinding`]); on the normal way out `dispatch` has run it already.
pub(crate) struct ShutdownGuard<'a>(pub(crate) &'a Scheduler);

impl Drop for ShutdownGuard<'_> {
    fn drop(&mut self) {
        self.0.shutdown_unwinding();
    }
}

/// How a monitor tells its watcher that the watched tasklet ended.
pub(crate) type DeliverDown = Box<dyn FnOnce(Down)>;

/// How a tasklet that traps exits is told that a linked tasklet ended abnormally.
pub(crate) type TrapExit = Rc<dyn Fn(Down)>;

/// The id of a dispatcher's first tasklet.
const FIRST_ID: u64 = 1;

/// Passes of the loop between checks of the clock for trimming stacks.
const TRIM_CHECK_PASSES: u32 = 64;

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

/// What every tasklet's coroutine runs: the entry closure, with panics and kills caught and
/// turned into the tasklet's outcome; then its unread messages are dropped, still on its own
/// stack. A tasklet killed before it started (`first` is [`Wake::Killed`]) only drops its
/// closure, as a tasklet that unwinds.
fn run_entry(task: Rc<Task>, suspender: Suspender, first: Wake) {
    task.suspender.set(suspender);
    // The closure, moved out of the record while it runs: the record is not borrowed then.
    let work = match &mut *task.outcome.borrow_mut() {
        Outcome::Pending(work) => work.take(),
        _ => None,
    }
    .expect("a tasklet starts with its closure");
    let outcome = if first == Wake::Killed {
        task.unwinding.set(task.unwinding.get().saturating_add(1));
        let dropped = catch_unwind(AssertUnwindSafe(|| work.drop_closure()));
        caught_one(&task);
        if let Err(payload) = dropped {
            drop_payload(&task, payload);
        }
        Outcome::Killed
    } else {
        match catch_unwind(AssertUnwindSafe(|| work.run())) {
            Ok(()) => Outcome::Value(work),
            Err(payload) => {
                let outcome = if payload.is::<TaskletExit>() {
                    Outcome::Killed
                } else {
                    Outcome::Panicked(panic_message(&*payload).into())
                };
                drop_payload(&task, payload);
                outcome
            }
        }
    };
    *task.outcome.borrow_mut() = outcome;
    if let Some(inbox) = task.inbox() {
        let unread = inbox.close();
        drop_caught(unread, "the unread messages of a finished tasklet");
    }
    task.unwinding.set(0);
}

/// Drops a caught panic payload: a `TaskletExit` says so itself when dropped; for another
/// payload the runtime counts the panic as caught. A payload whose destructor panics is
/// reported and that second payload leaked.
fn drop_payload(task: &Task, payload: Box<dyn Any + Send>) {
    if !payload.is::<TaskletExit>() {
        caught_one(task);
    }
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        caught_one(task);
        crate::engine::logging::report(format_args!(
            "concurrence: dropping the panic payload of tasklet '{}' (#{}) panicked; leaking it",
            task.name(),
            task.id
        ));
        std::mem::forget(second);
    }
}

/// One panic in flight on `task`'s stack was caught by the runtime.
fn caught_one(task: &Task) {
    task.unwinding.set(task.unwinding.get().saturating_sub(1));
}

/// Drops `value` here, catching a panic of its destructor and reporting it (a kill is not
/// reported: it goes on as the end of the tasklet that was dropping).
pub(crate) fn drop_caught<V>(value: V, what: &str) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        if !payload.is::<TaskletExit>() {
            panic_caught();
            crate::engine::logging::report(format_args!(
                "concurrence: dropping {what} panicked: {}",
                panic_message(&*payload)
            ));
        }
        drop_caught_quietly(payload);
    }
}

/// Drops a payload, leaking it if its destructor panics too.
fn drop_caught_quietly(payload: Box<dyn Any + Send>) {
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
}

/// The body of the `drop` tasklet: drops what was buried, until nothing is left.
fn drop_buried() {
    let sched = get();
    loop {
        let dead = std::mem::take(&mut *sched.graveyard.borrow_mut());
        if dead.is_empty() {
            return;
        }
        drop(dead);
    }
}

/// Takes charge of a value nobody took (an unjoined tasklet's result, messages of a tasklet
/// that never ran, the closure of one that could not start). Its destructor is user code that
/// may block or panic, and the value may be let go anywhere, in the scheduler's own loop too:
/// so while a dispatcher runs it is dropped in a daemon tasklet of its own (`drop`), soon; a
/// panic there is that tasklet's panic, reported as such. Without a dispatcher it is dropped at
/// once, a panic caught and reported.
pub(crate) fn bury(value: Box<dyn Any>) {
    match try_get() {
        Some(sched) => sched.graveyard.borrow_mut().push(value),
        None => drop_caught(value, "a value nobody took"),
    }
}

/// Unwinds the running tasklet `task` with a [`TaskletExit`] payload.
pub(crate) fn raise_exit(task: &Task) -> ! {
    task.unwinding.set(task.unwinding.get().saturating_add(1));
    std::panic::resume_unwind(Box::new(TaskletExit::new(task.id)))
}

/// Runs `f` on the running tasklet of this thread's scheduler, if there is one, without
/// panicking (it is called from a panic hook and from destructors).
fn with_current(f: impl FnOnce(&Task)) {
    if let Some(task) = try_get().as_deref().and_then(Scheduler::current_task) {
        f(task);
    }
}

/// The running tasklet caught a panic of its own (a runtime helper that catches and goes on).
pub(crate) fn panic_caught() {
    with_current(caught_one);
}

/// A [`TaskletExit`] of tasklet `id` was dropped: caught, that unwind is over.
pub(crate) fn exit_caught(id: u64) {
    with_current(|task| {
        if task.id == id {
            caught_one(task);
        }
    });
}

/// Makes sure the process's panic hook counts each panic of a tasklet as in flight on its
/// stack (see [`Scheduler::is_unwinding`]): wraps the hook in place unless it is the runtime's
/// own wrapper already, so that a hook the program installed later (`std::panic::set_hook`
/// replaces the wrapper) is wrapped in turn; the wrapped hook still runs, after the count.
/// Checked when a dispatcher starts and before each kill. The hook cannot be read or changed
/// while the thread unwinds: then this does nothing, and the next check wraps it.
pub(crate) fn count_panics() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    /// The address of the runtime's installed wrapper (0 before the first).
    static OURS: AtomicUsize = AtomicUsize::new(0);
    /// Serialises the checks of several dispatcher threads (a double wrap would count twice).
    static CHECK: Mutex<()> = Mutex::new(());
    if std::thread::panicking() {
        return;
    }
    let _checking = CHECK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let installed = std::panic::take_hook();
    // The wrapper captures the hook it wraps, so it is not zero-sized: its address is unique
    // while it is installed.
    let address = |hook: &(dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static)| {
        std::ptr::from_ref(hook).cast::<()>() as usize
    };
    if address(&*installed) == OURS.load(Ordering::Relaxed) {
        std::panic::set_hook(installed);
        return;
    }
    let wrapper: Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static> =
        Box::new(move |info| {
            with_current(|task| task.unwinding.set(task.unwinding.get().saturating_add(1)));
            installed(info);
        });
    OURS.store(address(&*wrapper), Ordering::Relaxed);
    std::panic::set_hook(wrapper);
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

/// Removes and returns the entry of the tasklet `id` from one of the scheduler's maps; an empty
/// map (no monitor, link or trapper anywhere: the common case) is not hashed into.
fn take_entry<V>(map: &RefCell<HashMap<u64, V>>, id: u64) -> Option<V> {
    let mut map = map.borrow_mut();
    if map.is_empty() {
        None
    } else {
        map.remove(&id)
    }
}
