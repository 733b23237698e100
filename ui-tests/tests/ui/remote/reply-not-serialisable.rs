// A called message of a remote message_set! whose reply type serde cannot serialise: the error
// names the message.
use concurrence::{message, message_set};

pub struct Handle(pub std::rc::Rc<u8>);

message!(MSG_OPEN(String) -> Handle);

message_set!(
    #[remote]
    pub enum StoreMsg {
        MSG_OPEN,
    }
);

fn main() {}
