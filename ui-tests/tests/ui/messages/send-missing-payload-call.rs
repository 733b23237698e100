// `MSG_X::send(&t)` returns the function that sends: the payload goes in a second call,
// `MSG_X::send(&t)()` (here forgotten).
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_PING);

#[tasklet(receives(MSG_PING))]
fn pinger() {
    for msg in receive::<PingerMsg>() {
        let PingerMsg::MSG_PING(MSG_PING) = msg;
    }
}

fn main() {
    dispatch(|| {
        let t = Pinger::new().daemon(true).spawn();
        MSG_PING::send(&t).unwrap();
    });
}
