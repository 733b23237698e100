//! Remote sends and calls through a real nats-server, served and called in one process.

mod util;

use std::time::Duration;

use concurrence::{match_message, message, receive, tasklet};
use concurrence_nats::RemoteError;
use util::with_nats;

message!(
    MSG_SUM(i64, i64) -> i64,
    MSG_NOTE(String),
    MSG_NOTES -> Vec<String>,
    MSG_IGNORED -> u8,
);

#[tasklet(receives(MSG_SUM, MSG_NOTE, MSG_NOTES, MSG_IGNORED), remote)]
fn calculator() {
    let mut notes = Vec::new();
    for msg in receive() {
        match_message!(msg: CalculatorMsg {
            MSG_SUM(a, b, reply) => reply.reply(a + b),
            MSG_NOTE(note) => notes.push(note),
            MSG_NOTES(reply) => reply.reply(notes.clone()),
            MSG_IGNORED(reply) => drop(reply),
        })
    }
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_served_tasklet_answers_calls_and_takes_sends_in_order() {
    with_nats(|nats| {
        let calculator = Calculator::new().daemon(true).spawn();
        nats.serve("calc", &calculator).expect("serves");
        let remote = nats.reach::<CalculatorMsg>("calc");
        assert_eq!(remote.call(|reply| MSG_SUM(40, 2, reply)), Ok(42));
        for i in 0..100 {
            remote.send(MSG_NOTE(format!("note {i}"))).unwrap();
        }
        let notes = remote.call(MSG_NOTES).unwrap();
        assert_eq!(notes.len(), 100);
        assert_eq!(notes[99], "note 99");
        assert_eq!(
            remote.call(MSG_IGNORED),
            Err(RemoteError::NoReply {
                message: "MSG_IGNORED"
            })
        );
    });
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_call_to_a_subject_nobody_serves_fails_at_once_with_no_responder() {
    with_nats(|nats| {
        let remote = nats.reach::<CalculatorMsg>("nobody");
        let started = std::time::Instant::now();
        assert_eq!(
            remote.call_timeout(|reply| MSG_SUM(1, 2, reply), Duration::from_secs(30)),
            Err(RemoteError::NoResponder { message: "MSG_SUM" })
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    });
}

message!(MSG_TIME_LEFT -> Option<u64>);

#[tasklet(receives(MSG_TIME_LEFT), remote)]
fn clock() {
    for ClockMsg::MSG_TIME_LEFT(MSG_TIME_LEFT(reply)) in receive() {
        let left = reply
            .deadline()
            .map(|at| at.saturating_duration_since(concurrence::now()).as_millis() as u64);
        reply.reply(left);
    }
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_remote_call_in_a_scope_waits_at_most_the_time_left_and_passes_it_on() {
    with_nats(|nats| {
        let clock = Clock::new().daemon(true).spawn();
        nats.serve("clock", &clock).expect("serves");
        let remote = nats.reach::<ClockMsg>("clock");
        // Outside a scope, the handle's timeout (10 s) is what the server learns.
        let left = remote.call(MSG_TIME_LEFT).unwrap().expect("a deadline");
        assert!((9_000..=10_000).contains(&left), "{left}");
        // In a 2 s scope, at most the 2 s left.
        let left = concurrence::with_timeout(Duration::from_secs(2), || remote.call(MSG_TIME_LEFT))
            .unwrap()
            .unwrap()
            .expect("a deadline");
        assert!((1_000..=2_000).contains(&left), "{left}");
        // A call in a scope that has run out fails at once with a timeout.
        let silent = nats.reach::<CalculatorMsg>("nobody-answers");
        let client = nats.client().clone();
        let _sub = concurrence::io::on_tokio(async move {
            let sub = client.subscribe("nobody-answers").await.unwrap();
            client.flush().await.unwrap();
            sub
        });
        let started = std::time::Instant::now();
        let call = concurrence::with_timeout(Duration::from_millis(200), || {
            silent.call(|r| MSG_SUM(1, 2, r))
        });
        assert_eq!(call, Ok(Err(RemoteError::TimedOut { message: "MSG_SUM" })));
        assert!(started.elapsed() < Duration::from_secs(5));
        let _runtime = concurrence::io::tokio_runtime().enter();
        drop(_sub);
    });
}
