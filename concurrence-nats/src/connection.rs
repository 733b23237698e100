//! [`Nats`]: a connection to a NATS server (or cluster), through async-nats on the bridge's
//! tokio runtime.

use std::fmt;

use async_nats::{ConnectOptions, ToServerAddrs};
use concurrence::io::on_tokio;
use concurrence::Tasklet;

use crate::publish::Link;
use crate::reach::Remote;
use crate::serve::{serve, Serving};
use crate::wire::RemoteSet;

/// A connection to NATS: cheap to clone, `Send` and `Sync`. async-nats keeps it up: when the
/// server goes away it reconnects, to another member of the cluster if it knows one, and
/// subscriptions are made again there; meanwhile sends are queued and calls time out.
///
/// # Examples
///
/// A tasklet served under a subject, and called through it (from the same process here; any
/// process connected to the same NATS can call it):
///
/// ```no_run
/// use concurrence::{dispatch, match_message, message, receive, tasklet};
/// use concurrence_nats::Nats;
///
/// message!(MSG_SUM(i64, i64) -> i64);
///
/// #[tasklet(receives(MSG_SUM), remote)]
/// fn adder() {
///     for msg in receive() {
///         match_message!(msg: AdderMsg { MSG_SUM(a, b, reply) => reply.reply(a + b) })
///     }
/// }
///
/// dispatch(|| {
///     let nats = Nats::connect("127.0.0.1:4222").expect("a NATS server");
///     let adder = Adder::new().daemon(true).spawn();
///     nats.serve("adder", &adder).expect("subscribed");
///     let remote = nats.reach::<AdderMsg>("adder");
///     assert_eq!(remote.call(|reply| MSG_SUM(1, 2, reply)), Ok(3));
/// });
/// ```
#[derive(Clone)]
pub struct Nats {
    link: Link,
}

impl Nats {
    /// Connects to the NATS server (or servers: `"host:4222,host:4223"`, or a list) at `addrs`,
    /// with async-nats's default options. In a tasklet only the tasklet waits.
    ///
    /// # Errors
    ///
    /// async-nats's, when no server could be reached.
    pub fn connect<A>(addrs: A) -> Result<Nats, async_nats::ConnectError>
    where
        A: ToServerAddrs + Send + 'static,
    {
        Nats::connect_with(ConnectOptions::new(), addrs)
    }

    /// Connects with `options` (a name, credentials, reconnection and ping settings, an event
    /// callback: async-nats's [`ConnectOptions`]).
    ///
    /// # Errors
    ///
    /// async-nats's, when no server could be reached.
    pub fn connect_with<A>(
        options: ConnectOptions,
        addrs: A,
    ) -> Result<Nats, async_nats::ConnectError>
    where
        A: ToServerAddrs + Send + 'static,
    {
        let client = on_tokio(async move { options.connect(addrs).await })?;
        // Read once: members of a cluster share their limits.
        let max_payload = client.server_info().max_payload;
        Ok(Nats {
            link: Link {
                client,
                max_payload,
            },
        })
    }

    /// The async-nats client, for what this crate does not wrap (JetStream, key-value, plain
    /// subjects): use it from a tasklet through `concurrence::io::on_tokio`.
    pub fn client(&self) -> &async_nats::Client {
        &self.link.client
    }

    /// The client and the server's payload limit.
    pub(crate) fn link(&self) -> &Link {
        &self.link
    }

    /// The largest payload the server takes (its `max_payload`, read when connecting): a
    /// message or an answer past it is refused here, before the server would close the
    /// connection for it.
    pub fn max_payload(&self) -> usize {
        self.link.max_payload
    }

    /// A typed handle for `subject`, served by tasklets receiving the message set `S`.
    pub fn reach<S: RemoteSet>(&self, subject: &str) -> Remote<S> {
        Remote::new(self.clone(), subject.into())
    }

    /// Makes `tasklet` reachable under `subject`: each message published there is decoded
    /// and put in its mailbox (waiting for room in a full one), and a called message's
    /// [`Reply`](concurrence::Reply) answers the request. A tasklet of this dispatcher does
    /// it (its *ingress*), until `tasklet` ends or [`Serving::stop`]. A payload that does not
    /// decode is logged and refused (the caller learns why), and serving goes on.
    ///
    /// Several tasklets (in one process or many) serving one subject each get every message;
    /// to share the load instead, serve in a queue group ([`serve_in_group`](Nats::serve_in_group)).
    ///
    /// # Errors
    ///
    /// async-nats's, when the subscription could not be made.
    ///
    /// # Panics
    ///
    /// Outside a tasklet.
    pub fn serve<T: 'static, S: RemoteSet>(
        &self,
        subject: &str,
        tasklet: &Tasklet<T, S>,
    ) -> Result<Serving, async_nats::Error> {
        serve(self, subject, None, tasklet)
    }

    /// [`serve`](Nats::serve) in the queue group `group`: each message goes to one member of
    /// the group (NATS picks one at random), so the processes serving it share the load.
    ///
    /// # Errors
    ///
    /// As [`serve`](Nats::serve).
    pub fn serve_in_group<T: 'static, S: RemoteSet>(
        &self,
        subject: &str,
        group: &str,
        tasklet: &Tasklet<T, S>,
    ) -> Result<Serving, async_nats::Error> {
        serve(self, subject, Some(group), tasklet)
    }

    /// Waits until the server has everything published so far.
    ///
    /// # Errors
    ///
    /// async-nats's, when the connection is closed.
    pub fn flush(&self) -> Result<(), async_nats::client::FlushError> {
        let client = self.link.client.clone();
        on_tokio(async move { client.flush().await })
    }
}

impl fmt::Debug for Nats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nats")
            .field("state", &self.link.client.connection_state())
            .finish()
    }
}
