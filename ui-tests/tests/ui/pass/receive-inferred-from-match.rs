// `receive()` without a turbofish: the message set is inferred from the match patterns.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_WORK(u32), MSG_QUIT);

#[tasklet(receives(MSG_WORK, MSG_QUIT))]
fn worker() -> u32 {
    let mut done = 0;
    for msg in receive() {
        match msg {
            WorkerMsg::MSG_WORK(MSG_WORK(n)) => done += n,
            WorkerMsg::MSG_QUIT(MSG_QUIT) => break,
        }
    }
    done
}

fn main() {
    let status = dispatch(|| {
        let t = Worker::new().spawn();
        MSG_WORK::send(&t)(2).unwrap();
        MSG_QUIT::send(&t)().unwrap();
        assert_eq!(t.join().unwrap(), 2);
    });
    assert!(status.success());
}
