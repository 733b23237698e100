//! The dispatcher's connection to the OS: a `mio::Poll` it blocks in when no tasklet is ready,
//! with the next timer deadline as timeout, and the stop signals delivered into it: SIGINT, and
//! SIGTERM when the dispatcher is asked to handle it.
//!
//! A process that started with a stop signal ignored keeps ignoring it; a second one while the
//! first is being handled ends the process by the signal's default action, so Ctrl-C twice
//! always works. While a tasklet waits for a stop signal itself (`signal::Signals`), it does not
//! stop the dispatcher.
//!
//! IO sources register here with a token of their own (`io::source`); the readiness that `poll`
//! collects is handed to the scheduler, which wakes the tasklets waiting for it. Other threads
//! wake the dispatcher through [`Remote`] (a `mio::Waker` and the keys of the waits to end),
//! which is how `io::blocking` delivers its results.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mio::{Events, Interest, Poll, Registry, Token, Waker};
use signal_hook::consts::{SIGINT, SIGQUIT, SIGTERM};
use signal_hook::SigId;
use signal_hook_mio::v1_0::Signals;

use crate::engine::notices::Notices;
use crate::engine::quiescence::Counts;

const SIGINT_TOKEN: Token = Token(usize::MAX - 1);
const SIGTERM_TOKEN: Token = Token(usize::MAX - 3);
const WAKER_TOKEN: Token = Token(usize::MAX - 2);
const SIGQUIT_TOKEN: Token = Token(usize::MAX - 4);

/// What an IO event said about a source: it may be read, written, or both (errors and hang-ups
/// count as both, so that the waiter retries and sees them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readiness {
    pub(crate) readable: bool,
    pub(crate) writable: bool,
}

pub(crate) use crate::engine::notices::Job;

/// A dispatcher's address for other threads: they end waits of its tasklets by key, hand it jobs
/// (the dispatchers of a group), and wake it out of `poll` to notice. `Send + Sync`; the keys mean
/// something only to its dispatcher.
///
/// Wake-ups are coalesced: a notice sets `notified` and calls the `mio::Waker` (a syscall) only
/// when it was clear; the dispatcher clears it before it takes the notices, so a notice that comes
/// after the take wakes it again, and a flood of notices costs one wake-up per take.
pub(crate) struct Remote {
    waker: Waker,
    /// The queued notices and the coalescing flag (`engine::notices`, loom-checked).
    notices: Notices,
    /// The group's counts, whose low bits are the notices sent and not yet handled (see
    /// `engine::group`), when the dispatcher is one of a group.
    pending: OnceLock<Arc<Counts>>,
}

impl Remote {
    /// Ends the wait registered under `key` (see `Scheduler::remote_wait`), from any thread.
    pub(crate) fn wake(&self, key: u64) {
        self.count_notice();
        self.notices.push_key(key, || self.wake_up());
    }

    /// Hands the dispatcher `job`, to run in its loop, from any thread.
    pub(crate) fn post(&self, job: Job) {
        self.count_notice();
        self.notices.push_job(job, || self.wake_up());
    }

    /// Counts a notice as pending in the group, before it is queued (see `engine::group`).
    fn count_notice(&self) {
        if let Some(pending) = self.pending.get() {
            pending.notice();
        }
    }

    /// Wakes the dispatcher out of `poll`.
    fn wake_up(&self) {
        if let Err(err) = self.waker.wake() {
            crate::engine::logging::log_at!(
                Error,
                "concurrence: cannot wake the dispatcher: {err}"
            );
        }
    }

    /// Whether a notice may be waiting (read between passes of a group's dispatcher).
    pub(crate) fn notified(&self) -> bool {
        self.notices.notified()
    }

    /// Joins the group whose counts (pending notices in the low bits) are `pending`.
    pub(crate) fn join_group(&self, pending: Arc<Counts>) {
        let _ = self.pending.set(pending);
    }

    /// The keys woken and the jobs posted since the last call. Clears the wake-up flag first,
    /// so that a notice after the take wakes the dispatcher again.
    pub(crate) fn take_notices(&self) -> (Vec<u64>, Vec<Job>) {
        self.notices.take()
    }
}

/// A signal that stops dispatchers (SIGINT; SIGTERM when asked): how many dispatchers handle
/// it, how many `Signals` claim it for a tasklet, and the flag that gives it back its default
/// action while no dispatcher handles it.
struct StopSignal {
    signal: libc::c_int,
    handling: AtomicUsize,
    claims: AtomicUsize,
    idle: OnceLock<Arc<AtomicBool>>,
    ignored_at_start: OnceLock<bool>,
}

static STOP_SIGNALS: [StopSignal; 3] = [
    StopSignal::new(SIGINT),
    StopSignal::new(SIGTERM),
    // Not a stop: a request for a dump of the tasklets, when asked (`dump_on_sigquit`); handled
    // the same way (its default action, a core dump, while no dispatcher takes it).
    StopSignal::new(SIGQUIT),
];

impl StopSignal {
    const fn new(signal: libc::c_int) -> StopSignal {
        StopSignal {
            signal,
            handling: AtomicUsize::new(0),
            claims: AtomicUsize::new(0),
            idle: OnceLock::new(),
            ignored_at_start: OnceLock::new(),
        }
    }

    fn of(signal: libc::c_int) -> Option<&'static StopSignal> {
        STOP_SIGNALS.iter().find(|s| s.signal == signal)
    }

    /// True while no dispatcher handles the signal: then it keeps its default action.
    fn default_when_idle(&self) -> &Arc<AtomicBool> {
        self.idle.get_or_init(|| {
            let idle = Arc::new(AtomicBool::new(true));
            // Registering our handler replaces the default action for good, so put it back as a
            // conditional action for the times when no dispatcher is running.
            if let Err(err) =
                signal_hook::flag::register_conditional_default(self.signal, idle.clone())
            {
                crate::engine::logging::log_at!(
                    Warn,
                    "concurrence: cannot keep signal {}'s default action: {err}",
                    self.signal
                );
            }
            idle
        })
    }

    /// Whether the process started with the signal ignored (a background job, `nohup`,
    /// `trap '' INT`): then it stays ignored, as a shell's children expect. Read before any
    /// handler of ours.
    fn ignored_at_start(&self) -> bool {
        *self.ignored_at_start.get_or_init(|| {
            // SAFETY: a null new action only reads the current one into `old`, plain data.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                libc::sigaction(self.signal, std::ptr::null(), &mut old) == 0
                    && old.sa_sigaction == libc::SIG_IGN
            }
        })
    }
}

/// A `Signals` of a tasklet waits for `signal` itself: while it does, a stop signal (SIGINT,
/// SIGTERM) does not stop the dispatcher. Returns whether it is one.
pub(crate) fn claim_stop_signal(signal: libc::c_int) -> bool {
    match StopSignal::of(signal) {
        Some(stop) => {
            stop.claims.fetch_add(1, Ordering::SeqCst);
            stop.default_when_idle().store(false, Ordering::SeqCst);
            true
        }
        None => false,
    }
}

/// Ends a claim of [`claim_stop_signal`]; with no dispatcher and no claim left, the signal has
/// its default action again.
pub(crate) fn release_stop_signal(signal: libc::c_int) {
    if let Some(stop) = StopSignal::of(signal) {
        if stop.claims.fetch_sub(1, Ordering::SeqCst) == 1
            && stop.handling.load(Ordering::SeqCst) == 0
        {
            stop.default_when_idle().store(true, Ordering::SeqCst);
        }
    }
}

/// A dispatcher's handling of one stop signal.
struct Handling {
    stop: &'static StopSignal,
    signals: Signals,
    token: Token,
    flag: Arc<AtomicBool>,
    /// Sets `flag`.
    id: SigId,
    /// Ends the process by the default action when `flag` is already set: a second signal
    /// while the first is handled.
    second: SigId,
}

impl Handling {
    fn new(signal: libc::c_int, poll: &Poll, token: Token) -> io::Result<Option<Handling>> {
        let stop = StopSignal::of(signal).expect("a stop signal");
        if stop.ignored_at_start() {
            return Ok(None);
        }
        let idle = stop.default_when_idle();
        let flag = Arc::new(AtomicBool::new(false));
        // Registered first, so it runs before the flag is set: only a second signal, while the
        // first is handled (a tasklet that never yields, a destructor that blocks at shutdown),
        // finds the flag set and ends the process as the signal would.
        let second = signal_hook::flag::register_conditional_default(signal, flag.clone())?;
        let id = signal_hook::flag::register(signal, flag.clone())?;
        let mut signals = Signals::new([signal])?;
        poll.registry()
            .register(&mut signals, token, Interest::READABLE)?;
        stop.handling.fetch_add(1, Ordering::SeqCst);
        idle.store(false, Ordering::SeqCst);
        Ok(Some(Handling {
            stop,
            signals,
            token,
            flag,
            id,
            second,
        }))
    }

    /// Whether the signal arrived and no tasklet claims it.
    fn arrived(&self) -> bool {
        if self.stop.claims.load(Ordering::SeqCst) > 0 {
            // A tasklet waits for it: it is that tasklet's, not a reason to stop.
            self.flag.store(false, Ordering::SeqCst);
            return false;
        }
        self.flag.load(Ordering::Relaxed)
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        signal_hook::low_level::unregister(self.id);
        signal_hook::low_level::unregister(self.second);
        if self.stop.handling.fetch_sub(1, Ordering::SeqCst) == 1
            && self.stop.claims.load(Ordering::SeqCst) == 0
        {
            self.stop.default_when_idle().store(true, Ordering::SeqCst);
        }
    }
}

pub(crate) struct Reactor {
    poll: Poll,
    events: Events,
    sigint: Option<Handling>,
    sigterm: Option<Handling>,
    sigquit: Option<Handling>,
    /// Readiness of IO sources collected by the last polls, for the scheduler to hand out.
    pub(crate) ready: Vec<(Token, Readiness)>,
    remote: Arc<Remote>,
}

impl Reactor {
    pub(crate) fn new(
        handle_sigint: bool,
        handle_sigterm: bool,
        dump_on_sigquit: bool,
    ) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let sigint = match handle_sigint {
            true => Handling::new(SIGINT, &poll, SIGINT_TOKEN)?,
            false => None,
        };
        let sigterm = match handle_sigterm {
            true => Handling::new(SIGTERM, &poll, SIGTERM_TOKEN)?,
            false => None,
        };
        let sigquit = match dump_on_sigquit {
            true => Handling::new(SIGQUIT, &poll, SIGQUIT_TOKEN)?,
            false => None,
        };
        let remote = Arc::new(Remote {
            waker: Waker::new(poll.registry(), WAKER_TOKEN)?,
            notices: Notices::default(),
            pending: OnceLock::new(),
        });
        Ok(Reactor {
            poll,
            events: Events::with_capacity(1024),
            sigint,
            sigterm,
            sigquit,
            ready: Vec::new(),
            remote,
        })
    }

    /// Whether SIGINT arrived since this dispatcher started (and no tasklet claims it).
    pub(crate) fn interrupted(&self) -> bool {
        self.sigint.as_ref().is_some_and(Handling::arrived)
    }

    /// Whether SIGTERM arrived, when the dispatcher handles it (and no tasklet claims it).
    pub(crate) fn terminated(&self) -> bool {
        self.sigterm.as_ref().is_some_and(Handling::arrived)
    }

    /// Whether SIGQUIT arrived since the last call, when the dispatcher dumps on it (and no
    /// tasklet claims it): a dump is asked for.
    pub(crate) fn dump_requested(&self) -> bool {
        self.sigquit
            .as_ref()
            .is_some_and(|h| h.arrived() && h.flag.swap(false, Ordering::SeqCst))
    }

    /// Waits for OS events for at most `timeout` (`None`: until one arrives).
    pub(crate) fn poll(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(err) => return Err(err),
        }
        for event in self.events.iter() {
            match event.token() {
                SIGINT_TOKEN | SIGTERM_TOKEN | SIGQUIT_TOKEN => {
                    for h in [
                        self.sigint.as_mut(),
                        self.sigterm.as_mut(),
                        self.sigquit.as_mut(),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        if h.token == event.token() {
                            // Drain the self-pipe; the flag already says what arrived.
                            for _ in h.signals.pending() {}
                        }
                    }
                }
                WAKER_TOKEN => {} // the scheduler takes the woken keys after every poll
                token => {
                    let broken =
                        event.is_error() || event.is_read_closed() || event.is_write_closed();
                    self.ready.push((
                        token,
                        Readiness {
                            readable: event.is_readable() || broken,
                            writable: event.is_writable() || broken,
                        },
                    ));
                }
            }
        }
        Ok(())
    }

    /// Where IO sources register.
    pub(crate) fn registry(&self) -> &Registry {
        self.poll.registry()
    }

    /// The handle other threads wake this dispatcher with.
    pub(crate) fn remote(&self) -> &Arc<Remote> {
        &self.remote
    }
}
