//! Cooperative, stackful tasklets for Rust: blocking-style concurrent code without `async`.
//!
//! concurrence re-creates the Python *Concurrence* framework. A **tasklet** is a function
//! running on its own small stack; it runs until it blocks (sleeps, joins, waits for a message
//! or IO), and then the **dispatcher** runs the next ready tasklet, round-robin, on the same
//! thread. Because only one tasklet runs at a time and switches happen only where a tasklet
//! blocks, tasklets share `Rc`s and `RefCell`s freely; handles are not `Send`.
//!
//! Coming from tokio, may or Erlang? [`coming_from`] maps their idioms to this crate's.
//!
//! # A tour
//!
//! [`dispatch`] runs a dispatcher with a first tasklet; [`spawn`] (or a [`Builder`]) starts
//! more; [`Tasklet::join`] waits for one and gives its result; [`sleep`] and [`yield_`] give the
//! others a turn.
//!
//! ```
//! use concurrence::{dispatch, sleep, spawn, Builder};
//! use std::time::Duration;
//!
//! let status = dispatch(|| {
//!     let sum = Builder::new().name("sum").spawn(|| 10 + 20);
//!     let slow = spawn(|| {
//!         sleep(Duration::from_millis(10));
//!         "slow done"
//!     });
//!     println!("start done.");               // spawning does not block
//!     assert_eq!(sum.join().unwrap(), 30);
//!     assert_eq!(slow.join().unwrap(), "slow done");
//! });
//! assert!(status.success());
//! ```
//!
//! Tasklets talk through typed mailboxes. [`message!`] declares messages; [`#[tasklet]`](tasklet)
//! turns a function into a tasklet, generating its builder and the enum of the messages it
//! receives; sends, calls, replies and the receive loop's `match` are all checked by the
//! compiler.
//!
//! ```
//! use concurrence::{dispatch, message, receive, tasklet};
//!
//! message!(MSG_GREETING(String), MSG_SUM(i64, i64) -> i64);
//!
//! #[tasklet(receives(MSG_GREETING, MSG_SUM))]
//! fn printer() {
//!     for msg in receive() {
//!         match msg {
//!             PrinterMsg::MSG_GREETING(MSG_GREETING(name)) => println!("Hello {name}"),
//!             PrinterMsg::MSG_SUM(MSG_SUM(a, b, reply)) => reply.reply(a + b),
//!         }
//!     }
//! }
//!
//! dispatch(|| {
//!     let printer = Printer::new().daemon(true).spawn();
//!     MSG_GREETING::send(&printer)("World".into()).unwrap(); // asynchronous
//!     assert_eq!(MSG_SUM::call(&printer)(1, 2), Ok(3));      // waits for the reply
//! });
//! ```
//!
//! A [`Mailbox`] (blocking deque) and a [`Channel`] (rendezvous) can also be shared by any
//! tasklets.
//!
//! Panics stay inside their tasklet and come back from [`join`](Tasklet::join) as a
//! [`JoinError`]; [`kill`](Tasklet::kill) unwinds a tasklet where it waits, running its
//! destructors; timeouts are `*_timeout` variants that return [`TimeoutError`]. The repeating
//! helpers [`later`], [`loop_`], [`interval`] and [`rate`] start tasklets that call a function on
//! a schedule, and every tasklet knows its [`parent`](Tasklet::parent),
//! [`children`](Tasklet::children) and [`tree`](Tasklet::tree).
//!
//! IO suspends only the tasklet that waits: the sockets of [`net`] (TCP, UDP, Unix-domain, and
//! a [`Server`](net::Server) that runs a tasklet per connection), any non-blocking descriptor
//! wrapped in [`io::Registered`], [`io::wait_readable`] / [`io::wait_writable`] for any
//! descriptor, and [`io::blocking`] for a function that blocks (file IO, a synchronous driver),
//! which runs on a thread pool. Child processes ([`process::Command`]) and Unix signals
//! ([`signal::Signals`]) are waited for the same way. [`io::wait_future`] waits for any future,
//! and `io::on_tokio` (cargo feature `tokio`) runs one on a tokio runtime, for async libraries.
//! Tasklets of other processes, on other machines, are reached over NATS with the workspace's
//! `concurrence-nats` crate: typed sends and calls of the same messages (the `remote` option of
//! `#[tasklet]` and `message_set!`).
//!
//! A program uses every core with [`Dispatcher::threads`]: one dispatcher per thread, a tasklet
//! living and dying on the one that started it. [`spawn_on`] starts one elsewhere;
//! [`Tasklet::sendable`] and [`Builder::spawn_on`] give a [`SendTasklet`], a handle that crosses
//! threads and sends, calls, joins and kills from any of them; a [`WorkQueue`] spreads work;
//! [`net::Server::serve_on_all`] serves one port on every dispatcher.
//!
//! # Timeouts
//!
//! Every blocking call has a `_timeout` form taking a `Duration`, with one rule for its result:
//! what the call gives is in `Ok`, and running out of time is an `Err` that gives back whatever
//! was not delivered. A call whose own error type has a "timed out" case uses it (it carries the
//! value back); a call without one returns [`TimeoutError`]; a wait for something that may
//! itself fail nests the two, as `tokio::time::timeout(join)` does (the outer `Result` says
//! whether it ended in time, the inner one how it ended). IO follows std's IO instead:
//! `io::ErrorKind::TimedOut`.
//!
//! | call | in time | out of time |
//! |---|---|---|
//! | [`Tasklet::join_timeout`], [`process::Child::wait_timeout`] | `Ok(Ok(value))` or `Ok(Err(error))` | `Err(TimeoutError)` |
//! | [`join_all_timeout`], [`join_children_timeout`] | `Ok(results)` | `Err(TimeoutError)` |
//! | [`Tasklet::send_timeout`], [`Channel::send_timeout`], [`Mailbox::append_timeout`] | `Ok(())` | `Err(SendError::TimedOut(value))`: the value back |
//! | [`Tasklet::call_timeout`], [`CallWait::call_timeout`] | `Ok(reply)` | `Err(CallError::TimedOut { .. })` |
//! | [`receive_timeout`], [`receive_matching_timeout`], [`Channel::receive_timeout`], [`Mailbox::popleft_timeout`], [`Mailbox::pop_timeout`] | `Ok(value)` | `Err(TimeoutError)`: nothing taken |
//! | [`wait_idle_timeout`], [`CallWait::wait_timeout`], [`signal::Signals::wait_timeout`] | `Ok(event)` | `Err(TimeoutError)` |
//! | [`sleep`], [`sleep_until`] | - | returns |
//! | sockets' reads and writes after `set_read_timeout` / `set_write_timeout`, `accept_timeout`, `connect_timeout`, [`io::wait_readable`] | `Ok(..)` | `Err(e)` with `e.kind() == io::ErrorKind::TimedOut` |
//! | [`select!`] / [`wait_for::any`] with [`wait_for::timeout`] | the event that fired | the timeout's arm |
//!
//! Timer resolution is a millisecond: when nothing else is ready the dispatcher sleeps in the OS
//! poller (epoll, through mio), whose timeout is whole milliseconds rounded up. A timeout or a
//! sleep lasts at least what was asked, rounded up to the next millisecond, plus the wake-up
//! latency (about 0.1 ms here): `sleep(100us)` takes about 1.1 ms, `sleep(2500us)` about 3.1 ms
//! (measured on Linux 6.18). While other tasklets keep the dispatcher busy, a due timer fires at
//! the next pass instead, which can be sooner.
//!
//! Tests of logic that waits (retries, schedules, timeouts) run on virtual time with
//! [`Dispatcher::virtual_time`]: the clock ([`now`]) jumps to the next timer when every tasklet
//! waits, so minutes pass in milliseconds, the same way every run.
//!
//! # Waiting for several things
//!
//! A tasklet can wait for the first of several conditions and learn which one fired (kiwi's
//! `yield cond1, cond2` and `get_event()`, with the event as a return value). The conditions are
//! values made by [`wait_for`]: a timeout or a deadline, a tasklet's end, a message (or one an
//! accept filter picks), a channel's value or receiver, a mailbox's item, a descriptor's
//! readiness, a Unix signal, a child process's exit, a call at a [`CallWait`], and the
//! dispatcher being idle. [`select!`] waits for a fixed set and runs the arm of the one that
//! fired; [`wait_for::any`] waits for a set built at run time:
//!
//! ```
//! use std::time::Duration;
//! use concurrence::{dispatch, select, spawn, wait_for, Mailbox};
//!
//! dispatch(|| {
//!     let jobs = Mailbox::new();
//!     let worker = spawn(|| 6 * 7);
//!     jobs.append("a job").unwrap();
//!     let mut events = Vec::new();
//!     for _ in 0..3 {
//!         events.push(select! {
//!             job = wait_for::popleft(&jobs) => format!("{job}"),
//!             result = wait_for::join(&worker) => format!("worker gave {}", result.unwrap()),
//!             () = wait_for::timeout(Duration::from_millis(10)) => "nothing more".to_owned(),
//!         });
//!     }
//!     assert_eq!(events, ["a job", "worker gave 42", "nothing more"]);
//! });
//! ```
//!
//! When several conditions have their events, the first in order wins; the others take nothing
//! (a message stays in the mailbox, a sender keeps its value), and every registration of the
//! wait is withdrawn before it returns, or when a kill unwinds it. A condition object reused
//! across waits keeps its state: a [`wait_for::Timeout`] keeps its deadline until it fires.
//! Each single blocking call ([`io::wait_readable`], [`wait_idle`], [`signal::Signals::wait`],
//! [`process::Child::wait`], [`CallWait::wait`]) is its one condition waited for alone.
//!
//! Tasklets share one thread, so a call that blocks the thread itself (`std::thread::sleep`,
//! std's blocking file or socket IO, a long computation without [`yield_`]) holds up every
//! tasklet of the dispatcher until it returns: use the tasklet forms ([`sleep`], [`net`],
//! [`io::blocking`], ...) instead.
//!
//! # How it runs
//!
//! One dispatcher per thread; tasklets never move between threads. When no tasklet is ready the
//! dispatcher blocks in the OS poller (`mio`) until the next timer. Every blocking call is the
//! same three steps: register wake-ups, suspend, learn why it was woken (ready, timed out, or
//! killed). Stacks are pooled, allocated when a tasklet first runs, and overflow is caught by a
//! guard page; [`StackMode::compact`], an `unsafe` opt-in, lets many mostly idle tasklets share
//! a few stacks, each keeping only its used bytes while another runs; see [`StackMode`].
//!
//! # The toolkit
//!
//! Deadlines that scope ([`with_deadline`], [`with_timeout`]: every blocking call inside
//! honours the earliest), tasklet-local values ([`tasklet_local!`]), virtual time for tests
//! ([`Dispatcher::virtual_time`]), and a live view: [`dump`] lists every tasklet (what it waits
//! for, where, for how long; [`Dispatcher::dump_on_sigquit`] prints it on SIGQUIT), [`stats`]
//! reads the dispatcher's counters. With the cargo feature `tracing`, each tasklet runs in a
//! `tracing` span (`tasklet`, with its `id`, `name` and `parent`), and its spawn, end, kill and
//! panic are events (target `concurrence`):
//!
//! ```
//! # #[cfg(feature = "tracing")]
//! # {
//! use concurrence::{dispatch, Builder};
//!
//! // Prints e.g. `INFO tasklet{id=2 name=worker parent=1}: crunching`.
//! let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).finish();
//! tracing::subscriber::with_default(subscriber, || {
//!     dispatch(|| {
//!         let worker = Builder::new()
//!             .name("worker")
//!             .spawn(|| tracing::info!("crunching"));
//!         worker.join().unwrap();
//!     })
//! });
//! # }
//! ```
#![doc(test(attr(deny(warnings), allow(unused_must_use))))]
#![warn(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[cfg(not(target_os = "linux"))]
compile_error!(
    "concurrence runs on Linux only: it waits for IO with epoll (through mio), for child \
     processes with pidfds, and guards tasklet stacks with Linux's madvise and mprotect"
);

// The crate's own `message!` declarations (MSG_DOWN) name it as `::concurrence`, like users'.
extern crate self as concurrence;

pub mod coming_from;
mod engine;
mod error;
pub mod io;
mod messaging;
pub mod net;
pub mod process;
pub mod signal;
pub mod sync;
mod task;
mod tasklet_local;
pub mod wait_for;

/// Declares message types: `message!(MSG_NAME)`, `message!(MSG_NAME(T1, T2))`, and
/// `message!(MSG_NAME(T1, T2) -> R)` for a message answered through `call`. Several
/// declarations may share one invocation, separated by commas.
///
/// Each declaration becomes a tuple struct named as declared, with the payload as public
/// fields (a called message has a last field [`Reply<R>`](Reply) that the receiver answers
/// through), and associated functions in the original's shape:
///
/// | declaration               | struct                                   | sending                                   |
/// |---------------------------|------------------------------------------|-------------------------------------------|
/// | `MSG_QUIT`                | `struct MSG_QUIT;`                       | `MSG_QUIT::send(&t)()`                    |
/// | `MSG_GREETING(String)`    | `struct MSG_GREETING(pub String);`       | `MSG_GREETING::send(&t)(name)`            |
/// | `MSG_SUM(i64, i64) -> i64`| `struct MSG_SUM(pub i64, pub i64, pub Reply<i64>);` | `MSG_SUM::call(&t)(1, 2)` gives `Ok(3)` |
///
/// `send` also comes as `send_timeout(&t, timeout)` and `try_send(&t)`, `call` as
/// `call_timeout(&t, timeout)`; they are [`Tasklet::send`] and [`Tasklet::call`] in another
/// shape. A called message has no `send` and a sent one no `call` or `Reply`, so replying to a
/// message that was sent is a compile error.
///
/// Names follow the original's convention, UPPERCASE with the `MSG_` prefix: another name is a
/// compile error that suggests one. Attributes and a visibility go before the name
/// (`message!(#[derive(Debug)] pub MSG_PING)`); messages cannot be generic.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, message, receive, tasklet};
///
/// message!(MSG_SUM(i64, i64) -> i64, MSG_MAX(i64, i64) -> i64, MSG_STOP);
///
/// #[tasklet(receives(MSG_SUM, MSG_MAX, MSG_STOP))]
/// fn calculator() -> usize {
///     let mut answered = 0;
///     for msg in receive::<CalculatorMsg>() {
///         match msg {
///             CalculatorMsg::MSG_SUM(MSG_SUM(a, b, reply)) => reply.reply(a + b),
///             CalculatorMsg::MSG_MAX(MSG_MAX(a, b, reply)) => reply.reply(a.max(b)),
///             CalculatorMsg::MSG_STOP(MSG_STOP) => return answered,
///         }
///         answered += 1;
///     }
///     unreachable!("receive never ends")
/// }
///
/// dispatch(|| {
///     let calc = Calculator::new().spawn();
///     assert_eq!(MSG_SUM::call(&calc)(10, 20), Ok(30));
///     assert_eq!(MSG_MAX::call(&calc)(10, 20), Ok(20));
///     MSG_STOP::send(&calc)().unwrap();
///     assert_eq!(calc.join().unwrap(), 2);
/// });
/// ```
pub use concurrence_macros::message;
pub use messaging::call_wait::{CallReply, CallWait, Called};
pub use messaging::channel::Channel;
pub use messaging::work_queue::WorkQueue;
pub use task::builder::{interval, later, loop_, rate, receiver, spawn, Builder, SpawnMessages};

/// A `match` on a message set that names each message once:
/// `match_message!(msg: PrinterMsg { MSG_GREETING(name) => .., MSG_QUIT => .. })` is
/// `match msg { PrinterMsg::MSG_GREETING(MSG_GREETING(name)) => .., PrinterMsg::MSG_QUIT(MSG_QUIT) => .. }`.
///
/// Each arm starts with a message pattern: `MSG_X(fields)`, `MSG_X` for a message without
/// payload (also through a path, `msgs::MSG_X(..)`), several joined by `|`, `name @ MSG_X(..)`
/// to keep the whole message, or `_` / a lowercase name for the rest; guards (`if ..`) work as in
/// `match`. It *is* a `match`: rustc checks it for exhaustiveness and every pattern's types, and
/// `break`, `continue` and `return` in an arm act on the enclosing loop or function.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, match_message, message, receive, tasklet};
///
/// message!(MSG_GREETING(String), MSG_SUM(i64, i64) -> i64, MSG_QUIT);
///
/// #[tasklet(receives(MSG_GREETING, MSG_SUM, MSG_QUIT))]
/// fn printer() -> Vec<String> {
///     let mut said = Vec::new();
///     for msg in receive() {
///         match_message!(msg: PrinterMsg {
///             MSG_GREETING(name) => said.push(format!("Hello {name}")),
///             MSG_SUM(a, b, reply) => reply.reply(a + b),
///             MSG_QUIT => break,
///         })
///     }
///     said
/// }
///
/// dispatch(|| {
///     let p = Printer::new().spawn();
///     MSG_GREETING::send(&p)("World".into()).unwrap();
///     assert_eq!(MSG_SUM::call(&p)(2, 3), Ok(5));
///     MSG_QUIT::send(&p)().unwrap();
///     assert_eq!(p.join().unwrap(), ["Hello World"]);
/// });
/// ```
pub use concurrence_macros::match_message;
/// Declares a message set of its own, for tasklets that share one, for [`receiver`], for a
/// [`Builder::receives`], or for the first tasklet of a dispatcher:
/// `message_set!(pub enum WorkerMsg { MSG_A, MSG_B })`.
///
/// It is exactly what `#[tasklet(receives(MSG_A, MSG_B))]` generates for a function `worker`
/// (one variant per message, named and holding as the message), so it is used the same way:
/// `receive::<WorkerMsg>()`, `Tasklet<T, WorkerMsg>` handles that take exactly these messages,
/// and `#[tasklet(receives = WorkerMsg)]` for a tasklet function that receives it. Attributes go
/// on the enum (`#[derive(Debug)]`: every message must then implement the trait); a `#[tasklet]`
/// set takes them as `#[tasklet(receives(..), derive(Debug))]`.
///
/// # Examples
///
/// Two kinds of worker share one set, and a plain closure receives it too:
///
/// ```
/// use concurrence::{dispatch, message, message_set, receive, tasklet, Builder};
///
/// message!(#[derive(Debug)] MSG_JOB(u32), #[derive(Debug)] MSG_STOP);
/// message_set!(#[derive(Debug)] pub enum WorkerMsg { MSG_JOB, MSG_STOP });
///
/// #[tasklet(receives = WorkerMsg)]
/// fn doubler() -> u32 {
///     let mut total = 0;
///     for msg in receive::<WorkerMsg>() {
///         match msg {
///             WorkerMsg::MSG_JOB(MSG_JOB(n)) => total += 2 * n,
///             WorkerMsg::MSG_STOP(MSG_STOP) => break,
///         }
///     }
///     total
/// }
///
/// dispatch(|| {
///     let a = Doubler::new().spawn();
///     let b = Builder::new().receives::<WorkerMsg>().spawn(|| {
///         let first = receive::<WorkerMsg>().next().unwrap();
///         format!("{first:?}")
///     });
///     MSG_JOB::send(&a)(21).unwrap();
///     MSG_STOP::send(&a)().unwrap();
///     MSG_JOB::send(&b)(1).unwrap();
///     assert_eq!(a.join().unwrap(), 42);
///     assert_eq!(b.join().unwrap(), "MSG_JOB(MSG_JOB(1))");
/// });
/// ```
pub use concurrence_macros::message_set;
/// Waits for the first of several conditions and runs the arm of the one that fired:
/// `select! { PATTERN = CONDITION => BODY, ... }`.
///
/// Each `CONDITION` is a value of [`wait_for`] (`wait_for::message()`, `wait_for::join(&t)`,
/// `wait_for::timeout(d)`, ...), evaluated once, in order, before the wait. The tasklet waits
/// until one fires; the event it gives is matched against the arm's `PATTERN` (which must
/// accept every event of that condition, as a `match` arm would) and the arm's `BODY` runs.
/// The whole `select!` is an expression: its value is the body's.
///
/// - When several conditions have their events, the first arm wins; a condition that did not
///   win takes nothing (its message stays in the mailbox, a sender keeps its value).
/// - The conditions are disarmed and dropped before the body runs, so a body may use what they
///   borrowed; `return`, `break`, `continue` and `?` in a body act on the enclosing function
///   or loop.
/// - A kill while waiting unwinds out of the `select!`, leaving every source as it was.
/// - A value that is not a condition, arms whose bodies differ in type, a pattern of the wrong
///   type, and a `select!` without arms are compile errors at the arm that has them.
///
/// For a set of conditions built at run time, use [`wait_for::any`].
///
/// # Examples
///
/// A printer that prints what it is sent until told to quit, and gives up after a second of
/// silence (the original's kiwi example, with a timeout):
///
/// ```
/// use std::time::Duration;
/// use concurrence::{dispatch, message, select, tasklet, wait_for};
///
/// message!(MSG_PRINT(u32), MSG_QUIT);
///
/// #[tasklet(receives(MSG_PRINT, MSG_QUIT))]
/// fn printer() -> Vec<u32> {
///     let mut printed = Vec::new();
///     loop {
///         select! {
///             msg = wait_for::message() => match msg {
///                 PrinterMsg::MSG_PRINT(MSG_PRINT(n)) => printed.push(n),
///                 PrinterMsg::MSG_QUIT(MSG_QUIT) => return printed,
///             },
///             () = wait_for::timeout(Duration::from_secs(1)) => return printed,
///         }
///     }
/// }
///
/// dispatch(|| {
///     let printer = Printer::new().spawn();
///     for n in 0..3 {
///         MSG_PRINT::send(&printer)(n).unwrap();
///     }
///     MSG_QUIT::send(&printer)().unwrap();
///     assert_eq!(printer.join().unwrap(), [0, 1, 2]);
/// });
/// ```
pub use concurrence_macros::select;
/// Turns a function into a tasklet: generates its spawn builder and, with
/// `receives(MSG_A, MSG_B, ...)`, the enum of the messages it receives.
///
/// For `#[tasklet(receives(MSG_A, MSG_B))] fn worker(id: u32) -> R`, next to the function
/// (which stays as written) it generates, with the function's visibility:
///
/// - `enum WorkerMsg { MSG_A(MSG_A), MSG_B(MSG_B) }`, the tasklet's message set: what
///   [`receive::<WorkerMsg>()`](receive) yields, and what a `match` in its receive loop checks
///   for exhaustiveness;
/// - `struct Worker`, the builder: `Worker::new()`, then `.name(..)`, `.daemon(..)`,
///   `.stack_size(..)`, `.stack_mode(..)`, `.max_mailbox_len(..)`, and
///   `.spawn(id) -> Tasklet<R, WorkerMsg>`, a handle that takes exactly `MSG_A` and `MSG_B`.
///
/// With `receives = WorkerMsg` the tasklet receives a set declared with [`message_set!`]
/// (shared with other tasklets) and no enum is generated; `derive(Debug, ...)` derives traits on
/// the generated enum (`#[tasklet(receives(MSG_A, MSG_B), derive(Debug))]`).
///
/// Without `receives` it generates only the builder, whose handle takes no messages. The
/// generated names are the function's name in CamelCase, and `Msg` after it for the enum.
/// `#[tasklet]` goes on free, synchronous, safe functions: on a method, an `async fn` or an
/// `unsafe fn` it is a compile error, as are unknown or repeated arguments and a message listed
/// twice. A tasklet is named after its function unless the builder names it.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, message, receive, tasklet};
///
/// message!(MSG_GREETING(String), MSG_FAREWELL(String));
///
/// #[tasklet(receives(MSG_GREETING, MSG_FAREWELL))]
/// fn greeter(greeting: &'static str) -> Vec<String> {
///     let mut said = Vec::new();
///     for msg in receive() {
///         match msg {
///             GreeterMsg::MSG_GREETING(MSG_GREETING(name)) => said.push(format!("{greeting} {name}")),
///             GreeterMsg::MSG_FAREWELL(MSG_FAREWELL(name)) => {
///                 said.push(format!("Goodbye {name}"));
///                 break;
///             }
///         }
///     }
///     said
/// }
///
/// dispatch(|| {
///     let greeter = Greeter::new().name("greeter").max_mailbox_len(8).spawn("Hello");
///     MSG_GREETING::send(&greeter)("World".into()).unwrap();
///     MSG_FAREWELL::send(&greeter)("World".into()).unwrap();
///     assert_eq!(greeter.join().unwrap(), ["Hello World", "Goodbye World"]);
/// });
/// ```
pub use concurrence_macros::tasklet;
pub use engine::deadline::DeadlinePassed;
pub use engine::dump::{dump, stats, Dump, Stats, TaskletInfo, TaskletState};
pub use engine::end::{BlockedTasklet, Down, ExitReason, TaskletExit};
pub use engine::stack::{guarded_budget, StackMode, DEFAULT_STACK_SIZE, MIN_STACK_SIZE};
pub use engine::timer::{now, sleep, sleep_until};
pub use error::{JoinCause, JoinError, TimeoutError};
pub use messaging::mailbox::Mailbox;
pub use messaging::message::{
    Accepts, Call, CallError, CalledNotSent, Message, Messages, NoMessages, Payload, SendError,
    SentNotCalled,
};
pub use messaging::receive::{
    receive, receive_batch, receive_matching, receive_matching_timeout, receive_timeout,
    try_receive, Receive,
};
pub use messaging::reply::Reply;
pub use task::deadline::{current_deadline, remaining_time, with_deadline, with_timeout};
pub use task::idle::{wait_idle, wait_idle_timeout};
pub use task::join::{
    join_all, join_all_timeout, join_children, join_children_timeout, ErasedResult,
};
pub use task::local::{AccessError, LocalKey};
pub use task::monitor::{trap_exits, MSG_DOWN, MSG_EXIT};
pub use task::placement::{
    current_dispatcher, dispatcher_count, spawn_next, spawn_on, SendTasklet,
};
pub use task::runtime::{dispatch, quit, Dispatcher, ExitStatus};
pub use task::supervisor::{Supervisor, SupervisorError};
pub use task::tasklet::{current, try_current, yield_, Tasklet, Tree};
