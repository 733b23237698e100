// `Tasklet::send` on the handle of a plain `spawn`ed tasklet: it has no mailbox, so the
// handle has no `send` to call.
use concurrence::{dispatch, message, spawn};

message!(MSG_PING);

fn main() {
    dispatch(|| {
        let t = spawn(|| 1);
        t.send(MSG_PING).unwrap();
    });
}
