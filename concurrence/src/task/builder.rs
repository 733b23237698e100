//! [`Builder`]: how a tasklet is started (name, daemon, stack), and the [`spawn`] shorthand.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::engine::scheduler::{self, default_name, SpawnOptions};
use crate::engine::stack::StackMode;
use crate::engine::state::{AnyInbox, DerivedName, Name, Task};
use crate::messaging::mailbox::{self, Mailbox};
use crate::messaging::message::{Messages, NoMessages};
use crate::task::periodic;
use crate::task::tasklet::Tasklet;

/// Options for a new tasklet, then the function to run: the Rust form of
/// `Tasklet.new(f, name=..., daemon=...)`, and of `later`, `loop`, `interval` and `rate`, which
/// take the same options.
///
/// The creator keeps running until it blocks; then the tasklets it spawned run, in spawn order,
/// before the ones that were already waiting for their turn (so that a tree of tasklets runs
/// depth-first and few of them hold stacks at once).
/// Its parent is the creator, except for daemons, which have none.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, Builder};
///
/// dispatch(|| {
///     let t = Builder::new().name("adder").stack_size(128 * 1024).spawn(|| 1 + 2);
///     assert_eq!(t.name(), "adder");
///     assert_eq!(t.join().unwrap(), 3);
/// });
/// ```
#[must_use = "a builder does nothing until one of its spawn methods is called"]
pub struct Builder<M = NoMessages> {
    name: Option<Cow<'static, str>>,
    default_name: Option<&'static str>,
    daemon: bool,
    stack_size: Option<usize>,
    stack_mode: Option<StackMode>,
    max_mailbox_len: Option<usize>,
    _messages: PhantomData<fn() -> M>,
}

impl Builder {
    /// A builder with the defaults: a name derived from the function, not a daemon, the
    /// dispatcher's stack size and mode, no mailbox.
    pub fn new() -> Builder {
        Builder {
            name: None,
            default_name: None,
            daemon: false,
            stack_size: None,
            stack_mode: None,
            max_mailbox_len: None,
            _messages: PhantomData,
        }
    }
}

impl<M> Builder<M> {
    /// Names the tasklet.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Builder<M> {
        self.name = Some(name.into());
        self
    }

    /// Makes the tasklet a daemon: the dispatcher does not wait for it (it is killed when the
    /// last non-daemon tasklet ends), and it is nobody's child.
    pub fn daemon(mut self, daemon: bool) -> Builder<M> {
        self.daemon = daemon;
        self
    }

    /// The usable size of the tasklet's stack in bytes, rounded up to whole pages and at least
    /// [`MIN_STACK_SIZE`](crate::MIN_STACK_SIZE);
    /// [`DEFAULT_STACK_SIZE`](crate::DEFAULT_STACK_SIZE) unless the dispatcher says otherwise.
    /// Only the pages the tasklet touches cost memory, so a generous size is cheap.
    pub fn stack_size(mut self, bytes: usize) -> Builder<M> {
        self.stack_size = Some(bytes);
        self
    }

    /// The kind of stack the tasklet runs on; see [`StackMode`].
    pub fn stack_mode(mut self, mode: StackMode) -> Builder<M> {
        self.stack_mode = Some(mode);
        self
    }

    /// Gives the tasklet a mailbox for the message set `N` (the enum a
    /// [`#[tasklet(receives(...))]`](crate::tasklet) function gets); its handle then takes the
    /// messages of `N`. A `#[tasklet]` function's own builder does this for you.
    pub fn receives<N: Messages>(self) -> Builder<N> {
        Builder {
            name: self.name,
            default_name: self.default_name,
            daemon: self.daemon,
            stack_size: self.stack_size,
            stack_mode: self.stack_mode,
            max_mailbox_len: self.max_mailbox_len,
            _messages: PhantomData,
        }
    }

    /// The name a tasklet gets when none is given (`#[tasklet]` passes its function's name).
    #[doc(hidden)]
    pub fn __default_name(mut self, name: &'static str) -> Builder<M> {
        self.default_name = Some(name);
        self
    }

    fn options(&mut self, inbox: Option<Rc<dyn AnyInbox>>) -> SpawnOptions {
        SpawnOptions {
            name: self.name.take(),
            daemon: self.daemon,
            stack_size: self.stack_size,
            stack_mode: self.stack_mode,
            inbox,
        }
    }
}

impl<M: Messages> Builder<M> {
    /// Bounds the tasklet's mailbox to `len` messages: a send to a full mailbox blocks until
    /// the tasklet has received one (or fails at once with `try_send`). Unbounded by default.
    ///
    /// # Panics
    ///
    /// Panics when `len` is 0.
    pub fn max_mailbox_len(mut self, len: usize) -> Builder<M> {
        assert!(len > 0, "concurrence: max_mailbox_len must be at least 1");
        self.max_mailbox_len = Some(len);
        self
    }

    /// Starts a tasklet that calls `f` for each message it receives, for ever (the original's
    /// `Tasklet.receiver(f)`). A panic in `f` is logged and the tasklet goes on with the next
    /// message; kill it to stop it.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Builder::spawn).
    #[track_caller]
    pub fn receiver<F>(self, f: F) -> Tasklet<(), M>
    where
        F: FnMut(M) + 'static,
    {
        let name = default_name::<F>();
        self.start(move || periodic::run_receiver(f), name)
    }
}

impl<M: SpawnMessages> Builder<M> {
    /// Starts a tasklet that runs `f`; its result is what [`Tasklet::join`] returns.
    ///
    /// # Panics
    ///
    /// Panics when no dispatcher runs on this thread.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> Tasklet<T, M>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        self.start(f, default_name::<F>())
    }

    /// Spawns `f` on this dispatcher with no parent (a start another dispatcher asked for):
    /// the tasklet's record and its mailbox.
    pub(crate) fn spawn_detached_here<F, T>(
        self,
        f: F,
        name: DerivedName,
    ) -> (Rc<Task>, Option<Rc<mailbox::Inner<M>>>)
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        self.spawn_with(f, name, false)
    }

    /// Whether the tasklet's mailbox will be bounded.
    pub(crate) fn is_bounded(&self) -> bool {
        self.max_mailbox_len.is_some()
    }

    fn start<F, T>(self, f: F, name: DerivedName) -> Tasklet<T, M>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let (task, inbox) = self.spawn_with(f, name, true);
        Tasklet::from_parts(task, inbox)
    }

    /// Spawns `f` with these options and a mailbox of `M`, as a child of the running tasklet
    /// when `child` is set.
    fn spawn_with<F, T>(
        mut self,
        f: F,
        name: DerivedName,
        child: bool,
    ) -> (Rc<Task>, Option<Rc<mailbox::Inner<M>>>)
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let inbox = M::mailbox(self.max_mailbox_len).map(|m| m.inner().clone());
        let erased = inbox.clone().map(|i| i as Rc<dyn AnyInbox>);
        let name = self
            .default_name
            .map_or(Name::Derived(name), Name::Function);
        let opts = self.options(erased);
        let sched = scheduler::get();
        let task = match child {
            true => sched.spawn(opts, f, name),
            false => sched.spawn_detached(opts, f, name),
        };
        (task, inbox)
    }

    /// Starts a tasklet that first sleeps for `delay`, then runs `f`.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Builder::spawn).
    #[track_caller]
    pub fn later<F, T>(self, delay: Duration, f: F) -> Tasklet<T, M>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        self.start(
            move || {
                crate::sleep(delay);
                f()
            },
            default_name::<F>(),
        )
    }
}

/// The repeating tasklets. With [`receives`](Builder::receives) they get a mailbox like any
/// other, which `f` reads without blocking ([`try_receive`](crate::try_receive)) or with a
/// timeout.
impl<M: SpawnMessages> Builder<M> {
    /// Starts a tasklet that calls `f` over and over until it is killed. A panic in `f` is
    /// logged (through the `log` facade) and the loop goes on after letting the other tasklets
    /// run; `f` should block now and then, or it keeps the others from running.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Builder::spawn).
    #[track_caller]
    pub fn loop_<F>(self, f: F) -> Tasklet<(), M>
    where
        F: FnMut() + 'static,
    {
        self.spawn_periodic(default_name::<F>(), move || periodic::run_loop(f))
    }

    /// Starts a tasklet that calls `f` every `period`: it sleeps `period`, calls `f`, and so on
    /// until it is killed; with `immediate` it calls `f` once before the first sleep. The period
    /// is measured from the end of one call to the start of the next, as in the original; use
    /// [`rate`](Builder::rate) for calls that keep pace with the clock. Panics in `f` are logged
    /// and the interval goes on.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Builder::spawn).
    #[track_caller]
    pub fn interval<F>(self, period: Duration, immediate: bool, f: F) -> Tasklet<(), M>
    where
        F: FnMut() + 'static,
    {
        self.spawn_periodic(default_name::<F>(), move || {
            periodic::run_interval(period, immediate, f)
        })
    }

    /// Starts a tasklet that calls `f(now)` `per_second` times a second until it is killed.
    ///
    /// Unlike [`interval`](Builder::interval) it keeps pace with the clock: the calls are due on
    /// a fixed grid of deadlines, one period `1 / per_second` apart from the spawn on, and the
    /// time `f` takes is not added to the wait (a call that takes 6 ms of a 10 ms period is
    /// followed by a 4 ms wait, so 100 calls a second stay 100). A call that starts late (the
    /// other tasklets ran long) does not move the later deadlines. When the loop falls a whole
    /// period or more behind (`f` or the other tasklets took that long), the deadlines it missed
    /// are skipped rather than made up in a burst: one late call is made at once, and the next
    /// is due on the grid again (tokio's `MissedTickBehavior::Skip`; Go's `Ticker` drops ticks
    /// likewise). Calls that take longer than a period each therefore follow each other without
    /// a wait. Panics in `f` are logged and the rate goes on.
    ///
    /// # Panics
    ///
    /// Panics when `per_second` is not a positive finite number, and as
    /// [`spawn`](Builder::spawn).
    #[track_caller]
    pub fn rate<F>(self, per_second: f64, f: F) -> Tasklet<(), M>
    where
        F: FnMut(Instant) + 'static,
    {
        assert!(
            per_second.is_finite() && per_second > 0.0,
            "concurrence::rate: per_second must be a positive finite number, got {per_second}"
        );
        self.spawn_periodic(default_name::<F>(), move || {
            periodic::run_rate(per_second, f)
        })
    }

    fn spawn_periodic(self, name: DerivedName, body: impl FnOnce() + 'static) -> Tasklet<(), M> {
        self.start(body, name)
    }
}

/// Starts a tasklet that runs `f`, with the default options: `Builder::new().spawn(f)`.
///
/// The caller keeps running until it blocks; then the new tasklet runs (after any spawned before
/// it), ahead of the tasklets already waiting for their turn. The original's
/// `Tasklet.new(greeting)("Hello")` is `spawn(|| greeting("Hello"))`.
///
/// # Panics
///
/// Panics when no dispatcher runs on this thread.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, spawn};
///
/// dispatch(|| {
///     let t = spawn(|| "hello from a tasklet");
///     assert_eq!(t.join().unwrap(), "hello from a tasklet");
/// });
/// ```
#[track_caller]
pub fn spawn<F, T>(f: F) -> Tasklet<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    Builder::new().spawn(f)
}

/// `Builder::new().later(delay, f)`: run `f` in a new tasklet after `delay`.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, later};
/// use std::time::{Duration, Instant};
///
/// dispatch(|| {
///     let start = Instant::now();
///     let t = later(Duration::from_millis(20), move || start.elapsed());
///     assert!(t.join().unwrap() >= Duration::from_millis(20));
/// });
/// ```
#[track_caller]
pub fn later<F, T>(delay: Duration, f: F) -> Tasklet<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    Builder::new().later(delay, f)
}

/// `Builder::new().loop_(f)`: call `f` in a new tasklet over and over until it is killed.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, loop_, sleep};
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// dispatch(|| {
///     let rounds = Rc::new(Cell::new(0));
///     let r = rounds.clone();
///     let worker = loop_(move || {
///         r.set(r.get() + 1);
///         sleep(Duration::from_millis(1));
///     });
///     sleep(Duration::from_millis(30));
///     worker.kill();
///     assert!(rounds.get() > 1);
/// });
/// ```
#[track_caller]
pub fn loop_<F>(f: F) -> Tasklet<()>
where
    F: FnMut() + 'static,
{
    Builder::new().loop_(f)
}

/// `Builder::new().interval(period, immediate, f)`: call `f` in a new tasklet every `period`.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, interval, sleep};
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// dispatch(|| {
///     let ticks = Rc::new(Cell::new(0));
///     let counter = ticks.clone();
///     let t = interval(Duration::from_millis(10), true, move || counter.set(counter.get() + 1));
///     sleep(Duration::from_millis(100));
///     t.kill();
///     assert!(ticks.get() >= 3);
/// });
/// ```
#[track_caller]
pub fn interval<F>(period: Duration, immediate: bool, f: F) -> Tasklet<()>
where
    F: FnMut() + 'static,
{
    Builder::new().interval(period, immediate, f)
}

/// `Builder::new().rate(per_second, f)`: call `f(now)` in a new tasklet `per_second` times a
/// second.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, rate, sleep};
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// dispatch(|| {
///     let stamps = Rc::new(RefCell::new(Vec::new()));
///     let s = stamps.clone();
///     let ticker = rate(100.0, move |now| s.borrow_mut().push(now));
///     sleep(Duration::from_millis(100));
///     ticker.kill();
///     assert!(stamps.borrow().len() >= 2);
/// });
/// ```
#[track_caller]
pub fn rate<F>(per_second: f64, f: F) -> Tasklet<()>
where
    F: FnMut(Instant) + 'static,
{
    Builder::new().rate(per_second, f)
}

/// The message set of a tasklet being spawned: [`NoMessages`] (no mailbox) or a
/// [`Messages`] enum (a mailbox of it). Implemented for both; not meant for other types.
#[doc(hidden)]
pub trait SpawnMessages: Sized + 'static {
    /// Whether the new tasklet gets a mailbox.
    const RECEIVES: bool;
    /// The new tasklet's mailbox, if it gets one.
    fn mailbox(max_len: Option<usize>) -> Option<Mailbox<Self>>;
}

impl SpawnMessages for NoMessages {
    const RECEIVES: bool = false;

    fn mailbox(_: Option<usize>) -> Option<Mailbox<Self>> {
        None
    }
}

impl<M: Messages> SpawnMessages for M {
    const RECEIVES: bool = true;

    fn mailbox(max_len: Option<usize>) -> Option<Mailbox<Self>> {
        Some(Mailbox::from_parts(Default::default(), max_len))
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl<M> Clone for Builder<M> {
    fn clone(&self) -> Self {
        Builder {
            name: self.name.clone(),
            default_name: self.default_name,
            daemon: self.daemon,
            stack_size: self.stack_size,
            stack_mode: self.stack_mode,
            max_mailbox_len: self.max_mailbox_len,
            _messages: PhantomData,
        }
    }
}

impl<M> fmt::Debug for Builder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("name", &self.name)
            .field("daemon", &self.daemon)
            .field("stack_size", &self.stack_size)
            .field("stack_mode", &self.stack_mode)
            .field("max_mailbox_len", &self.max_mailbox_len)
            .finish()
    }
}

/// Starts a tasklet that calls `f` for each message it receives: `Builder::new().receives::<M>()
/// .receiver(f)`, the message set `M` taken from `f`'s argument. See [`Builder::receiver`].
///
/// # Panics
///
/// Panics when no dispatcher runs on this thread.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, message, receiver, tasklet};
/// use std::{cell::Cell, rc::Rc};
///
/// message!(MSG_ADD(u32));
///
/// // `#[tasklet]` generates the message set `CounterMsg` even for a function only used to name it.
/// #[tasklet(receives(MSG_ADD))]
/// fn counter() {}
///
/// dispatch(|| {
///     let total = Rc::new(Cell::new(0));
///     let sum = total.clone();
///     let adder = receiver(move |CounterMsg::MSG_ADD(MSG_ADD(n))| sum.set(sum.get() + n));
///     MSG_ADD::send(&adder)(2).unwrap();
///     MSG_ADD::send(&adder)(3).unwrap();
///     concurrence::yield_();
///     assert_eq!(total.get(), 5);
///     adder.kill();
/// });
/// ```
#[track_caller]
pub fn receiver<M, F>(f: F) -> Tasklet<(), M>
where
    M: Messages,
    F: FnMut(M) + 'static,
{
    Builder::new().receives::<M>().receiver(f)
}
