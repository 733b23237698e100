// Message names are UPPERCASE with the `MSG_` prefix: a lowercase name is rejected with a
// suggested name.
use concurrence::message;

message!(msg_greeting(String));

fn main() {}
