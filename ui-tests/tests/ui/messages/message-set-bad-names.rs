// A message set lists messages by their names, each once, and at least one.
use concurrence::{message, message_set};

message!(MSG_A);

message_set!(enum Twice { MSG_A, MSG_A });
message_set!(enum NotMessages { lowercase_thing });
message_set!(enum Empty {});

fn main() {}
