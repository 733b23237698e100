// Each arm starts with a message; a literal or a tuple is not one.
use concurrence::{match_message, message, receive, tasklet};

message!(MSG_A(u32));

#[tasklet(receives(MSG_A))]
fn worker() {
    for msg in receive() {
        match_message!(msg: WorkerMsg {
            (a, b) => println!("{a}{b}"),
        })
    }
}

fn main() {}
