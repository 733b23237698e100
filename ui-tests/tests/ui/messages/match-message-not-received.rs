// Matching a message the tasklet does not receive: its message set has no such variant.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_WORK(u32), MSG_QUIT);

#[tasklet(receives(MSG_WORK))]
fn worker() {
    for msg in receive::<WorkerMsg>() {
        match msg {
            WorkerMsg::MSG_WORK(MSG_WORK(n)) => println!("{n}"),
            WorkerMsg::MSG_QUIT(MSG_QUIT) => return,
        }
    }
}

fn main() {
    dispatch(|| {
        let t = Worker::new().daemon(true).spawn();
        MSG_WORK::send(&t)(1).unwrap();
    });
}
