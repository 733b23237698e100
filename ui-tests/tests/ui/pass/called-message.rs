// A called message `MSG_X(A, B) -> R`: `MSG_X::call(&t)(a, b)` waits for `reply.reply(r)`.
use concurrence::{dispatch, message, receive, tasklet};
use std::time::Duration;

message!(MSG_SUM(i64, i64) -> i64);

#[tasklet(receives(MSG_SUM))]
fn adder() {
    for msg in receive::<AdderMsg>() {
        let AdderMsg::MSG_SUM(MSG_SUM(a, b, reply)) = msg;
        reply.reply(a + b);
    }
}

fn main() {
    let status = dispatch(|| {
        let t = Adder::new().daemon(true).spawn();
        assert_eq!(MSG_SUM::call(&t)(1, 2), Ok(3));
        assert_eq!(MSG_SUM::call_timeout(&t, Duration::from_secs(5))(3, 4), Ok(7));
        assert_eq!(t.call(|reply| MSG_SUM(5, 6, reply)), Ok(11));
    });
    assert!(status.success());
}
