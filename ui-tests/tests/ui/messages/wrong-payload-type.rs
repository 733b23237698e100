// The payload passed to `send` must have the declared type: `MSG_GREETING` carries a `String`.
use concurrence::{dispatch, message, receive, tasklet};

message!(MSG_GREETING(String));

#[tasklet(receives(MSG_GREETING))]
fn greeter() {
    for msg in receive::<GreeterMsg>() {
        let GreeterMsg::MSG_GREETING(MSG_GREETING(name)) = msg;
        println!("Hello {name}");
    }
}

fn main() {
    dispatch(|| {
        let t = Greeter::new().daemon(true).spawn();
        MSG_GREETING::send(&t)(42).unwrap();
    });
}
