//! Receiving: the current tasklet takes messages from its own mailbox, all of them in order
//! ([`receive`]), in batches ([`receive_batch`]), or selectively ([`receive_matching`]).
//!
//! Every function is generic over the tasklet's message set `M`, the enum its
//! `#[tasklet(receives(...))]` generated; a `match` on the received value is checked for
//! exhaustiveness by the compiler. Which set a tasklet receives is fixed when it is spawned:
//! asking for another one is a bug, reported by a panic that names both.

use std::panic::Location;
use std::rc::Rc;
use std::time::Duration;

use crate::engine::scheduler;
use crate::engine::timer::deadline_after;
use crate::error::TimeoutError;
use crate::messaging::mailbox::{Block, Inner, Looked};
use crate::messaging::message::Messages;

/// The blocking iterator [`receive`] returns: each `next` takes the oldest message, waiting
/// for one if the mailbox is empty. It does not end by itself: the tasklet leaves it with
/// `break` or `return`, or is killed while it waits. (It ends, giving `None`, only when a
/// tasklet that is already unwinding, receiving in a destructor, is killed again.)
#[must_use = "a Receive does nothing until iterated"]
pub struct Receive<M> {
    inbox: Rc<Inner<M>>,
    /// Where it was made: what a deadlock report shows for its waits (its `next` may be called
    /// from a std adapter such as `enumerate`, whose file would say nothing).
    at: &'static Location<'static>,
}

impl<M: Messages> Iterator for Receive<M> {
    type Item = M;

    fn next(&mut self) -> Option<M> {
        self.inbox.take_front_at(Block::Until(None), self.at).ok()
    }
}

impl<M> std::fmt::Debug for Receive<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receive").finish_non_exhaustive()
    }
}

/// Takes the oldest message, waiting as long as it takes (a kill of a tasklet already
/// unwinding, which ends the wait early, is not reported: it waits on).
#[track_caller]
fn take<M: Messages>(inbox: &Inner<M>) -> M {
    loop {
        if let Ok(message) = inbox.take_front(Block::Until(None)) {
            return message;
        }
    }
}

/// The current tasklet's mailbox, which must hold `M`.
#[track_caller]
#[inline]
pub(crate) fn own_inbox<M: Messages>() -> Rc<Inner<M>> {
    let sched = scheduler::get();
    let me = sched
        .current_task()
        .expect("concurrence: receive was called outside a tasklet; call it in a tasklet that receives messages");
    let Some(inbox) = me.inbox() else {
        panic!(
            "concurrence: tasklet '{}' (#{}) has no mailbox, so it cannot receive {}; spawn it \
             through its #[tasklet(receives(...))] builder or Builder::receives",
            me.name(),
            me.id,
            std::any::type_name::<M>()
        )
    };
    match inbox.into_any().downcast::<Inner<M>>() {
        Ok(inner) => inner,
        Err(_) => wrong_set::<M>(me),
    }
}

/// The panic of a tasklet that receives another message set than `M`.
#[cold]
#[track_caller]
fn wrong_set<M>(me: &crate::engine::state::Task) -> ! {
    let set = me.inbox().map_or("no set", |inbox| inbox.message_set());
    panic!(
        "concurrence: tasklet '{}' (#{}) receives {set}, not {}",
        me.name(),
        me.id,
        std::any::type_name::<M>()
    )
}

/// The current tasklet's messages, oldest first, blocking while there is none (the original's
/// `Tasklet.receive()`).
///
/// # Panics
///
/// Panics outside a tasklet, and in a tasklet whose message set is not `M`.
///
/// # Examples
///
/// The original documentation's printer: it prints what it is sent, and the first tasklet sends it two messages.
///
/// ```
/// use concurrence::{dispatch, message, receive, tasklet};
///
/// message!(MSG_GREETING(String), MSG_FAREWELL(String));
///
/// #[tasklet(receives(MSG_GREETING, MSG_FAREWELL))]
/// fn printer() {
///     for msg in receive::<PrinterMsg>() {
///         match msg {
///             PrinterMsg::MSG_GREETING(MSG_GREETING(name)) => println!("Hello {name}"),
///             PrinterMsg::MSG_FAREWELL(MSG_FAREWELL(name)) => println!("Goodbye {name}"),
///         }
///     }
/// }
///
/// dispatch(|| {
///     let printer = Printer::new().daemon(true).spawn();
///     MSG_GREETING::send(&printer)("World".into()).unwrap();
///     MSG_FAREWELL::send(&printer)("World".into()).unwrap();
///     concurrence::yield_(); // let it print before the dispatcher ends
/// });
/// ```
#[track_caller]
pub fn receive<M: Messages>() -> Receive<M> {
    Receive {
        inbox: own_inbox::<M>(),
        at: Location::caller(),
    }
}

/// The oldest message of the current tasklet, waiting at most `timeout` for one.
///
/// # Errors
///
/// [`TimeoutError`] when no message came in time.
///
/// # Panics
///
/// As [`receive`].
///
/// # Examples
///
/// A watchdog that gives up when the heartbeats stop:
///
/// ```
/// use std::time::Duration;
/// use concurrence::{dispatch, message, receive_timeout, tasklet};
///
/// message!(MSG_HEARTBEAT);
///
/// #[tasklet(receives(MSG_HEARTBEAT))]
/// fn watchdog() -> u32 {
///     let mut beats = 0;
///     while receive_timeout::<WatchdogMsg>(Duration::from_millis(50)).is_ok() {
///         beats += 1;
///     }
///     beats // silence for 50 ms: give up
/// }
///
/// dispatch(|| {
///     let dog = Watchdog::new().spawn();
///     for _ in 0..3 {
///         MSG_HEARTBEAT::send(&dog)().unwrap();
///         concurrence::sleep(Duration::from_millis(5));
///     }
///     assert_eq!(dog.join().unwrap(), 3);
/// });
/// ```
#[track_caller]
pub fn receive_timeout<M: Messages>(timeout: Duration) -> Result<M, TimeoutError> {
    Ok(own_inbox::<M>().take_front(Block::timeout(timeout))?)
}

/// The oldest message of the current tasklet, if there is one, without blocking.
///
/// # Panics
///
/// As [`receive`].
#[track_caller]
pub fn try_receive<M: Messages>() -> Option<M> {
    own_inbox::<M>().take_front(Block::No).ok()
}

/// A batch of the current tasklet's messages, oldest first: at least one, at most `max_size`
/// (the original's `receive_batch`).
///
/// It waits as long as it takes for the first message, then takes what is queued; while the
/// batch is short of `max_size` it waits for more until `batch_timeout` after the first message
/// arrived, or for ever when `batch_timeout` is `None`.
///
/// # Panics
///
/// Panics when `max_size` is 0, and as [`receive`].
///
/// # Examples
///
/// A writer that saves messages in batches of up to 100, or whatever came within 10 ms of the
/// first:
///
/// ```
/// use std::time::Duration;
/// use concurrence::{dispatch, message, receive_batch, tasklet};
///
/// message!(MSG_ROW(u32));
///
/// #[tasklet(receives(MSG_ROW))]
/// fn writer(rows: u32) -> Vec<usize> {
///     let mut batches = Vec::new();
///     let mut written = 0;
///     while written < rows {
///         let batch = receive_batch::<WriterMsg>(100, Some(Duration::from_millis(10)));
///         written += batch.len() as u32;
///         batches.push(batch.len());
///     }
///     batches
/// }
///
/// dispatch(|| {
///     let w = Writer::new().spawn(250);
///     for n in 0..250 {
///         MSG_ROW::send(&w)(n).unwrap(); // all queued before the writer runs
///     }
///     assert_eq!(w.join().unwrap(), [100, 100, 50]);
/// });
/// ```
#[track_caller]
pub fn receive_batch<M: Messages>(max_size: usize, batch_timeout: Option<Duration>) -> Vec<M> {
    assert!(
        max_size > 0,
        "concurrence: receive_batch needs a max_size of at least 1"
    );
    let inbox = own_inbox::<M>();
    let mut batch = Vec::with_capacity(max_size.min(64));
    batch.push(take(&inbox));
    let deadline = batch_timeout.map(deadline_after);
    while batch.len() < max_size {
        inbox.drain_front(max_size - batch.len(), &mut batch);
        if batch.len() == max_size {
            break;
        }
        match inbox.take_front(Block::Until(deadline)) {
            Ok(message) => batch.push(message),
            Err(_) => break,
        }
    }
    batch
}

/// The oldest message of the current tasklet that `accept` accepts, waiting for one if needed:
/// a selective receive, like kiwi's `WaitForMessages(accept=...)` or Erlang's `receive`. The
/// messages it passes over stay in the mailbox, in their order, for later receives.
///
/// # Panics
///
/// As [`receive`].
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, message, receive_matching, tasklet};
///
/// message!(MSG_WORK(u32), MSG_QUIT);
///
/// #[tasklet(receives(MSG_WORK, MSG_QUIT))]
/// fn worker() -> Vec<u32> {
///     // The quit message first, wherever it is; the work stays queued in order.
///     receive_matching(|m: &WorkerMsg| matches!(m, WorkerMsg::MSG_QUIT(_)));
///     let mut done = Vec::new();
///     while let Some(WorkerMsg::MSG_WORK(MSG_WORK(n))) = concurrence::try_receive() {
///         done.push(n);
///     }
///     done
/// }
///
/// dispatch(|| {
///     let worker = Worker::new().spawn();
///     MSG_WORK::send(&worker)(1).unwrap();
///     MSG_WORK::send(&worker)(2).unwrap();
///     MSG_QUIT::send(&worker)().unwrap();
///     assert_eq!(worker.join().unwrap(), [1, 2]);
/// });
/// ```
#[track_caller]
pub fn receive_matching<M: Messages>(accept: impl FnMut(&M) -> bool) -> M {
    let inbox = own_inbox::<M>();
    let mut accept = accept;
    let mut looked = Looked::default();
    loop {
        // Ended early only by a kill of a tasklet already unwinding: wait on.
        if let Ok(message) = inbox.take_matching(&mut accept, &mut looked, Block::Until(None)) {
            return message;
        }
    }
}

/// [`receive_matching`], waiting at most `timeout`.
///
/// # Errors
///
/// [`TimeoutError`] when no accepted message came in time; nothing was taken.
///
/// # Panics
///
/// As [`receive`].
#[track_caller]
pub fn receive_matching_timeout<M: Messages>(
    accept: impl FnMut(&M) -> bool,
    timeout: Duration,
) -> Result<M, TimeoutError> {
    let mut looked = Looked::default();
    Ok(own_inbox::<M>().take_matching(accept, &mut looked, Block::timeout(timeout))?)
}
