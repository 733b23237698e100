// Messages cannot be generic: declare one message per payload type.
use concurrence::message;

message!(MSG_BOXED<T>(T));

fn main() {}
