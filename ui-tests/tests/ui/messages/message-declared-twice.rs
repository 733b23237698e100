// The same message declared twice in one `message!` invocation.
use concurrence::message;

message!(MSG_PING, MSG_PONG, MSG_PING);

fn main() {}
