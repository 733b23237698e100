//! The dispatcher's connection to the OS: a `mio::Poll` it blocks in when no tasklet is ready,
//! with the next timer deadline as timeout, and SIGINT delivered into it.
//!
//! A process that started with SIGINT ignored keeps ignoring it; a second SIGINT while the first
//! is being handled ends the process by SIGINT's default action, so Ctrl-C twice always works.
//!
//! IO sources register here with a token of their own (`io::source`); the readiness that `poll`
//! collects is handed to the scheduler, which wakes the tasklets waiting for it. Other threads
//! wake the dispatcher through [`Remote`] (a `mio::Waker` and the keys of the waits to end),
//! which is how `io::blocking` delivers its results.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mio::{Events, Interest, Poll, Registry, Token, Waker};
use signal_hook::consts::SIGINT;
use signal_hook::SigId;
use signal_hook_mio::v1_0::Signals;

const SIGNAL_TOKEN: Token = Token(usize::MAX - 1);
const WAKER_TOKEN: Token = Token(usize::MAX - 2);

/// What an IO event said about a source: it may be read, written, or both (errors and hang-ups
/// count as both, so that the waiter retries and sees them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readiness {
    pub(crate) readable: bool,
    pub(crate) writable: bool,
}

/// A dispatcher's address for other threads: they end waits of its tasklets by key, and wake
/// it out of `poll` to notice. `Send + Sync`; the keys mean something only to its dispatcher.
pub(crate) struct Remote {
    waker: Waker,
    woken: Mutex<Vec<u64>>,
}

impl Remote {
    /// Ends the wait registered under `key` (see `Scheduler::remote_wait`), from any thread.
    pub(crate) fn wake(&self, key: u64) {
        self.woken
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(key);
        if let Err(err) = self.waker.wake() {
            log::error!("concurrence: cannot wake the dispatcher: {err}");
        }
    }

    /// The keys woken since the last call.
    pub(crate) fn take_woken(&self) -> Vec<u64> {
        std::mem::take(
            &mut *self
                .woken
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// Dispatchers running in this process that handle SIGINT.
static HANDLING: AtomicUsize = AtomicUsize::new(0);

/// True while no dispatcher handles SIGINT: then SIGINT keeps its default action (terminate).
fn default_when_idle() -> &'static Arc<AtomicBool> {
    static IDLE: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    IDLE.get_or_init(|| {
        let idle = Arc::new(AtomicBool::new(true));
        // Registering our handler replaces the default action for good, so put it back as a
        // conditional action for the times when no dispatcher is running.
        if let Err(err) = signal_hook::flag::register_conditional_default(SIGINT, idle.clone()) {
            log::warn!("concurrence: cannot keep SIGINT's default action: {err}");
        }
        idle
    })
}

struct SigintHandling {
    signals: Signals,
    flag: Arc<AtomicBool>,
    /// Sets `flag`.
    id: SigId,
    /// Ends the process by the default action when `flag` is already set: a second Ctrl-C.
    second: SigId,
}

/// Whether the process started with SIGINT ignored (a background job, `nohup`, `trap '' INT`):
/// then it stays ignored, as a shell's children expect. Read before any handler of ours.
fn sigint_ignored_at_start() -> bool {
    static IGNORED: OnceLock<bool> = OnceLock::new();
    *IGNORED.get_or_init(|| {
        // SAFETY: a null new action only reads the current one into `old`, plain data.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(SIGINT, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        }
    })
}

pub(crate) struct Reactor {
    poll: Poll,
    events: Events,
    sigint: Option<SigintHandling>,
    /// Readiness of IO sources collected by the last polls, for the scheduler to hand out.
    pub(crate) ready: Vec<(Token, Readiness)>,
    remote: Arc<Remote>,
}

impl Reactor {
    pub(crate) fn new(handle_sigint: bool) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let sigint = if handle_sigint && !sigint_ignored_at_start() {
            let idle = default_when_idle();
            let flag = Arc::new(AtomicBool::new(false));
            // Registered first, so it runs before the flag is set: only a second SIGINT, while
            // the first is handled (a tasklet that never yields, a destructor that blocks at
            // shutdown), finds the flag set and ends the process as SIGINT would.
            let second = signal_hook::flag::register_conditional_default(SIGINT, flag.clone())?;
            let id = signal_hook::flag::register(SIGINT, flag.clone())?;
            let mut signals = Signals::new([SIGINT])?;
            poll.registry()
                .register(&mut signals, SIGNAL_TOKEN, Interest::READABLE)?;
            HANDLING.fetch_add(1, Ordering::SeqCst);
            idle.store(false, Ordering::SeqCst);
            Some(SigintHandling {
                signals,
                flag,
                id,
                second,
            })
        } else {
            None
        };
        let remote = Arc::new(Remote {
            waker: Waker::new(poll.registry(), WAKER_TOKEN)?,
            woken: Mutex::new(Vec::new()),
        });
        Ok(Reactor {
            poll,
            events: Events::with_capacity(1024),
            sigint,
            ready: Vec::new(),
            remote,
        })
    }

    /// Whether SIGINT arrived since this dispatcher started.
    pub(crate) fn interrupted(&self) -> bool {
        self.sigint
            .as_ref()
            .is_some_and(|s| s.flag.load(Ordering::Relaxed))
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
                SIGNAL_TOKEN => {
                    if let Some(s) = self.sigint.as_mut() {
                        // Drain the self-pipe; the flag already says what arrived.
                        for _ in s.signals.pending() {}
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

impl Drop for Reactor {
    fn drop(&mut self) {
        if let Some(s) = self.sigint.take() {
            signal_hook::low_level::unregister(s.id);
            signal_hook::low_level::unregister(s.second);
            drop(s.signals);
            if HANDLING.fetch_sub(1, Ordering::SeqCst) == 1 {
                default_when_idle().store(true, Ordering::SeqCst);
            }
        }
    }
}
