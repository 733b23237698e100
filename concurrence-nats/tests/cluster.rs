//! A three-node NATS cluster whose node both connections use is killed mid-traffic: calls in
//! flight end (timed out, or refused by a connection that is down), none hangs, and calls
//! resume through another node, where async-nats reconnects and subscribes again.

mod util;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concurrence::{dispatch, join_all, match_message, message, receive, sleep, spawn, tasklet};
use concurrence_nats::async_nats::ConnectOptions;
use concurrence_nats::{Nats, RemoteError};
use util::NatsServer;

message!(MSG_SQUARE(u64) -> u64);

#[tasklet(receives(MSG_SQUARE), remote)]
fn squarer() {
    for msg in receive() {
        match_message!(msg: SquarerMsg { MSG_SQUARE(n, reply) => reply.reply(n * n) })
    }
}

/// Connects to the cluster, the first node first (so that both connections use it).
fn connect(nodes: &[String]) -> Nats {
    let options = ConnectOptions::new()
        .retain_servers_order()
        .reconnect_delay_callback(|attempts| Duration::from_millis(20 * attempts.min(10) as u64));
    Nats::connect_with(options, nodes.to_vec()).expect("connects")
}

#[test]
#[cfg_attr(
    not(has_nats_server),
    ignore = "needs nats-server (scripts/test installs it)"
)]
fn calls_resume_through_another_node_when_the_connected_node_dies() {
    let nodes = NatsServer::cluster(3);
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("nats://{}", n.addr()))
        .collect();
    let nodes = Arc::new(Mutex::new(nodes));
    let killer_nodes = nodes.clone();
    let status = dispatch(move || {
        let serving = connect(&addrs);
        let calling = connect(&addrs);
        let squarer = Squarer::new().daemon(true).spawn();
        serving.serve("square", &squarer).unwrap();
        let remote = calling
            .reach::<SquarerMsg>("square")
            .with_timeout(Duration::from_millis(500));
        // Routes between the nodes take a moment to carry the subscription.
        let deadline = Instant::now() + Duration::from_secs(10);
        while remote.call(|r| MSG_SQUARE(3, r)) != Ok(9) {
            assert!(
                Instant::now() < deadline,
                "the cluster never served the subject"
            );
            sleep(Duration::from_millis(20));
        }
        let (ok, failed) = (Rc::new(Cell::new(0u32)), Rc::new(Cell::new(0u32)));
        let timed_out = Rc::new(Cell::new(0u32));
        let killed = Rc::new(Cell::new(false));
        let (ok_after, stop) = (Rc::new(Cell::new(0u32)), Rc::new(Cell::new(false)));
        let callers: Vec<_> = (0..8u64)
            .map(|c| {
                let (remote, ok, failed) = (remote.clone(), ok.clone(), failed.clone());
                let timed_out = timed_out.clone();
                let (killed, ok_after, stop) = (killed.clone(), ok_after.clone(), stop.clone());
                spawn(move || {
                    let mut n = c;
                    while !stop.get() {
                        let started = Instant::now();
                        match remote.call(|r| MSG_SQUARE(n, r)) {
                            Ok(square) => {
                                assert_eq!(square, n * n);
                                ok.set(ok.get() + 1);
                                if killed.get() {
                                    ok_after.set(ok_after.get() + 1);
                                }
                            }
                            Err(RemoteError::TimedOut { .. }) => {
                                timed_out.set(timed_out.get() + 1);
                                failed.set(failed.get() + 1);
                            }
                            // While the connection is down, or before the subscription is
                            // made again on the new node.
                            Err(
                                RemoteError::Connection { .. } | RemoteError::NoResponder { .. },
                            ) => {
                                failed.set(failed.get() + 1);
                                sleep(Duration::from_millis(10));
                            }
                            Err(other) => panic!("{other}"),
                        }
                        // Every call ends within its timeout (and some slack): none hangs.
                        assert!(started.elapsed() < Duration::from_secs(3));
                        n += 8;
                    }
                })
            })
            .collect();
        while ok.get() < 300 {
            sleep(Duration::from_millis(5));
        }
        // The first node, which both connections use, dies mid-traffic.
        let nodes = killer_nodes.clone();
        concurrence::io::blocking(move || nodes.lock().unwrap()[0].kill());
        killed.set(true);
        let deadline = Instant::now() + Duration::from_secs(30);
        while ok_after.get() < 300 {
            assert!(
                Instant::now() < deadline,
                "calls did not resume: {} since the kill, {} failed",
                ok_after.get(),
                failed.get()
            );
            sleep(Duration::from_millis(10));
        }
        stop.set(true);
        for result in join_all(&callers) {
            result.unwrap();
        }
        eprintln!(
            "{} calls answered ({} after the kill), {} failed around it, {} of them timed out",
            ok.get(),
            ok_after.get(),
            failed.get(),
            timed_out.get()
        );
        // Calls were in flight when the node died: they timed out.
        assert!(timed_out.get() >= 1);
    });
    assert!(status.success(), "{status:?}");
    drop(nodes);
}
