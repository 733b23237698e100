//! The tasklet state machine and the record the runtime keeps for each tasklet.
//!
//! | state      | what it means                                     | queued | `body`                     | goes to                        |
//! |------------|---------------------------------------------------|--------|----------------------------|--------------------------------|
//! | `New`      | spawned, never run, no stack yet                  | yes    | `New(closure)`             | `Running`; `Finished` (killed) |
//! | `Ready`    | suspended and due to run; `wake` says why         | yes    | `Started(coroutine)`       | `Running`                      |
//! | `Running`  | executing, or resuming a tasklet it is killing    | no     | `Started`, borrowed        | `Waiting`, `Finished`          |
//! | `Waiting`  | suspended in a blocking call, wake-ups registered | no     | `Started(coroutine)`       | `Ready`; `Running` (killed)    |
//! | `Finished` | returned, panicked or killed; `outcome` set       | no     | `Done`; stack back in pool | —                              |
//!
//! **Epochs.** Every wait starts a new epoch. Wake-up tokens, timers and run-queue entries carry
//! the epoch they were made for; one that carries an older epoch is stale and does nothing. So a
//! wait can register several wake-up sources (a join and a deadline, say) and the first to fire
//! wins, and nothing has to be unregistered eagerly for correctness.
//!
//! Who touches what: the scheduler moves a tasklet from `New`/`Ready` to `Running` and to
//! `Finished`; the tasklet itself moves from `Running` to `Waiting` when it blocks (a yield is a
//! wait whose token it uses at once); wake-up sources move it from `Waiting` to `Ready` through
//! [`Scheduler::wake`]; a kill moves a `Waiting` or `Ready` tasklet straight to `Running`.
//!
//! [`Scheduler::wake`]: crate::engine::scheduler::Scheduler::wake

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::rc::{Rc, Weak};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::engine::coroutine::{Coro, Suspender, Wake};
use crate::engine::stack::{StackInfo, StackMode};
use crate::engine::work::{Payload, Work};
use crate::error::{JoinCause, JoinError};

/// Where a tasklet is in its life; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    New,
    Ready,
    Running,
    Waiting,
    Finished,
}

/// What a waiting tasklet waits for, for deadlock reports and debugging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitOn {
    Sleep,
    Yield,
    Join(u64),
    JoinAll,
    /// A message (or an item of a [`Mailbox`](crate::Mailbox)).
    Receive,
    /// Room in a full mailbox.
    MailboxRoom,
    /// The reply to a call of this message (its name, by a thin pointer: `WaitOn` stays small).
    Reply(&'static &'static str),
    /// A receiver on a channel.
    ChannelSend,
    /// A sender on a channel.
    ChannelReceive,
    /// A file descriptor to become readable.
    Readable(i32),
    /// A file descriptor to become writable.
    Writable(i32),
    /// A function running on the blocking pool.
    Blocking,
    /// A future's waker.
    Future,
    /// The dispatcher to have nothing else to run.
    Idle,
    /// A call at a `CallWait`.
    CallWait,
    /// A Unix signal (`Signals`).
    Signal,
    /// A child process to end.
    Exit(u32),
    /// The first of this many conditions (`wait_for::any`, `select!`).
    Any(usize),
    /// A primitive of `concurrence::sync` (what it waits for, by a thin pointer).
    Sync(&'static &'static str),
}

impl fmt::Display for WaitOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitOn::Sleep => f.write_str("sleep"),
            WaitOn::Yield => f.write_str("yield_"),
            WaitOn::Join(id) => write!(f, "join of tasklet #{id}"),
            WaitOn::JoinAll => f.write_str("join_all"),
            WaitOn::Receive => f.write_str("receive"),
            WaitOn::MailboxRoom => f.write_str("room in a full mailbox"),
            WaitOn::Reply(message) => write!(f, "the reply to a call of {message}"),
            WaitOn::ChannelSend => f.write_str("a receiver on a channel"),
            WaitOn::ChannelReceive => f.write_str("a sender on a channel"),
            WaitOn::Readable(fd) => write!(f, "fd {fd} to become readable"),
            WaitOn::Writable(fd) => write!(f, "fd {fd} to become writable"),
            WaitOn::Future => f.write_str("a future"),
            WaitOn::Blocking => f.write_str("a function on the blocking pool"),
            WaitOn::Idle => f.write_str("the dispatcher to be idle"),
            WaitOn::CallWait => f.write_str("a call at a CallWait"),
            WaitOn::Signal => f.write_str("a Unix signal"),
            WaitOn::Exit(pid) => write!(f, "child process {pid} to end"),
            WaitOn::Any(n) => write!(f, "the first of {n} conditions"),
            WaitOn::Sync(what) => f.write_str(what),
        }
    }
}

/// A tasklet's name: given by its builder, the function of a `#[tasklet]`, or derived from the
/// function it runs and where it was spawned. A derived name is kept as two pointers and
/// composed when first read, so that spawning does no string work.
pub(crate) enum Name {
    Given(Cow<'static, str>),
    /// A `#[tasklet]` function's name.
    Function(&'static str),
    Derived(DerivedName),
}

/// What a derived name is made of: the type name of the function a tasklet runs (for a closure,
/// it names the function the closure was written in) and the spawn call's location. A function
/// pointer rather than the `&str` keeps [`Name`] at 24 bytes.
#[derive(Clone, Copy)]
pub(crate) struct DerivedName {
    pub(crate) type_name: fn() -> &'static str,
    pub(crate) at: &'static Location<'static>,
}

impl DerivedName {
    /// `function@file:line`, e.g. `main@src/main.rs:12`: composed once per spawn site and kept
    /// (there are as many as there are spawn calls in the program's code).
    fn as_str(&self) -> &'static str {
        static NAMES: OnceLock<Mutex<HashMap<(usize, usize), &'static str>>> = OnceLock::new();
        let key = (
            self.type_name as usize,
            std::ptr::from_ref(self.at) as usize,
        );
        let mut names = NAMES
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        names.entry(key).or_insert_with(|| {
            let name = format!(
                "{}@{}:{}",
                trim_type_name((self.type_name)()),
                self.at.file(),
                self.at.line()
            );
            Box::leak(name.into_boxed_str())
        })
    }
}

impl Name {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Name::Given(name) => name,
            Name::Function(name) => name,
            Name::Derived(derived) => derived.as_str(),
        }
    }
}

/// The name of a function from its type name: the function a closure was written in, or the
/// function itself, without path or generic arguments. Allocates nothing (the overflow handler
/// uses it).
pub(crate) fn trim_type_name(mut name: &str) -> &str {
    while let Some(stripped) = name.strip_suffix("::{{closure}}") {
        name = stripped;
    }
    if let Some(generics) = name.find('<') {
        name = &name[..generics];
    }
    name.rsplit(':').next().unwrap_or(name)
}

/// The result slot of a tasklet.
pub(crate) enum Outcome {
    /// Not finished yet: the closure, until it starts (then it is on the tasklet's stack).
    Pending(Option<Box<dyn Payload>>),
    /// Returned this value (in the closure's allocation), not taken yet.
    Value(Box<dyn Payload>),
    /// Returned a value that a join has taken.
    Taken,
    /// Panicked with this message.
    Panicked(Box<str>),
    /// Killed before it returned.
    Killed,
    /// Could not get a stack.
    NoStack(Box<str>),
}

/// What a tasklet runs, through its life.
pub(crate) enum Body {
    /// Not started: the closure waits in the record's `outcome` (`Outcome::Pending`).
    New,
    /// Started: the coroutine running the closure. Boxed: a coroutine is about a hundred
    /// bytes that a tasklet not yet started (or finished) does not need, and a box moves
    /// between tasklets with the coroutine it holds (see `run::relay_entry`).
    Started(Box<Coro>),
    /// Finished, killed before it started, or leaked at shutdown.
    Done,
}

/// The runtime's record of one tasklet, shared by its handles (`Rc`).
pub(crate) struct Task {
    pub(crate) id: u64,
    /// Its name; see [`Task::name`].
    pub(crate) name: Name,
    pub(crate) daemon: bool,
    /// Usable stack bytes asked for (`u32`: stacks above 4 GiB are clamped).
    pub(crate) stack_size: u32,
    pub(crate) stack_mode: StackMode,
    /// The creator while it runs; `None` for daemons and the first tasklet, and dangling or
    /// `None` once the creator has finished (a finished tasklet has no children).
    parent: Cell<Option<Weak<Task>>>,
    /// Unfinished tasklets this one spawned, in no particular order (a finished child removes
    /// itself by swapping the last one into its place).
    pub(crate) children: RefCell<Vec<Rc<Task>>>,
    /// This tasklet's index in its parent's `children`.
    pub(crate) child_index: Cell<u32>,
    /// This tasklet's index in the scheduler's list of unfinished tasklets.
    pub(crate) live_index: Cell<u32>,
    pub(crate) state: Cell<State>,
    pub(crate) epoch: Cell<u32>,
    /// When the current (or last) wait began, in milliseconds of the dispatcher's coarse clock
    /// (`Scheduler::coarse_ms`): how long it waits, for dumps.
    pub(crate) wait_since: Cell<u32>,
    /// Where it was spawned, when its spawn call said (for dumps).
    pub(crate) spawned_at: Cell<Option<&'static Location<'static>>>,
    /// Its `tracing` span (feature `tracing`; nothing without it).
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) span: crate::engine::trace::TaskSpan,
    /// Why it was last woken; meaningful while `Ready`.
    pub(crate) wake: Cell<Wake>,
    /// What it waits for, and where the blocking call was made; meaningful while `Waiting`.
    pub(crate) waiting_on: Cell<(WaitOn, &'static Location<'static>)>,
    /// A kill arrived while this tasklet was resuming another: honoured when control returns.
    pub(crate) kill_pending: Cell<bool>,
    /// Panics in flight on its stack, as far as the runtime knows: see
    /// `scheduler::is_unwinding`.
    pub(crate) unwinding: Cell<u8>,
    /// What runs: the closure before start, then the coroutine (borrowed while it runs).
    pub(crate) body: RefCell<Body>,
    pub(crate) suspender: Cell<Suspender>,
    /// Where its stack's guard page and canary are, for overflow checks; set at start.
    pub(crate) stack: Cell<StackInfo>,
    pub(crate) outcome: RefCell<Outcome>,
    /// Set once a panic has been reported (to a join, or logged when nobody joined it).
    pub(crate) panic_seen: Cell<bool>,
    /// Tasklets waiting in a join, each with the epoch of its wait.
    joiners: RefCell<Joiners>,
    /// Its mailbox, if it receives messages; taken (and closed) when it finishes.
    inbox: Cell<Option<Rc<dyn AnyInbox>>>,
}

impl Task {
    /// A record that is never run, for unit tests of the structures that hold tasklets.
    #[cfg(test)]
    pub(crate) fn unstarted_for_tests() -> Rc<Task> {
        Rc::new(Task::new(
            0,
            Name::Function("test"),
            false,
            0,
            StackMode::GUARDED,
            None,
            || (),
        ))
    }

    /// A new tasklet's record, running `f` once started. (Inlined into `Scheduler::spawn`, its
    /// caller: that saves one copy of the record on the way into its `Rc`.)
    #[inline(always)]
    pub(crate) fn new<F, T>(
        id: u64,
        name: Name,
        daemon: bool,
        stack_size: u32,
        stack_mode: StackMode,
        parent: Option<Weak<Task>>,
        f: F,
    ) -> Task
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        Task {
            id,
            name,
            daemon,
            stack_size,
            stack_mode,
            parent: Cell::new(parent),
            children: RefCell::new(Vec::new()),
            child_index: Cell::new(0),
            live_index: Cell::new(0),
            state: Cell::new(State::New),
            epoch: Cell::new(0),
            wait_since: Cell::new(0),
            spawned_at: Cell::new(None),
            span: Default::default(),
            wake: Cell::new(Wake::Ready),
            waiting_on: Cell::new((WaitOn::Yield, Location::caller())),
            kill_pending: Cell::new(false),
            unwinding: Cell::new(0),
            body: RefCell::new(Body::New),
            suspender: Cell::new(Suspender::NONE),
            stack: Cell::new(StackInfo::NONE),
            outcome: RefCell::new(Outcome::Pending(Some(Box::new(Work::new(f))))),
            panic_seen: Cell::new(false),
            joiners: RefCell::new(Joiners::None),
            inbox: Cell::new(None),
        }
    }

    /// The tasklet that spawned it, while that one has not finished.
    pub(crate) fn parent(&self) -> Option<Rc<Task>> {
        let parent = self.parent.take();
        let strong = parent.as_ref().and_then(Weak::upgrade);
        self.parent.set(parent);
        strong
    }

    /// Forgets its parent (which has finished).
    pub(crate) fn clear_parent(&self) {
        self.parent.set(None);
    }

    /// Its mailbox, if it receives messages (closed once it finished).
    #[inline]
    pub(crate) fn inbox(&self) -> Option<Rc<dyn AnyInbox>> {
        let inbox = self.inbox.take();
        self.inbox.set(inbox.clone());
        inbox
    }

    /// Gives it its mailbox (at spawn); returns the one it had.
    pub(crate) fn set_inbox(&self, inbox: Option<Rc<dyn AnyInbox>>) -> Option<Rc<dyn AnyInbox>> {
        self.inbox.replace(inbox)
    }

    /// The tasklet's name: the given one, or the one derived from its function's type.
    pub(crate) fn name(&self) -> &str {
        self.name.as_str()
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.state.get() == State::Finished
    }

    /// Starts a new epoch: every older wake-up token, timer and queue entry goes stale.
    pub(crate) fn bump_epoch(&self) -> u32 {
        let epoch = self.epoch.get().wrapping_add(1);
        self.epoch.set(epoch);
        epoch
    }

    /// The join error for this tasklet with the given cause.
    pub(crate) fn join_error(&self, cause: JoinCause) -> JoinError {
        JoinError {
            name: self.name().to_owned(),
            id: self.id,
            cause,
        }
    }

    /// Takes the result of a finished tasklet, as a join sees it: its value as a `T` (the type
    /// it returns, or `Box<dyn Any>` for a handle that does not know it).
    pub(crate) fn take_result<T: 'static>(&self) -> Result<T, JoinError> {
        let mut outcome = self.outcome.borrow_mut();
        let cause = match &*outcome {
            Outcome::Value(work) => {
                let mut value: Option<T> = None;
                work.take_value(&mut value);
                *outcome = Outcome::Taken;
                match value {
                    Some(value) => return Ok(value),
                    // A forwarded value (see `forward_value`) a handle on another thread took.
                    None => JoinCause::AlreadyJoined,
                }
            }
            Outcome::Pending(_) => unreachable!("take_result on an unfinished tasklet"),
            Outcome::Taken => JoinCause::AlreadyJoined,
            Outcome::Panicked(msg) => {
                self.panic_seen.set(true);
                JoinCause::Panicked(msg.to_string())
            }
            Outcome::Killed => JoinCause::Killed,
            Outcome::NoStack(why) => JoinCause::NoStack(why.to_string()),
        };
        Err(self.join_error(cause))
    }

    /// Moves the value of a tasklet that returned (and was not joined yet) to `forward`, which
    /// keeps it where handles on other threads reach it and gives back the payload that takes
    /// its place here: a join on this dispatcher then takes the value from there, so that the
    /// first join anywhere gets it. Does nothing to a tasklet that did not return a value.
    pub(crate) fn forward_value<T: 'static>(
        &self,
        forward: impl FnOnce(T) -> Box<dyn Payload>,
    ) -> bool {
        let mut outcome = self.outcome.borrow_mut();
        let Outcome::Value(work) = &*outcome else {
            return false;
        };
        let mut value: Option<T> = None;
        work.take_value(&mut value);
        match value {
            Some(value) => {
                *outcome = Outcome::Value(forward(value));
                true
            }
            None => false,
        }
    }

    /// Adds a joiner, dropping tokens that went stale (joiners that timed out and left).
    pub(crate) fn add_joiner(&self, task: Rc<Task>, epoch: u32) {
        let live = |(t, e): &(Rc<Task>, u32)| crate::engine::wait::is_live(t, *e);
        let mut joiners = self.joiners.borrow_mut();
        match &mut *joiners {
            Joiners::One(first) if live(first) => {
                let first = first.clone();
                *joiners = Joiners::Many(vec![first, (task, epoch)]);
            }
            Joiners::Many(all) => {
                if all.len() >= 8 {
                    all.retain(live);
                }
                all.push((task, epoch));
            }
            _ => *joiners = Joiners::One((task, epoch)),
        }
    }

    /// Removes the joiner entries of `task` (a multi-wait that ended otherwise).
    pub(crate) fn remove_joiner(&self, task: *const Task) {
        let mut joiners = self.joiners.borrow_mut();
        match &mut *joiners {
            Joiners::One((t, _)) if std::ptr::addr_eq(Rc::as_ptr(t), task) => {
                *joiners = Joiners::None
            }
            Joiners::Many(all) => all.retain(|(t, _)| !std::ptr::addr_eq(Rc::as_ptr(t), task)),
            _ => {}
        }
    }

    /// Removes and returns every registered joiner, in the order they came.
    pub(crate) fn take_joiners(&self) -> impl Iterator<Item = (Rc<Task>, u32)> {
        let (one, many) = match std::mem::replace(&mut *self.joiners.borrow_mut(), Joiners::None) {
            Joiners::None => (None, Vec::new()),
            Joiners::One(one) => (Some(one), Vec::new()),
            Joiners::Many(all) => (None, all),
        };
        one.into_iter().chain(many)
    }
}

/// The joiners of a tasklet: usually none or one, kept inline.
enum Joiners {
    None,
    One((Rc<Task>, u32)),
    Many(Vec<(Rc<Task>, u32)>),
}

impl Drop for Task {
    fn drop(&mut self) {
        // A value nobody joined: its destructor is user code, which may block or panic, and the
        // last handle may go anywhere (in the scheduler's own loop, say): it is dropped in a
        // tasklet of its own. The same for a closure that never ran and was not dropped by a
        // kill (a record that outlived its dispatcher's loop).
        let work = match std::mem::replace(self.outcome.get_mut(), Outcome::Taken) {
            Outcome::Value(work) | Outcome::Pending(Some(work)) => work,
            _ => return,
        };
        if work.needs_drop() {
            crate::engine::scheduler::bury(work);
        }
    }
}

/// A tasklet's mailbox with its item type erased, as the tasklet's record keeps it.
pub(crate) trait AnyInbox {
    /// Empties and closes it (the tasklet has finished): returns the unread messages, to be
    /// dropped by the caller where their destructors may run (see `scheduler::run_entry`).
    fn close(&self) -> Box<dyn std::any::Any>;
    /// The typed mailbox, for `downcast`.
    fn into_any(self: Rc<Self>) -> Rc<dyn std::any::Any>;
    /// The name of its item type (the tasklet's message set), for error messages.
    fn message_set(&self) -> &'static str;
    /// Whether it was closed (its tasklet finished).
    fn is_closed(&self) -> bool;
}

#[cfg(test)]
mod tests {
    /// With the `Rc` counts and malloc's header, a 264-byte record takes a 288-byte chunk
    /// (issue 22: 344 bytes and a 368-byte chunk before the coroutine was boxed); one more
    /// word moves it to the next size class.
    /// (With the `tracing` feature, the span comes on top.)
    #[test]
    fn the_tasklet_record_stays_within_264_bytes() {
        let span = std::mem::size_of::<crate::engine::trace::TaskSpan>();
        assert!(
            std::mem::size_of::<super::Task>() <= 264 + span,
            "{}",
            std::mem::size_of::<super::Task>()
        );
    }
}
