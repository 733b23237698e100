// A payload `&str` without a lifetime: messages outlive the sender's borrows, so the payload
// must be owned or `&'static`.
use concurrence::message;

message!(MSG_NAME(&str));

fn main() {}
