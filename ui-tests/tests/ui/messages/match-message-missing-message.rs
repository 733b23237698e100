// match_message! is a match: leaving a message of the set out is reported by rustc, naming it.
use concurrence::{match_message, message, receive, tasklet};

message!(MSG_A(u32), MSG_B);

#[tasklet(receives(MSG_A, MSG_B))]
fn worker() {
    for msg in receive() {
        match_message!(msg: WorkerMsg {
            MSG_A(n) => println!("{n}"),
        })
    }
}

fn main() {}
