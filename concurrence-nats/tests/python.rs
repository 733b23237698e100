//! Interoperability with a client this project did not write: a Python program using nats-py
//! and msgpack (tests/python/peer.py) calls a Rust tasklet and gets typed replies, and a
//! tasklet calls a Python responder.

mod util;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use concurrence::{dispatch, match_message, message, message_set, receive, tasklet};
use concurrence_nats::{Nats, RemoteError};
use serde::{Deserialize, Serialize};
use util::NatsServer;

/// A person, a map on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    name: String,
    born: u32,
}

/// A point, a map on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    x: i32,
    y: i32,
}

message!(
    MSG_SUM(i64, i64) -> i64,
    MSG_GREET(Person) -> String,
    MSG_OLDER(Person, u32) -> Person,
    MSG_NOTE(String),
    MSG_NOTES -> Vec<String>,
    MSG_UPPER(String) -> String,
    MSG_SWAP(Point) -> Point,
    MSG_MISSING -> (),
);

#[tasklet(receives(MSG_SUM, MSG_GREET, MSG_OLDER, MSG_NOTE, MSG_NOTES), remote)]
fn service() {
    let mut notes = Vec::new();
    for msg in receive() {
        match_message!(msg: ServiceMsg {
            MSG_SUM(a, b, reply) => reply.reply(a + b),
            MSG_GREET(person, reply) => reply.reply(format!("Hello {}, born {}", person.name, person.born)),
            MSG_OLDER(person, years, reply) => reply.reply(Person { born: person.born - years, ..person }),
            MSG_NOTE(note) => notes.push(note),
            MSG_NOTES(reply) => reply.reply(notes.clone()),
        })
    }
}

message_set!(
    /// What the Python responder answers (and one message it does not know).
    #[remote]
    enum PythonMsg {
        MSG_UPPER,
        MSG_SWAP,
        MSG_MISSING,
    }
);

/// The Python peer in `mode`, killed when dropped.
struct Peer(Child);

impl Peer {
    fn start(mode: &str, addr: &str, subject: &str) -> Peer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/peer.py");
        let child = Command::new("python3")
            .args([script, mode, addr, subject])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs (scripts/test installs nats-py and msgpack)");
        Peer(child)
    }

    /// Its output to the end, bounded.
    fn finish(mut self, within: Duration) -> (bool, String, String) {
        let (mut out, mut err) = (self.0.stdout.take().unwrap(), self.0.stderr.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut o, mut e) = (String::new(), String::new());
            let _ = out.read_to_string(&mut o);
            let _ = err.read_to_string(&mut e);
            let _ = tx.send((o, e));
        });
        let (o, e) = rx
            .recv_timeout(within)
            .expect("the Python peer ends in time");
        let status = self.0.wait().unwrap();
        (status.success(), o, e)
    }

    /// Waits (bounded) for its first line.
    fn first_line(&mut self) -> String {
        let out = self.0.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the Python peer starts")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[cfg_attr(
    not(all(has_nats_server, has_nats_py)),
    ignore = "needs nats-server, and nats-py and msgpack for python3 (scripts/test installs them)"
)]
fn a_python_client_calls_a_tasklet_and_gets_typed_replies() {
    let server = NatsServer::start();
    let addr = server.addr();
    let status = dispatch(move || {
        let nats = Nats::connect(addr.clone()).unwrap();
        let service = Service::new().daemon(true).spawn();
        nats.serve("service", &service).unwrap();
        let peer = Peer::start("call", &addr, "service");
        let (ok, out, err) =
            concurrence::io::blocking(move || peer.finish(Duration::from_secs(60)));
        assert!(ok, "the Python peer failed: {err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "sum 42");
        assert_eq!(lines[1], "greet Hello Ada, born 1815");
        assert_eq!(lines[2], "older Ada 1805");
        assert_eq!(lines[3], "notes ['from python']");
        assert!(
            lines[4].starts_with("refused cannot decode `MSG_SUM`"),
            "{}",
            lines[4]
        );
    });
    assert!(status.success(), "{status:?}");
}

#[test]
#[cfg_attr(
    not(all(has_nats_server, has_nats_py)),
    ignore = "needs nats-server, and nats-py and msgpack for python3 (scripts/test installs them)"
)]
fn a_tasklet_calls_a_python_responder() {
    let server = NatsServer::start();
    let addr = server.addr();
    let mut peer = Peer::start("serve", &addr, "python");
    assert_eq!(peer.first_line().trim(), "ready");
    let status = dispatch(move || {
        let nats = Nats::connect(addr).unwrap();
        let python = nats.reach::<PythonMsg>("python");
        assert_eq!(
            python.call(|r| MSG_UPPER("quiet".into(), r)).unwrap(),
            "QUIET"
        );
        assert_eq!(
            python.call(|r| MSG_SWAP(Point { x: 1, y: -2 }, r)),
            Ok(Point { x: -2, y: 1 })
        );
        assert_eq!(
            python.call(MSG_MISSING),
            Err(RemoteError::Refused {
                message: "MSG_MISSING",
                detail: "python has no MSG_MISSING".into()
            })
        );
    });
    assert!(status.success(), "{status:?}");
    drop(peer);
}
