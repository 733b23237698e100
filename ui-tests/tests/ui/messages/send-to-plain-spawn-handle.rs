// A tasklet started with plain `spawn` has no mailbox: nothing can be sent to its handle.
use concurrence::{dispatch, message, spawn};

message!(MSG_PING);

fn main() {
    dispatch(|| {
        let t = spawn(|| 1);
        MSG_PING::send(&t)().unwrap();
    });
}
