//! [`Signals`]: Unix signals as events a tasklet waits for (kiwi's `WaitForSignal`).

use std::collections::HashMap;
use std::fmt;
use std::io::{self, ErrorKind, Read};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use signal_hook::SigId;

use crate::engine::condition::{sealed, wait_until, Condition, Label, Waiter};
use crate::engine::reactor;
use crate::engine::scheduler;
use crate::engine::state::WaitOn;
use crate::engine::timer::deadline_after;
use crate::error::TimeoutError;
use crate::io::fd::FdWake;
use crate::io::source::{poll_thread, Dir};
use crate::io::Registered;

/// A set of Unix signals that tasklets wait for: SIGHUP to reload, SIGUSR1 to dump state,
/// SIGTERM to finish cleanly, ... Only the waiting tasklet suspends; the signal arrives through
/// the dispatcher's poller.
///
/// A signal that arrives while nobody waits is kept for the next wait: each wait returns one
/// signal that arrived since the previous waits took theirs. Several arrivals of the same signal
/// in between are coalesced into one, as the kernel coalesces a pending signal. While a
/// `Signals` that holds SIGINT (or SIGTERM, when the dispatcher handles it) exists, that signal
/// is the tasklet's, and no longer stops the dispatcher.
///
/// Dropping it unregisters its handlers; a signal that no `Signals` (and no dispatcher) catches
/// any more has its default action again (emulated through signal-hook's conditional default:
/// signal-hook never uninstalls an OS handler).
///
/// # Examples
///
/// ```
/// use concurrence::signal::Signals;
/// use concurrence::{dispatch, spawn};
///
/// dispatch(|| {
///     let hangups = Signals::new(&[libc::SIGHUP]).unwrap();
///     let reloader = spawn(move || hangups.wait()); // suspends until SIGHUP
///     concurrence::yield_();
///     // SAFETY: raise(3) sends SIGHUP to this process, which now handles it.
///     unsafe { libc::raise(libc::SIGHUP) };
///     assert_eq!(reloader.join().unwrap(), libc::SIGHUP);
/// });
/// ```
pub struct Signals {
    /// Read end of the pipe the handlers write a byte to.
    wake: Registered<UnixStream>,
    /// The signals, each with the flag its handler sets.
    arrived: Vec<(libc::c_int, Arc<AtomicBool>)>,
    ids: Vec<SigId>,
    /// Stop signals (SIGINT, SIGTERM) claimed from the dispatcher.
    claimed: Vec<libc::c_int>,
    /// Other signals whose default action this `Signals` holds off.
    held: Vec<libc::c_int>,
}

impl Signals {
    /// Starts catching `signals`.
    ///
    /// # Errors
    ///
    /// For signals that cannot be caught (SIGKILL, SIGSTOP, SIGSEGV, SIGILL, SIGFPE) and when
    /// the pipe cannot be made.
    pub fn new(signals: &[libc::c_int]) -> io::Result<Signals> {
        if let Some(signal) = signals
            .iter()
            .find(|s| signal_hook::consts::FORBIDDEN.contains(s))
        {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("concurrence: signal {signal} cannot be caught"),
            ));
        }
        let (read, write) = UnixStream::pair()?;
        write.set_nonblocking(true)?;
        let mut this = Signals {
            wake: Registered::new(read)?,
            arrived: Vec::new(),
            ids: Vec::new(),
            claimed: Vec::new(),
            held: Vec::new(),
        };
        for &signal in signals {
            let flag = Arc::new(AtomicBool::new(false));
            // The flag first, then the byte: a waiter woken by the byte finds the flag set.
            this.ids
                .push(signal_hook::flag::register(signal, flag.clone())?);
            this.ids.push(signal_hook::low_level::pipe::register(
                signal,
                write.try_clone()?,
            )?);
            this.arrived.push((signal, flag));
            if reactor::claim_stop_signal(signal) {
                this.claimed.push(signal);
            } else {
                hold_default(signal)?;
                this.held.push(signal);
            }
        }
        Ok(this)
    }

    /// Waits for one of the signals; returns which.
    ///
    /// # Panics
    ///
    /// When the pipe the handlers write to fails (which does not happen).
    #[track_caller]
    pub fn wait(&self) -> libc::c_int {
        loop {
            match self.wait_until(None) {
                Ok(signal) => return signal,
                // Ended early only by a kill of a tasklet already unwinding: wait on.
                Err(err) if err.kind() == ErrorKind::TimedOut => {}
                Err(err) => panic!("concurrence: the signal pipe failed: {err}"),
            }
        }
    }

    /// [`wait`](Signals::wait), at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`TimeoutError`] when none of the signals arrived in time.
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<libc::c_int, TimeoutError> {
        self.wait_until(Some(deadline_after(timeout)))
            .map_err(|_| TimeoutError)
    }

    /// A signal that arrived since the last wait, if any, without waiting.
    pub fn try_next(&self) -> Option<libc::c_int> {
        // Empty the pipe first: a byte written after this is for a signal still to be seen.
        let mut sink = [0u8; 64];
        while matches!((&mut self.wake.get_ref()).read(&mut sink), Ok(1..)) {}
        self.arrived
            .iter()
            .find(|(_, flag)| flag.swap(false, Ordering::SeqCst))
            .map(|(signal, _)| *signal)
    }

    #[track_caller]
    fn wait_until(&self, deadline: Option<std::time::Instant>) -> io::Result<libc::c_int> {
        if scheduler::try_get().and_then(|s| s.current()).is_none() {
            // Outside a tasklet the thread waits.
            loop {
                if let Some(signal) = self.try_next() {
                    return Ok(signal);
                }
                poll_thread(self.wake.as_raw_fd(), Dir::Read, deadline)?;
            }
        }
        match wait_until(Signal::new(self), deadline) {
            Some(signal) => signal,
            None => Err(io::Error::new(
                ErrorKind::TimedOut,
                "concurrence: no signal came",
            )),
        }
    }

    /// The signals it catches.
    pub fn signals(&self) -> impl Iterator<Item = libc::c_int> + '_ {
        self.arrived.iter().map(|(signal, _)| *signal)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        for signal in self.claimed.drain(..) {
            reactor::release_stop_signal(signal);
        }
        for signal in self.held.drain(..) {
            release_default(signal);
        }
    }
}

/// For each signal a `Signals` ever caught (but SIGINT and SIGTERM, which the reactor keeps):
/// how many catch it now, and the flag that runs its default action while none does.
/// A signal arriving: the condition of [`wait_for::signal`](crate::wait_for::signal) (kiwi's
/// `WaitForSignal`). It fires with the number of a signal of its [`Signals`] that arrived (kept
/// since the last wait if nobody waited); an error only if the signals' wake-up pipe cannot be
/// registered with the dispatcher.
pub struct Signal<'a> {
    signals: &'a Signals,
    wake: FdWake,
}

impl<'a> Signal<'a> {
    pub(crate) fn new(signals: &'a Signals) -> Signal<'a> {
        Signal {
            signals,
            wake: FdWake::default(),
        }
    }
}

impl sealed::Sealed for Signal<'_> {}

impl Condition for Signal<'_> {
    type Output = io::Result<libc::c_int>;

    fn poll(&mut self) -> Option<io::Result<libc::c_int>> {
        if let Some(err) = self.wake.failed.take() {
            return Some(Err(err));
        }
        self.signals.try_next().map(Ok)
    }

    fn arm(&mut self, waiter: &Waiter) {
        self.wake
            .arm(self.signals.wake.get_ref().as_fd(), Dir::Read, waiter);
    }

    fn disarm(&mut self, waiter: &Waiter) {
        self.wake.disarm(waiter);
    }

    fn label(&self) -> Label {
        Label(WaitOn::Signal)
    }
}

impl fmt::Debug for Signal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("signals", self.signals)
            .finish_non_exhaustive()
    }
}

fn defaults() -> &'static Mutex<HashMap<libc::c_int, Held>> {
    static DEFAULTS: OnceLock<Mutex<HashMap<libc::c_int, Held>>> = OnceLock::new();
    DEFAULTS.get_or_init(Mutex::default)
}

/// How many `Signals` catch a signal, and the flag that runs its default action when none does.
type Held = (usize, Arc<AtomicBool>);

/// One more `Signals` catches `signal`: its default action is held off.
fn hold_default(signal: libc::c_int) -> io::Result<()> {
    let mut defaults = defaults().lock().unwrap_or_else(PoisonError::into_inner);
    let entry = match defaults.entry(signal) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => {
            let idle = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register_conditional_default(signal, idle.clone())?;
            e.insert((0, idle))
        }
    };
    entry.0 += 1;
    entry.1.store(false, Ordering::SeqCst);
    Ok(())
}

/// One `Signals` fewer catches `signal`; with none left, its default action is back.
fn release_default(signal: libc::c_int) {
    let mut defaults = defaults().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(entry) = defaults.get_mut(&signal) {
        entry.0 -= 1;
        if entry.0 == 0 {
            entry.1.store(true, Ordering::SeqCst);
        }
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signals")
            .field("signals", &self.signals().collect::<Vec<_>>())
            .finish()
    }
}
