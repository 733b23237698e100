// Every builder option chained before `spawn`, and `Default` for the builder.
use concurrence::{dispatch, message, receive, tasklet, StackMode, DEFAULT_STACK_SIZE};

message!(MSG_JOB(u32));

#[tasklet(receives(MSG_JOB))]
fn worker(base: u32) -> u32 {
    let WorkerMsg::MSG_JOB(MSG_JOB(n)) = receive::<WorkerMsg>().next().unwrap();
    base + n
}

fn main() {
    let status = dispatch(|| {
        let t = Worker::new()
            .name("worker-1")
            .daemon(false)
            .stack_size(DEFAULT_STACK_SIZE)
            .stack_mode(StackMode::GUARDED)
            .max_mailbox_len(4)
            .spawn(10);
        assert_eq!(t.name(), "worker-1");
        assert!(!t.is_daemon());
        MSG_JOB::try_send(&t)(5).unwrap();
        assert_eq!(t.join().unwrap(), 15);
        let d = Worker::default().spawn(1);
        assert_eq!(d.name(), "worker");
        d.kill();
    });
    assert!(status.success());
}
