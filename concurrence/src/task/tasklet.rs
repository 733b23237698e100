//! The [`Tasklet`] handle: identity, family (parent, children, tree), join and kill; and the
//! free functions that act on the current tasklet.

use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::rc::Rc;

use crate::engine::scheduler;
use crate::engine::state::Task;
use crate::messaging::mailbox;
use crate::messaging::message::NoMessages;

/// A handle to a tasklet: a cooperative, stackful activity run by the dispatcher of the thread
/// that created it.
///
/// `T` is the type the tasklet's function returns, which [`join`](Tasklet::join) gives back.
/// Handles returned by [`current`], [`Tasklet::parent`] and [`Tasklet::children`] do not know it
/// and use the default, `Box<dyn Any>`; [`Tasklet::erase`] turns a typed handle into one of
/// those. `M` is the tasklet's message set, the enum its `#[tasklet(receives(...))]` generated:
/// the handle takes exactly those messages ([`send`](Tasklet::send), [`call`](Tasklet::call)).
/// It is [`NoMessages`] for tasklets that receive none, and for erased handles
/// ([`Tasklet::with_messages`] gets a sending handle back). Handles are cheap to clone, compare
/// by tasklet, and stay valid after the tasklet ends.
///
/// A handle belongs to its dispatcher's thread: it is neither `Send` nor `Sync`.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<concurrence::Tasklet<u32>>();
/// ```
///
/// # Examples
///
/// The original documentation's `join` example: two subtasks whose results the parent waits for.
///
/// ```
/// use concurrence::{dispatch, spawn};
///
/// dispatch(|| {
///     let t1 = spawn(|| 10 + 20);
///     let t2 = spawn(|| 30 + 40);
///     assert_eq!(t1.join().unwrap(), 30);
///     assert_eq!(t2.join().unwrap(), 70);
/// });
/// ```
pub struct Tasklet<T = Box<dyn Any>, M = NoMessages> {
    pub(crate) task: Rc<Task>,
    /// Its mailbox, in handles made by spawning a tasklet that receives `M`.
    pub(crate) inbox: Option<Rc<mailbox::Inner<M>>>,
    _result: PhantomData<fn() -> T>,
}

impl<T, M> Tasklet<T, M> {
    pub(crate) fn from_task(task: Rc<Task>) -> Tasklet<T, M> {
        Tasklet::from_parts(task, None)
    }

    pub(crate) fn from_parts(
        task: Rc<Task>,
        inbox: Option<Rc<mailbox::Inner<M>>>,
    ) -> Tasklet<T, M> {
        Tasklet {
            task,
            inbox,
            _result: PhantomData,
        }
    }

    /// The tasklet's id: unique among the tasklets of one dispatcher, increasing in spawn order.
    pub fn id(&self) -> u64 {
        self.task.id
    }

    /// The tasklet's name: the one given to [`Builder::name`](crate::Builder::name); else for a
    /// `#[tasklet]` function and for the first tasklet of [`dispatch`](crate::dispatch), the
    /// function's name; else the name of the function it runs (for a closure, of the function
    /// the closure was written in) and where it was spawned: `handle@src/server.rs:42`, so that
    /// the closures one function spawns are told apart in logs and reports.
    pub fn name(&self) -> &str {
        self.task.name()
    }

    /// Whether this is a daemon tasklet (one the dispatcher does not wait for).
    pub fn is_daemon(&self) -> bool {
        self.task.daemon
    }

    /// Whether the tasklet has finished: returned, panicked, or was killed.
    pub fn has_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// A handle that has forgotten the result type and the message set, as [`current`] and
    /// [`Tasklet::children`] return them. Its join gives the result as `Box<dyn Any>`.
    pub fn erase(&self) -> Tasklet {
        Tasklet::from_task(self.task.clone())
    }

    /// The tasklet that spawned this one, while it has not finished. `None` for daemons, for the
    /// dispatcher's first tasklet, and once the parent has finished: its children are orphaned
    /// then (see [`children`](Tasklet::children)).
    pub fn parent(&self) -> Option<Tasklet> {
        self.task
            .parent()
            .filter(|p| !p.is_finished())
            .map(Tasklet::from_task)
    }

    /// The unfinished tasklets this one spawned (daemons are nobody's children), oldest first,
    /// while this one runs. A child leaves this list when it finishes.
    ///
    /// A tasklet's end does not end its children, nor wait for them: when it finishes (returns,
    /// panics or is killed), the children still running are *orphaned*. They run on as before,
    /// but they are no longer anybody's children, not even their grandparent's: a finished
    /// tasklet reports no children (and its [`tree`](Tasklet::tree) is itself alone), and their
    /// [`parent`](Tasklet::parent) is `None`. This is deliberate: a record of a finished tasklet
    /// keeps nothing alive. To follow work that may outlive its spawner, keep the handles it
    /// returns (or monitor the tasklets); to end it with its spawner, kill the children from a
    /// guard, or use a [`Supervisor`](crate::Supervisor) or [links](Tasklet::link).
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{dispatch, sleep, spawn};
    /// use std::time::Duration;
    ///
    /// dispatch(|| {
    ///     let parent = spawn(|| spawn(|| sleep(Duration::from_millis(20))));
    ///     let child = parent.join().unwrap(); // the parent returned its child's handle
    ///     assert!(!child.has_finished()); // the child runs on...
    ///     assert!(parent.children().is_empty()); // ...orphaned: no longer listed
    ///     assert!(child.parent().is_none());
    ///     child.join().unwrap();
    /// });
    /// ```
    pub fn children(&self) -> Vec<Tasklet> {
        let mut children: Vec<Tasklet> = self
            .task
            .children
            .borrow()
            .iter()
            .map(|t| Tasklet::from_task(t.clone()))
            .collect();
        children.sort_by_key(Tasklet::id);
        children
    }

    /// A depth-first walk over this tasklet and its descendants: each with its level (0 for
    /// this one). The [`Tree`] also prints as an indented dump. Only unfinished tasklets have
    /// descendants: the children of a finished tasklet are orphaned and leave its tree, with
    /// their own descendants (see [`children`](Tasklet::children)).
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{current, dispatch, Builder, sleep};
    /// use std::time::Duration;
    ///
    /// dispatch(|| {
    ///     let a = Builder::new().name("a").spawn(|| {
    ///         Builder::new().name("a1").spawn(|| sleep(Duration::from_millis(50)));
    ///         sleep(Duration::from_millis(50));
    ///     });
    ///     Builder::new().name("b").spawn(|| sleep(Duration::from_millis(50)));
    ///     sleep(Duration::from_millis(10));
    ///     let levels: Vec<(String, usize)> = current()
    ///         .tree()
    ///         .iter()
    ///         .map(|(t, level)| (t.name().to_owned(), *level))
    ///         .collect();
    ///     assert_eq!(levels[1..], [("a".into(), 1), ("a1".into(), 2), ("b".into(), 1)]);
    ///     a.join().unwrap();
    /// });
    /// ```
    pub fn tree(&self) -> Tree {
        fn walk(t: Tasklet, level: usize, out: &mut Vec<(Tasklet, usize)>) {
            let children = t.children();
            out.push((t, level));
            for child in children {
                walk(child, level + 1, out);
            }
        }
        let mut entries = Vec::new();
        walk(self.erase(), 0, &mut entries);
        Tree { entries }
    }

    /// Kills the tasklet, synchronously: before `kill` returns, the victim has unwound from the
    /// point where it was suspended with a [`TaskletExit`](crate::TaskletExit) payload, running every destructor on
    /// its stack, and its joiners see [`JoinCause::Killed`](crate::JoinCause::Killed).
    ///
    /// * A tasklet that is sleeping, joining or blocked in any other wait unwinds from that wait.
    /// * A tasklet that was spawned but never ran finishes as killed without running its
    ///   function (the function and what it captured are dropped).
    /// * A finished tasklet is left alone.
    /// * A tasklet that kills itself unwinds at once, from this call.
    /// * A tasklet may catch [`TaskletExit`](crate::TaskletExit) and go on; then `kill` returns when it next
    ///   suspends, and it is not finished. Likewise, a destructor that blocks (sleeps, joins)
    ///   while the victim unwinds suspends it there, and `kill` returns before it has finished.
    /// * Killing a tasklet that is already unwinding (from a kill or a panic, blocked in a
    ///   destructor) never unwinds it a second time, which would abort the process: the call it
    ///   is blocked in ends early instead, and the unwinding goes on. Calls with a way to say so
    ///   report it: a `*_timeout` call as a timeout, [`join`](Tasklet::join) as
    ///   [`JoinCause::Interrupted`](crate::JoinCause::Interrupted), the [`receive`](crate::receive) iterator by ending, a send
    ///   by giving the value back. Calls that can only return their value
    ///   ([`Mailbox::pop`](crate::Mailbox::pop), [`Channel::receive`](crate::Channel::receive),
    ///   [`Channel::send`](crate::Channel::send)) wait on.
    /// * A tasklet that kills itself, or is killed by a tasklet it is resuming (a destructor
    ///   that kills its killer), while it is unwinding already, goes on unwinding.
    ///
    /// Whether a tasklet is unwinding is tracked per tasklet: the runtime counts the kills it
    /// raises and, through a panic hook that wraps the program's own (which still runs), the
    /// panics of tasklets. A hook the program installs with `std::panic::set_hook` replaces
    /// that wrapper; the runtime wraps it again when a dispatcher starts and before each kill,
    /// so a program may install its hook before, between or during dispatches. (The hook cannot
    /// be changed while the thread unwinds: a hook installed while a tasklet is suspended
    /// mid-unwind, followed by a panic of another tasklet before any kill, leaves the runtime
    /// with `std::thread::panicking`, one flag for the whole thread, to go by.)
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{dispatch, sleep, spawn};
    /// use std::time::Duration;
    ///
    /// dispatch(|| {
    ///     let sleeper = spawn(|| sleep(Duration::from_secs(3600)));
    ///     concurrence::yield_();
    ///     sleeper.kill();
    ///     assert!(sleeper.has_finished());
    ///     assert!(sleeper.join().unwrap_err().is_killed());
    /// });
    /// ```
    pub fn kill(&self) {
        if self.task.is_finished() {
            return;
        }
        scheduler::get().kill(&self.task);
    }
}

impl<T, M> Clone for Tasklet<T, M> {
    fn clone(&self) -> Self {
        Tasklet::from_parts(self.task.clone(), self.inbox.clone())
    }
}

impl<T, M> PartialEq for Tasklet<T, M> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.task, &other.task)
    }
}

impl<T, M> Eq for Tasklet<T, M> {}

impl<T, M> Hash for Tasklet<T, M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.task.id.hash(state);
    }
}

impl<T, M> fmt::Debug for Tasklet<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tasklet")
            .field("id", &self.task.id)
            .field("name", &self.task.name())
            .field("state", &self.task.state.get())
            .finish()
    }
}

impl<T, M> fmt::Display for Tasklet<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.task.name(), self.task.id)
    }
}

/// A depth-first walk of a tasklet and its descendants, made by [`Tasklet::tree`]: pairs of
/// (tasklet, level). Prints as an indented dump, four spaces a level.
#[derive(Debug, Clone)]
pub struct Tree {
    entries: Vec<(Tasklet, usize)>,
}

impl Tree {
    /// The (tasklet, level) pairs in depth-first order.
    pub fn iter(&self) -> std::slice::Iter<'_, (Tasklet, usize)> {
        self.entries.iter()
    }

    /// How many tasklets the tree holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the tree is empty (never: it holds at least its root).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl IntoIterator for Tree {
    type Item = (Tasklet, usize);
    type IntoIter = std::vec::IntoIter<(Tasklet, usize)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Tree {
    type Item = &'a (Tasklet, usize);
    type IntoIter = std::slice::Iter<'a, (Tasklet, usize)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (tasklet, level) in &self.entries {
            writeln!(f, "{:indent$}{tasklet}", "", indent = level * 4)?;
        }
        Ok(())
    }
}

/// The tasklet that is running: the caller.
///
/// # Panics
///
/// Panics outside a tasklet; [`try_current`] does not.
///
/// # Examples
///
/// ```
/// use concurrence::{current, dispatch, Builder};
///
/// dispatch(|| {
///     let t = Builder::new().name("worker").spawn(|| current().name().to_owned());
///     assert_eq!(t.join().unwrap(), "worker");
/// });
/// ```
pub fn current() -> Tasklet {
    try_current().expect("concurrence::current() called outside a tasklet")
}

/// The tasklet that is running, or `None` outside a tasklet.
pub fn try_current() -> Option<Tasklet> {
    scheduler::try_get()?.current().map(Tasklet::from_task)
}

/// Lets every other ready tasklet run once, then returns: the caller goes to the back of the run
/// queue. Timers that are due fire and IO readiness is polled (without blocking) first, so a
/// tasklet that spins on `yield_` still lets sleepers wake up. A no-op when nothing else is
/// ready after that.
///
/// Use it in long computations that would otherwise keep the other tasklets from running.
///
/// # Panics
///
/// Panics outside a tasklet. A tasklet killed while it yields unwinds from here.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, spawn, yield_};
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// dispatch(|| {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let (a, b) = (log.clone(), log.clone());
///     let t1 = spawn(move || for i in 0..2 { a.borrow_mut().push(("a", i)); yield_(); });
///     let t2 = spawn(move || for i in 0..2 { b.borrow_mut().push(("b", i)); yield_(); });
///     t1.join().unwrap();
///     t2.join().unwrap();
///     assert_eq!(*log.borrow(), [("a", 0), ("b", 0), ("a", 1), ("b", 1)]);
/// });
/// ```
#[track_caller]
pub fn yield_() {
    let sched = scheduler::get();
    assert!(
        sched.current_task().is_some(),
        "concurrence::yield_() called outside a tasklet"
    );
    if !sched.has_work() {
        return;
    }
    crate::engine::wait::yield_now(sched);
}
