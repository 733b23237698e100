// `Tasklet::send` with a message the tasklet does not receive: the handle method checks the
// same `Accepts` bound as `MSG_X::send`.
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
        t.send(MSG_PONG).unwrap();
    });
}
