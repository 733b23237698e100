//! When a group of dispatchers has nothing left to do: the counts behind `Group::settle`
//! (see `engine::group`), kept in one atomic word so that the last dispatcher to settle reads
//! them at one instant. Checked with loom (`RUSTFLAGS="--cfg loom" cargo test -p concurrence
//! --lib --release quiescence`, which `.ci/run` runs): every interleaving of two dispatchers
//! passing notices to each other ends the group only when neither runs and none is pending.

#[cfg(loom)]
use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicU64, Ordering};

/// One settled dispatcher.
const SETTLED: u64 = 1 << 52;
/// One stuck dispatcher.
const STUCK: u64 = 1 << 40;
/// One quiet dispatcher whose daemon tasklets still run.
const BUSY: u64 = 1 << 28;
/// The pending notices' part.
const PENDING: u64 = BUSY - 1;
/// Each count's mask, once shifted down.
const COUNT: u64 = (1 << 12) - 1;

/// How a dispatcher settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// No non-daemon tasklet, and nothing can run.
    Idle,
    /// No non-daemon tasklet, but daemon tasklets run or may: the group may finish, but is
    /// not deadlocked while one dispatcher is so (its daemons may wake a stuck tasklet).
    Busy,
    /// Blocked non-daemon tasklets that only another dispatcher could wake.
    Stuck,
}

impl Kind {
    fn amount(self) -> u64 {
        SETTLED
            + match self {
                Kind::Idle => 0,
                Kind::Busy => BUSY,
                Kind::Stuck => STUCK,
            }
    }
}

/// How a group stands once every dispatcher settled with nothing pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quiet {
    /// No dispatcher is stuck: the program finished.
    Finished,
    /// Some dispatcher is stuck: a deadlock.
    Deadlocked,
}

/// Dispatchers settled (bits 52..64), how many of them are stuck (40..52) and how many busy
/// (28..40), and notices sent and not yet handled (0..28), in one word. At most 4,095
/// dispatchers.
pub(crate) struct Counts {
    word: AtomicU64,
    dispatchers: u64,
}

impl Counts {
    /// The counts of a group of `dispatchers`, all running, nothing pending.
    pub(crate) fn new(dispatchers: usize) -> Counts {
        assert!(
            (dispatchers as u64) <= COUNT,
            "concurrence: at most 4,095 dispatchers"
        );
        Counts {
            word: AtomicU64::new(0),
            dispatchers: dispatchers as u64,
        }
    }

    /// A notice is about to be queued (before it is).
    pub(crate) fn notice(&self) {
        self.word.fetch_add(1, Ordering::SeqCst);
    }

    /// `count` notices were handled (by a dispatcher that is not settled).
    pub(crate) fn handled(&self, count: u64) {
        self.word.fetch_sub(count, Ordering::SeqCst);
    }

    /// A dispatcher settles as `kind`; returns how the group stands when that made every
    /// dispatcher settled with nothing pending, at one instant: finished when none is stuck,
    /// deadlocked when some are and none is busy.
    pub(crate) fn settle(&self, kind: Kind) -> Option<Quiet> {
        let add = kind.amount();
        let word = self.word.fetch_add(add, Ordering::SeqCst) + add;
        if word / SETTLED != self.dispatchers || word & PENDING != 0 {
            return None;
        }
        let stuck = (word / STUCK) & COUNT;
        let busy = (word / BUSY) & COUNT;
        match (stuck, busy) {
            (0, _) => Some(Quiet::Finished),
            (_, 0) => Some(Quiet::Deadlocked),
            _ => None,
        }
    }

    /// A dispatcher settled as `kind` has work again (before it handles the notices that woke
    /// it), or settles otherwise.
    pub(crate) fn unsettle(&self, kind: Kind) {
        self.word.fetch_sub(kind.amount(), Ordering::SeqCst);
    }
}

#[cfg(all(test, loom))]
mod tests {
    use super::{Counts, Kind, Quiet};
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::sync::Arc;

    /// Dispatcher A waits for an answer from B (stuck); B answers with a notice and goes quiet;
    /// A takes the notice, runs, and goes quiet itself. The group may end only once both are
    /// quiet with the notice handled, and then as finished; never while A runs.
    #[test]
    fn the_group_ends_only_when_no_dispatcher_runs_and_nothing_is_pending() {
        loom::model(|| {
            let counts = Arc::new(Counts::new(2));
            let mailbox = Arc::new(AtomicUsize::new(0)); // A's queued notices
            let a_running = Arc::new(AtomicBool::new(false));
            let ended = Arc::new(AtomicUsize::new(0));

            let b = {
                let (counts, mailbox, a_running, ended) = (
                    counts.clone(),
                    mailbox.clone(),
                    a_running.clone(),
                    ended.clone(),
                );
                loom::thread::spawn(move || {
                    counts.notice(); // B's tasklet ends: the answer to A
                    mailbox.fetch_add(1, Ordering::SeqCst);
                    if let Some(end) = counts.settle(Kind::Idle) {
                        assert!(!a_running.load(Ordering::SeqCst), "ended under a running A");
                        assert_eq!(end, Quiet::Finished);
                        ended.fetch_add(1, Ordering::SeqCst);
                    }
                })
            };
            // A: blocked on B's answer, settles stuck (unless the answer is already there).
            let mut stuck = mailbox.load(Ordering::SeqCst) == 0;
            if stuck {
                if let Some(end) = counts.settle(Kind::Stuck) {
                    // Only possible if B settled and nothing is pending: not the case while A
                    // still has to take B's notice.
                    panic!("ended while A waits for a notice on its way: {end:?}");
                }
                while mailbox.load(Ordering::SeqCst) == 0 {
                    loom::thread::yield_now();
                }
                counts.unsettle(Kind::Stuck);
                stuck = false;
            }
            let taken = mailbox.swap(0, Ordering::SeqCst) as u64;
            a_running.store(true, Ordering::SeqCst);
            counts.handled(taken);
            a_running.store(false, Ordering::SeqCst);
            assert!(!stuck);
            if let Some(end) = counts.settle(Kind::Idle) {
                assert_eq!(end, Quiet::Finished);
                ended.fetch_add(1, Ordering::SeqCst);
            }
            b.join().unwrap();
            assert_eq!(
                ended.load(Ordering::SeqCst),
                1,
                "the group ends exactly once"
            );
        });
    }
}
