// A `match` over a tasklet's message set must handle every message it receives.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_WORK(u32), MSG_QUIT);

#[tasklet(receives(MSG_WORK, MSG_QUIT))]
fn worker() {
    for msg in receive::<WorkerMsg>() {
        match msg {
            WorkerMsg::MSG_WORK(MSG_WORK(n)) => println!("{n}"),
        }
    }
}

fn main() {
    dispatch(|| {
        let t = Worker::new().daemon(true).spawn();
        MSG_QUIT::send(&t)().unwrap();
    });
}
