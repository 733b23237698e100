// The handle's own `send` / `try_send` and `mailbox()`, next to the `MSG_X::send` shape.
use concurrence::{dispatch, message, receive, tasklet, Mailbox};

message!(MSG_N(u32));

#[tasklet(receives(MSG_N))]
fn summer() -> u32 {
    receive::<SummerMsg>().take(2).map(|SummerMsg::MSG_N(MSG_N(n))| n).sum()
}

fn main() {
    let status = dispatch(|| {
        let t = Summer::new().spawn();
        t.send(MSG_N(1)).unwrap();
        t.try_send(MSG_N(2)).unwrap();
        let mailbox: Mailbox<SummerMsg> = t.mailbox();
        assert_eq!(mailbox.len(), 2);
        assert_eq!(t.join().unwrap(), 3);
    });
    assert!(status.success());
}
