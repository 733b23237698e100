//! Remote sends and calls through a real nats-server, served and called in one process.

mod util;

use std::time::Duration;

use concurrence::{dispatch, match_message, message, receive, tasklet};
use concurrence_nats::{Nats, RemoteError};
use util::NatsServer;

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
    let server = NatsServer::start();
    let addr = server.addr();
    let status = dispatch(move || {
        let nats = Nats::connect(addr).expect("connects");
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
    assert!(status.success(), "{status:?}");
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_call_to_a_subject_nobody_serves_fails_at_once_with_no_responder() {
    let server = NatsServer::start();
    let addr = server.addr();
    let status = dispatch(move || {
        let nats = Nats::connect(addr).expect("connects");
        let remote = nats.reach::<CalculatorMsg>("nobody");
        let started = std::time::Instant::now();
        assert_eq!(
            remote.call_timeout(|reply| MSG_SUM(1, 2, reply), Duration::from_secs(30)),
            Err(RemoteError::NoResponder { message: "MSG_SUM" })
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    });
    assert!(status.success(), "{status:?}");
}
