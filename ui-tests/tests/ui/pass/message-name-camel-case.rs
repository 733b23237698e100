//! Rust's CamelCase message names are accepted beside the original's `MSG_UPPERCASE`, without
//! warnings, in declarations, `receives(...)`, matches, sends and calls.
#![deny(warnings)]

use concurrence::{dispatch, message, receive, tasklet};

message!(Greeting(String), Sum(i64, i64) -> i64, Stop);
message!(MSG_OLD_STYLE);

#[tasklet(receives(Greeting, Sum, Stop, MSG_OLD_STYLE))]
fn greeter() -> Vec<String> {
    let mut said = Vec::new();
    for msg in receive() {
        match msg {
            GreeterMsg::Greeting(Greeting(name)) => said.push(format!("Hello {name}")),
            GreeterMsg::Sum(Sum(a, b, reply)) => reply.reply(a + b),
            GreeterMsg::MSG_OLD_STYLE(MSG_OLD_STYLE) => said.push("old".into()),
            GreeterMsg::Stop(Stop) => break,
        }
    }
    said
}

fn main() {
    let status = dispatch(|| {
        let greeter = Greeter::new().spawn();
        Greeting::send(&greeter)("World".into()).unwrap();
        assert_eq!(Sum::call(&greeter)(1, 2), Ok(3));
        MSG_OLD_STYLE::send(&greeter)().unwrap();
        Stop::send(&greeter)().unwrap();
        assert_eq!(greeter.join().unwrap(), ["Hello World", "old"]);
    });
    assert!(status.success(), "{status}");
}
