// A message declared with `-> R` is called and answered: it has `call`, not `send`.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_SUM(i64, i64) -> i64);

#[tasklet(receives(MSG_SUM))]
fn adder() {
    for msg in receive::<AdderMsg>() {
        let AdderMsg::MSG_SUM(MSG_SUM(a, b, reply)) = msg;
        reply.reply(a + b);
    }
}

fn main() {
    dispatch(|| {
        let t = Adder::new().daemon(true).spawn();
        MSG_SUM::send(&t)(1, 2).unwrap();
    });
}
