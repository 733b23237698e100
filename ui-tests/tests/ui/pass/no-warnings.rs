//! The generated code passes `#![deny(warnings, missing_docs)]`: no `non_camel_case_types`,
//! `dead_code` or `missing_docs` from `message!` or `#[tasklet]`, even for unused items.
#![deny(warnings, missing_docs)]

use concurrence::{dispatch, message, receive, tasklet};

message!(pub MSG_USED(u32), pub MSG_UNUSED -> u8);
message!(MSG_PRIVATE(String), MSG_NEVER_SENT, MSG_NEVER_DECLARED_USED -> u8);

/// A public tasklet, documented.
#[tasklet(receives(MSG_USED, MSG_UNUSED))]
pub fn documented() -> u32 {
    match receive::<DocumentedMsg>().next().unwrap() {
        DocumentedMsg::MSG_USED(MSG_USED(n)) => n,
        DocumentedMsg::MSG_UNUSED(MSG_UNUSED(reply)) => {
            reply.reply(0);
            0
        }
    }
}

#[tasklet(receives(MSG_PRIVATE, MSG_NEVER_SENT))]
fn private_receiver() -> usize {
    match receive::<PrivateReceiverMsg>().next().unwrap() {
        PrivateReceiverMsg::MSG_PRIVATE(MSG_PRIVATE(s)) => s.len(),
        PrivateReceiverMsg::MSG_NEVER_SENT(MSG_NEVER_SENT) => 0,
    }
}

#[tasklet]
fn private_plain() {}

#[tasklet]
fn never_spawned() {}

fn main() {
    let status = dispatch(|| {
        let t = Documented::new().spawn();
        MSG_USED::send(&t)(3).unwrap();
        assert_eq!(t.join().unwrap(), 3);
        let p = PrivateReceiver::new().spawn();
        MSG_PRIVATE::send(&p)("ab".into()).unwrap();
        assert_eq!(p.join().unwrap(), 2);
        PrivatePlain::new().spawn().join().unwrap();
    });
    assert!(status.success());
}
