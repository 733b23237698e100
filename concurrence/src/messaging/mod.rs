//! Messaging, on the engine: message traits and the `message!` machinery (`message`), the
//! blocking deque every tasklet's mailbox is (`mailbox`), selective receive (`receive`),
//! rendezvous channels (`channel`) and waiting to be called from any thread (`call_wait`).

pub(crate) mod call_wait;
pub(crate) mod channel;
pub(crate) mod mailbox;
pub(crate) mod message;
pub(crate) mod oneshot;
pub(crate) mod port;
pub(crate) mod receive;
pub(crate) mod reply;
pub(crate) mod work_queue;
