// An UPPERCASE name without the `MSG_` prefix is rejected with the prefixed name suggested.
use concurrence::message;

message!(GREETING(String));

fn main() {}
