//! [`Remote`]: a typed handle for a subject that tasklets of other processes serve.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use async_nats::{HeaderMap, RequestErrorKind, Subject};
use concurrence::{remaining_time, Accepts, Call, Payload, Reply};
use serde::de::DeserializeOwned;

use crate::connection::Nats;
use crate::error::RemoteError;
use crate::publish::wait_until;
use crate::wire::{
    encode, RemoteMessage, RemoteSet, DEADLINE_HEADER, ERROR_HEADER, NO_REPLY, PING_HEADER,
};

/// How long [`Remote::call`] waits for an answer unless told otherwise
/// ([`Remote::with_timeout`]): a process can die mid-call without a word, so a remote call
/// always has a deadline.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A handle for a subject served by tasklets of other processes (or of this one), typed by the
/// message set `S` they receive: made by [`Nats::reach`]. Like a local `Tasklet` handle, it
/// takes only the messages of `S`; unlike it, it is `Send` and `Sync`, works from any
/// tasklet or thread, and delivers at most once: nothing is retried.
///
/// A call waits for its answer at most the handle's timeout ([`DEFAULT_CALL_TIMEOUT`] unless
/// set with [`with_timeout`](Remote::with_timeout)), or the one given to
/// [`call_timeout`](Remote::call_timeout). In a tasklet only the tasklet waits; in a plain
/// thread the thread blocks.
pub struct Remote<S> {
    nats: Nats,
    subject: Subject,
    timeout: Duration,
    set: PhantomData<fn() -> S>,
}

impl<S: RemoteSet> Remote<S> {
    pub(crate) fn new(nats: Nats, subject: Subject) -> Remote<S> {
        Remote {
            nats,
            subject,
            timeout: DEFAULT_CALL_TIMEOUT,
            set: PhantomData,
        }
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The same handle, whose [`call`](Remote::call) waits at most `timeout`.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Remote<S> {
        self.timeout = timeout;
        self
    }

    /// The timeout of [`call`](Remote::call).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Publishes `message` on the subject: one serving tasklet gets it (one of each queue
    /// group, and every plain subscriber). At most once: NATS does not say whether anybody
    /// took it, and a send to a subject nobody serves is lost without an error.
    ///
    /// # Errors
    ///
    /// [`RemoteError::Encode`], [`TooLarge`](RemoteError::TooLarge) or
    /// [`Connection`](RemoteError::Connection): the message was not sent.
    pub fn send<X>(&self, message: X) -> Result<(), RemoteError>
    where
        X: RemoteMessage + Payload<Token = ()>,
        S: Accepts<X>,
    {
        let (fields, ()) = message.into_parts();
        let payload = self.encode::<X>(&fields)?;
        let client = self.nats.client().clone();
        let subject = self.subject.clone();
        let published = wait_until(
            async move { client.publish(subject, payload.into()).await },
            None,
        )
        .expect("no deadline");
        published.map_err(|err| RemoteError::Connection {
            message: X::NAME,
            detail: err.to_string(),
        })
    }

    /// Calls the subject with the message `make` builds (as the local handle's `call`, the
    /// closure gets the reply token to put in the message: `|reply| MSG_SUM(1, 2, reply)`) and
    /// waits for the answer, at most the handle's [`timeout`](Remote::timeout).
    ///
    /// # Errors
    ///
    /// Every [`RemoteError`]: [`NoResponder`](RemoteError::NoResponder) at once when nobody
    /// serves the subject; [`TimedOut`](RemoteError::TimedOut) when no answer came in time.
    pub fn call<X>(&self, make: impl FnOnce(Reply<X::Reply>) -> X) -> Result<X::Reply, RemoteError>
    where
        X: Call + RemoteMessage + Payload<Token = Reply<<X as Call>::Reply>>,
        X::Reply: DeserializeOwned,
        S: Accepts<X>,
    {
        self.call_timeout(make, self.timeout)
    }

    /// [`call`](Remote::call), waiting at most `timeout` for the answer (less in a
    /// `concurrence::with_deadline` scope that ends sooner). The serving tasklet learns when the
    /// caller stops waiting from the message's `Reply::deadline`.
    ///
    /// # Errors
    ///
    /// As [`call`](Remote::call).
    pub fn call_timeout<X>(
        &self,
        make: impl FnOnce(Reply<X::Reply>) -> X,
        timeout: Duration,
    ) -> Result<X::Reply, RemoteError>
    where
        X: Call + RemoteMessage + Payload<Token = Reply<<X as Call>::Reply>>,
        X::Reply: DeserializeOwned,
        S: Accepts<X>,
    {
        // The token of a local call is not used: the answer comes back in the request's reply.
        let (fields, _unused) = make(Reply::from_fn(|_| {})).into_parts();
        let payload = self.encode::<X>(&fields)?;
        // In a scope with a deadline (`concurrence::with_deadline`), the time left is the most
        // the call waits, and the serving side learns it (`Reply::deadline`).
        let timeout = remaining_time().map_or(timeout, |left| left.min(timeout));
        let mut headers = HeaderMap::new();
        headers.insert(DEADLINE_HEADER, timeout.as_millis().to_string().as_str());
        let answer = self.request(payload, Some(headers), timeout, X::NAME)?;
        if let Some(refusal) = answer.headers.as_ref().and_then(refusal_of) {
            return Err(match refusal.as_str() {
                NO_REPLY => RemoteError::NoReply { message: X::NAME },
                _ => RemoteError::Refused {
                    message: X::NAME,
                    detail: refusal,
                },
            });
        }
        rmp_serde::from_slice(&answer.payload).map_err(|err| {
            log::warn!(
                "concurrence-nats: the answer to `{}` on `{}` did not decode: {err}",
                X::NAME,
                self.subject
            );
            RemoteError::Decode {
                message: X::NAME,
                detail: err.to_string(),
            }
        })
    }

    /// Asks whether anybody serves the subject: `Ok` once one answered (the serving side
    /// answers pings itself, not through the tasklet).
    ///
    /// # Errors
    ///
    /// [`RemoteError::NoResponder`] when nobody does, [`TimedOut`](RemoteError::TimedOut)
    /// when no answer came in `timeout`; the message's name is `"ping"`.
    pub fn ping(&self, timeout: Duration) -> Result<(), RemoteError> {
        let mut headers = HeaderMap::new();
        headers.insert(PING_HEADER, "1");
        self.request(Vec::new(), Some(headers), timeout, "ping")
            .map(drop)
    }

    /// The payload of `X` with these fields, checked against the server's limit.
    fn encode<X: RemoteMessage>(&self, fields: &X::Fields) -> Result<Vec<u8>, RemoteError> {
        let payload = encode::<X>(fields).map_err(|detail| RemoteError::Encode {
            message: X::NAME,
            detail,
        })?;
        let max = self.nats.max_payload();
        if max > 0 && payload.len() > max {
            return Err(RemoteError::TooLarge {
                message: X::NAME,
                size: payload.len(),
                max,
            });
        }
        Ok(payload)
    }

    /// Sends a request and waits for its answer (which may be a refusal).
    fn request(
        &self,
        payload: Vec<u8>,
        headers: Option<HeaderMap>,
        timeout: Duration,
        message: &'static str,
    ) -> Result<async_nats::Message, RemoteError> {
        let deadline = Instant::now() + timeout;
        let client = self.nats.client().clone();
        let subject = self.subject.clone();
        // No timeout of the client's: the deadline is ours (its timer needs the runtime).
        let mut request = async_nats::Request::new()
            .payload(payload.into())
            .timeout(None);
        if let Some(headers) = headers {
            request = request.headers(headers);
        }
        let answer = wait_until(
            async move { client.send_request(subject, request).await },
            Some(deadline),
        );
        match answer {
            None => Err(RemoteError::TimedOut { message }),
            Some(Ok(answer)) => Ok(answer),
            Some(Err(err)) => Err(match err.kind() {
                RequestErrorKind::NoResponders => RemoteError::NoResponder { message },
                RequestErrorKind::TimedOut => RemoteError::TimedOut { message },
                RequestErrorKind::Other => RemoteError::Connection {
                    message,
                    detail: err.to_string(),
                },
            }),
        }
    }
}

/// The refusal an answer's headers carry, if any.
fn refusal_of(headers: &HeaderMap) -> Option<String> {
    headers.get(ERROR_HEADER).map(|value| value.to_string())
}

impl<S> Clone for Remote<S> {
    fn clone(&self) -> Remote<S> {
        Remote {
            nats: self.nats.clone(),
            subject: self.subject.clone(),
            timeout: self.timeout,
            set: PhantomData,
        }
    }
}

impl<S> fmt::Debug for Remote<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remote")
            .field("subject", &self.subject.as_str())
            .field("set", &std::any::type_name::<S>())
            .field("timeout", &self.timeout)
            .finish()
    }
}
