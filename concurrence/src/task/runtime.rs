//! [`dispatch`] and [`quit`]: running a dispatcher on the current thread, and how it ends.

use std::fmt;
use std::marker::PhantomData;
use std::process::{ExitCode, Termination};
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::engine::end::{BlockedTasklet, ExitReason};
use crate::engine::group::{Group, GroupEnd};
use crate::engine::overflow;
use crate::engine::reactor::Reactor;
use crate::engine::scheduler::{self, Scheduler, SpawnOptions};
use crate::engine::stack::{StackMode, DEFAULT_STACK_SIZE};
use crate::engine::state::AnyInbox;
use crate::engine::state::Outcome;
use crate::engine::state::{trim_type_name, Name};
use crate::messaging::message::{Messages, NoMessages};
use crate::task::builder::SpawnMessages;

/// Settings for a dispatcher, then [`run`](Dispatcher::run) to start it. [`dispatch`] runs one
/// with the defaults.
///
/// # Examples
///
/// ```
/// use concurrence::{Dispatcher, StackMode};
///
/// let status = Dispatcher::new()
///     .stack_size(256 * 1024)
///     .stack_mode(StackMode::GUARDED)
///     .handle_sigint(false)
///     .run(|| println!("running"));
/// assert_eq!(status.code(), 0);
/// ```
///
/// With [`receives`](Dispatcher::receives) the first tasklet gets a mailbox, like any other
/// tasklet: it can be sent messages (through `current().with_messages::<M>()` handed to
/// others) and receive monitors' down messages.
#[must_use = "a dispatcher does nothing until run"]
pub struct Dispatcher<M = NoMessages> {
    stack_size: usize,
    stack_mode: StackMode,
    handle_sigint: bool,
    handle_sigterm: bool,
    threads: usize,
    virtual_time: bool,
    dump_on_sigquit: bool,
    _messages: PhantomData<fn() -> M>,
}

impl Default for Dispatcher {
    fn default() -> Self {
        Dispatcher {
            stack_size: DEFAULT_STACK_SIZE,
            stack_mode: StackMode::GUARDED,
            handle_sigint: true,
            handle_sigterm: false,
            threads: 1,
            virtual_time: false,
            dump_on_sigquit: false,
            _messages: PhantomData,
        }
    }
}

impl<M> Clone for Dispatcher<M> {
    fn clone(&self) -> Self {
        Dispatcher { ..*self }
    }
}

impl<M> fmt::Debug for Dispatcher<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("stack_size", &self.stack_size)
            .field("stack_mode", &self.stack_mode)
            .field("handle_sigint", &self.handle_sigint)
            .field("handle_sigterm", &self.handle_sigterm)
            .field("threads", &self.threads)
            .field("virtual_time", &self.virtual_time)
            .field("dump_on_sigquit", &self.dump_on_sigquit)
            .field("messages", &std::any::type_name::<M>())
            .finish()
    }
}

impl Dispatcher {
    /// The defaults: [`DEFAULT_STACK_SIZE`], [`StackMode::GUARDED`], SIGINT handled.
    pub fn new() -> Dispatcher {
        Dispatcher::default()
    }
}

impl<M> Dispatcher<M> {
    /// Gives the first tasklet a mailbox for the message set `N`.
    ///
    /// # Examples
    ///
    /// The first tasklet monitors its workers and is told when one crashes:
    ///
    /// ```
    /// use concurrence::{match_message, message_set, receive, spawn, Dispatcher, MSG_DOWN};
    ///
    /// message_set!(enum MainMsg { MSG_DOWN });
    ///
    /// let status = Dispatcher::new().receives::<MainMsg>().run(|| {
    ///     let worker = spawn(|| -> u32 { panic!("out of coffee") });
    ///     worker.monitor::<MainMsg>();
    ///     let msg = receive::<MainMsg>().next().unwrap();
    ///     match_message!(msg: MainMsg { MSG_DOWN(down) => down.result.is_err() })
    /// });
    /// assert_eq!(status.into_value(), Some(true));
    /// ```
    pub fn receives<N: Messages>(self) -> Dispatcher<N> {
        Dispatcher {
            stack_size: self.stack_size,
            stack_mode: self.stack_mode,
            handle_sigint: self.handle_sigint,
            handle_sigterm: self.handle_sigterm,
            threads: self.threads,
            virtual_time: self.virtual_time,
            dump_on_sigquit: self.dump_on_sigquit,
            _messages: PhantomData,
        }
    }

    /// The stack size of tasklets that do not choose their own (see
    /// [`Builder::stack_size`](crate::Builder::stack_size)).
    pub fn stack_size(mut self, bytes: usize) -> Dispatcher<M> {
        self.stack_size = bytes;
        self
    }

    /// The stack mode of tasklets that do not choose their own.
    pub fn stack_mode(mut self, mode: StackMode) -> Dispatcher<M> {
        self.stack_mode = mode;
        self
    }

    /// Whether SIGINT (Ctrl-C) stops the dispatcher (the default) with
    /// [`ExitReason::Interrupted`]. While no dispatcher handles it, SIGINT keeps its default
    /// action.
    pub fn handle_sigint(mut self, handle: bool) -> Dispatcher<M> {
        self.handle_sigint = handle;
        self
    }

    /// Whether SIGTERM stops the dispatcher as SIGINT does: it returns
    /// [`ExitReason::Terminated`] (status 143) after killing every tasklet, so that every
    /// destructor runs; the graceful shutdown a service manager asks for. Off by default (SIGTERM
    /// keeps its default action, which ends the process at once). A second SIGTERM while the
    /// first is handled ends the process by the default action.
    pub fn handle_sigterm(mut self, handle: bool) -> Dispatcher<M> {
        self.handle_sigterm = handle;
        self
    }

    /// How many dispatchers run the program, each on a thread of its own (`0`: one per
    /// available core); 1 by default. The calling thread is dispatcher 0 and runs the first
    /// tasklet; [`spawn_on`](crate::spawn_on) starts a tasklet on another. A tasklet lives and
    /// dies on the dispatcher that started it (its stack holds references that cannot move
    /// between threads).
    ///
    /// The dispatchers are one program: it ends when no non-daemon tasklet is left on any of
    /// them and no spawn is on its way; [`quit`] on any dispatcher, and SIGINT (and SIGTERM,
    /// when handled), stop them all; every dispatcher kills its tasklets, so that every
    /// destructor runs, before [`run`](Dispatcher::run) returns. The program is deadlocked
    /// only when every dispatcher is settled with blocked tasklets that nothing can wake, and
    /// the report lists the blocked tasklets of each.
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{current_dispatcher, spawn_on, Dispatcher};
    ///
    /// let status = Dispatcher::new().threads(2).run(|| {
    ///     let far = spawn_on(1, || current_dispatcher() * 10);
    ///     assert_eq!(far.join().unwrap(), 10);
    ///     current_dispatcher()
    /// });
    /// assert_eq!(status.into_value(), Some(0));
    /// ```
    pub fn threads(mut self, threads: usize) -> Dispatcher<M> {
        self.threads = threads;
        self
    }

    /// On SIGQUIT (Ctrl-\\ in a terminal), prints a [`dump`](crate::dump) of every tasklet to
    /// stderr (through the `log` crate when a logger takes errors) and goes on, as Go prints
    /// its goroutines; off by default, when SIGQUIT keeps its default action (a core dump).
    /// With several dispatchers, each prints its own. A tasklet waiting for SIGQUIT itself
    /// (`signal::Signals`) takes it instead.
    pub fn dump_on_sigquit(mut self, on: bool) -> Dispatcher<M> {
        self.dump_on_sigquit = on;
        self
    }

    /// Runs the dispatcher on virtual time (tokio's `time::pause` with auto-advance), for tests
    /// of logic that waits: the clock ([`now`](crate::now)) stands still while tasklets run,
    /// and when every tasklet waits and the next thing that can happen is a timer, it jumps to
    /// that timer at once. Sleeps, timeouts, `interval`, `rate` and every `*_timeout` follow
    /// it, so a ten-minute retry schedule runs in milliseconds, and in the same order every
    /// time.
    ///
    /// IO is polled (without blocking) before each jump, so what has arrived is taken first;
    /// what has not arrived yet does not hold time back (as with tokio, a socket read with a
    /// timeout times out at once when nothing comes). While a tasklet waits for another
    /// thread (`io::blocking`, a future on tokio, a message from another thread), the
    /// dispatcher waits for it in real time, and the virtual clock moves by the time that
    /// passed. `Instant::now` stays the real clock: measure with [`now`](crate::now).
    ///
    /// # Panics
    ///
    /// [`run`](Dispatcher::run) panics when virtual time is asked for several dispatchers
    /// ([`threads`](Dispatcher::threads) other than 1): their clocks could not agree.
    ///
    /// # Examples
    ///
    /// A retry schedule of ten minutes, tested in milliseconds:
    ///
    /// ```
    /// use concurrence::{now, sleep, Dispatcher};
    /// use std::time::{Duration, Instant};
    ///
    /// let real = Instant::now();
    /// let status = Dispatcher::new().virtual_time(true).run(|| {
    ///     let start = now();
    ///     let mut delay = Duration::from_secs(1);
    ///     let mut attempts = Vec::new();
    ///     while now() - start < Duration::from_secs(600) {
    ///         attempts.push((now() - start).as_secs()); // an attempt that fails
    ///         sleep(delay);
    ///         delay = (delay * 2).min(Duration::from_secs(120));
    ///     }
    ///     attempts
    /// });
    /// assert_eq!(
    ///     status.into_value().unwrap(),
    ///     [0, 1, 3, 7, 15, 31, 63, 127, 247, 367, 487]
    /// );
    /// assert!(real.elapsed() < Duration::from_secs(5));
    /// ```
    pub fn virtual_time(mut self, on: bool) -> Dispatcher<M> {
        self.virtual_time = on;
        self
    }

    /// Runs a dispatcher on this thread with `f` as its first tasklet, until [`quit`] is called,
    /// SIGINT arrives, no non-daemon tasklet is left, or no tasklet can ever be woken again (a
    /// deadlock, reported in the status). Tasklets still alive at that point are killed, so their
    /// destructors run, before this returns.
    ///
    /// # Panics
    ///
    /// Panics when a dispatcher already runs on this thread, or when the OS refuses the poller.
    pub fn run<F, T>(self, f: F) -> ExitStatus<T>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
        M: SpawnMessages,
    {
        assert!(
            scheduler::try_get().is_none(),
            "concurrence: dispatch() called inside a running dispatcher"
        );
        let _alt_stack = overflow::prepare_thread();
        scheduler::count_panics();
        let threads = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        assert!(
            !self.virtual_time || threads == 1,
            "concurrence: virtual time runs one dispatcher, not {threads}: several clocks could \
             not agree (Dispatcher::virtual_time)"
        );
        let sigquit = self.dump_on_sigquit;
        let poller = |sigint, sigterm| {
            Reactor::new(sigint, sigterm, sigquit)
                .unwrap_or_else(|err| panic!("concurrence: cannot create the poller: {err}"))
        };
        let reactor = poller(self.handle_sigint, self.handle_sigterm);
        // The other dispatchers of a group, each on its thread (only dispatcher 0 handles the
        // stop signals, and ends the group on them; each dumps its own tasklets on SIGQUIT).
        let (group, members) = if threads > 1 {
            let reactors: Vec<Reactor> = (1..threads).map(|_| poller(false, false)).collect();
            let remotes = std::iter::once(reactor.remote().clone())
                .chain(reactors.iter().map(|r| r.remote().clone()))
                .collect();
            let group = Group::new(remotes);
            let members = start_members(&group, reactors, self.stack_size, self.stack_mode);
            (Some(group), members)
        } else {
            (None, Vec::new())
        };
        // Dispatcher 0 left by unwinding (a bug of the runtime) stops the others too.
        let _end_group = EndGroupOnUnwind(group.clone());
        let sched = Rc::new(Scheduler::new(
            reactor,
            self.stack_size,
            self.stack_mode,
            group.clone().map(|group| (group, 0)),
        ));
        if self.virtual_time {
            let start = sched.timers.borrow().start();
            sched.clock.make_virtual(start);
        }
        let installed = scheduler::Installed::new(&sched);
        // Whatever happens below, the tasklets are shut down before the scheduler is
        // uninstalled: a `dispatch` left by unwinding leaves no record to resume later.
        let shutdown = scheduler::ShutdownGuard(&sched);
        let inbox = M::mailbox(None).map(|m| m.inner().clone() as Rc<dyn AnyInbox>);
        let first = SpawnOptions {
            name: None,
            daemon: false,
            stack_size: None,
            stack_mode: None,
            inbox,
        };
        // The first tasklet is named after its function (`main`), without a spawn site.
        let name = Name::Function(trim_type_name(std::any::type_name::<F>()));
        let first = sched.spawn(first, f, name);
        let mut reason = sched.run_loop();
        if reason == ExitReason::Finished {
            match &*first.outcome.borrow() {
                Outcome::Panicked(msg) => {
                    first.panic_seen.set(true);
                    reason = ExitReason::Panicked(msg.to_string());
                }
                Outcome::Killed => reason = ExitReason::Killed,
                _ => {}
            }
        }
        // (A group's deadlock is reported once every dispatcher has listed its blocked
        // tasklets, below.)
        let deadlocked_alone = matches!(reason, ExitReason::Deadlock(_)) && group.is_none();
        if deadlocked_alone || matches!(reason, ExitReason::Panicked(_)) {
            crate::engine::logging::report(format_args!("concurrence: {}", describe(&reason)));
        }
        // The first tasklet's value, when it returned one (it may have, and the dispatcher
        // still ended otherwise: a quit from another tasklet after it returned).
        let returned = matches!(*first.outcome.borrow(), Outcome::Value(_));
        let value = returned.then(|| first.take_result::<T>().ok()).flatten();
        sched.shutdown();
        drop(shutdown);
        // A quit made while shutting down (by a destructor of a tasklet killed then) replaces
        // the status, as any later quit does.
        if let Some(code) = sched.quit_code() {
            reason = ExitReason::Quit(code);
        }
        drop(installed);
        if let Some(group) = group {
            // The others shut down too: every destructor has run when `run` returns.
            let blocked = join_members(members);
            group.drain();
            match (&mut reason, group.ended()) {
                (ExitReason::Deadlock(mine), _) => {
                    mine.extend(blocked);
                    crate::engine::logging::report(format_args!(
                        "concurrence: {}",
                        describe(&reason)
                    ));
                }
                (_, Some(GroupEnd::Quit(code))) => reason = ExitReason::Quit(code),
                _ => {}
            }
        }
        ExitStatus { reason, value }
    }
}

/// Ends the group when dropped while the thread unwinds, so that its other dispatchers do not
/// wait for ever.
struct EndGroupOnUnwind(Option<Arc<Group>>);

impl Drop for EndGroupOnUnwind {
    fn drop(&mut self) {
        if let (Some(group), true) = (&self.0, std::thread::panicking()) {
            group.end(GroupEnd::Quit(ExitStatus::PANIC));
        }
    }
}

/// Starts dispatchers 1.. of `group` on threads of their own, one per reactor. A thread that
/// cannot be started ends the group (the others stop at once) and panics.
fn start_members(
    group: &Arc<Group>,
    reactors: Vec<Reactor>,
    stack_size: usize,
    stack_mode: StackMode,
) -> Vec<JoinHandle<Vec<BlockedTasklet>>> {
    let mut members = Vec::new();
    for (index, reactor) in (1..).zip(reactors) {
        let member = group.clone();
        let started = std::thread::Builder::new()
            .name(format!("concurrence-{index}"))
            .spawn(move || run_member(reactor, member, index, stack_size, stack_mode));
        match started {
            Ok(handle) => members.push(handle),
            Err(err) => {
                group.end(GroupEnd::Quit(1));
                join_members(members);
                panic!("concurrence: cannot start dispatcher {index}'s thread: {err}");
            }
        }
    }
    members
}

/// The body of dispatcher `index` of `group`: runs its loop until the group ends, then kills
/// its tasklets; returns its blocked tasklets when the group ended deadlocked.
fn run_member(
    reactor: Reactor,
    group: Arc<Group>,
    index: usize,
    stack_size: usize,
    stack_mode: StackMode,
) -> Vec<BlockedTasklet> {
    let _alt_stack = overflow::prepare_thread();
    let sched = Rc::new(Scheduler::new(
        reactor,
        stack_size,
        stack_mode,
        Some((group, index)),
    ));
    let installed = scheduler::Installed::new(&sched);
    let shutdown = scheduler::ShutdownGuard(&sched);
    let blocked = match sched.run_loop() {
        ExitReason::Deadlock(blocked) => blocked,
        _ => Vec::new(),
    };
    sched.shutdown();
    drop(shutdown);
    drop(installed);
    blocked
}

/// Waits for the dispatchers' threads to end; returns their blocked tasklets. A thread that
/// panicked (a bug of the runtime: tasklets' panics are caught) panics here too.
fn join_members(members: Vec<JoinHandle<Vec<BlockedTasklet>>>) -> Vec<BlockedTasklet> {
    let mut blocked = Vec::new();
    for member in members {
        match member.join() {
            Ok(list) => blocked.extend(list),
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
    blocked
}

/// Runs a dispatcher on this thread with `f` as its first tasklet; see [`Dispatcher::run`].
/// The status it returns carries what `f` returned ([`ExitStatus::into_value`]), so `f` may
/// compute a result, or return a `Result` and use `?`.
///
/// The status implements [`Termination`], so a program can end with it:
///
/// ```no_run
/// use concurrence::{dispatch, spawn, ExitStatus};
///
/// fn main() -> ExitStatus {
///     dispatch(|| {
///         spawn(|| println!("Hello"));
///         spawn(|| println!("World"));
///         println!("start done.");
///     })
/// }
/// ```
///
/// # Panics
///
/// As [`Dispatcher::run`].
pub fn dispatch<F, T>(f: F) -> ExitStatus<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    Dispatcher::new().run(f)
}

/// Stops the dispatcher with `code`: the call records it and returns, and the dispatcher
/// stops as soon as the caller next blocks, yields or ends, as in the original. Then every
/// tasklet still alive is killed, the caller too, and [`dispatch`] returns
/// [`ExitReason::Quit`] with `code` as the status. A later `quit` replaces the code, and so
/// does one made while the dispatcher shuts down (by a destructor of a tasklet it kills then),
/// whatever the dispatcher ended for.
///
/// # Panics
///
/// Panics when no dispatcher runs on this thread.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, quit, sleep, spawn};
/// use std::time::Duration;
///
/// let status = dispatch(|| {
///     spawn(|| sleep(Duration::from_secs(3600)));
///     quit(3);
///     println!("quit returns to its caller"); // the dispatcher stops at the next block
///     sleep(Duration::from_secs(3600));
///     unreachable!("killed in the sleep by the dispatcher's shutdown");
/// });
/// assert_eq!(status.code(), 3);
/// ```
pub fn quit(code: i32) {
    scheduler::get().request_quit(code);
}

/// How a dispatcher ended, with the status to give the OS, and the value its first tasklet
/// returned, if it did (`T`, `()` by default).
///
/// `fn main() -> ExitStatus` ends the process with [`code`](ExitStatus::code). A first tasklet
/// that returns a `Result` can use `?`, and `fn main() -> ExitStatus<Result<(), E>>` then
/// ends the process as a `main` returning that `Result` would (an `Err` is printed and the
/// status is 1) when the dispatcher finished normally:
///
/// ```no_run
/// use concurrence::net::TcpListener;
/// use concurrence::{dispatch, ExitStatus};
///
/// fn main() -> ExitStatus<std::io::Result<()>> {
///     dispatch(|| {
///         let listener = TcpListener::bind("127.0.0.1:0")?;
///         println!("listening on {}", listener.local_addr()?);
///         Ok(())
///     })
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the status says whether the dispatcher ended well: return it from main, or check it"]
pub struct ExitStatus<T = ()> {
    reason: ExitReason,
    value: Option<T>,
}

/// The status codes, as constants (on `ExitStatus<()>`, so that `ExitStatus::SIGINT` needs no
/// type).
impl ExitStatus {
    /// The status when every tasklet finished: 0.
    pub const SUCCESS: i32 = 0;
    /// The status when the first tasklet panicked: 101, as for a panicking `main`.
    pub const PANIC: i32 = 101;
    /// The status when the first tasklet was killed: 137, as for a process killed by SIGKILL
    /// (128 + 9).
    pub const KILLED: i32 = 137;
    /// The status after SIGINT: 130, the shells' convention for death by SIGINT (128 + 2).
    pub const SIGINT: i32 = 130;
    /// The status after SIGTERM, when [`Dispatcher::handle_sigterm`] is on: 143 (128 + 15).
    pub const SIGTERM: i32 = 143;
    /// The status after a deadlock: 70 (`EX_SOFTWARE` of sysexits.h).
    pub const DEADLOCK: i32 = 70;
}

impl<T> ExitStatus<T> {
    /// The status for the OS: [`SUCCESS`](Self::SUCCESS) when finished, [`PANIC`](Self::PANIC)
    /// when the first tasklet panicked, [`KILLED`](Self::KILLED) when it was killed, the
    /// [`quit`] code, [`SIGINT`](Self::SIGINT),
    /// [`SIGTERM`](Self::SIGTERM) (when handled), [`DEADLOCK`](Self::DEADLOCK).
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{dispatch, Channel, ExitStatus};
    ///
    /// let status = dispatch(|| {
    ///     Channel::<u32>::new().receive(); // nobody will ever send
    /// });
    /// assert_eq!(status.code(), ExitStatus::DEADLOCK);
    /// assert_eq!(dispatch(|| {}).code(), ExitStatus::SUCCESS);
    /// ```
    pub fn code(&self) -> i32 {
        code_of(&self.reason)
    }

    /// Why the dispatcher ended.
    pub fn reason(&self) -> &ExitReason {
        &self.reason
    }

    /// Whether the status is 0.
    pub fn success(&self) -> bool {
        self.code() == 0
    }

    /// The value the first tasklet returned: `None` when it panicked, was killed (a quit,
    /// SIGINT, a deadlock's end) or never returned.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// [`value`](ExitStatus::value), by value.
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{dispatch, spawn};
    ///
    /// let total = dispatch(|| {
    ///     let parts: Vec<_> = (1..=3).map(|n| spawn(move || n * 10)).collect();
    ///     parts.into_iter().map(|p| p.join().unwrap()).sum::<i32>()
    /// });
    /// assert!(total.success());
    /// assert_eq!(total.into_value(), Some(60));
    /// ```
    pub fn into_value(self) -> Option<T> {
        self.value
    }
}

/// The status for the OS of a dispatcher that ended for `reason`.
fn code_of(reason: &ExitReason) -> i32 {
    match reason {
        ExitReason::Finished => ExitStatus::SUCCESS,
        ExitReason::Panicked(_) => ExitStatus::PANIC,
        ExitReason::Killed => ExitStatus::KILLED,
        ExitReason::Quit(code) => *code,
        ExitReason::Interrupted => ExitStatus::SIGINT,
        ExitReason::Terminated => ExitStatus::SIGTERM,
        ExitReason::Deadlock(_) => ExitStatus::DEADLOCK,
    }
}

/// What a status says, for its `Display` and the report of a bad end.
fn describe(reason: &ExitReason) -> String {
    match reason {
        ExitReason::Finished => "every tasklet finished".to_owned(),
        ExitReason::Panicked(msg) => format!("the first tasklet panicked: {msg}"),
        ExitReason::Killed => "the first tasklet was killed".to_owned(),
        ExitReason::Quit(code) => format!("quit with code {code}"),
        ExitReason::Interrupted => "interrupted by SIGINT".to_owned(),
        ExitReason::Terminated => "terminated by SIGTERM".to_owned(),
        ExitReason::Deadlock(blocked) => {
            let mut text = format!("deadlock: {} tasklet(s) blocked forever", blocked.len());
            for b in blocked {
                text.push_str(&format!("\n  {b}"));
            }
            text
        }
    }
}

impl<T> fmt::Display for ExitStatus<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(&self.reason))
    }
}

/// The process ends with [`ExitStatus::code`]; when every tasklet finished, as the first
/// tasklet's value would end `main` (`()`: 0; `Err(e)`: `e` printed, 1). Deadlocks and panics of
/// the first tasklet were reported when the dispatcher ended; an interrupted program says so on
/// stderr.
impl<T: Termination> Termination for ExitStatus<T> {
    fn report(self) -> ExitCode {
        if self.reason == ExitReason::Interrupted {
            eprintln!("concurrence: {self}");
        }
        match (self.reason, self.value) {
            (ExitReason::Finished, Some(value)) => value.report(),
            (reason, _) => ExitCode::from((code_of(&reason) & 0xff) as u8),
        }
    }
}
