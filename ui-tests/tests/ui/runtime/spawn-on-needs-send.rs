// A tasklet started on another dispatcher runs on another thread: what it captures must be
// `Send` (an `Rc` is not).
use concurrence::{spawn_on, Dispatcher};
use std::rc::Rc;

fn main() {
    let _ = Dispatcher::new().threads(2).run(|| {
        let shared = Rc::new(5);
        let _ = spawn_on(1, move || *shared + 1);
    });
}
