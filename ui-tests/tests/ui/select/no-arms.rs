// A select! with no arm could never end: it is rejected.
use concurrence::{dispatch, select};

fn main() {
    let _ = dispatch(|| {
        select! {}
    });
}
