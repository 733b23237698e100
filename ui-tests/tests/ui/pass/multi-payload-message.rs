// A message with several payload types `MSG_X(A, B, C)`, sent with as many arguments.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_RECORD(u8, String, Vec<i32>));

#[tasklet(receives(MSG_RECORD))]
fn recorder() -> usize {
    let RecorderMsg::MSG_RECORD(MSG_RECORD(a, b, c)) = receive::<RecorderMsg>().next().unwrap();
    a as usize + b.len() + c.len()
}

fn main() {
    let status = dispatch(|| {
        let t = Recorder::new().spawn();
        MSG_RECORD::send(&t)(1, "ab".into(), vec![1, 2, 3]).unwrap();
        assert_eq!(t.join().unwrap(), 6);
    });
    assert!(status.success());
}
