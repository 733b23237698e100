// Several messages in one invocation separated by semicolons, with a trailing one.
use concurrence::{dispatch, message, receive, tasklet};

message! {
    MSG_ADD(i32);
    MSG_STOP;
}

#[tasklet(receives(MSG_ADD, MSG_STOP))]
fn total() -> i32 {
    let mut sum = 0;
    for msg in receive::<TotalMsg>() {
        match msg {
            TotalMsg::MSG_ADD(MSG_ADD(n)) => sum += n,
            TotalMsg::MSG_STOP(MSG_STOP) => break,
        }
    }
    sum
}

fn main() {
    let status = dispatch(|| {
        let t = Total::new().spawn();
        MSG_ADD::send(&t)(4).unwrap();
        MSG_STOP::send(&t)().unwrap();
        assert_eq!(t.join().unwrap(), 4);
    });
    assert!(status.success());
}
