//! Channels: a producer hands numbers to a consumer through a rendezvous channel; after each
//! hand-off the consumer runs first. Then the consumer is told to stop with an exception.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use concurrence::{dispatch, spawn, Channel, ExitStatus};

/// What the producer sends through the channel to stop the consumer.
#[derive(Debug)]
struct EndOfStream;

fn main() -> ExitStatus {
    dispatch(|| {
        let channel = Channel::new();
        let consumer = {
            let channel = channel.clone();
            spawn(move || {
                let mut total = 0;
                let ended = catch_unwind(AssertUnwindSafe(|| loop {
                    let n: u32 = channel.receive();
                    println!("consumer got {n}");
                    total += n;
                }));
                let payload = ended.expect_err("the loop only ends by an exception");
                if !payload.is::<EndOfStream>() {
                    std::panic::resume_unwind(payload);
                }
                println!("consumer: end of stream");
                total
            })
        };
        for n in 1..=3 {
            channel.send(n);
            println!("producer sent {n}");
        }
        channel.send_exception(EndOfStream);
        println!(
            "total {}",
            consumer.join().expect("the consumer ends normally")
        );
        let unanswered = channel.receive_timeout(Duration::from_millis(10));
        println!("receive with nobody sending: {unanswered:?}");
    })
}
