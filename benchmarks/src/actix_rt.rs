//! The one-core message workloads on actix: typed actors (`Actor`, `Handler`, `Addr`) on an
//! actix `System`, written as actix's README and examples write them. A `System` runs its
//! actors on the thread that made it: actix-rt's runtime is tokio's current-thread runtime with
//! a `LocalSet` (`System::new()` builds it with tokio's defaults, `enable_all`), and `start`
//! spawns the actor there with `spawn_local`. Each workload makes its own `System` and runs on
//! it with `SystemRunner::block_on`, as the README's first example does.

use std::hint::black_box;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

/// What the ponger receives: the count so far.
#[derive(Message)]
#[rtype(result = "()")]
struct Ping(u64);

/// What the pinger receives back: the count plus one.
#[derive(Message)]
#[rtype(result = "()")]
struct Pong(u64);

/// Tells the pinger to start, and where to send the time the round trips took.
#[derive(Message)]
#[rtype(result = "()")]
struct Start(oneshot::Sender<Duration>);

/// Answers each `Ping(n)` with `Pong(n + 1)` to the pinger.
struct Ponger {
    pinger: Addr<Pinger>,
}

impl Actor for Ponger {
    type Context = Context<Self>;
}

impl Handler<Ping> for Ponger {
    type Result = ();

    fn handle(&mut self, Ping(n): Ping, _ctx: &mut Context<Self>) {
        self.pinger.do_send(Pong(n + 1));
    }
}

/// Sends `Ping`s to the ponger, one at a time, until `rounds` `Pong`s have come back.
struct Pinger {
    ponger: Addr<Ponger>,
    rounds: u64,
    start: Instant,
    done: Option<oneshot::Sender<Duration>>,
}

impl Pinger {
    fn finish(&mut self, ctx: &mut Context<Self>) {
        let elapsed = self.start.elapsed();
        let _ = self.done.take().expect("started").send(elapsed);
        // Its address is the ponger's only one: the ponger stops once the pinger has.
        ctx.stop();
    }
}

impl Actor for Pinger {
    type Context = Context<Self>;
}

impl Handler<Start> for Pinger {
    type Result = ();

    fn handle(&mut self, Start(done): Start, ctx: &mut Context<Self>) {
        self.done = Some(done);
        self.start = Instant::now();
        if self.rounds == 0 {
            self.finish(ctx);
        } else {
            self.ponger.do_send(Ping(0));
        }
    }
}

impl Handler<Pong> for Pinger {
    type Result = ();

    fn handle(&mut self, Pong(n): Pong, ctx: &mut Context<Self>) {
        if black_box(n) == self.rounds {
            self.finish(ctx);
        } else {
            self.ponger.do_send(Ping(n));
        }
    }
}

/// `n` round trips of a message between two actors (`do_send` to each other's `Addr`), timed
/// by the pinger from its first `Ping` to the last `Pong`. The two are made as the README's
/// ping example makes a pair that know each other's addresses (`Actor::create`).
pub fn ping_pong(n: u64) -> Duration {
    System::new().block_on(async move {
        let pinger = Pinger::create(move |ctx| Pinger {
            ponger: Ponger {
                pinger: ctx.address(),
            }
            .start(),
            rounds: n,
            start: Instant::now(),
            done: None,
        });
        let (done, elapsed) = oneshot::channel();
        pinger.do_send(Start(done));
        elapsed.await.expect("the pinger answered")
    })
}

/// A request answered with its number plus one.
#[derive(Message)]
#[rtype(result = "u64")]
struct Add(u64);

/// Answers `Add(n)` with `n + 1`.
struct Adder;

impl Actor for Adder {
    type Context = Context<Self>;
}

impl Handler<Add> for Adder {
    type Result = u64;

    fn handle(&mut self, Add(n): Add, _ctx: &mut Context<Self>) -> u64 {
        n + 1
    }
}

/// `n` requests answered by a reply (`Addr::send(..).await`), one after the other.
pub fn call_reply(n: u64) -> Duration {
    System::new().block_on(async move {
        let adder = Adder.start();
        let start = Instant::now();
        for i in 0..n {
            black_box(adder.send(Add(i)).await.expect("the adder answered"));
        }
        start.elapsed()
    })
}

/// Tells an actor to stop (`Context::stop` in its handler).
#[derive(Message)]
#[rtype(result = "()")]
struct Stop;

/// Holds its number, and sends it where it was told when it has stopped (actix's `Addr` has no
/// join: `stopped` is the hook that runs when the actor has ended).
struct Noop {
    value: u64,
    stopped: Option<oneshot::Sender<u64>>,
}

impl Actor for Noop {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.send(self.value);
        }
    }
}

impl Handler<Stop> for Noop {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Start an actor, stop it, and wait until it has stopped, `n` times.
pub fn spawn_join_seq(n: u64) -> Duration {
    System::new().block_on(async move {
        let start = Instant::now();
        for i in 0..n {
            let (stopped, value) = oneshot::channel();
            let noop = Noop {
                value: i,
                stopped: Some(stopped),
            }
            .start();
            noop.do_send(Stop);
            black_box(value.await.expect("the actor stopped"));
        }
        start.elapsed()
    })
}
