// `message!()` with no message at all.
use concurrence::message;

message!();

fn main() {}
