//! Futures from tasklets: [`wait_future`] polls any future on the tasklet's own dispatcher,
//! suspending only the tasklet until the future's waker is called (from any thread), and
//! `on_tokio` (feature `tokio`) runs a future on a tokio runtime the bridge owns, for async
//! libraries that need one (async-nats, reqwest, tokio's own IO and timers).
//!
//! A future polled by a tasklet lives on the heap, never on the tasklet's stack: many futures,
//! once polled, are pointed into by others (the intrusive wait lists of tokio's `Notify`,
//! `Sleep` and semaphores, event-listener), and a tasklet's stack may not hold what others point
//! into across a suspension (compact stacks copy it away while another tasklet runs there).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::wait::RemoteToken;

/// Polls `future` to completion and returns its output: between polls only the calling tasklet
/// waits (outside a tasklet the thread blocks), until the future's waker is called, from this
/// thread or any other. The future needs no runtime of its own (a channel's receiver, a
/// oneshot, a future made of others); one that needs tokio's reactor or timers runs through
/// `on_tokio` (feature `tokio`) instead. It is moved to the heap first (see the module docs), so it may be
/// `!Unpin` and `!Send`.
///
/// Killing the waiting tasklet drops the future, where it waits.
///
/// # Panics
///
/// On a dispatcher's thread outside a tasklet, when the future is not ready at once (blocking
/// the thread would stop the dispatcher). A panic of the future's `poll` goes on in the caller.
///
/// # Examples
///
/// A future completed from another thread:
///
/// ```
/// use concurrence::{dispatch, io::wait_future};
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::sync::{Arc, Mutex};
/// use std::task::{Context, Poll, Waker};
///
/// /// Ready once another thread set the value.
/// #[derive(Clone, Default)]
/// struct Slot(Arc<Mutex<(Option<u32>, Option<Waker>)>>);
///
/// impl Future for Slot {
///     type Output = u32;
///     fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
///         let mut slot = self.0.lock().unwrap();
///         match slot.0.take() {
///             Some(value) => Poll::Ready(value),
///             None => {
///                 slot.1 = Some(cx.waker().clone());
///                 Poll::Pending
///             }
///         }
///     }
/// }
///
/// dispatch(|| {
///     let slot = Slot::default();
///     let setter = slot.clone();
///     let thread = std::thread::spawn(move || {
///         let mut state = setter.0.lock().unwrap();
///         state.0 = Some(42);
///         if let Some(waker) = state.1.take() {
///             waker.wake();
///         }
///     });
///     assert_eq!(wait_future(slot), 42);
///     concurrence::io::blocking(move || thread.join().unwrap());
/// });
/// ```
#[track_caller]
pub fn wait_future<F: Future>(future: F) -> F::Output {
    let mut future = Box::pin(future);
    let signal = Arc::new(Signal::default());
    let waker = Waker::from(signal.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        signal.wait();
    }
}

/// What a future's waker sets, and who waits for it: a tasklet (as a remote wait of its
/// dispatcher) or a thread (on the condvar).
#[derive(Default)]
struct Signal {
    state: Mutex<SignalState>,
    woken: Condvar,
}

#[derive(Default)]
struct SignalState {
    /// The waker was called since the last poll.
    woken: bool,
    /// The waiting tasklet.
    waiter: Option<RemoteToken>,
}

impl Signal {
    fn lock(&self) -> MutexGuard<'_, SignalState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the waker was called (since the last wait).
    #[track_caller]
    fn wait(&self) {
        match scheduler::try_get() {
            Some(sched) if sched.current().is_some() => {
                // `None`: a tasklet already unwinding, killed again, ended the wait early; the
                // caller polls again, which is harmless.
                let _ = wait_until(
                    Woken {
                        signal: self,
                        armed: None,
                    },
                    None,
                );
            }
            Some(_) => panic!(
                "concurrence: wait_future outside a tasklet on a dispatcher's thread would block \
                 the dispatcher; wait from a tasklet or another thread"
            ),
            None => {
                let mut state = self.lock();
                while !state.woken {
                    state = self
                        .woken
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                state.woken = false;
            }
        }
    }
}

impl Signal {
    /// Registers `waiter` to be woken by the waker; wakes it at once when the waker was called
    /// since the last poll. Returns the registration, for [`disarm`](Signal::disarm).
    fn arm(&self, waiter: &Waiter) -> RemoteToken {
        // Checked and registered under one lock: a wake-up from another thread cannot slip in.
        let mut state = self.lock();
        let token = RemoteToken::register(&waiter.sched, &waiter.task, waiter.epoch);
        state.waiter = Some(token.share());
        if state.woken {
            waiter.wake();
        }
        token
    }

    /// Withdraws the registration `arm` made.
    fn disarm(&self, token: RemoteToken, waiter: &Waiter) {
        self.lock().waiter = None;
        token.forget(&waiter.sched);
    }
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut state = self.lock();
        state.woken = true;
        if let Some(waiter) = state.waiter.take() {
            // A tasklet waits: no thread sleeps on the condvar (a notify would still cost a
            // futex syscall).
            waiter.wake();
            return;
        }
        drop(state);
        self.woken.notify_one();
    }
}

/// The waker of a [`Signal`] called, as a tasklet waits for it.
struct Woken<'a> {
    signal: &'a Signal,
    armed: Option<RemoteToken>,
}

impl sealed::Sealed for Woken<'_> {}

impl Condition for Woken<'_> {
    type Output = ();

    fn poll(&mut self) -> Option<()> {
        let mut state = self.signal.lock();
        std::mem::take(&mut state.woken).then_some(())
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.armed = Some(self.signal.arm(waiter));
    }

    fn disarm(&mut self, waiter: &Waiter) {
        if let Some(token) = self.armed.take() {
            self.signal.disarm(token, waiter);
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::Future)
    }
}

/// A future's output, as a condition a tasklet waits for with others: made by
/// [`wait_for::future`](crate::wait_for::future).
pub struct Polled<F: Future> {
    /// On the heap, as every future a tasklet polls (see the module docs).
    future: Pin<Box<F>>,
    signal: Arc<Signal>,
    waker: Waker,
    armed: Option<RemoteToken>,
    /// The dispatcher does not spin for it before parking (see [`Polled::patient`]).
    patient: bool,
}

impl<F: Future> Polled<F> {
    pub(crate) fn new(future: F) -> Polled<F> {
        let signal = Arc::new(Signal::default());
        Polled {
            future: Box::pin(future),
            waker: Waker::from(signal.clone()),
            signal,
            armed: None,
            patient: false,
        }
    }

    /// The same condition, for a future that may take long (a subscription's next message, a
    /// request to a slow service): while only such waits are left, the dispatcher parks at once
    /// instead of spinning first. (A dispatcher with waits that other threads end spins up to
    /// 50 us before it parks, which pays off for answers that come within microseconds, and
    /// costs a core's time for those that do not.)
    #[must_use]
    pub fn patient(mut self) -> Polled<F> {
        self.patient = true;
        self
    }
}

impl<F: Future> sealed::Sealed for Polled<F> {}

impl<F: Future> Condition for Polled<F> {
    type Output = F::Output;

    fn poll(&mut self) -> Option<F::Output> {
        // Cleared before the poll: a wake-up during or after it is seen by `arm`.
        self.signal.lock().woken = false;
        match self
            .future
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
        {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        }
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.armed = Some(self.signal.arm(waiter));
        if self.patient {
            waiter.sched.patient_waits(1);
        }
    }

    fn disarm(&mut self, waiter: &Waiter) {
        if let Some(token) = self.armed.take() {
            self.signal.disarm(token, waiter);
            if self.patient {
                waiter.sched.patient_waits(-1);
            }
        }
    }

    fn label(&self) -> Label {
        Label(WaitOn::Future)
    }
}

impl<F: Future> fmt::Debug for Polled<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Polled").finish_non_exhaustive()
    }
}

#[cfg(feature = "tokio")]
pub use on_tokio::{on_tokio, tokio_runtime};

#[cfg(feature = "tokio")]
mod on_tokio {
    use std::future::Future;
    use std::sync::OnceLock;

    use super::wait_future;

    /// The bridge's tokio runtime: multi-thread, two workers named `concurrence-tokio`, IO and
    /// time enabled; made on first use and kept for the rest of the process.
    pub fn tokio_runtime() -> &'static tokio::runtime::Runtime {
        static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("concurrence-tokio")
                .enable_all()
                .build()
                .expect("concurrence: cannot start the tokio runtime of the bridge")
        })
    }

    /// Runs `future` on the bridge's tokio runtime ([`tokio_runtime`]) and returns its output:
    /// only the calling tasklet waits (outside a tasklet the thread blocks). This is how a
    /// tasklet uses an async library that needs tokio (its reactor, timers or `spawn`).
    ///
    /// Killing the waiting tasklet cancels the future: its task is aborted, and its destructors
    /// run on the runtime. A panic in the future goes on as a panic in the caller.
    ///
    /// A future that needs the runtime when it is made (tokio's `sleep`, `interval` and
    /// `timeout` do) is made inside the async block given here, which runs on the runtime:
    /// `on_tokio(async move { tokio::time::sleep(d).await })`; or made within
    /// `tokio_runtime().enter()`.
    ///
    /// # Panics
    ///
    /// On a dispatcher's thread outside a tasklet; and with the future's panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{dispatch, io::on_tokio};
    /// use std::time::Duration;
    ///
    /// dispatch(|| {
    ///     let slept = on_tokio(async {
    ///         tokio::time::sleep(Duration::from_millis(5)).await;
    ///         "woke on tokio's timer"
    ///     });
    ///     assert_eq!(slept, "woke on tokio's timer");
    /// });
    /// ```
    #[track_caller]
    pub fn on_tokio<F>(future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = AbortOnDrop(tokio_runtime().spawn(future));
        match wait_future(task) {
            Ok(output) => output,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => panic!("concurrence: the bridged future was cancelled: {err}"),
        }
    }

    /// A tokio task's handle that aborts the task when dropped (its waiting tasklet was
    /// killed), unlike a `JoinHandle`, which lets it run on.
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

    impl<T> Future for AbortOnDrop<T> {
        type Output = Result<T, tokio::task::JoinError>;

        fn poll(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Self::Output> {
            std::pin::Pin::new(&mut self.0).poll(cx)
        }
    }

    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
}
