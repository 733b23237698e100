// A `Mailbox` belongs to its dispatcher's thread: it cannot move to another thread.
use concurrence::{dispatch, Mailbox};

fn main() {
    dispatch(|| {
        let mailbox: Mailbox<u32> = Mailbox::new();
        std::thread::spawn(move || mailbox.append(1).unwrap());
    });
}
