// The set is named once, after the value: `match_message!(msg: WorkerMsg { .. })`.
use concurrence::{match_message, message, receive, tasklet};

message!(MSG_A(u32));

#[tasklet(receives(MSG_A))]
fn worker() {
    for msg in receive::<WorkerMsg>() {
        match_message!(msg {
            MSG_A(n) => println!("{n}"),
        })
    }
}

fn main() {}
