// A remote message set lists a message whose payload serde cannot serialise: the error names
// the message, where the set lists it.
use concurrence::{message, tasklet};

pub struct Handle(pub std::rc::Rc<u8>);

message!(MSG_FINE(u32), MSG_HANDLE(Handle));

#[tasklet(receives(MSG_FINE, MSG_HANDLE), remote)]
fn keeper() {}

fn main() {}
