//! Serving's beginning and end, killed and finished tasklets, monitors, callers that are plain
//! threads, and a bounded mailbox fed from NATS.

mod util;

use std::time::{Duration, Instant};

use concurrence::io::on_tokio;
use concurrence::{match_message, message, receive, sleep, spawn, tasklet};
use concurrence_nats::async_nats;
use concurrence_nats::{DownReason, RemoteDown, RemoteError, MSG_REMOTE_DOWN};
use util::with_nats;

message!(MSG_WORK(u32) -> u32, MSG_SLOW(u64) -> u64, MSG_ITEM(u32), MSG_ITEMS -> Vec<u32>);

#[tasklet(receives(MSG_WORK, MSG_SLOW, MSG_ITEM, MSG_ITEMS), remote)]
fn worker() {
    let mut items = Vec::new();
    for msg in receive() {
        match_message!(msg: WorkerMsg {
            MSG_WORK(n, reply) => reply.reply(n * 2),
            MSG_SLOW(ms, reply) => { sleep(Duration::from_millis(ms)); reply.reply(ms) }
            MSG_ITEM(n) => { sleep(Duration::from_micros(200)); items.push(n) }
            MSG_ITEMS(reply) => reply.reply(std::mem::take(&mut items)),
        })
    }
}

#[tasklet(receives(MSG_REMOTE_DOWN))]
fn watcher() -> RemoteDown {
    let WatcherMsg::MSG_REMOTE_DOWN(MSG_REMOTE_DOWN(down)) = receive().next().unwrap();
    down
}

/// Calls until NATS says nobody serves the subject (bounded).
fn until_no_responder(remote: &concurrence_nats::Remote<WorkerMsg>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match remote.call_timeout(|r| MSG_WORK(1, r), Duration::from_secs(5)) {
            Err(RemoteError::NoResponder { .. }) => return,
            other => assert!(Instant::now() < deadline, "still served: {other:?}"),
        }
        sleep(Duration::from_millis(20));
    }
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn stopping_serving_withdraws_the_subject_at_once() {
    with_nats(|nats| {
        let worker = Worker::new().daemon(true).spawn();
        let serving = nats.serve("work", &worker).unwrap();
        let remote = nats.reach::<WorkerMsg>("work");
        assert_eq!(remote.call(|r| MSG_WORK(21, r)), Ok(42));
        serving.stop();
        // The server has heard of the unsubscription when stop returns.
        assert_eq!(
            remote.call(|r| MSG_WORK(21, r)),
            Err(RemoteError::NoResponder {
                message: "MSG_WORK"
            })
        );
        assert!(!worker.has_finished());
    });
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_tasklet_killed_mid_call_answers_no_reply_and_its_subject_goes_away() {
    with_nats(|nats| {
        let worker = Worker::new().spawn();
        nats.serve("work", &worker).unwrap();
        let remote = nats.reach::<WorkerMsg>("work");
        let killer = {
            let worker = worker.clone();
            spawn(move || {
                sleep(Duration::from_millis(100));
                worker.kill();
            })
        };
        let started = Instant::now();
        assert_eq!(
            remote.call(|r| MSG_SLOW(60_000, r)),
            Err(RemoteError::NoReply {
                message: "MSG_SLOW"
            })
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        killer.join().unwrap();
        until_no_responder(&remote);
    });
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_monitor_reports_a_subject_nobody_serves_any_more() {
    with_nats(|nats| {
        let worker = Worker::new().spawn();
        nats.serve("work", &worker).unwrap();
        let remote = nats.reach::<WorkerMsg>("work");
        let watcher = Watcher::new().spawn();
        remote.monitor_for(&watcher, Duration::from_millis(50));
        sleep(Duration::from_millis(300)); // served meanwhile: no down
        assert!(!watcher.has_finished());
        worker.kill();
        let down = watcher
            .join_timeout(Duration::from_secs(10))
            .expect("in time")
            .unwrap();
        assert_eq!(
            down,
            RemoteDown {
                subject: "work".into(),
                reason: DownReason::NoResponder
            }
        );
    });
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_monitor_reports_a_responder_that_stopped_answering() {
    with_nats(|nats| {
        let client = nats.client().clone();
        // Subscribed (so NATS sees a responder), never answering: a hung process.
        let silent: async_nats::Subscriber = on_tokio(async move {
            let sub = client.subscribe("hung").await.unwrap();
            client.flush().await.unwrap();
            sub
        });
        let remote = nats.reach::<WorkerMsg>("hung");
        let watcher = Watcher::new().spawn();
        remote.monitor_for(&watcher, Duration::from_millis(50));
        let down = watcher
            .join_timeout(Duration::from_secs(10))
            .expect("in time")
            .unwrap();
        assert_eq!(down.reason, DownReason::Unanswered(3));
        let _runtime = concurrence::io::tokio_runtime().enter();
        drop(silent);
    });
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_cancelled_monitor_reports_nothing() {
    with_nats(|nats| {
        let worker = Worker::new().spawn();
        nats.serve("work", &worker).unwrap();
        let remote = nats.reach::<WorkerMsg>("work");
        let watcher = Watcher::new().daemon(true).spawn();
        let monitor = remote.monitor_for(&watcher, Duration::from_millis(50));
        sleep(Duration::from_millis(200)); // pinged and answered meanwhile
        monitor.cancel();
        worker.kill();
        until_no_responder(&remote);
        sleep(Duration::from_millis(300)); // six rounds of pings, had it gone on
        assert!(watcher.mailbox().is_empty());
    });
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn plain_threads_send_and_call_a_served_tasklet() {
    with_nats(|nats| {
        let worker = Worker::new().daemon(true).spawn();
        nats.serve("work", &worker).unwrap();
        let remote = nats.reach::<WorkerMsg>("work");
        let threads: Vec<_> = (0..4u32)
            .map(|t| {
                let remote = remote.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        assert_eq!(
                            remote.call(|r| MSG_WORK(t * 100 + i, r)),
                            Ok((t * 100 + i) * 2)
                        );
                    }
                    remote.send(MSG_ITEM(t)).unwrap();
                })
            })
            .collect();
        concurrence::io::blocking(move || {
            for thread in threads {
                thread.join().unwrap();
            }
        });
        let mut items = remote.call(MSG_ITEMS).unwrap();
        items.sort();
        assert_eq!(items, [0, 1, 2, 3]);
    });
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn a_bounded_mailbox_fed_from_nats_loses_nothing_and_keeps_order() {
    with_nats(|nats| {
        let worker = Worker::new().max_mailbox_len(4).daemon(true).spawn();
        nats.serve("work", &worker).unwrap();
        let remote = nats.reach::<WorkerMsg>("work");
        for i in 0..2_000 {
            remote.send(MSG_ITEM(i)).unwrap();
        }
        let items = remote
            .call_timeout(MSG_ITEMS, Duration::from_secs(30))
            .unwrap();
        assert_eq!(items, (0..2_000).collect::<Vec<_>>());
    });
}
