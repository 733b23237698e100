//! What does not decode, or does not fit, on either side: an error that names the message,
//! logged, never a panic; the serving tasklet goes on.

mod util;

use std::time::Duration;

use concurrence::io::on_tokio;
use concurrence::{dispatch, match_message, message, receive, tasklet};
use concurrence_nats::async_nats::{self, HeaderMap};
use concurrence_nats::{Nats, RemoteError};
use util::{with_nats, NatsServer};

message!(MSG_ECHO(String) -> String, MSG_REPEAT(String, usize) -> String, MSG_COUNT -> u64);

#[tasklet(receives(MSG_ECHO, MSG_REPEAT, MSG_COUNT), remote)]
fn echo() {
    let mut count = 0;
    for msg in receive() {
        match_message!(msg: EchoMsg {
            MSG_ECHO(text, reply) => { count += 1; reply.reply(text) }
            MSG_REPEAT(text, times, reply) => { count += 1; reply.reply(text.repeat(times)) }
            MSG_COUNT(reply) => reply.reply(count),
        })
    }
}

/// A raw request through async-nats: the answer's payload and its `Concurrence-Error` header.
fn raw_request(nats: &Nats, subject: &'static str, payload: Vec<u8>) -> (Vec<u8>, Option<String>) {
    let client = nats.client().clone();
    let answer = on_tokio(async move {
        tokio::time::timeout(
            Duration::from_secs(10),
            client.request(subject, payload.into()),
        )
        .await
    })
    .expect("answered in time")
    .expect("answered");
    let refusal = answer
        .headers
        .as_ref()
        .and_then(|h: &HeaderMap| h.get("Concurrence-Error"))
        .map(|v| v.to_string());
    (answer.payload.to_vec(), refusal)
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn garbage_on_a_served_subject_is_refused_naming_what_is_wrong_and_serving_goes_on() {
    capture_log();
    with_nats(|nats| {
        let echo = Echo::new().daemon(true).spawn();
        nats.serve("echo", &echo).unwrap();
        // Bytes that are no MessagePack array.
        let (_, refusal) = raw_request(&nats, "echo", b"\xff\x00garbage".to_vec());
        let refusal = refusal.expect("a refusal");
        assert!(refusal.contains("not a MessagePack array"), "{refusal}");
        // A message the set does not have.
        let (_, refusal) = raw_request(&nats, "echo", rmp_array(&["MSG_NOPE"]));
        let refusal = refusal.expect("a refusal");
        assert!(
            refusal.contains("MSG_NOPE") && refusal.contains("MSG_ECHO"),
            "{refusal}"
        );
        // The right name with fields of the wrong type.
        let mut wrong = Vec::new();
        rmp::encode::write_array_len(&mut wrong, 2).unwrap();
        rmp::encode::write_str(&mut wrong, "MSG_ECHO").unwrap();
        rmp::encode::write_uint(&mut wrong, 7).unwrap();
        let (_, refusal) = raw_request(&nats, "echo", wrong);
        let refusal = refusal.expect("a refusal");
        assert!(refusal.contains("MSG_ECHO"), "{refusal}");
        // Garbage published without a reply subject is dropped (and logged).
        let client = nats.client().clone();
        on_tokio(async move { client.publish("echo", "junk".into()).await }).unwrap();
        // The tasklet took none of them, and still answers.
        let remote = nats.reach::<EchoMsg>("echo");
        assert_eq!(
            remote.call(|r| MSG_ECHO("still here".into(), r)).unwrap(),
            "still here"
        );
        assert_eq!(remote.call(MSG_COUNT), Ok(1));
    });
    // Each was logged, naming the subject and, where it could be read, the message.
    assert!(logged(&["`echo`", "not a MessagePack array"]));
    assert!(logged(&["`echo`", "MSG_NOPE"]));
    assert!(logged(&["`echo`", "cannot decode `MSG_ECHO`"]));
}

/// The warnings logged, kept to be read back.
struct Captured(std::sync::Mutex<Vec<String>>);

impl log::Log for Captured {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            self.0.lock().unwrap().push(record.args().to_string());
        }
    }

    fn flush(&self) {}
}

static LOG: Captured = Captured(std::sync::Mutex::new(Vec::new()));

/// Whether a warning containing every one of `parts` was logged.
fn logged(parts: &[&str]) -> bool {
    LOG.0
        .lock()
        .unwrap()
        .iter()
        .any(|line| parts.iter().all(|part| line.contains(part)))
}

/// Captures the log of this test binary (once).
fn capture_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        log::set_logger(&LOG).expect("no other logger");
        log::set_max_level(log::LevelFilter::Warn);
    });
}

/// A MessagePack array of strings.
fn rmp_array(items: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    rmp::encode::write_array_len(&mut out, items.len() as u32).unwrap();
    for item in items {
        rmp::encode::write_str(&mut out, item).unwrap();
    }
    out
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_message_past_the_servers_max_payload_is_an_error_and_the_connection_lives_on() {
    let dir = std::env::temp_dir().join(format!("concurrence-nats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("small.conf");
    std::fs::write(&config, "max_payload: 1024\n").unwrap();
    let server = NatsServer::start_with(&["-c", config.to_str().unwrap()]);
    let addr = server.addr();
    let status = dispatch(move || {
        let nats = Nats::connect(addr).unwrap();
        let echo = Echo::new().daemon(true).spawn();
        nats.serve("echo", &echo).unwrap();
        let remote = nats.reach::<EchoMsg>("echo");
        let big = "x".repeat(4096);
        match remote.call(|r| MSG_ECHO(big, r)) {
            Err(RemoteError::TooLarge { message, size, max }) => {
                assert_eq!(message, "MSG_ECHO");
                assert!(size > 4096, "{size}");
                assert_eq!(max, 1024);
            }
            other => panic!("{other:?}"),
        }
        // An answer past the limit: the request fits, the answer would not; it is refused
        // (the server would have closed the connection for it).
        match remote.call(|r| MSG_REPEAT("z".into(), 4096, r)) {
            Err(RemoteError::Refused { message, detail }) => {
                assert_eq!(message, "MSG_REPEAT");
                assert!(detail.contains("max_payload"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(remote.call(MSG_COUNT), Ok(1));
        assert_eq!(
            remote.call(|r| MSG_ECHO("small".into(), r)).unwrap(),
            "small"
        );
        assert_eq!(remote.call(MSG_COUNT), Ok(2));
    });
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn an_answer_that_does_not_decode_is_an_error_naming_the_message() {
    capture_log();
    with_nats(|nats| {
        // A responder of another make, answering with bytes that are not a string.
        let client = nats.client().clone();
        on_tokio(async move {
            let mut requests = client.subscribe("odd").await.unwrap();
            client.flush().await.unwrap();
            tokio::spawn(async move {
                use futures_util::StreamExt;
                while let Some(request) = requests.next().await {
                    if let Some(reply) = request.reply {
                        client.publish(reply, vec![0xc1].into()).await.unwrap();
                    }
                }
            });
        });
        let remote = nats.reach::<EchoMsg>("odd");
        match remote.call(|r| MSG_ECHO("hi".into(), r)) {
            Err(RemoteError::Decode { message, detail }) => {
                assert_eq!(message, "MSG_ECHO");
                assert!(!detail.is_empty());
            }
            other => panic!("{other:?}"),
        }
    });
    assert!(logged(&[
        "the answer to `MSG_ECHO` on `odd` did not decode"
    ]));
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_responder_that_never_answers_makes_the_call_time_out() {
    with_nats(|nats| {
        let client = nats.client().clone();
        // Subscribed, never answering: kept for the test's length.
        let _silent: async_nats::Subscriber = on_tokio(async move {
            let sub = client.subscribe("silent").await.unwrap();
            client.flush().await.unwrap();
            sub
        });
        let remote = nats.reach::<EchoMsg>("silent");
        let started = std::time::Instant::now();
        assert_eq!(
            remote.call_timeout(
                |r| MSG_ECHO("anyone?".into(), r),
                Duration::from_millis(300)
            ),
            Err(RemoteError::TimedOut {
                message: "MSG_ECHO"
            })
        );
        assert!(started.elapsed() >= Duration::from_millis(300));
        let _runtime = concurrence::io::tokio_runtime().enter();
        drop(_silent);
    });
}
