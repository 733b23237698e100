// Several messages in one invocation, separated by commas, with a trailing comma.
use concurrence::{dispatch, message, receive, tasklet};

message!(
    MSG_ADD(i32),
    MSG_GET -> i32,
    MSG_STOP,
);

#[tasklet(receives(MSG_ADD, MSG_GET, MSG_STOP))]
fn total() -> i32 {
    let mut sum = 0;
    for msg in receive::<TotalMsg>() {
        match msg {
            TotalMsg::MSG_ADD(MSG_ADD(n)) => sum += n,
            TotalMsg::MSG_GET(MSG_GET(reply)) => reply.reply(sum),
            TotalMsg::MSG_STOP(MSG_STOP) => break,
        }
    }
    sum
}

fn main() {
    let status = dispatch(|| {
        let t = Total::new().spawn();
        MSG_ADD::send(&t)(2).unwrap();
        MSG_ADD::send(&t)(3).unwrap();
        assert_eq!(MSG_GET::call(&t)(), Ok(5));
        MSG_STOP::send(&t)().unwrap();
        assert_eq!(t.join().unwrap(), 5);
    });
    assert!(status.success());
}
