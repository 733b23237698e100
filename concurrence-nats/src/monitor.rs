//! Monitors across processes (Erlang's `monitor` of a remote process): a tasklet is told, by a
//! [`MSG_REMOTE_DOWN`] message, when a subject is not served any more. Built on what NATS
//! offers: a ping is a request, which NATS answers at once with "no responders" when nobody
//! subscribes to the subject; a serving process that hangs or is cut off is noticed by pings
//! that go unanswered.

use std::fmt;
use std::time::Duration;

use concurrence::{select, wait_for, Accepts, Builder, Messages, Tasklet};

use crate::error::RemoteError;
use crate::reach::Remote;
use crate::wire::RemoteSet;

concurrence::message!(
    /// The message a remote monitor delivers when its subject is not served any more: list it
    /// in the watcher's `receives(...)` (as `concurrence_nats::MSG_REMOTE_DOWN`).
    pub MSG_REMOTE_DOWN(RemoteDown)
);

/// A subject found unserved, as [`MSG_REMOTE_DOWN`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteDown {
    /// The subject.
    pub subject: String,
    /// How it was found.
    pub reason: DownReason,
}

/// How a monitored subject was found unserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownReason {
    /// NATS answered a ping with "no responders": nobody subscribes to the subject.
    NoResponder,
    /// This many pings in a row went unanswered (a serving process hangs, or the connection to
    /// NATS is broken).
    Unanswered(u32),
}

/// How many unanswered pings in a row make a subject down.
const MISSES: u32 = 3;

/// A monitor of a remote subject ([`Remote::monitor`]). Dropping the handle leaves the monitor
/// running; [`cancel`](RemoteMonitor::cancel) ends it.
pub struct RemoteMonitor {
    pinger: Tasklet<()>,
}

impl RemoteMonitor {
    /// Ends the monitor: no `MSG_REMOTE_DOWN` comes from it after this returns.
    pub fn cancel(self) {
        self.pinger.kill();
        let _ = self.pinger.join();
    }
}

impl fmt::Debug for RemoteMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteMonitor").finish_non_exhaustive()
    }
}

impl<S: RemoteSet> Remote<S> {
    /// Monitors the subject from the current tasklet, whose message set `W` includes
    /// [`MSG_REMOTE_DOWN`]: the subject is pinged every `every` (each ping waits at most
    /// `every` for its answer), and when NATS says nobody serves it, or three pings in a row go
    /// unanswered, one `MSG_REMOTE_DOWN` arrives and the monitor ends. A subject nobody serves
    /// now is reported after the first ping. The monitor also ends with the watcher.
    ///
    /// # Panics
    ///
    /// Outside a tasklet, or when the current tasklet does not receive `W`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use concurrence::{dispatch, message, receive, tasklet};
    /// use concurrence_nats::{Nats, MSG_REMOTE_DOWN};
    /// use std::time::Duration;
    ///
    /// message!(MSG_JOB(u32));
    ///
    /// #[tasklet(receives(MSG_JOB), remote)]
    /// fn worker() {}
    ///
    /// #[tasklet(receives(MSG_REMOTE_DOWN))]
    /// fn watcher(nats: Nats) {
    ///     nats.reach::<WorkerMsg>("jobs").monitor::<WatcherMsg>(Duration::from_secs(1));
    ///     let WatcherMsg::MSG_REMOTE_DOWN(MSG_REMOTE_DOWN(down)) = receive().next().unwrap();
    ///     println!("{} is down: {:?}", down.subject, down.reason);
    /// }
    ///
    /// dispatch(|| {
    ///     let nats = Nats::connect("127.0.0.1:4222").expect("a NATS server");
    ///     Watcher::new().spawn(nats).join().unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn monitor<W>(&self, every: Duration) -> RemoteMonitor
    where
        W: Messages + Accepts<MSG_REMOTE_DOWN>,
    {
        let watcher = concurrence::current()
            .with_messages::<W>()
            .expect("concurrence-nats: the current tasklet does not receive this message set");
        self.monitor_for(&watcher, every)
    }

    /// [`monitor`](Remote::monitor) on behalf of `watcher`.
    pub fn monitor_for<T: 'static, W>(
        &self,
        watcher: &Tasklet<T, W>,
        every: Duration,
    ) -> RemoteMonitor
    where
        W: Messages + Accepts<MSG_REMOTE_DOWN>,
    {
        let remote = self.clone();
        let watcher = watcher.clone();
        let pinger = Builder::new()
            .name(format!("nats-monitor {}", self.subject()))
            .daemon(true)
            .spawn(move || {
                let mut misses = 0;
                let reason = loop {
                    match remote.ping(every) {
                        Ok(()) => misses = 0,
                        Err(RemoteError::NoResponder { .. }) => break DownReason::NoResponder,
                        Err(_) => {
                            misses += 1;
                            if misses == MISSES {
                                break DownReason::Unanswered(misses);
                            }
                            continue; // the ping waited `every` already
                        }
                    }
                    select! {
                        _ = wait_for::timeout(every) => {},
                        _ = wait_for::finished(&watcher) => return,
                    }
                };
                let down = RemoteDown {
                    subject: remote.subject().to_owned(),
                    reason,
                };
                // A watcher that has finished has nobody to tell.
                let _ = watcher.send(MSG_REMOTE_DOWN(down));
            });
        RemoteMonitor { pinger }
    }
}
