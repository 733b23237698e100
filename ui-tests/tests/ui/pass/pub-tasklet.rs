// A `pub` tasklet in a module: the builder and the message set are `pub` too, usable outside.
use concurrence::dispatch;

pub mod workers {
    use concurrence::{message, receive, tasklet};

    message!(pub MSG_JOB(u32));

    #[tasklet(receives(MSG_JOB))]
    pub fn worker() -> u32 {
        let WorkerMsg::MSG_JOB(MSG_JOB(n)) = receive::<WorkerMsg>().next().unwrap();
        n
    }
}

use workers::{Worker, WorkerMsg, MSG_JOB};

fn main() {
    let status = dispatch(|| {
        let t = Worker::new().spawn();
        MSG_JOB::send(&t)(9).unwrap();
        assert_eq!(t.join().unwrap(), 9);
        let _: fn(u32) -> WorkerMsg = |n| WorkerMsg::MSG_JOB(MSG_JOB(n));
    });
    assert!(status.success());
}
