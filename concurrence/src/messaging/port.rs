//! [`Port`]: a tasklet's mailbox as other threads reach it, through its
//! [`SendTasklet`](crate::SendTasklet) handles.
//!
//! A mailbox is confined to its dispatcher's thread (plain cells, no lock: the same-dispatcher
//! send is the hot path). A message from another thread goes into the port's queue, under a
//! mutex, as a *parcel*; a *courier*, a daemon tasklet on the receiver's dispatcher, moves the
//! parcels into the mailbox in order. The courier waits for parcels as a remote wait of its
//! dispatcher: the first parcel after it went to wait ends that wait (one wake-up, coalesced
//! with the others of the dispatcher's pass), and it then moves every parcel that came
//! meanwhile: a flood of messages costs one wake-up per batch, not one per message.
//!
//! - **Unbounded mailboxes.** A send queues its parcel and returns: nothing can refuse it but
//!   the tasklet's end, which the port knows.
//! - **Bounded mailboxes.** A send must learn whether there was room, so its parcel carries a
//!   *verdict* ([`Oneshot`]) that the sender waits for: `Ok`, or the message back. The courier
//!   puts parcels while there is room; when the mailbox is full it waits for room in line with
//!   the local senders, leaving the parcels in the queue, where a sender that times out (or is
//!   killed) takes its own back. A `try_send` parcel that finds the mailbox full is refused at
//!   once, so `try_send` waits only for the courier's answer, never for room.
//! - **The end.** When the tasklet finishes, its mailbox closes and takes the port with it:
//!   later sends fail with `Finished`, queued parcels with a verdict get their message back,
//!   and the others are dropped with the unread messages.
//!
//! The courier runs while handles exist: while it waits, its dispatcher counts a wait that
//! another thread may end (a plain thread with a handle may send at any time), so a receiver
//! with live handles is never reported deadlocked. When the last handle is dropped, the courier
//! delivers what is queued and ends; a new handle starts a new one.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::deadline;
use crate::engine::group::Group;
use crate::engine::scheduler::{self, SpawnOptions};
use crate::engine::state::{Name, WaitOn};
use crate::engine::wait::RemoteToken;
use crate::messaging::mailbox::{Block, Inner};
use crate::messaging::message::SendError;
use crate::messaging::oneshot::{Oneshot, Waiting};

/// A tasklet's mailbox as other threads reach it (see the module docs).
pub(crate) struct Port<M> {
    state: Mutex<State<M>>,
    /// Whether the mailbox is bounded: then each send waits for its verdict.
    bounded: bool,
    /// The group of the receiver's dispatcher: a sender of the same group waits for a verdict
    /// as an internal wait (see `engine::group`).
    group: Option<Arc<Group>>,
}

struct State<M> {
    parcels: VecDeque<Parcel<M>>,
    /// The tasklet finished: sends fail.
    closed: bool,
    /// `SendTasklet` handles alive.
    handles: usize,
    /// Whether a courier runs (waits or delivers).
    courier: bool,
    /// The courier while it waits for parcels, as a remote wait of its dispatcher.
    waiting: Option<RemoteToken>,
}

/// What a send to a bounded mailbox learns: `Ok`, or why not, with the message.
type Verdict<M> = Oneshot<Result<(), SendError<M>>>;

/// A message on its way.
struct Parcel<M> {
    message: M,
    /// Where its sender waits for the verdict (bounded mailboxes only).
    verdict: Option<Arc<Verdict<M>>>,
    /// Whether it may wait for room (`send`, `send_timeout`) or not (`try_send`).
    may_wait: bool,
}

impl<M> Port<M> {
    /// The port of a mailbox (`bounded` says which kind) on the dispatcher of `group`.
    pub(crate) fn new(bounded: bool, group: Option<Arc<Group>>) -> Arc<Port<M>> {
        Arc::new(Port {
            state: Mutex::new(State {
                parcels: VecDeque::new(),
                closed: false,
                handles: 0,
                courier: false,
                waiting: None,
            }),
            bounded,
            group,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<M>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A handle was made. Returns whether a courier must be started (none runs).
    pub(crate) fn add_handle(&self) -> bool {
        let mut state = self.lock();
        state.handles += 1;
        let start = !state.courier && !state.closed;
        state.courier |= start;
        start
    }

    /// A handle was dropped: the last one sends the courier home.
    pub(crate) fn drop_handle(&self) {
        let mut state = self.lock();
        state.handles -= 1;
        if state.handles == 0 {
            if let Some(courier) = state.waiting.take() {
                courier.wake();
            }
        }
    }

    /// Closes the port (its mailbox closed: the tasklet finished). Parcels with a verdict get
    /// their message back; the others are returned, to be dropped with the unread messages.
    pub(crate) fn close(&self) -> Vec<M> {
        let mut state = self.lock();
        state.closed = true;
        let parcels = std::mem::take(&mut state.parcels);
        if let Some(courier) = state.waiting.take() {
            courier.wake();
        }
        drop(state);
        let mut unread = Vec::new();
        for parcel in parcels {
            match parcel.verdict {
                Some(verdict) => {
                    if let Err(Err(refused)) = verdict.set(Err(SendError::Finished(parcel.message)))
                    {
                        unread.push(refused.into_inner());
                    }
                }
                None => unread.push(parcel.message),
            }
        }
        unread
    }

    /// Sends `message` from any thread: see the module docs. `block` is how long a send to a
    /// bounded mailbox may wait for room.
    #[track_caller]
    pub(crate) fn send(&self, message: M, block: Block) -> Result<(), SendError<M>> {
        let mut state = self.lock();
        if state.closed {
            return Err(SendError::Finished(message));
        }
        if !self.bounded {
            state.parcels.push_back(Parcel {
                message,
                verdict: None,
                may_wait: true,
            });
            if let Some(courier) = state.waiting.take() {
                courier.wake();
            }
            return Ok(());
        }
        let verdict = Oneshot::new();
        let (deadline, may_wait) = match block {
            Block::No => (None, false),
            // A send has a timeout error of its own: in a scope, its deadline is the send's
            // (looked up only here, where a send may wait).
            Block::Until(deadline) => (deadline.or_else(deadline::scoped), true),
        };
        state.parcels.push_back(Parcel {
            message,
            verdict: Some(verdict.clone()),
            may_wait,
        });
        if let Some(courier) = state.waiting.take() {
            courier.wake();
        }
        drop(state);
        let withdraw = Withdraw {
            port: self,
            verdict: &verdict,
        };
        let how = Waiting {
            label: WaitOn::MailboxRoom,
            internal: scheduler::in_group(self.group.as_ref()),
            misuse: "concurrence: a send to a bounded mailbox of another dispatcher waits for \
                     the answer of that dispatcher; send from a tasklet or another thread, not \
                     from a dispatcher's thread outside a tasklet",
        };
        if let Some(verdict) = verdict.wait(deadline, how) {
            std::mem::forget(withdraw);
            return verdict;
        }
        // Timed out: the parcel comes back if it is still queued; otherwise the courier took
        // it, and settled its verdict under the lock `withdraw` takes.
        match withdraw.take_back() {
            Some(message) => Err(SendError::TimedOut(message)),
            None => verdict
                .take()
                .expect("a parcel leaves the queue only with its verdict set"),
        }
    }

    /// Moves the queued parcels into `inbox`, in order, while there is room. Returns whether
    /// one waits for room (the mailbox is full), or `None` when the mailbox has closed.
    fn deliver(&self, inbox: &Inner<M>) -> Option<bool> {
        if !self.bounded {
            // Nothing to answer: the batch is taken out and delivered outside the lock, so
            // that senders go on queueing meanwhile (delivered under it, senders and courier
            // took turns: 54-240 ns a message one way, 35-40 outside).
            let batch = std::mem::take(&mut self.lock().parcels);
            for parcel in batch {
                if inbox.put_back(parcel.message, Block::No).is_err() {
                    // Closed (an unbounded mailbox is never full): its close closed the port.
                    return None;
                }
            }
            return Some(false);
        }
        let mut state = self.lock();
        while let Some(parcel) = state.parcels.pop_front() {
            match inbox.put_back(parcel.message, Block::No) {
                Ok(()) => settle(parcel.verdict, Ok(())),
                Err(SendError::Full(message)) if parcel.may_wait => {
                    state.parcels.push_front(Parcel { message, ..parcel });
                    return Some(true);
                }
                Err(SendError::Full(message)) => {
                    settle(parcel.verdict, Err(SendError::Full(message)));
                }
                Err(SendError::Finished(message) | SendError::TimedOut(message)) => {
                    // The mailbox closed (its close closes the port too, so this is only a
                    // safeguard): every parcel gets its verdict.
                    state.parcels.push_front(Parcel { message, ..parcel });
                    drop(state);
                    drop(self.close());
                    return None;
                }
            }
        }
        Some(false)
    }
}

/// Gives a sender its verdict; one nobody waits for any more drops its message here, in the
/// courier.
fn settle<M>(verdict: Option<Arc<Verdict<M>>>, value: Result<(), SendError<M>>) {
    if let Some(verdict) = verdict {
        drop(verdict.set(value));
    }
}

/// Takes a sender's parcel back out of the queue when its wait ends without a verdict: timed
/// out, or unwound by a kill (then the message is dropped with the unwinding sender, as a
/// local send's would be).
struct Withdraw<'a, M> {
    port: &'a Port<M>,
    verdict: &'a Arc<Verdict<M>>,
}

impl<M> Withdraw<'_, M> {
    fn take_back(self) -> Option<M> {
        let this = std::mem::ManuallyDrop::new(self);
        this.remove()
    }

    fn remove(&self) -> Option<M> {
        let mut state = self.port.lock();
        let at = state.parcels.iter().position(|parcel| {
            parcel
                .verdict
                .as_ref()
                .is_some_and(|v| Arc::ptr_eq(v, self.verdict))
        })?;
        state.parcels.remove(at).map(|parcel| parcel.message)
    }
}

impl<M> Drop for Withdraw<'_, M> {
    fn drop(&mut self) {
        drop(self.remove());
    }
}

impl<M: Send + 'static> Port<M> {
    /// Starts the courier of `inbox` on this dispatcher: a daemon tasklet that moves parcels
    /// into the mailbox until the last handle is dropped or the mailbox closes.
    pub(crate) fn start_courier(self: &Arc<Self>, inbox: Rc<Inner<M>>, receiver: &str) {
        let port = self.clone();
        let opts = SpawnOptions {
            name: Some(format!("courier of {receiver}").into()),
            daemon: true,
            stack_size: None,
            stack_mode: None,
            inbox: None,
        };
        let courier = move || courier(&port, &inbox);
        scheduler::get().spawn_detached(opts, courier, Name::Function("courier"));
    }
}

/// The courier's loop (see the module docs).
fn courier<M>(port: &Port<M>, inbox: &Inner<M>) {
    // Ends the courier's run in the port's books however it leaves (a kill included).
    struct Leave<'a, M>(&'a Port<M>);
    impl<M> Drop for Leave<'_, M> {
        fn drop(&mut self) {
            let mut state = self.0.lock();
            state.courier = false;
            state.waiting = None;
        }
    }
    let _leave = Leave(port);
    while wait_until(Parcels { port, armed: None }, None::<Instant>).unwrap_or(true) {
        loop {
            match port.deliver(inbox) {
                Some(true) => inbox.wait_room(),
                Some(false) => break,
                None => return, // closed: the mailbox's end closes the port too
            }
        }
    }
}

/// Parcels to deliver (`true`), or nothing more to wait for (`false`): no handle is left, or
/// the port closed. Armed, the courier is a remote wait of its dispatcher that a parcel, the
/// last handle's drop or the close ends from any thread.
struct Parcels<'a, M> {
    port: &'a Port<M>,
    armed: Option<RemoteToken>,
}

impl<M> Parcels<'_, M> {
    fn check(state: &State<M>) -> Option<bool> {
        if !state.parcels.is_empty() {
            Some(true)
        } else if state.closed || state.handles == 0 {
            Some(false)
        } else {
            None
        }
    }
}

impl<M> sealed::Sealed for Parcels<'_, M> {}

impl<M> Condition for Parcels<'_, M> {
    type Output = bool;

    fn poll(&mut self) -> Option<bool> {
        Self::check(&self.port.lock())
    }

    fn arm(&mut self, waiter: &Waiter) {
        // Checked and registered under one lock: a parcel cannot slip in between.
        let mut state = self.port.lock();
        let token = RemoteToken::register(&waiter.sched, &waiter.task, waiter.epoch);
        state.waiting = Some(token.share());
        self.armed = Some(token);
        if Self::check(&state).is_some() {
            waiter.wake();
        }
    }

    fn disarm(&mut self, waiter: &Waiter) {
        if let Some(token) = self.armed.take() {
            self.port.lock().waiting = None;
            token.forget(&waiter.sched);
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::Receive)
    }
}
