//! Monitors (Erlang's `monitor`): a tasklet asks to be told, by a message in its mailbox, when
//! another tasklet ends, and how.

use std::rc::Rc;

use crate::engine::end::{down_of, Down};
use crate::engine::scheduler;
use crate::messaging::mailbox::Inner;
use crate::messaging::message::{Accepts, Messages};
use crate::task::tasklet::Tasklet;

crate::message!(
    /// The message a monitor delivers when the monitored tasklet ends: list it in the watcher's
    /// `receives(...)` (as `concurrence::MSG_DOWN`) to monitor from it.
    pub MSG_DOWN(Down)
);

impl<T, M> Tasklet<T, M> {
    /// Monitors this tasklet from the current one (Erlang's `monitor`): when it ends, however
    /// it ends, a [`MSG_DOWN`] message saying how arrives in the current tasklet's mailbox, whose
    /// message set `W` must include `MSG_DOWN`. A tasklet that has ended already is reported at
    /// once. Down messages are delivered even into a full bounded mailbox (they bypass its bound),
    /// so that none is lost; each monitor reports once.
    ///
    /// # Panics
    ///
    /// Outside a tasklet, or when the current tasklet does not receive `W`.
    ///
    /// # Examples
    ///
    /// A collector that is told when a worker dies, instead of waiting for its result for ever:
    ///
    /// ```
    /// use concurrence::{dispatch, message, receive, spawn, tasklet, MSG_DOWN};
    ///
    /// message!(MSG_RESULT(u32));
    ///
    /// #[tasklet(receives(MSG_RESULT, MSG_DOWN))]
    /// fn collector(workers: usize) -> (u32, usize) {
    ///     let (mut sum, mut crashed, mut ended) = (0, 0, 0);
    ///     for msg in receive() {
    ///         match msg {
    ///             CollectorMsg::MSG_RESULT(MSG_RESULT(n)) => sum += n,
    ///             CollectorMsg::MSG_DOWN(MSG_DOWN(down)) => {
    ///                 crashed += usize::from(down.result.is_err());
    ///                 ended += 1;
    ///                 if ended == workers {
    ///                     break;
    ///                 }
    ///             }
    ///         }
    ///     }
    ///     (sum, crashed)
    /// }
    ///
    /// dispatch(|| {
    ///     let collector = Collector::new().spawn(3);
    ///     for i in 0..3u32 {
    ///         let to = collector.clone();
    ///         let worker = spawn(move || {
    ///             if i == 1 {
    ///                 panic!("worker 1 fails");
    ///             }
    ///             MSG_RESULT::send(&to)(i * 10).unwrap();
    ///         });
    ///         // The collector watches each worker; here the spawner asks on its behalf.
    ///         collector.monitor_for(&worker);
    ///     }
    ///     assert_eq!(collector.join().unwrap(), (20, 1));
    /// });
    /// ```
    #[track_caller]
    pub fn monitor<W>(&self)
    where
        W: Messages + Accepts<MSG_DOWN>,
    {
        let me = crate::current()
            .with_messages::<W>()
            .expect("concurrence: the current tasklet does not receive this message set");
        me.monitor_for(self);
    }
}

impl<T, W> Tasklet<T, W>
where
    W: Messages + Accepts<MSG_DOWN>,
{
    /// Makes this tasklet (the watcher, whose message set includes `MSG_DOWN`) monitor
    /// `watched`: what [`monitor`](Tasklet::monitor) does from the watcher itself, done on its
    /// behalf by another tasklet (a spawner that sets up its collector, a supervisor).
    pub fn monitor_for<U, N>(&self, watched: &Tasklet<U, N>) {
        let inbox: Rc<Inner<W>> = self
            .inbox
            .clone()
            .expect("a handle typed with a message set has its mailbox");
        let deliver = Box::new(move |down: Down| {
            // A watcher that has finished has a closed mailbox: nobody to tell.
            let _ = inbox.force_put(W::wrap(MSG_DOWN(down)));
        });
        if watched.task.is_finished() {
            deliver(down_of(&watched.task));
        } else {
            scheduler::get().add_monitor(watched.task.id, deliver);
        }
    }
}

/// Monitors `watched` into a plain mailbox of `Down`s: the runtime's own watchers (the
/// supervisor) use it, so that no message set of the crate shows up in users' diagnostics.
pub(crate) fn monitor_into<U, N>(watched: &Tasklet<U, N>, downs: &crate::Mailbox<Down>) {
    let downs = downs.clone();
    let deliver = Box::new(move |down: Down| {
        let _ = downs.inner().force_put(down);
    });
    if watched.task.is_finished() {
        deliver(down_of(&watched.task));
    } else {
        scheduler::get().add_monitor(watched.task.id, deliver);
    }
}

crate::message!(
    /// The message a tasklet that traps exits ([`trap_exits`]) receives when a tasklet linked
    /// to it ([`Tasklet::link`]) ends with a panic or a kill, instead of being killed with it.
    pub MSG_EXIT(Down)
);

impl<T, M> Tasklet<T, M> {
    /// Links this tasklet and the current one (Erlang's `link`): when either ends with a panic,
    /// a kill or no stack, the other is killed too, unless it traps exits ([`trap_exits`]),
    /// when it receives [`MSG_EXIT`] instead. A normal return ends the link quietly. Linking to
    /// a tasklet that has ended abnormally already acts at once.
    ///
    /// # Panics
    ///
    /// Outside a tasklet.
    ///
    /// # Examples
    ///
    /// ```
    /// use concurrence::{dispatch, sleep, spawn};
    /// use std::time::Duration;
    ///
    /// dispatch(|| {
    ///     let partner = spawn(|| sleep(Duration::from_secs(3600)));
    ///     let doomed = spawn(move || {
    ///         partner.link();
    ///         sleep(Duration::from_millis(10));
    ///         panic!("takes its partner down");
    ///     });
    ///     assert!(doomed.join().unwrap_err().is_panic());
    /// });
    /// ```
    pub fn link(&self) {
        let sched = scheduler::get();
        let me = sched
            .current()
            .expect("concurrence: link is called from a tasklet");
        if Rc::ptr_eq(&me, &self.task) {
            return;
        }
        if self.task.is_finished() {
            let down = down_of(&self.task);
            if down.result.is_err() {
                sched.exit_signal(&me, down);
            }
            return;
        }
        sched.link(&me, &self.task);
    }

    /// Removes a link between this tasklet and the current one.
    pub fn unlink(&self) {
        if let Some(me) = scheduler::get().current() {
            scheduler::get().unlink(me.id, self.task.id);
        }
    }
}

/// Makes the current tasklet trap exits: a linked tasklet's abnormal end arrives as
/// [`MSG_EXIT`] in its mailbox (whose message set `W` must include it) instead of killing it.
///
/// # Panics
///
/// Outside a tasklet, or when the current tasklet does not receive `W`.
pub fn trap_exits<W>()
where
    W: Messages + Accepts<MSG_EXIT>,
{
    let me = crate::current()
        .with_messages::<W>()
        .expect("concurrence: the current tasklet does not receive this message set");
    let inbox: Rc<Inner<W>> = me
        .inbox
        .clone()
        .expect("a handle typed with a message set has its mailbox");
    scheduler::get().trap_exits(
        me.id(),
        Rc::new(move |down: Down| {
            let _ = inbox.force_put(W::wrap(MSG_EXIT(down)));
        }),
    );
}
