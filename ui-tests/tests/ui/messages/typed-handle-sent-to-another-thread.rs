// The handle of a `#[tasklet(receives(...))]` tasklet belongs to its dispatcher's thread: it
// cannot move to another thread.
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
        std::thread::spawn(move || MSG_PING::send(&t)().unwrap());
    });
}
