// Messages named by a module path in `receives(msgs::MSG_A)`: the variant is the last segment.
use concurrence::{dispatch, receive, tasklet};

mod msgs {
    concurrence::message!(pub MSG_A(u8), pub MSG_B);
}

#[tasklet(receives(msgs::MSG_A, crate::msgs::MSG_B))]
fn worker() -> u8 {
    let mut got = 0;
    for msg in receive::<WorkerMsg>() {
        match msg {
            WorkerMsg::MSG_A(msgs::MSG_A(n)) => got += n,
            WorkerMsg::MSG_B(msgs::MSG_B) => break,
        }
    }
    got
}

fn main() {
    let status = dispatch(|| {
        let t = Worker::new().spawn();
        msgs::MSG_A::send(&t)(7).unwrap();
        msgs::MSG_B::send(&t)().unwrap();
        assert_eq!(t.join().unwrap(), 7);
    });
    assert!(status.success());
}
