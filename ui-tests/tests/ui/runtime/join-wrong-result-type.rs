// join gives back exactly the type the tasklet's function returns.
use concurrence::{dispatch, spawn};

fn main() {
    dispatch(|| {
        let t = spawn(|| 1u32);
        let s: String = t.join().unwrap();
        drop(s);
    });
}
