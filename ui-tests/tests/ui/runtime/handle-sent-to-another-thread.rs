// A tasklet handle belongs to its dispatcher's thread: moving it to another thread must not
// compile.
use concurrence::{dispatch, spawn};

fn main() {
    dispatch(|| {
        let t = spawn(|| 1);
        std::thread::spawn(move || t.kill());
    });
}
