// A tasklet whose message set holds an `Rc` has no handle that crosses threads: the message
// could be dropped or read on two threads at once.
use std::rc::Rc;

use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_SHARED(Rc<u32>));

#[tasklet(receives(MSG_SHARED))]
fn holder() {
    for _msg in receive::<HolderMsg>() {}
}

fn main() {
    dispatch(|| {
        let holder = Holder::new().daemon(true).spawn();
        let _across = holder.sendable();
    });
}
