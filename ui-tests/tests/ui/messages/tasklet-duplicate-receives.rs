// Two `receives(...)` arguments: every message goes in one list.
use concurrence::{message, receive, tasklet};

message!(MSG_PING, MSG_PONG);

#[tasklet(receives(MSG_PING), receives(MSG_PONG))]
fn pinger() {
    for msg in receive::<PingerMsg>() {
        let PingerMsg::MSG_PING(MSG_PING) = msg;
    }
}

fn main() {}
