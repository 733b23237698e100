// Message payloads are owned ('static): a borrowed `&'a str` cannot be declared, use `String`
// or `&'static str`.
use concurrence::message;

message!(MSG_NAME(&'a str));

fn main() {}
