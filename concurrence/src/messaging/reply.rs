//! [`Reply`]: the token a called message carries, through which the receiver answers its
//! caller, and the caller's side of it.
//!
//! A caller on the receiver's own dispatcher waits on a [`ReplySlot`]: plain cells behind an
//! `Rc`, no lock and no atomic on the way (the same-dispatcher call is the hot path). A caller
//! on another thread ([`SendTasklet::call`](crate::SendTasklet::call)) waits on a
//! [`Oneshot`] instead. Either way the token is `Send` (when the answer is), so a receiver may
//! hand it to a tasklet of another dispatcher, which answers from there: a token whose slot
//! belongs to another dispatcher never touches it off that dispatcher's thread, but goes home
//! in a job of that dispatcher's loop (see `engine::homes`) and is answered or dropped there.

use std::cell::RefCell;
use std::fmt;
use std::mem::ManuallyDrop;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::engine::homes;
use crate::engine::scheduler::{self, Sched};
use crate::engine::state::Task;
use crate::engine::wait::is_live;
use crate::messaging::message::CallError;
use crate::messaging::oneshot::Oneshot;

/// What happened to a call, as its reply slot records it.
enum Slot<R> {
    /// Not answered yet.
    Pending,
    /// Answered; the caller has not taken it yet.
    Replied(R),
    /// The caller took the answer.
    Taken,
    /// The receiver dropped the token without answering.
    Dropped,
    /// The caller stopped waiting (timed out or was killed).
    Abandoned,
}

/// The state shared by a caller and the [`Reply`] token it sent, on the caller's dispatcher.
pub(crate) struct ReplySlot<R> {
    slot: RefCell<Slot<R>>,
    /// The caller's wait, once it waits.
    caller: RefCell<Option<(Rc<Task>, u32)>>,
    /// The name of the call's message, for errors.
    message: &'static str,
    /// The serial of the caller's dispatcher (see `engine::homes`). Like `message`, never
    /// changed after the slot is made: a token off its home thread may read it.
    home: u64,
    /// The caller's deadline, if its call has one. Never changed after the slot is made.
    deadline: Option<Instant>,
    /// Set when the caller gives up, with `Slot::Abandoned`: the one field a token on another
    /// thread reads ([`Reply::is_abandoned`]), so it is atomic; set only on the way out of a
    /// call that timed out or was killed, never on the hot path.
    abandoned: AtomicBool,
}

impl<R: 'static> ReplySlot<R> {
    /// The slot of a call of `message` made on `sched`'s dispatcher, waiting until `deadline`
    /// if it has one: the slot of an earlier call of the same kind if the dispatcher kept one
    /// ([`recycle`](ReplySlot::recycle)), else a new one.
    #[inline]
    pub(crate) fn new(
        sched: Sched,
        message: &'static str,
        deadline: Option<Instant>,
    ) -> Rc<ReplySlot<R>> {
        if let Some(mut kept) = sched.recycled.take::<ReplySlot<R>>(recycle_key(message)) {
            if let Some(slot) = Rc::get_mut(&mut kept) {
                // Kept by this dispatcher, so `home` is this one already.
                *slot.slot.get_mut() = Slot::Pending;
                *slot.caller.get_mut() = None;
                slot.message = message;
                slot.deadline = deadline;
                *slot.abandoned.get_mut() = false;
                return kept;
            }
        }
        Rc::new(ReplySlot {
            slot: RefCell::new(Slot::Pending),
            caller: RefCell::new(None),
            message,
            home: sched.home.serial(),
            deadline,
            abandoned: AtomicBool::new(false),
        })
    }

    /// Gives the slot of a call that has ended to `sched`'s dispatcher to keep for the next
    /// call of its kind, if its token is gone (else it is dropped as usual: the token's holder
    /// still reads it). Only a slot holding no answer is kept: its answer was taken, or there
    /// was none.
    #[inline]
    pub(crate) fn recycle(this: Rc<ReplySlot<R>>, sched: Sched) {
        if matches!(*this.slot.borrow(), Slot::Taken | Slot::Dropped) {
            sched.recycled.keep(recycle_key(this.message), this);
        }
    }
}

/// The key a call's slot is kept under: its message's name, by address (one per message, and
/// a message has one answer type).
fn recycle_key(message: &'static str) -> usize {
    message.as_ptr() as usize >> 3
}

impl<R> ReplySlot<R> {
    /// Registers the caller's wait: step 2 of its blocking call.
    pub(crate) fn set_caller(&self, task: Rc<Task>, epoch: u32) {
        *self.caller.borrow_mut() = Some((task, epoch));
    }

    /// The answer, if there is one: `Ok(Some)` answered, `Ok(None)` still pending,
    /// `Err(NoReply)` dropped unanswered.
    pub(crate) fn take(&self) -> Result<Option<R>, CallError> {
        let mut slot = self.slot.borrow_mut();
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Replied(value) => Ok(Some(value)),
            Slot::Pending => {
                *slot = Slot::Pending;
                Ok(None)
            }
            other => {
                *slot = other;
                Err(CallError::NoReply {
                    message: self.message,
                })
            }
        }
    }

    /// The caller gives up: a later answer is dropped.
    pub(crate) fn abandon(&self) {
        let mut slot = self.slot.borrow_mut();
        if matches!(*slot, Slot::Pending) {
            *slot = Slot::Abandoned;
            self.abandoned.store(true, Ordering::Release);
        }
        self.caller.borrow_mut().take();
    }

    /// Settles a pending call with `outcome` and wakes the caller; returns the value back when
    /// the call was no longer pending.
    fn settle(&self, outcome: Slot<R>) -> Option<Slot<R>> {
        self.settle_on(scheduler::try_get(), outcome)
    }

    /// [`settle`](ReplySlot::settle), on this thread's scheduler `sched`.
    #[inline]
    fn settle_on(&self, sched: Option<Sched>, outcome: Slot<R>) -> Option<Slot<R>> {
        {
            let mut slot = self.slot.borrow_mut();
            if !matches!(*slot, Slot::Pending) {
                return Some(outcome);
            }
            *slot = outcome;
        }
        let caller = self.caller.borrow_mut().take();
        if let Some((task, epoch)) = caller {
            if is_live(&task, epoch) {
                if let Some(sched) = sched {
                    sched.wake(&task, epoch, crate::engine::coroutine::Wake::Ready);
                }
            }
        }
        None
    }
}

/// The token a called message carries: the receiver answers the caller through it.
///
/// [`reply`](Reply::reply) never blocks. Dropping the token without replying (including when the
/// receiving tasklet finishes or is killed with the message unanswered) makes the caller's call
/// fail at once with [`CallError::NoReply`]; a reply that comes after the caller gave up is
/// dropped harmlessly.
///
/// The token is `Send` when the answer is: a receiver may hand it, with the work, to a tasklet
/// on another dispatcher ([`spawn_on`](crate::spawn_on)), which answers from there. The answer
/// then reaches a caller of the receiver's dispatcher through that dispatcher's loop.
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, message, receive, tasklet};
///
/// message!(MSG_DOUBLE(u32) -> u32);
///
/// #[tasklet(receives(MSG_DOUBLE))]
/// fn doubler() {
///     for msg in receive::<DoublerMsg>() {
///         let DoublerMsg::MSG_DOUBLE(MSG_DOUBLE(n, reply)) = msg;
///         reply.reply(2 * n);
///     }
/// }
///
/// dispatch(|| {
///     let doubler = Doubler::new().daemon(true).spawn();
///     assert_eq!(MSG_DOUBLE::call(&doubler)(21), Ok(42));
/// });
/// ```
///
/// Handing the work and the token to another dispatcher:
///
/// ```
/// use concurrence::{spawn_on, Dispatcher, message, receive, tasklet};
///
/// message!(MSG_SQUARE(u64) -> u64);
///
/// #[tasklet(receives(MSG_SQUARE))]
/// fn front() {
///     for FrontMsg::MSG_SQUARE(MSG_SQUARE(n, reply)) in receive() {
///         spawn_on(1, move || reply.reply(n * n)); // answered from dispatcher 1
///     }
/// }
///
/// let status = Dispatcher::new().threads(2).run(|| {
///     let front = Front::new().daemon(true).spawn();
///     MSG_SQUARE::call(&front)(12)
/// });
/// assert_eq!(status.into_value(), Some(Ok(144)));
/// ```
pub struct Reply<R: 'static> {
    /// Taken out exactly once: by `into_to`, or by `Drop`.
    to: ManuallyDrop<To<R>>,
}

/// Where an answer goes.
enum To<R: 'static> {
    /// A caller on the dispatcher with the slot's `home` serial. The slot is touched (its
    /// count included) only on that dispatcher's thread; elsewhere the token goes home first.
    Here(Rc<ReplySlot<R>>),
    /// A caller on any thread.
    There(Arc<Across<R>>),
    /// A function given the answer (`None`: the token was dropped unanswered), from
    /// [`Reply::from_fn`], and the caller's deadline if it is known.
    Func(Box<dyn FnOnce(Option<R>) + Send>, Option<Instant>),
}

/// The answer of a call from another thread, and the call's message.
pub(crate) struct Across<R> {
    pub(crate) answer: Oneshot<Result<R, CallError>>,
    pub(crate) message: &'static str,
    /// The caller's deadline, if its call has one.
    pub(crate) deadline: Option<Instant>,
}

// SAFETY: the only part of a `Reply` that is not `Send` is the `Rc<ReplySlot>` of `To::Here`,
// and it is used only on its home thread: every method and `Drop` checks `at_home` (this thread
// runs the home dispatcher) before touching it, and otherwise `go_home` asks the registry of
// dispatchers which thread is home; only on that thread is it touched, elsewhere the whole
// token moves into a job of the home dispatcher (run on that thread; a job dropped unrun, with
// the home's `Remote`, is dropped through this same `Drop`, which then finds the home gone and
// leaks the slot). Off its home thread, only the slot's fields that never change after it is
// made (`home`, `message`, `deadline`) and its atomic `abandoned` flag are read, through the pointer, while
// this token's own reference keeps the allocation alive. `R` crosses with the token, so it must
// be `Send`.
unsafe impl<R: Send + 'static> Send for Reply<R> {}

impl<R: 'static> Reply<R> {
    /// A token answering a caller of this dispatcher through `slot`.
    pub(crate) fn here(slot: Rc<ReplySlot<R>>) -> Reply<R> {
        Reply {
            to: ManuallyDrop::new(To::Here(slot)),
        }
    }

    /// A token answering a caller on any thread through `across`.
    pub(crate) fn there(across: Arc<Across<R>>) -> Reply<R> {
        Reply {
            to: ManuallyDrop::new(To::There(across)),
        }
    }

    /// A token that hands its answer to `answer`, on the thread that replies: `Some(value)` on
    /// [`reply`](Reply::reply), `None` when the token is dropped unanswered (the receiver
    /// finished, was killed, or dropped it). This is how a transport of its own answers a
    /// caller it carried the message from (the `concurrence-nats` crate publishes the answer to
    /// the NATS request's reply subject). `answer` runs exactly once, maybe while the replying
    /// tasklet unwinds from a kill: it must not block.
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::Reply;
    /// use std::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let token = Reply::from_fn(move |answer: Option<u32>| tx.send(answer).unwrap());
    /// token.reply(7);
    /// assert_eq!(rx.recv(), Ok(Some(7)));
    /// ```
    pub fn from_fn(answer: impl FnOnce(Option<R>) + Send + 'static) -> Reply<R> {
        Reply::from_fn_until(None, answer)
    }

    /// [`from_fn`](Reply::from_fn) for a caller that waits until `deadline` (if it is known):
    /// what [`deadline`](Reply::deadline) says.
    pub fn from_fn_until(
        deadline: Option<Instant>,
        answer: impl FnOnce(Option<R>) + Send + 'static,
    ) -> Reply<R> {
        Reply {
            to: ManuallyDrop::new(To::Func(Box::new(answer), deadline)),
        }
    }

    /// When the caller stops waiting, if its call has a deadline (`call_timeout`, or a call
    /// made in a [`with_deadline`](crate::with_deadline) scope): the time the receiver has to
    /// answer. Pass it on with `with_deadline(at, ..)` around the work, so that what the work
    /// waits for is cut short with it (Go's context passed to the handler).
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{dispatch, message, receive, spawn, tasklet, with_deadline, CallError};
    /// use std::time::Duration;
    ///
    /// message!(MSG_LOOKUP(u64) -> u64);
    ///
    /// #[tasklet(receives(MSG_LOOKUP))]
    /// fn server() {
    ///     for ServerMsg::MSG_LOOKUP(MSG_LOOKUP(key, reply)) in receive() {
    ///         let Some(at) = reply.deadline() else { continue };
    ///         // The work (here a backend that never answers) gives up with the caller.
    ///         let backend = spawn(|| concurrence::sleep(Duration::from_secs(3600)));
    ///         if with_deadline(at, || backend.join()).is_ok() {
    ///             reply.reply(key);
    ///         } // else the token is dropped: the caller has stopped waiting anyway
    ///         backend.kill();
    ///     }
    /// }
    ///
    /// dispatch(|| {
    ///     let server = Server::new().daemon(true).spawn();
    ///     let answer = MSG_LOOKUP::call_timeout(&server, Duration::from_millis(20))(7);
    ///     assert!(matches!(answer, Err(CallError::TimedOut { .. })));
    /// });
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        match &*self.to {
            // SAFETY: `deadline` never changes after the slot is made, so reading it races
            // with nothing on any thread; this token's `Rc` keeps the allocation alive.
            To::Here(slot) => unsafe { *std::ptr::addr_of!((*Rc::as_ptr(slot)).deadline) },
            To::There(across) => across.deadline,
            To::Func(_, deadline) => *deadline,
        }
    }

    /// Takes the destination out; the token's `Drop` does not run.
    fn into_to(self) -> To<R> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: the token is not dropped (`ManuallyDrop`) nor used again, so the field is
        // taken out exactly once.
        unsafe { ManuallyDrop::take(&mut this.to) }
    }

    /// Answers the call: the caller is woken with `value` (it runs at its turn; the replier goes
    /// on). Never blocks; when the caller has given up already, `value` is dropped.
    pub fn reply(self, value: R) {
        match self.into_to() {
            To::Here(slot) => match scheduler::try_get() {
                Some(sched) if sched.home.serial() == home_of(&slot) => {
                    drop(slot.settle_on(Some(sched), Slot::Replied(value)));
                }
                _ => go_home(slot, Some(value)),
            },
            To::There(across) => {
                // Refused when the caller gave up: the value is dropped.
                let _ = across.answer.set(Ok(value));
            }
            To::Func(answer, _) => answer(Some(value)),
        }
    }

    /// Whether the caller has stopped waiting (timed out or was killed): a reply would be
    /// dropped. Always false for a token of [`Reply::from_fn`] (its function decides).
    pub fn is_abandoned(&self) -> bool {
        match &*self.to {
            To::Here(slot) if at_home(home_of(slot)) => {
                matches!(*slot.slot.borrow(), Slot::Abandoned)
            }
            To::Here(slot) => {
                let slot = Rc::as_ptr(slot);
                // SAFETY: off its home thread the slot is only read through its atomic flag
                // (no reference to the cells, no count change); this token's `Rc` keeps the
                // allocation alive while `self` is borrowed.
                unsafe { (*std::ptr::addr_of!((*slot).abandoned)).load(Ordering::Acquire) }
            }
            To::There(across) => across.answer.is_abandoned(),
            To::Func(..) => false,
        }
    }

    /// The call's message (a token of [`Reply::from_fn`] does not know it).
    fn message(&self) -> Option<&'static str> {
        match &*self.to {
            // SAFETY: `message` never changes after the slot is made, so reading it races
            // with nothing on any thread; this token's `Rc` keeps the allocation alive.
            To::Here(slot) => Some(unsafe { *std::ptr::addr_of!((*Rc::as_ptr(slot)).message) }),
            To::There(across) => Some(across.message),
            To::Func(..) => None,
        }
    }
}

/// The serial of the dispatcher `slot` belongs to, read on any thread.
#[inline]
fn home_of<R>(slot: &Rc<ReplySlot<R>>) -> u64 {
    // SAFETY: `home` never changes after the slot is made, so reading it races with nothing
    // on any thread; the caller's `Rc` keeps the allocation alive.
    unsafe { *std::ptr::addr_of!((*Rc::as_ptr(slot)).home) }
}

/// Whether this thread runs the dispatcher with serial `home`.
#[inline]
fn at_home(home: u64) -> bool {
    scheduler::try_get().is_some_and(|sched| sched.home.serial() == home)
}

/// Takes a `To::Here` token found off its dispatcher (`at_home` is false) to where it can be
/// settled: with `value`, or dropped (the caller's call fails with `NoReply`).
/// - On its home thread while that dispatcher starts or ends, it is settled here.
/// - On another thread, it goes home in a job of its dispatcher's loop.
/// - When its dispatcher has ended, its slot is leaked (its thread may be running on) and
///   `value` dropped here.
fn go_home<R: 'static>(slot: Rc<ReplySlot<R>>, value: Option<R>) {
    match homes::find(home_of(&slot)) {
        homes::Found::ThisThread => {
            let outcome = match value {
                Some(value) => Slot::Replied(value),
                None => Slot::Dropped,
            };
            drop(slot.settle(outcome));
        }
        homes::Found::Elsewhere(remote) => {
            let homeward = Homeward {
                token: Reply::here(slot),
                value,
            };
            remote.post(Box::new(move || homeward.arrive()));
        }
        homes::Found::Gone => {
            std::mem::forget(slot);
            drop(value);
        }
    }
}

/// A token on its way home, with the answer if there is one.
struct Homeward<R: 'static> {
    token: Reply<R>,
    value: Option<R>,
}

impl<R: 'static> Homeward<R> {
    /// Settles the call, at home, in the dispatcher's loop: an answer the caller no longer
    /// waits for is user code to drop, so it goes to the graveyard.
    fn arrive(self) {
        let Homeward { token, value } = self;
        let Some(value) = value else {
            return; // dropping the token settles the call as unanswered
        };
        let To::Here(slot) = token.into_to() else {
            unreachable!("only a token of a caller on a dispatcher goes home")
        };
        if let Some(Slot::Replied(refused)) = slot.settle(Slot::Replied(value)) {
            scheduler::bury(Box::new(refused));
        }
    }
}

// SAFETY: a `Homeward` is made only for a token on a thread other than its home's
// (`Found::Elsewhere`): the token crossed threads, which it can do only by being `Send`, which
// it is only when `R: Send`. So its `R` may cross too.
unsafe impl<R: 'static> Send for Homeward<R> {}

impl<R: 'static> Drop for Reply<R> {
    fn drop(&mut self) {
        // SAFETY: `drop` is the field's last use, and `into_to` (the other taker) consumes the
        // token without running this: the field is taken out exactly once.
        match unsafe { ManuallyDrop::take(&mut self.to) } {
            To::Here(slot) => match scheduler::try_get() {
                Some(sched) if sched.home.serial() == home_of(&slot) => {
                    drop(slot.settle_on(Some(sched), Slot::Dropped));
                }
                _ => go_home(slot, None),
            },
            To::There(across) => {
                let _ = across.answer.set(Err(CallError::NoReply {
                    message: across.message,
                }));
            }
            To::Func(answer, _) => answer(None),
        }
    }
}

impl<R: 'static> fmt::Debug for Reply<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Reply");
        if let Some(message) = self.message() {
            out.field("message", &message);
        }
        out.finish_non_exhaustive()
    }
}
