//! Sending to a tasklet from another thread: the message methods of [`SendTasklet`], with the
//! semantics and errors of [`Tasklet::send`](crate::Tasklet::send) and
//! [`Tasklet::call`](crate::Tasklet::call). The messages travel through the tasklet's port
//! (`messaging::port`); a call's answer comes back through a [`Oneshot`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::deadline;
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::messaging::mailbox::Block;
use crate::messaging::message::{
    undelivered, Accepts, Call, CallError, Message, Messages, SendError,
};
use crate::messaging::oneshot::{Oneshot, Waiting};
use crate::messaging::port::Port;
use crate::messaging::reply::{Across, Reply};
use crate::task::placement::SendTasklet;

impl<T, M: Messages + Send> SendTasklet<T, M> {
    fn port(&self) -> &Port<M> {
        self.port
            .as_ref()
            .expect("a handle typed with a message set has its tasklet's port")
    }

    /// Sends `message` to the tasklet, from any thread, as [`Tasklet::send`](crate::Tasklet::send)
    /// does: it is queued for the tasklet's mailbox, in order with this thread's other sends,
    /// and the tasklet is woken if it waits for it. To an unbounded mailbox it never blocks;
    /// to a bounded one it waits for the receiver's dispatcher to take it (a tasklet suspends,
    /// a plain thread blocks), and while the mailbox is full, for room.
    ///
    /// # Errors
    ///
    /// [`SendError::Finished`] with the message when the tasklet has finished.
    ///
    /// # Panics
    ///
    /// On a dispatcher's thread outside a tasklet, when the mailbox is bounded.
    #[track_caller]
    pub fn send<X: Message>(&self, message: X) -> Result<(), SendError<X>>
    where
        M: Accepts<X>,
    {
        self.put(message, Block::Until(None))
    }

    /// [`send`](SendTasklet::send), waiting at most `timeout` for room in a full mailbox.
    ///
    /// # Errors
    ///
    /// As `send`, and [`SendError::TimedOut`] with the message when no room came in time.
    #[track_caller]
    pub fn send_timeout<X: Message>(
        &self,
        message: X,
        timeout: Duration,
    ) -> Result<(), SendError<X>>
    where
        M: Accepts<X>,
    {
        self.put(message, Block::timeout(timeout))
    }

    /// [`send`](SendTasklet::send) that does not wait for room: to a bounded mailbox it waits
    /// only for the receiver's dispatcher to say whether there was room (a round trip between
    /// threads, microseconds).
    ///
    /// # Errors
    ///
    /// As `send`, and [`SendError::Full`] with the message when the mailbox is full.
    #[track_caller]
    pub fn try_send<X: Message>(&self, message: X) -> Result<(), SendError<X>>
    where
        M: Accepts<X>,
    {
        self.put(message, Block::No)
    }

    #[track_caller]
    fn put<X: Message>(&self, message: X, block: Block) -> Result<(), SendError<X>>
    where
        M: Accepts<X>,
    {
        self.port()
            .send(M::wrap(message), block)
            .map_err(|e| e.map(|m| M::unwrap(m).expect("the message just wrapped")))
    }

    /// Calls the tasklet from any thread, as [`Tasklet::call`](crate::Tasklet::call) does:
    /// sends the message `build` makes around a [`Reply`] token, then waits for the answer
    /// (a tasklet suspends, a plain thread blocks).
    ///
    /// # Errors
    ///
    /// [`CallError`]: the tasklet has finished (the message comes back), dropped the message
    /// unanswered (it finished or was killed first), or is the calling tasklet itself.
    ///
    /// # Panics
    ///
    /// On a dispatcher's thread outside a tasklet.
    #[track_caller]
    pub fn call<X: Call>(
        &self,
        build: impl FnOnce(Reply<X::Reply>) -> X,
    ) -> Result<X::Reply, CallError<X>>
    where
        M: Accepts<X>,
        X::Reply: Send,
    {
        self.call_until(build, deadline::clamp(None))
    }

    /// [`call`](SendTasklet::call), giving up after `timeout`: the time waiting for room in a
    /// full mailbox and for the reply together. A reply that comes later is dropped.
    ///
    /// # Errors
    ///
    /// As `call`, and [`CallError::TimedOut`] when no reply came in time.
    #[track_caller]
    pub fn call_timeout<X: Call>(
        &self,
        build: impl FnOnce(Reply<X::Reply>) -> X,
        timeout: Duration,
    ) -> Result<X::Reply, CallError<X>>
    where
        M: Accepts<X>,
        X::Reply: Send,
    {
        self.call_until(build, Some(deadline_after(timeout)))
    }

    #[track_caller]
    fn call_until<X: Call>(
        &self,
        build: impl FnOnce(Reply<X::Reply>) -> X,
        deadline: Option<Instant>,
    ) -> Result<X::Reply, CallError<X>>
    where
        M: Accepts<X>,
        X::Reply: Send,
    {
        let message = X::NAME;
        if self.is_caller() {
            return Err(CallError::CalledSelf { message });
        }
        let across = Arc::new(Across {
            answer: Oneshot::empty(),
            message,
            deadline,
        });
        self.put(build(Reply::there(across.clone())), Block::Until(deadline))
            .map_err(|err| undelivered(err, message))?;
        let how = Waiting {
            label: WaitOn::Reply(&X::NAME),
            internal: scheduler::in_group(self.shared.group.as_ref()),
            misuse: "concurrence: SendTasklet::call outside a tasklet on a dispatcher's thread \
                     would block the dispatcher; call from a tasklet or another thread",
        };
        // A caller killed while it waits gives up: a later answer is dropped.
        let abandon = Abandon(&across.answer);
        let answer = across.answer.wait(deadline, how);
        std::mem::forget(abandon);
        let answer = answer.or_else(|| across.answer.abandon());
        match answer {
            Some(Ok(value)) => Ok(value),
            Some(Err(_)) => Err(CallError::NoReply { message }),
            None => Err(CallError::TimedOut { message }),
        }
    }

    /// Whether the caller is the tasklet itself.
    fn is_caller(&self) -> bool {
        let Some(sched) = scheduler::try_get() else {
            return false;
        };
        let here = Arc::ptr_eq(sched.reactor.borrow().remote(), &self.shared.remote);
        here && sched
            .current()
            .is_some_and(|task| Some(task.id) == self.id())
    }
}

/// Gives up a call whose caller unwinds (is killed) while it waits for the answer.
struct Abandon<'a, R>(&'a Oneshot<Result<R, CallError>>);

impl<R> Drop for Abandon<'_, R> {
    fn drop(&mut self) {
        drop(self.0.abandon());
    }
}
