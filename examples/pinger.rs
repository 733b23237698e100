//! A pinger and an echoer: the pinger sends numbered pings and, for each, waits for whichever
//! comes first: the pong, the end of the echoer, or a timeout. The echoer loses ping 3 and
//! stops when it gets ping 5, so every outcome shows:
//!
//! ```text
//! ping 1 -> pong 1
//! ping 2 -> pong 2
//! ping 3 -> no pong within 50 ms
//! ping 4 -> pong 4
//! ping 5 -> the echoer ended after answering 3 pings
//! ```

use std::time::Duration;

use concurrence::{dispatch, message, receive, select, tasklet, wait_for, ExitStatus, Mailbox};

message!(MSG_PING(u32));

const PATIENCE: Duration = Duration::from_millis(50);

/// Answers each ping on `pongs`, except ping 3 (lost); ends at ping 5 with how many it answered.
#[tasklet(receives(MSG_PING))]
fn echoer(pongs: Mailbox<u32>) -> u32 {
    let mut answered = 0;
    for EchoerMsg::MSG_PING(MSG_PING(n)) in receive() {
        match n {
            3 => continue,
            5 => return answered,
            _ => {
                pongs
                    .append(n)
                    .expect("an unbounded mailbox takes every pong");
                answered += 1;
            }
        }
    }
    unreachable!("receive never ends")
}

fn main() -> ExitStatus {
    dispatch(|| {
        let pongs = Mailbox::new();
        let echoer = Echoer::new().spawn(pongs.clone());
        for n in 1.. {
            if MSG_PING::send(&echoer)(n).is_err() {
                break; // it ended already
            }
            select! {
                pong = wait_for::popleft(&pongs) => println!("ping {n} -> pong {pong}"),
                answered = wait_for::join(&echoer) => {
                    let answered = answered.expect("the echoer returns normally");
                    println!("ping {n} -> the echoer ended after answering {answered} pings");
                    break;
                }
                () = wait_for::timeout(PATIENCE) => {
                    println!("ping {n} -> no pong within {} ms", PATIENCE.as_millis());
                }
            }
        }
    })
}
