//! [`CallWait`]: kiwi's `WaitForCall`: a tasklet waits to be called, by any code in or out of a
//! tasklet, on this thread or another, and sets the value the call returns.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::engine::wait::{Ended, RemoteToken, WaitList};
use crate::error::TimeoutError;
use crate::messaging::message::CallError;
use crate::messaging::oneshot::{Oneshot, Waiting};

/// The name call errors give for a call-wait.
const NAME: &str = "CallWait";

/// A point where a tasklet waits to be called: [`call`](CallWait::call) hands it arguments and
/// blocks until it answers through the [`Called`] it received. Clones share the point; it is
/// `Send` and `Sync` when the arguments and the answer are, so another OS thread can call a
/// tasklet (the caller's thread blocks; a calling tasklet suspends, the others run).
///
/// Calls queue in order; a call made while nobody waits waits for the next [`wait`]
/// (nothing is lost when the waiting tasklet is killed: the call stays queued). Several
/// tasklets (through clones, or one tasklet in several arms of a [`select!`](crate::select))
/// may wait at once: each call wakes the one that has waited longest, and a waiter that leaves
/// (timed out, killed, or another arm won) takes only its own place in the line. A [`Called`]
/// dropped without an answer makes the call fail with [`CallError::NoReply`].
///
/// [`wait`]: CallWait::wait
///
/// # Examples
///
/// ```
/// use concurrence::{dispatch, spawn, CallWait};
///
/// dispatch(|| {
///     let doubler: CallWait<u32, u32> = CallWait::new();
///     let point = doubler.clone();
///     spawn(move || loop {
///         let call = point.wait();
///         let n = *call.args();
///         call.reply(n * 2);
///     });
///     // From another OS thread: its call blocks that thread until the tasklet answers.
///     let remote = doubler.clone();
///     let thread = std::thread::spawn(move || remote.call(21));
///     assert_eq!(doubler.call(5), Ok(10)); // from a tasklet: only this tasklet waits
///     let from_thread = concurrence::io::blocking(move || thread.join().unwrap());
///     assert_eq!(from_thread, Ok(42));
///     concurrence::quit(0);
/// });
/// ```
pub struct CallWait<A, R> {
    shared: Arc<Shared<A, R>>,
}

struct Shared<A, R> {
    state: Mutex<State<A, R>>,
}

struct State<A, R> {
    calls: VecDeque<(A, Arc<Answer<R>>)>,
    /// The tasklets waiting in `wait` (on any thread), oldest first, each as a remote wait of
    /// its dispatcher; empty while nobody waits.
    waiters: WaitList<RemoteToken>,
}

/// Where a call's answer goes: set by the answering tasklet, taken by the caller.
type Answer<R> = Oneshot<Result<R, CallError>>;

/// A call received by [`CallWait::wait`]: its arguments, and the way to answer.
pub struct Called<A, R> {
    /// Taken only by `into_parts`.
    args: Option<A>,
    answer: Option<Arc<Answer<R>>>,
}

impl<A, R> Called<A, R> {
    /// The call's arguments.
    pub fn args(&self) -> &A {
        self.args
            .as_ref()
            .expect("the arguments are taken only by into_parts, which consumes the call")
    }

    /// Answers the call: the caller's `call` returns `value`.
    pub fn reply(mut self, value: R) {
        if let Some(answer) = self.answer.take() {
            // Refused when the caller gave up: the value is dropped.
            let _ = answer.set(Ok(value));
        }
    }

    /// Takes the arguments out, answering nothing yet: answer through the returned
    /// [`CallReply`].
    pub fn into_parts(mut self) -> (A, CallReply<R>) {
        let answer = self.answer.take();
        let args = self.args.take().expect("the arguments are taken only once");
        (args, CallReply { answer })
    }
}

impl<A, R> Drop for Called<A, R> {
    fn drop(&mut self) {
        if let Some(answer) = self.answer.take() {
            let _ = answer.set(Err(CallError::NoReply { message: NAME }));
        }
    }
}

/// The answer half of a [`Called`], from [`Called::into_parts`].
pub struct CallReply<R> {
    answer: Option<Arc<Answer<R>>>,
}

impl<R> CallReply<R> {
    /// Answers the call.
    pub fn reply(mut self, value: R) {
        if let Some(answer) = self.answer.take() {
            // Refused when the caller gave up: the value is dropped.
            let _ = answer.set(Ok(value));
        }
    }
}

impl<R> Drop for CallReply<R> {
    fn drop(&mut self) {
        if let Some(answer) = self.answer.take() {
            let _ = answer.set(Err(CallError::NoReply { message: NAME }));
        }
    }
}

impl<A, R> CallWait<A, R> {
    /// A call point nobody waits at yet.
    pub fn new() -> CallWait<A, R> {
        CallWait {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    calls: VecDeque::new(),
                    waiters: WaitList::default(),
                }),
            }),
        }
    }

    /// Waits to be called; returns the call, to be answered. Only the calling tasklet waits.
    ///
    /// # Panics
    ///
    /// Outside a tasklet.
    #[track_caller]
    pub fn wait(&self) -> Called<A, R> {
        loop {
            if let Ok(call) = self.wait_until(None) {
                return call;
            }
            // Ended early only by a kill of a tasklet already unwinding: wait on.
        }
    }

    /// [`wait`](CallWait::wait), at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when nobody called in time.
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<Called<A, R>, TimeoutError> {
        Ok(self.wait_until(Some(deadline_after(timeout)))?)
    }

    #[track_caller]
    fn wait_until(&self, deadline: Option<std::time::Instant>) -> Result<Called<A, R>, Ended> {
        wait_until(Call::new(self), deadline).ok_or(Ended::TimedOut)
    }

    /// Takes the oldest call waiting to be answered.
    fn take_call(&self) -> Option<Called<A, R>> {
        let (args, answer) = self.lock().calls.pop_front()?;
        Some(Called {
            args: Some(args),
            answer: Some(answer),
        })
    }

    /// Calls the tasklet waiting here with `args` and returns its answer. In a tasklet only the
    /// tasklet waits; on another thread the thread blocks.
    ///
    /// # Errors
    ///
    /// [`CallError::NoReply`] when the tasklet dropped the call without answering.
    ///
    /// # Panics
    ///
    /// Outside a tasklet on the thread of a running dispatcher, where blocking the thread would
    /// keep the waiting tasklet from ever answering.
    #[track_caller]
    pub fn call(&self, args: A) -> Result<R, CallError> {
        self.call_until(args, None)
    }

    /// [`call`](CallWait::call), giving up after `timeout` (a later answer is dropped).
    ///
    /// # Errors
    ///
    /// As `call`, and [`CallError::TimedOut`] when no answer came in time.
    #[track_caller]
    pub fn call_timeout(&self, args: A, timeout: Duration) -> Result<R, CallError> {
        self.call_until(args, Some(deadline_after(timeout)))
    }

    #[track_caller]
    fn call_until(&self, args: A, deadline: Option<std::time::Instant>) -> Result<R, CallError> {
        let answer = Answer::new();
        {
            let mut state = self.lock();
            state.calls.push_back((args, answer.clone()));
            state.waiters.wake_one_remote();
        }
        let how = Waiting {
            label: WaitOn::Reply(&NAME_REF),
            internal: false,
            misuse: "concurrence: CallWait::call outside a tasklet on a dispatcher's thread would \
                     block the tasklet that must answer; call it from a tasklet or another thread",
        };
        // `None`: the deadline passed (or the calling tasklet, already unwinding, was killed
        // again); an answer that comes later is refused, and dropped by the one who answers.
        answer.wait(deadline, how).unwrap_or_else(|| {
            answer
                .abandon()
                .unwrap_or(Err(CallError::TimedOut { message: NAME }))
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<A, R>> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// `NAME` behind a `&'static &'static str`, as `WaitOn::Reply` keeps it.
static NAME_REF: &str = NAME;

impl<A, R> Clone for CallWait<A, R> {
    fn clone(&self) -> Self {
        CallWait {
            shared: self.shared.clone(),
        }
    }
}

/// A call at a [`CallWait`]: the condition of [`wait_for::call`](crate::wait_for::call)
/// (kiwi's `WaitForCall`). It fires with the oldest call not yet taken; calls that came while
/// nobody waited are queued for it.
pub struct Call<'a, A, R> {
    call_wait: &'a CallWait<A, R>,
    /// Its place among the point's waiters while armed.
    armed: Option<RemoteToken>,
}

impl<'a, A, R> Call<'a, A, R> {
    pub(crate) fn new(call_wait: &'a CallWait<A, R>) -> Call<'a, A, R> {
        Call {
            call_wait,
            armed: None,
        }
    }
}

impl<A, R> sealed::Sealed for Call<'_, A, R> {}

impl<A, R> Condition for Call<'_, A, R> {
    type Output = Called<A, R>;

    fn poll(&mut self) -> Option<Called<A, R>> {
        self.call_wait.take_call()
    }

    fn arm(&mut self, waiter: &Waiter) {
        // Checked and registered under one lock: a call from another thread cannot slip in
        // between.
        let mut state = self.call_wait.lock();
        let token = RemoteToken::register(&waiter.sched, &waiter.task, waiter.epoch);
        state.waiters.push_remote(token.share());
        self.armed = Some(token);
        if !state.calls.is_empty() {
            waiter.wake();
        }
    }

    fn disarm(&mut self, waiter: &Waiter) {
        if let Some(token) = self.armed.take() {
            {
                let mut state = self.call_wait.lock();
                let pass_on = !state.calls.is_empty();
                state.waiters.leave_remote(&token, pass_on);
            }
            token.forget(&waiter.sched);
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::CallWait)
    }
}

impl<A, R> fmt::Debug for Call<'_, A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call").finish_non_exhaustive()
    }
}

impl<A, R> Default for CallWait<A, R> {
    fn default() -> Self {
        CallWait::new()
    }
}

impl<A, R> fmt::Debug for CallWait<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallWait")
            .field("queued_calls", &self.lock().calls.len())
            .finish()
    }
}

impl<A: fmt::Debug, R> fmt::Debug for Called<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Called")
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}
