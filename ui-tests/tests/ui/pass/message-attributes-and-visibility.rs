// Attributes, doc comments and `pub` / `pub(crate)` visibility before a message's name.
use concurrence::{dispatch, tasklet};

mod msgs {
    concurrence::message!(
        /// A documented, comparable message.
        #[derive(Debug, Clone, PartialEq)]
        pub MSG_POINT(i32, i32),
        #[derive(Debug)]
        pub(crate) MSG_QUIT,
    );
}

use msgs::{MSG_POINT, MSG_QUIT};

#[tasklet(receives(MSG_POINT, MSG_QUIT))]
fn plotter() -> Vec<MSG_POINT> {
    let mut seen = Vec::new();
    for msg in concurrence::receive::<PlotterMsg>() {
        match msg {
            PlotterMsg::MSG_POINT(p) => seen.push(p.clone()),
            PlotterMsg::MSG_QUIT(q) => {
                assert_eq!(format!("{q:?}"), "MSG_QUIT");
                break;
            }
        }
    }
    seen
}

fn main() {
    let status = dispatch(|| {
        let t = Plotter::new().spawn();
        MSG_POINT::send(&t)(1, 2).unwrap();
        MSG_QUIT::send(&t)().unwrap();
        assert_eq!(t.join().unwrap(), [MSG_POINT(1, 2)]);
    });
    assert!(status.success());
}
