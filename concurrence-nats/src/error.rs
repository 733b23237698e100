//! [`RemoteError`]: why a remote send or call failed.

use std::fmt;

/// Why a send or call to a remote subject failed. Each case names the message; delivery is at
/// most once, and nothing is retried: a call that fails may or may not have been carried out.
///
/// The cases map onto the local handle's errors: [`NoResponder`](RemoteError::NoResponder) is
/// the local `Finished` (nobody takes the message), [`NoReply`](RemoteError::NoReply) and
/// [`TimedOut`](RemoteError::TimedOut) are the local ones; the others are what a network and an
/// encoding add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteError {
    /// Nobody serves the subject: NATS said so at once (a call only; a send is not answered).
    NoResponder {
        /// The message's name.
        message: &'static str,
    },
    /// The serving tasklet dropped the call unanswered (it finished, was killed, or dropped
    /// the reply token).
    NoReply {
        /// The message's name.
        message: &'static str,
    },
    /// No answer came in time: the serving process may have died mid-call, or the connection
    /// to the server broke.
    TimedOut {
        /// The message's name.
        message: &'static str,
    },
    /// The serving side could not take the message (its payload did not decode there, or the
    /// set served there has no such message) and said why.
    Refused {
        /// The message's name.
        message: &'static str,
        /// What the serving side said.
        detail: String,
    },
    /// The answer did not decode as the reply type.
    Decode {
        /// The message's name.
        message: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The message did not encode (a serde `Serialize` implementation failed).
    Encode {
        /// The message's name.
        message: &'static str,
        /// What serde said.
        detail: String,
    },
    /// The encoded message is larger than the server takes (its `max_payload`).
    TooLarge {
        /// The message's name.
        message: &'static str,
        /// The encoded size, in bytes.
        size: usize,
        /// The server's limit, in bytes.
        max: usize,
    },
    /// The client could not hand the message to the connection (it is closed).
    Connection {
        /// The message's name.
        message: &'static str,
        /// What the client said.
        detail: String,
    },
}

impl RemoteError {
    /// The message's name.
    pub fn message_name(&self) -> &'static str {
        match self {
            RemoteError::NoResponder { message }
            | RemoteError::NoReply { message }
            | RemoteError::TimedOut { message }
            | RemoteError::Refused { message, .. }
            | RemoteError::Decode { message, .. }
            | RemoteError::Encode { message, .. }
            | RemoteError::TooLarge { message, .. }
            | RemoteError::Connection { message, .. } => message,
        }
    }

    /// Whether the call timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, RemoteError::TimedOut { .. })
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::NoResponder { message } => {
                write!(f, "`{message}`: nobody serves the subject")
            }
            RemoteError::NoReply { message } => {
                write!(f, "`{message}`: the serving tasklet did not answer")
            }
            RemoteError::TimedOut { message } => write!(f, "`{message}`: no answer in time"),
            RemoteError::Refused { message, detail } => {
                write!(f, "`{message}` was refused by the serving side: {detail}")
            }
            RemoteError::Decode { message, detail } => {
                write!(f, "the answer to `{message}` did not decode: {detail}")
            }
            RemoteError::Encode { message, detail } => {
                write!(f, "`{message}` did not encode: {detail}")
            }
            RemoteError::TooLarge { message, size, max } => write!(
                f,
                "`{message}` is {size} bytes encoded, past the server's max_payload of {max}"
            ),
            RemoteError::Connection { message, detail } => {
                write!(f, "`{message}` was not sent: {detail}")
            }
        }
    }
}

impl std::error::Error for RemoteError {}
