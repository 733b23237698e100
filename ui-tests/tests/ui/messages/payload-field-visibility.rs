// Payload fields are always `pub`: a visibility inside the payload list is rejected.
use concurrence::message;

message!(MSG_POINT(pub(crate) i32, i32));

fn main() {}
