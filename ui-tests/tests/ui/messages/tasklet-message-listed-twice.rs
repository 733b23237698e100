// The same message listed twice in `receives(...)`.
use concurrence::{message, receive, tasklet};

message!(MSG_PING);

#[tasklet(receives(MSG_PING, MSG_PING))]
fn pinger() {
    for msg in receive::<PingerMsg>() {
        let PingerMsg::MSG_PING(MSG_PING) = msg;
    }
}

fn main() {}
