// `send` takes exactly the declared payload: `MSG_MOVE(i32, i32)` needs two arguments.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_MOVE(i32, i32));

#[tasklet(receives(MSG_MOVE))]
fn mover() {
    for msg in receive::<MoverMsg>() {
        let MoverMsg::MSG_MOVE(MSG_MOVE(x, y)) = msg;
        println!("{x} {y}");
    }
}

fn main() {
    dispatch(|| {
        let t = Mover::new().daemon(true).spawn();
        MSG_MOVE::send(&t)(1).unwrap();
    });
}
