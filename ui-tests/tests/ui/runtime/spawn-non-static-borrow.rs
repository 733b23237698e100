// A tasklet may outlive the function that spawned it, so it cannot borrow that function's
// locals: move them in instead.
use concurrence::{dispatch, spawn};

fn main() {
    dispatch(|| {
        let name = String::from("local");
        let t = spawn(|| name.len());
        t.join().unwrap();
    });
}
