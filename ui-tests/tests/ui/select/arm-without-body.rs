// Each arm needs `=> body` after its condition.
use concurrence::{dispatch, select, wait_for};

fn main() {
    let _ = dispatch(|| {
        select! {
            () = wait_for::idle()
        }
    });
}
