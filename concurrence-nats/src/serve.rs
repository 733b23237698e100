//! Serving: a tasklet's mailbox fed from a NATS subject, by a tasklet of its dispatcher (the
//! ingress) that decodes each message and answers what only it can (refusals, pings).

use std::cell::Cell;
use std::fmt;
use std::time::{Duration, Instant};

use async_nats::{Message, Subject};
use concurrence::io::on_tokio;
use concurrence::{select, wait_for, Builder, Mailbox, SendError, Tasklet};

use crate::connection::Nats;
use crate::publish::{publish_detached, Link, Outgoing, Subscription};
use crate::wire::{split, Incoming, RemoteSet, DEADLINE_HEADER, NO_REPLY, PING_HEADER};

/// A tasklet served under a subject ([`Nats::serve`]). Dropping the handle leaves it served
/// (until the tasklet ends); [`stop`](Serving::stop) ends it.
pub struct Serving {
    ingress: Tasklet<()>,
    stop: Mailbox<()>,
    subject: String,
}

impl Serving {
    /// Stops serving: the subscription is withdrawn (and the server has heard so) when this
    /// returns. Messages that came before are delivered.
    pub fn stop(self) {
        let _ = self.stop.append(());
        let _ = self.ingress.join();
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Debug for Serving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serving")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

pub(crate) fn serve<T: 'static, S: RemoteSet>(
    nats: &Nats,
    subject: &str,
    group: Option<&str>,
    tasklet: &Tasklet<T, S>,
) -> Result<Serving, async_nats::Error> {
    let client = nats.client().clone();
    let (on, group) = (Subject::from(subject), group.map(str::to_owned));
    let subscriber = on_tokio(async move {
        let subscriber = match group {
            Some(group) => client.queue_subscribe(on, group).await?,
            None => client.subscribe(on).await?,
        };
        // The server knows of the subscription before serving is said to have begun.
        client.flush().await?;
        Ok::<_, async_nats::Error>(subscriber)
    })?;
    let subscription = Subscription(Some(subscriber));
    let stop = Mailbox::new();
    let ingress = Ingress {
        link: nats.link().clone(),
        subject: subject.to_owned(),
        target: tasklet.clone(),
        stop: stop.clone(),
    };
    let ingress = Builder::new()
        .name(format!("nats-serve {subject}"))
        .daemon(true)
        .spawn(move || ingress.run(subscription));
    Ok(Serving {
        ingress,
        stop,
        subject: subject.to_owned(),
    })
}

/// How long the end of serving waits for the messages still on their way.
const DRAIN: Duration = Duration::from_secs(5);

/// What the ingress tasklet knows.
struct Ingress<T, S> {
    link: Link,
    subject: String,
    target: Tasklet<T, S>,
    stop: Mailbox<()>,
}

impl<T: 'static, S: RemoteSet> Ingress<T, S> {
    fn run(self, mut subscription: Subscription) {
        let mut finished = loop {
            let next = select! {
                // Patient: the next message may be long in coming (the dispatcher parks rather
                // than spin for it).
                message = wait_for::future(subscription.next()).patient() => message,
                _ = wait_for::finished(&self.target) => break true,
                () = wait_for::popleft(&self.stop) => break false,
            };
            let Some(message) = next else {
                log::warn!(
                    "concurrence-nats: the subscription to `{}` ended (the connection closed)",
                    self.subject
                );
                return;
            };
            if !self.take(message) {
                break true;
            }
        };
        // Drained: the server sends no more, and what it sent before still comes, until the
        // stream ends (the server has heard). Those messages are delivered, or refused once
        // the target has finished, rather than lost to time out.
        if let Some(subscriber) = subscription.0.as_mut() {
            if let Err(err) = concurrence::io::wait_future(subscriber.drain()) {
                log::warn!(
                    "concurrence-nats: `{}` was not drained: {err}",
                    self.subject
                );
                return;
            }
        }
        let deadline = Instant::now() + DRAIN;
        loop {
            let next = select! {
                message = wait_for::future(subscription.next()).patient() => message,
                _ = wait_for::deadline(deadline) => None,
            };
            let Some(message) = next else { return };
            if finished {
                if let Some(reply) = message.reply {
                    publish_detached(self.link.clone(), Outgoing::refusal(reply, NO_REPLY));
                }
            } else if !self.take(message) {
                finished = true;
            }
        }
    }

    /// Delivers one message; false once the target has finished.
    fn take(&self, message: Message) -> bool {
        let Message {
            reply,
            payload,
            headers,
            ..
        } = message;
        if headers
            .as_ref()
            .is_some_and(|h| h.get(PING_HEADER).is_some())
        {
            if let Some(reply) = reply {
                publish_detached(self.link.clone(), Outgoing::answer(reply, Vec::new()));
            }
            return true;
        }
        let deadline = headers
            .as_ref()
            .and_then(|h| h.get(DEADLINE_HEADER))
            .and_then(|ms| ms.as_str().parse::<u64>().ok())
            .map(|ms| concurrence::now() + Duration::from_millis(ms));
        let incoming = Incoming {
            link: self.link.clone(),
            reply_to: reply.clone(),
            answered_by_token: Cell::new(false),
            deadline,
        };
        let decoded =
            split(&payload).and_then(|split| S::decode(split.name, &split.fields, &incoming));
        let value = match decoded {
            Ok(value) => value,
            Err(err) => {
                log::warn!(
                    "concurrence-nats: a message on `{}` is dropped: {err}",
                    self.subject
                );
                if let Some(reply) = reply {
                    publish_detached(
                        self.link.clone(),
                        Outgoing::refusal(reply, &err.to_string()),
                    );
                }
                return true;
            }
        };
        match self.target.mailbox().append(value) {
            Ok(()) => {
                // A sent message that came as a request is answered once it is in the mailbox.
                if let (Some(reply), false) = (reply, incoming.answered_by_token.get()) {
                    publish_detached(self.link.clone(), Outgoing::answer(reply, vec![0xc0]));
                }
                true
            }
            Err(SendError::Finished(value)) => {
                // A called message's token, dropped with it, refuses the call.
                drop(value);
                false
            }
            Err(_) => unreachable!("an append without a timeout waits for room"),
        }
    }
}
