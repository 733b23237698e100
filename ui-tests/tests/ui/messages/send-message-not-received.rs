// Sending a message the receiving tasklet does not list in `receives(...)`: the error names the
// message and the tasklet's message set.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_PING, MSG_PONG);

#[tasklet(receives(MSG_PING))]
fn pinger() {
    for msg in receive::<PingerMsg>() {
        let PingerMsg::MSG_PING(MSG_PING) = msg;
    }
}

fn main() {
    dispatch(|| {
        let t = Pinger::new().daemon(true).spawn();
        MSG_PONG::send(&t)().unwrap();
    });
}
