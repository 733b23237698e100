//! Sending to a tasklet: [`Tasklet::send`] and its bounded forms, and the synchronous
//! [`Tasklet::call`].
//!
//! A send appends the message to the receiver's mailbox and wakes the receiver if it waits for
//! it; the receiver runs at its turn, and the sender goes on without yielding (unlike the
//! original, where the receiver runs first: here a send is never a switch point, so several
//! sends in a row stay together and a sender may send while it holds a `RefCell` borrow). Only a
//! full bounded mailbox makes a send block.

use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::engine::wait::Wait;
use crate::messaging::mailbox::{Block, Mailbox};
use crate::messaging::message::{undelivered, Accepts, Call, CallError, Messages, SendError};
use crate::messaging::reply::{Reply, ReplySlot};
use crate::task::tasklet::Tasklet;

impl<T> Tasklet<T> {
    /// This handle, able to send the messages of `M` when the tasklet receives that message
    /// set; `None` when it receives another one or none. This is how a tasklet gets a handle
    /// to itself that others can send to: `current().with_messages::<MyMsg>()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{current, dispatch, message, receive, tasklet};
    ///
    /// message!(MSG_HELLO(&'static str));
    ///
    /// #[tasklet(receives(MSG_HELLO))]
    /// fn listener() -> &'static str {
    ///     let me = current().with_messages::<ListenerMsg>().expect("I receive ListenerMsg");
    ///     MSG_HELLO::send(&me)("from myself").unwrap();
    ///     let ListenerMsg::MSG_HELLO(MSG_HELLO(text)) = receive().next().unwrap();
    ///     text
    /// }
    ///
    /// dispatch(|| assert_eq!(Listener::new().spawn().join().unwrap(), "from myself"));
    /// ```
    pub fn with_messages<M: Messages>(&self) -> Option<Tasklet<T, M>> {
        let inbox = self.task.inbox()?;
        let inbox = inbox
            .into_any()
            .downcast::<crate::messaging::mailbox::Inner<M>>()
            .ok()?;
        Some(Tasklet::from_parts(self.task.clone(), Some(inbox)))
    }
}

impl<T, M> Tasklet<T, M> {
    fn inbox(&self) -> &Rc<crate::messaging::mailbox::Inner<M>> {
        self.inbox
            .as_ref()
            .expect("a handle typed with a message set comes from spawning its tasklet")
    }

    /// The tasklet's mailbox: its messages not received yet, oldest first (the original's
    /// `Tasklet.mailbox`). Receiving through [`receive`](crate::receive) is the usual way; the
    /// [`Mailbox`] methods work on it directly too.
    pub fn mailbox(&self) -> Mailbox<M>
    where
        M: Messages,
    {
        Mailbox::from_inner(self.inbox().clone())
    }

    /// Sends `message` to the tasklet: it is queued in the tasklet's mailbox and the tasklet is
    /// woken if it waits for it. Does not block unless the mailbox is bounded and full; then it
    /// waits for room. `MSG_X::send(&tasklet)(args)` is the same call in the original's shape.
    ///
    /// # Errors
    ///
    /// [`SendError::Finished`] with the message when the tasklet has finished.
    ///
    /// # Panics
    ///
    /// Panics when the mailbox is full and the caller is not a tasklet.
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{dispatch, match_message, message, receive, tasklet, SendError};
    ///
    /// message!(MSG_LOG(String), MSG_STOP);
    ///
    /// #[tasklet(receives(MSG_LOG, MSG_STOP))]
    /// fn logger() -> Vec<String> {
    ///     let mut lines = Vec::new();
    ///     for msg in receive() {
    ///         match_message!(msg: LoggerMsg {
    ///             MSG_LOG(line) => lines.push(line),
    ///             MSG_STOP => break,
    ///         })
    ///     }
    ///     lines
    /// }
    ///
    /// dispatch(|| {
    ///     let logger = Logger::new().spawn();
    ///     logger.send(MSG_LOG("started".into())).unwrap(); // queued; the logger runs later
    ///     MSG_LOG::send(&logger)("working".into()).unwrap(); // the same, in the original's shape
    ///     logger.send(MSG_STOP).unwrap();
    ///     assert_eq!(logger.join().unwrap(), ["started", "working"]);
    ///     // It has finished: the message comes back.
    ///     let Err(SendError::Finished(MSG_LOG(line))) = logger.send(MSG_LOG("late".into())) else {
    ///         panic!("a finished tasklet took a message");
    ///     };
    ///     assert_eq!(line, "late");
    /// });
    /// ```
    #[track_caller]
    pub fn send<X: crate::Message>(&self, message: X) -> Result<(), SendError<X>>
    where
        M: Accepts<X>,
    {
        self.put(message, Block::Until(None))
    }

    /// [`send`](Tasklet::send), waiting at most `timeout` for room in a full mailbox.
    ///
    /// # Errors
    ///
    /// As `send`, and [`SendError::TimedOut`] with the message when no room came in time.
    #[track_caller]
    pub fn send_timeout<X: crate::Message>(
        &self,
        message: X,
        timeout: Duration,
    ) -> Result<(), SendError<X>>
    where
        M: Accepts<X>,
    {
        self.put(message, Block::timeout(timeout))
    }

    /// [`send`](Tasklet::send) that never blocks.
    ///
    /// # Errors
    ///
    /// As `send`, and [`SendError::Full`] with the message when the mailbox is full.
    ///
    /// # Examples
    ///
    /// A producer that drops work rather than wait when its consumer falls behind:
    ///
    /// ```
    /// use concurrence::{dispatch, message, receive, tasklet, SendError};
    ///
    /// message!(MSG_JOB(u32));
    ///
    /// #[tasklet(receives(MSG_JOB))]
    /// fn consumer() {
    ///     for _job in receive::<ConsumerMsg>() {}
    /// }
    ///
    /// dispatch(|| {
    ///     let c = Consumer::new().max_mailbox_len(2).daemon(true).spawn();
    ///     let mut dropped = Vec::new();
    ///     for n in 0..4 {
    ///         if let Err(SendError::Full(MSG_JOB(n))) = MSG_JOB::try_send(&c)(n) {
    ///             dropped.push(n); // the job comes back: nothing is lost silently
    ///         }
    ///     }
    ///     assert_eq!(dropped, [2, 3]); // the consumer has not run yet: two fit
    /// });
    /// ```
    pub fn try_send<X: crate::Message>(&self, message: X) -> Result<(), SendError<X>>
    where
        M: Accepts<X>,
    {
        self.put(message, Block::No)
    }

    #[track_caller]
    fn put<X: crate::Message>(&self, message: X, block: Block) -> Result<(), SendError<X>>
    where
        M: Accepts<X>,
    {
        self.inbox()
            .put_back(M::wrap(message), block)
            .map_err(|e| e.map(|m| M::unwrap(m).expect("the message just wrapped")))
    }

    /// Calls the tasklet: sends the message `build` makes around a [`Reply`] token, then blocks
    /// until the receiver answers through it. `MSG_X::call(&tasklet)(args)` is the same call in
    /// the original's shape.
    ///
    /// The call fails at once, without waiting, when the tasklet has finished, when the
    /// receiver drops the message unanswered (it finished or was killed first), and when a
    /// tasklet calls itself.
    ///
    /// # Errors
    ///
    /// [`CallError`] saying which of those happened.
    ///
    /// # Panics
    ///
    /// Panics outside a tasklet.
    #[track_caller]
    pub fn call<X: Call>(
        &self,
        build: impl FnOnce(Reply<X::Reply>) -> X,
    ) -> Result<X::Reply, CallError<X>>
    where
        M: Accepts<X>,
    {
        self.call_until(build, None, true)
    }

    /// [`call`](Tasklet::call), giving up after `timeout`: the time waiting for room in a full
    /// mailbox and for the reply together. A reply that comes later is dropped.
    ///
    /// # Errors
    ///
    /// As `call`, and [`CallError::TimedOut`] when no reply came in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use concurrence::{dispatch, message, receive, sleep, tasklet, CallError};
    ///
    /// message!(MSG_LOOKUP(u64) -> String);
    ///
    /// /// Answers after `n` milliseconds.
    /// #[tasklet(receives(MSG_LOOKUP))]
    /// fn slow_service() {
    ///     for SlowServiceMsg::MSG_LOOKUP(MSG_LOOKUP(ms, reply)) in receive() {
    ///         sleep(Duration::from_millis(ms));
    ///         reply.reply(format!("after {ms} ms"));
    ///     }
    /// }
    ///
    /// dispatch(|| {
    ///     let service = SlowService::new().daemon(true).spawn();
    ///     let quick = MSG_LOOKUP::call_timeout(&service, Duration::from_secs(5))(1);
    ///     assert_eq!(quick.unwrap(), "after 1 ms");
    ///     let late = MSG_LOOKUP::call_timeout(&service, Duration::from_millis(5))(1_000);
    ///     assert_eq!(late, Err(CallError::TimedOut { message: "MSG_LOOKUP" }));
    /// });
    /// ```
    #[track_caller]
    pub fn call_timeout<X: Call>(
        &self,
        build: impl FnOnce(Reply<X::Reply>) -> X,
        timeout: Duration,
    ) -> Result<X::Reply, CallError<X>>
    where
        M: Accepts<X>,
    {
        self.call_until(build, Some(deadline_after(timeout)), false)
    }

    /// A call that waits until `deadline` (if any), or, when `scoped`, until the deadline of
    /// the caller's scope (`engine::deadline`), reported as the call's timeout.
    #[track_caller]
    fn call_until<X: Call>(
        &self,
        build: impl FnOnce(Reply<X::Reply>) -> X,
        deadline: Option<Instant>,
        scoped: bool,
    ) -> Result<X::Reply, CallError<X>>
    where
        M: Accepts<X>,
    {
        let message = X::NAME;
        let sched = scheduler::get();
        if sched.is_current(&self.task) {
            return Err(CallError::CalledSelf { message });
        }
        let deadline = match scoped {
            true => deadline.or_else(|| sched.scoped_deadline()),
            false => deadline,
        };
        let slot = ReplySlot::new(sched, message, deadline);
        self.put(build(Reply::here(slot.clone())), Block::Until(deadline))
            .map_err(|err| undelivered(err, message))?;
        loop {
            match slot.take() {
                Ok(Some(value)) => {
                    ReplySlot::recycle(slot, sched);
                    return Ok(value);
                }
                Ok(None) => {}
                Err(err) => {
                    ReplySlot::recycle(slot, sched);
                    return Err(without_message(err));
                }
            }
            let wait = Wait::begin(WaitOn::Reply(&X::NAME));
            slot.set_caller(wait.task().clone(), wait.epoch());
            let abandon = Abandon(&slot);
            let woken = wait.suspend(deadline);
            std::mem::forget(abandon);
            if woken.is_err() {
                // The answer may have come with the deadline.
                if let Some(value) = slot.take().map_err(without_message)? {
                    return Ok(value);
                }
                slot.abandon();
                return Err(CallError::TimedOut { message });
            }
        }
    }
}

/// Marks a call abandoned when its caller unwinds (is killed) while waiting for the answer.
struct Abandon<'a, R>(&'a ReplySlot<R>);

impl<R> Drop for Abandon<'_, R> {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// A reply slot's error (no reply) as the error of a call of `X`.
fn without_message<X>(err: CallError) -> CallError<X> {
    match err {
        CallError::NoReply { message } => CallError::NoReply { message },
        CallError::TimedOut { message } => CallError::TimedOut { message },
        CallError::CalledSelf { message } => CallError::CalledSelf { message },
        CallError::Finished { .. } => {
            unreachable!("a reply slot never reports an undelivered message")
        }
    }
}
