//! The one-core message workloads on kameo: actors (`#[derive(Actor)]`, `impl Message<M>`)
//! spawned with `Spawn::spawn` (its default mailbox, bounded at 64), written as kameo's README
//! and docs write them: `tell(..).await` to tell, `ask(..).await` to ask, `stop_gracefully` and
//! `wait_for_shutdown` to end.
//!
//! The runtime is tokio's current-thread runtime (`new_current_thread`, with the timer, as the
//! tokio peer has): kameo spawns each actor with `tokio::spawn`, and its docs' examples run on a
//! current-thread runtime (`tokio_test::block_on`); only `spawn_in_thread`, unused here, needs
//! the multi-thread one. So the actors and the benchmark's main task share one thread as
//! concurrence's tasklets do.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use kameo::actor::{ActorRef, Spawn};
use kameo::message::{Context, Message};
use kameo::Actor;
use tokio::sync::oneshot;

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

/// Answers each `Ping(n)` with `Pong(n + 1)` to the pinger.
#[derive(Actor)]
struct Ponger {
    pinger: ActorRef<Pinger>,
}

/// What the ponger receives: the count so far.
struct Ping(u64);

impl Message<Ping> for Ponger {
    type Reply = ();

    async fn handle(&mut self, Ping(n): Ping, _ctx: &mut Context<Self, ()>) {
        self.pinger
            .tell(Pong(n + 1))
            .await
            .unwrap_or_else(|_| panic!("the pinger ended"));
    }
}

/// Sends `Ping`s to the ponger, one at a time, until `rounds` `Pong`s have come back.
#[derive(Actor)]
struct Pinger {
    ponger: ActorRef<Ponger>,
    rounds: u64,
    start: Instant,
    done: Option<oneshot::Sender<Duration>>,
}

impl Pinger {
    fn finish(&mut self) {
        let elapsed = self.start.elapsed();
        let _ = self.done.take().expect("started").send(elapsed);
    }
}

/// What the pinger receives back: the count plus one.
struct Pong(u64);

/// Tells the pinger to start, and where to send the time the round trips took.
struct Start(oneshot::Sender<Duration>);

impl Message<Start> for Pinger {
    type Reply = ();

    async fn handle(&mut self, Start(done): Start, _ctx: &mut Context<Self, ()>) {
        self.done = Some(done);
        self.start = Instant::now();
        if self.rounds == 0 {
            self.finish();
        } else {
            self.ponger
                .tell(Ping(0))
                .await
                .unwrap_or_else(|_| panic!("the ponger ended"));
        }
    }
}

impl Message<Pong> for Pinger {
    type Reply = ();

    async fn handle(&mut self, Pong(n): Pong, _ctx: &mut Context<Self, ()>) {
        if black_box(n) == self.rounds {
            self.finish();
        } else {
            self.ponger
                .tell(Ping(n))
                .await
                .unwrap_or_else(|_| panic!("the ponger ended"));
        }
    }
}

/// `n` round trips of a message between two actors (`tell` to each other), timed by the pinger
/// from its first `Ping` to the last `Pong`. The pinger is prepared before it is spawned
/// (`Spawn::prepare`), kameo's way to have its reference for the ponger first.
pub fn ping_pong(n: u64) -> Duration {
    block_on(async move {
        let prepared = Pinger::prepare();
        let pinger = prepared.actor_ref().clone();
        let ponger = Ponger::spawn(Ponger {
            pinger: pinger.clone(),
        });
        prepared.spawn(Pinger {
            ponger: ponger.clone(),
            rounds: n,
            start: Instant::now(),
            done: None,
        });
        let (done, elapsed) = oneshot::channel();
        pinger
            .tell(Start(done))
            .await
            .unwrap_or_else(|_| panic!("the pinger ended"));
        let elapsed = elapsed.await.expect("the pinger answered");
        pinger.stop_gracefully().await.expect("stop the pinger");
        ponger.stop_gracefully().await.expect("stop the ponger");
        pinger.wait_for_shutdown().await;
        ponger.wait_for_shutdown().await;
        elapsed
    })
}

/// Answers `Add(n)` with `n + 1`.
#[derive(Actor)]
struct Adder;

/// A request answered with its number plus one.
struct Add(u64);

impl Message<Add> for Adder {
    type Reply = u64;

    async fn handle(&mut self, Add(n): Add, _ctx: &mut Context<Self, u64>) -> u64 {
        n + 1
    }
}

/// `n` requests answered by a reply (`ask(..).await`), one after the other.
pub fn call_reply(n: u64) -> Duration {
    block_on(async move {
        let adder = Adder::spawn(Adder);
        let start = Instant::now();
        for i in 0..n {
            black_box(adder.ask(Add(i)).await.expect("the adder answered"));
        }
        let elapsed = start.elapsed();
        adder.stop_gracefully().await.expect("stop the adder");
        adder.wait_for_shutdown().await;
        elapsed
    })
}

/// Does nothing.
#[derive(Actor)]
struct Noop;

/// Spawn an actor, stop it (`stop_gracefully`), and wait until it has ended
/// (`wait_for_shutdown`), `n` times.
pub fn spawn_join_seq(n: u64) -> Duration {
    block_on(async move {
        let start = Instant::now();
        for _ in 0..n {
            let noop = Noop::spawn(Noop);
            noop.stop_gracefully().await.expect("stop the actor");
            noop.wait_for_shutdown().await;
        }
        start.elapsed()
    })
}
