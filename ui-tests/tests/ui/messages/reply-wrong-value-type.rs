// The receiver answers with the declared reply type: `MSG_SUM(i64, i64) -> i64` takes an `i64`.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_SUM(i64, i64) -> i64);

#[tasklet(receives(MSG_SUM))]
fn adder() {
    for msg in receive::<AdderMsg>() {
        let AdderMsg::MSG_SUM(MSG_SUM(_a, _b, reply)) = msg;
        reply.reply("x");
    }
}

fn main() {
    dispatch(|| {
        let t = Adder::new().daemon(true).spawn();
        MSG_SUM::call(&t)(1, 2).unwrap();
    });
}
