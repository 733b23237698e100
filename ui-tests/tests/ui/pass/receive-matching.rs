// `receive_matching` takes the first message a predicate over the message set accepts.
use concurrence::{dispatch, message, receive_matching, tasklet, try_receive};

message!(MSG_WORK(u32), MSG_QUIT);

#[tasklet(receives(MSG_WORK, MSG_QUIT))]
fn worker() -> Vec<u32> {
    receive_matching(|m: &WorkerMsg| matches!(m, WorkerMsg::MSG_QUIT(_)));
    let mut done = Vec::new();
    while let Some(WorkerMsg::MSG_WORK(MSG_WORK(n))) = try_receive() {
        done.push(n);
    }
    done
}

fn main() {
    let status = dispatch(|| {
        let t = Worker::new().spawn();
        MSG_WORK::send(&t)(1).unwrap();
        MSG_WORK::send(&t)(2).unwrap();
        MSG_QUIT::send(&t)().unwrap();
        assert_eq!(t.join().unwrap(), [1, 2]);
    });
    assert!(status.success());
}
