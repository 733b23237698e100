// `receive()` needs to know the tasklet's message set: name it (`receive::<WorkerMsg>()`) or
// match its variants.
use concurrence::{message, receive, tasklet};

message!(MSG_PING);

#[tasklet(receives(MSG_PING))]
fn pinger() {
    for _msg in receive() {}
}

fn main() {}
