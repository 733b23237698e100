//! The one-core message workloads on ractor: actors (`Actor` with its `Msg`, `State` and
//! `Arguments`, spawned with `Actor::spawn`) written as ractor's README and examples write them:
//! `cast` to tell, `call!` with an `RpcReplyPort` to ask, `stop` and the join handle to end.
//!
//! The runtime is tokio's current-thread runtime (`new_current_thread`, with the timer, as the
//! tokio peer has): ractor spawns each actor with `tokio::spawn` and needs no more than a tokio
//! runtime, any flavour (its own tests run under `#[tokio::test]`, which is current-thread), so
//! the actors and the benchmark's main task share one thread as concurrence's tasklets do.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use ractor::concurrency::JoinHandle;
use ractor::{call, Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::oneshot;

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

/// Answers each `Ping(n)` with `Pong(n + 1)` to the pinger it was started with.
struct Ponger;

/// The ponger's message: the count so far.
struct Ping(u64);

impl Actor for Ponger {
    type Msg = Ping;
    type State = ActorRef<PingerMsg>;
    type Arguments = ActorRef<PingerMsg>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Ping>,
        pinger: ActorRef<PingerMsg>,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(pinger)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Ping>,
        Ping(n): Ping,
        pinger: &mut ActorRef<PingerMsg>,
    ) -> Result<(), ActorProcessingErr> {
        pinger.cast(PingerMsg::Pong(n + 1))?;
        Ok(())
    }
}

/// Starts the ponger (as Erlang's processes do, with its own reference), then sends it `Ping`s,
/// one at a time, until `rounds` `Pong`s have come back.
struct Pinger;

/// The pinger's messages.
enum PingerMsg {
    /// Start, and send the time the round trips took here.
    Start(oneshot::Sender<Duration>),
    /// The count plus one, back from the ponger.
    Pong(u64),
}

struct PingerState {
    ponger: ActorRef<Ping>,
    ponger_ended: Option<JoinHandle<()>>,
    rounds: u64,
    start: Instant,
    done: Option<oneshot::Sender<Duration>>,
}

impl PingerState {
    fn finish(&mut self) {
        let elapsed = self.start.elapsed();
        let _ = self.done.take().expect("started").send(elapsed);
    }
}

impl Actor for Pinger {
    type Msg = PingerMsg;
    type State = PingerState;
    type Arguments = u64;

    async fn pre_start(
        &self,
        myself: ActorRef<PingerMsg>,
        rounds: u64,
    ) -> Result<PingerState, ActorProcessingErr> {
        let (ponger, ponger_ended) = Actor::spawn(None, Ponger, myself).await?;
        Ok(PingerState {
            ponger,
            ponger_ended: Some(ponger_ended),
            rounds,
            start: Instant::now(),
            done: None,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<PingerMsg>,
        message: PingerMsg,
        state: &mut PingerState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            PingerMsg::Start(done) => {
                state.done = Some(done);
                state.start = Instant::now();
                if state.rounds == 0 {
                    state.finish();
                } else {
                    state.ponger.cast(Ping(0))?;
                }
            }
            PingerMsg::Pong(n) => {
                if black_box(n) == state.rounds {
                    state.finish();
                } else {
                    state.ponger.cast(Ping(n))?;
                }
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<PingerMsg>,
        state: &mut PingerState,
    ) -> Result<(), ActorProcessingErr> {
        state.ponger.stop(None);
        if let Some(ended) = state.ponger_ended.take() {
            ended.await?;
        }
        Ok(())
    }
}

/// `n` round trips of a message between two actors (`cast` to each other), timed by the pinger
/// from its first `Ping` to the last `Pong`.
pub fn ping_pong(n: u64) -> Duration {
    block_on(async move {
        let (pinger, ended) = Actor::spawn(None, Pinger, n)
            .await
            .expect("spawn the pinger");
        let (done, elapsed) = oneshot::channel();
        pinger
            .cast(PingerMsg::Start(done))
            .unwrap_or_else(|_| panic!("the pinger ended"));
        let elapsed = elapsed.await.expect("the pinger answered");
        pinger.stop(None);
        ended.await.expect("the pinger ended cleanly");
        elapsed
    })
}

/// Answers `Add(n, reply)` with `n + 1`.
struct Adder;

/// A request answered with its number plus one.
enum AdderMsg {
    Add(u64, RpcReplyPort<u64>),
}

impl Actor for Adder {
    type Msg = AdderMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ActorRef<AdderMsg>,
        _: (),
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<AdderMsg>,
        AdderMsg::Add(n, reply): AdderMsg,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        let _ = reply.send(n + 1);
        Ok(())
    }
}

/// `n` requests answered by a reply (`call!`), one after the other.
pub fn call_reply(n: u64) -> Duration {
    block_on(async move {
        let (adder, ended) = Actor::spawn(None, Adder, ())
            .await
            .expect("spawn the adder");
        let start = Instant::now();
        for i in 0..n {
            black_box(call!(adder, AdderMsg::Add, i).expect("the adder answered"));
        }
        let elapsed = start.elapsed();
        adder.stop(None);
        ended.await.expect("the adder ended cleanly");
        elapsed
    })
}

/// Holds its number as its state, and does nothing else.
struct Noop;

impl Actor for Noop {
    type Msg = ();
    type State = u64;
    type Arguments = u64;

    async fn pre_start(
        &self,
        _myself: ActorRef<()>,
        value: u64,
    ) -> Result<u64, ActorProcessingErr> {
        Ok(black_box(value))
    }
}

/// Spawn an actor (`Actor::spawn`, which returns once it has started), stop it, and await its
/// join handle, `n` times.
pub fn spawn_join_seq(n: u64) -> Duration {
    block_on(async move {
        let start = Instant::now();
        for i in 0..n {
            let (noop, ended) = Actor::spawn(None, Noop, i).await.expect("spawn the actor");
            noop.stop(None);
            ended.await.expect("the actor ended cleanly");
        }
        start.elapsed()
    })
}
