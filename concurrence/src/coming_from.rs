//! Coming from tokio, may or Erlang: their idioms, and this crate's for the same thing.
//!
//! Documentation only: this module has no items.
//!
//! # The model in one paragraph
//!
//! A dispatcher runs tasklets on one OS thread, each on its own guarded stack, switching only
//! when a tasklet blocks (a receive, a join, a sleep, a socket read, ...) or calls [`yield_`](crate::yield_).
//! Code is plain blocking code: no `async`, no `.await`, no `Send` bounds on what tasklets
//! capture. The price: a call that blocks the *thread* (std's file IO, `std::thread::sleep`, a
//! long computation without a `yield_`) holds up every tasklet of the dispatcher; run those
//! through [`io::blocking`](crate::io::blocking). For several cores, run a dispatcher per thread.
//!
//! # From tokio
//!
//! | tokio | concurrence |
//! |---|---|
//! | `#[tokio::main(flavor = "current_thread")] async fn main()` | `fn main() -> ExitStatus { dispatch(\|\| ..) }` ([`dispatch`](crate::dispatch)) |
//! | `tokio::spawn(async move { .. })` | [`spawn`](crate::spawn)`(move \|\| ..)` |
//! | `handle.await` | [`Tasklet::join`](crate::Tasklet::join) (a panic comes back as a [`JoinError`](crate::JoinError)) |
//! | `handle.abort()` | [`Tasklet::kill`](crate::Tasklet::kill): the tasklet unwinds where it waits, destructors run, before `kill` returns |
//! | `tokio::time::sleep(d).await` | [`sleep`](crate::sleep)`(d)` |
//! | `tokio::time::timeout(d, op).await` | the `_timeout` form of the call (see [Timeouts](crate#timeouts)), or a [`wait_for::timeout`](crate::wait_for::timeout) arm |
//! | `tokio::select! { v = rx.recv() => .., _ = sleep(d) => .. }` | [`select!`](crate::select!)`{ v = wait_for::receive(&ch) => .., () = wait_for::timeout(d) => .. }` (first arm wins, like `biased;`) |
//! | `mpsc::channel(n)` to a task | the task's own typed mailbox (`#[tasklet(receives(..), ..)]`, [`Builder::max_mailbox_len`](crate::Builder::max_mailbox_len)), or a [`Mailbox`](crate::Mailbox) |
//! | request + `oneshot` reply | `message!(MSG_X(args) -> R)`, `MSG_X::call(&t)(args)`, `reply.reply(r)` ([`Reply`](crate::Reply)) |
//! | `TcpListener::accept` loop + `spawn` per connection | [`net::Server::serve`](crate::net::Server::serve) |
//! | `spawn_blocking(f).await` | [`io::blocking`](crate::io::blocking)`(f)` |
//! | `signal::ctrl_c().await` | the dispatcher stops cleanly on SIGINT (and SIGTERM with [`Dispatcher::handle_sigterm`](crate::Dispatcher::handle_sigterm)); [`signal::Signals`](crate::signal::Signals) for others |
//! | `tokio::process::Command` | [`process::Command`](crate::process::Command) |
//! | `task::yield_now().await` | [`yield_`](crate::yield_)`()` |
//! | `tokio::sync::{Semaphore, Mutex, RwLock, Notify, Barrier, broadcast, watch}` | the same names in [`sync`](crate::sync), blocking-style, fair by hand-off as tokio's, no poisoning; `acquire_owned`'s owned permit is every [`Permit`](crate::sync::Permit) (a `Semaphore` is a cheap handle) |
//! | `LocalSet`, `!Send` futures | the only mode: tasklets and handles stay on their thread |
//!
//! # From may
//!
//! | may | concurrence |
//! |---|---|
//! | `go!(\|\| ..)`, which may makes an unsafe call (coroutines migrate between threads) | [`spawn`](crate::spawn): safe, because tasklets never move between threads (thread-locals stay right) |
//! | `may::config().set_workers(n)` | one dispatcher per thread: start `n` threads, each with its own [`dispatch`](crate::dispatch) |
//! | `may::coroutine::sleep(d)` | [`sleep`](crate::sleep)`(d)` |
//! | `may::sync::mpsc`, `may::sync::Mutex` | typed messages, [`Mailbox`](crate::Mailbox), [`Channel`](crate::Channel); no locks needed on one thread for state touched between blocks (a `RefCell`); [`sync::Mutex`](crate::sync::Mutex) for state held across a block |
//! | `may::net::TcpStream` | [`net::TcpStream`](crate::net::TcpStream), std-shaped |
//! | `join_handle.join()`, `coroutine.cancel()` | [`Tasklet::join`](crate::Tasklet::join), [`Tasklet::kill`](crate::Tasklet::kill) |
//! | a stack overflow past may's guard | every stack has a guard page; an overflow aborts naming the tasklet |
//!
//! # From Erlang
//!
//! | Erlang | concurrence |
//! |---|---|
//! | `spawn(fun() -> .. end)` | [`spawn`](crate::spawn), or a `#[tasklet(receives(..))]` function's builder |
//! | `Pid ! Msg` | `MSG_X::send(&t)(args)` or [`Tasklet::send`](crate::Tasklet::send)`(MSG_X(args))`: checked at compile time against the tasklet's message set |
//! | `receive P1 -> ..; P2 -> .. end` | `for msg in receive() { match_message!(msg: SetMsg { P1 => .., P2 => .. }) }` ([`receive`](crate::receive), [`match_message!`](crate::match_message!)) |
//! | `receive P -> .. after T -> .. end` | [`receive_matching_timeout`](crate::receive_matching_timeout), or `select! { m = wait_for::message_matching(f) => .., () = wait_for::timeout(t) => .. }` |
//! | selective receive | [`receive_matching`](crate::receive_matching): the messages it skips stay in order |
//! | `gen_server:call(Pid, Req, Timeout)` | `MSG_X::call_timeout(&t, timeout)(args)` |
//! | `self()` | [`current`](crate::current)`()`, typed with `.with_messages::<SetMsg>()` to send to it |
//! | `erlang:monitor(process, Pid)`, `{'DOWN', ..}` | [`Tasklet::monitor`](crate::Tasklet::monitor), [`MSG_DOWN`](crate::MSG_DOWN) |
//! | `link(Pid)`, `process_flag(trap_exit, true)` | [`Tasklet::link`](crate::Tasklet::link), [`trap_exits`](crate::trap_exits) and [`MSG_EXIT`](crate::MSG_EXIT) |
//! | `exit(Pid, kill)` | [`Tasklet::kill`](crate::Tasklet::kill) |
//! | a `one_for_one` supervisor with intensity and period | [`Supervisor`](crate::Supervisor) |
//! | mailboxes are unbounded | unbounded too; `max_mailbox_len(n)` bounds one (a send then waits for room) |
//! | registered names | pass handles (cheap clones) to who needs them |
//! | `{Name, Node} ! Msg`, `rpc:call(Node, ..)` on another node | the `concurrence-nats` crate: a tasklet served under a NATS subject, reached by a typed `Remote` handle from any process (`send`, `call`) |
//! | `monitor(process, {Name, Node})` | `Remote::monitor` in `concurrence-nats` (`MSG_REMOTE_DOWN`) |
//!
//! Messages are typed: a tasklet's message set is an enum of the messages it lists, so a send
//! it cannot handle, a reply of the wrong type and a `match` that forgets a message are compile
//! errors rather than a crash or a mailbox that fills up. Scheduling is cooperative: a tasklet
//! that computes for long without blocking should call [`yield_`](crate::yield_) now and then.
