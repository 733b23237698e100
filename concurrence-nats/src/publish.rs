//! Publishing without waiting, and waiting for the client's futures from a tasklet or a thread.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use async_nats::{HeaderMap, Subject};
use concurrence::io::{on_tokio, tokio_runtime};
use concurrence::{select, try_current, wait_for};

use crate::wire::ERROR_HEADER;

/// A message to publish: an answer or a refusal of a request, or a ping's answer.
pub(crate) struct Outgoing {
    subject: Subject,
    headers: Option<HeaderMap>,
    payload: Vec<u8>,
}

impl Outgoing {
    /// The answer `payload` to the request whose reply subject is `to`.
    pub(crate) fn answer(to: Subject, payload: Vec<u8>) -> Outgoing {
        Outgoing {
            subject: to,
            headers: None,
            payload,
        }
    }

    /// A refusal of the request whose reply subject is `to`, saying `why`.
    pub(crate) fn refusal(to: Subject, why: &str) -> Outgoing {
        let mut headers = HeaderMap::new();
        // A header value is one line.
        let why: String = why
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        headers.insert(ERROR_HEADER, why.as_str());
        Outgoing {
            subject: to,
            headers: Some(headers),
            payload: Vec::new(),
        }
    }
}

/// A client and the server's limit on payloads, read once at connection (async-nats's
/// `server_info` clones the whole of the server's `INFO`, so it is not read per message).
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) client: async_nats::Client,
    pub(crate) max_payload: usize,
}

/// Publishes `outgoing` without waiting: the client's queue takes it at once, or (when that
/// queue is full) a task of the bridge's runtime hands it over. A payload past the server's
/// limit is replaced by a refusal saying so (the server would close the connection for it).
/// Never blocks: it may run while a tasklet unwinds from a kill.
pub(crate) fn publish_detached(link: Link, mut outgoing: Outgoing) {
    let Link {
        client,
        max_payload: max,
    } = link;
    if max > 0 && outgoing.payload.len() > max {
        log::warn!(
            "concurrence-nats: an answer of {} bytes is past the server's max_payload ({max}); \
             a refusal goes instead",
            outgoing.payload.len()
        );
        outgoing = Outgoing::refusal(
            outgoing.subject,
            &format!("the answer is past the server's max_payload ({max} bytes)"),
        );
    }
    let mut publish = Box::pin(async move {
        let Outgoing {
            subject,
            headers,
            payload,
        } = outgoing;
        let published = match headers {
            Some(headers) => {
                client
                    .publish_with_headers(subject, headers, payload.into())
                    .await
            }
            None => client.publish(subject, payload.into()).await,
        };
        if let Err(err) = published {
            log::warn!("concurrence-nats: an answer was not published: {err}");
        }
    });
    if publish
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending()
    {
        tokio_runtime().spawn(publish);
    }
}

/// The output of `future` (a future of the NATS client, which needs no runtime to be polled),
/// or `None` when `deadline` passes first. In a tasklet only the tasklet waits, and the future
/// is polled on its dispatcher; elsewhere the thread blocks while the bridge's runtime polls it.
/// Killing the waiting tasklet drops the future.
pub(crate) fn wait_until<F>(future: F, deadline: Option<Instant>) -> Option<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if try_current().is_some() {
        return match deadline {
            Some(deadline) => select! {
                output = wait_for::future(future) => Some(output),
                _ = wait_for::deadline(deadline) => None,
            },
            None => Some(concurrence::io::wait_future(future)),
        };
    }
    on_tokio(async move {
        match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline.into(), future).await.ok(),
            None => Some(future.await),
        }
    })
}

/// A subscription that may be dropped anywhere: async-nats's `Subscriber` sends its
/// unsubscription from a task it spawns on the runtime it is dropped in, so it is dropped in the
/// bridge's.
pub(crate) struct Subscription(pub(crate) Option<async_nats::Subscriber>);

impl Subscription {
    /// The next message, waiting for it as a future.
    pub(crate) fn next(&mut self) -> impl Future<Output = Option<async_nats::Message>> + '_ {
        std::future::poll_fn(move |cx| match self.0.as_mut() {
            Some(subscriber) => futures_core::Stream::poll_next(Pin::new(subscriber), cx),
            None => Poll::Ready(None),
        })
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(subscriber) = self.0.take() {
            let _runtime = tokio_runtime().enter();
            drop(subscriber);
        }
    }
}
