//! Typed tasklet messages and calls across processes, over [NATS](https://nats.io).
//!
//! A tasklet whose message set is *remote* (`#[tasklet(receives(...), remote)]`, or `#[remote]`
//! on a `message_set!`) can be served under a NATS subject ([`Nats::serve`]); any process
//! connected to the same NATS reaches it through a typed handle ([`Nats::reach`]) and sends or
//! calls it with the same messages a local handle takes. Several processes serving one subject
//! in a queue group share its load ([`Nats::serve_in_group`]); a tasklet can watch whether a
//! subject is still served ([`Remote::monitor`]).
//!
//! There is no protocol of this crate's own: a message is a NATS message on the subject, a
//! call a NATS request, its answer the reply; NATS says when nobody serves a subject, and a
//! cluster of NATS servers carries the messages between machines. The client is async-nats,
//! the official one, run on the tokio runtime of concurrence's bridge (`io::on_tokio`); a
//! tasklet waiting for an answer suspends, as for anything else.
//!
//! **Encoding:** MessagePack (rmp-serde), so that programs in other languages can talk to
//! tasklets: a message is the array of its name and its payload fields (`["MSG_SUM", 1, 2]`),
//! the answer the MessagePack of the reply value (structs as maps). A refusal (the serving
//! side could not decode the message, or the tasklet dropped the call unanswered) is an empty
//! answer with a `Concurrence-Error` header saying why.
//!
//! **Delivery is at most once:** a send is not acknowledged, a call that times out may or may
//! not have been carried out, and nothing is retried.
//!
//! # Examples
//!
//! Two processes: one serves a counter, the other calls it (run with a NATS server on
//! `127.0.0.1:4222`):
//!
//! ```no_run
//! use concurrence::{dispatch, match_message, message, receive, tasklet};
//! use concurrence_nats::Nats;
//!
//! message!(MSG_ADD(u64), MSG_TOTAL -> u64);
//!
//! #[tasklet(receives(MSG_ADD, MSG_TOTAL), remote)]
//! fn counter() {
//!     let mut total = 0;
//!     for msg in receive() {
//!         match_message!(msg: CounterMsg {
//!             MSG_ADD(n) => total += n,
//!             MSG_TOTAL(reply) => reply.reply(total),
//!         })
//!     }
//! }
//!
//! fn main() {
//!     let serving = std::env::args().nth(1).as_deref() == Some("serve");
//!     dispatch(move || {
//!         let nats = Nats::connect("127.0.0.1:4222").expect("a NATS server");
//!         if serving {
//!             let counter = Counter::new().spawn();
//!             nats.serve("counter", &counter).expect("subscribed");
//!         } else {
//!             let counter = nats.reach::<CounterMsg>("counter");
//!             counter.send(MSG_ADD(5)).unwrap();
//!             println!("total: {}", counter.call(MSG_TOTAL).unwrap());
//!         }
//!     });
//! }
//! ```
//!
//! A message whose payload or reply cannot be serialised is a compile error where the remote
//! set lists it:
//!
//! ```compile_fail
//! use concurrence::{message, tasklet};
//!
//! struct Handle(std::rc::Rc<u8>);
//! message!(MSG_HANDLE(Handle));
//!
//! #[tasklet(receives(MSG_HANDLE), remote)]
//! fn keeper() {}
//! ```

mod connection;
mod error;
mod monitor;
mod publish;
mod reach;
mod serve;
mod wire;

pub use async_nats;
pub use connection::Nats;
pub use error::RemoteError;
pub use monitor::{DownReason, RemoteDown, RemoteMonitor, MSG_REMOTE_DOWN};
pub use reach::{Remote, DEFAULT_CALL_TIMEOUT};
pub use serve::Serving;
pub use wire::{DecodeError, RemoteMessage, RemoteSet, Token};

/// What the code the macros generate uses; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::wire::{decode, unknown, Incoming};
}
