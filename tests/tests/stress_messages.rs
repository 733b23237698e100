//! A seeded random mix of sends (blocking, bounded, failing), receives (plain, selective, with
//! timeouts), calls, channel hand-offs and kills among tasklets with small mailboxes, checked
//! for the invariants: the dispatcher ends normally, every message is either received or given
//! back or dropped with its mailbox (its token is dropped exactly once), and every call gets its
//! own answer or an error that fits.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use concurrence::{
    message, receive_matching_timeout, receive_timeout, sleep, tasklet, yield_, CallError, Channel,
    Tasklet,
};
use concurrence_tests::{run, DropCounter, Rng, Token};

message!(MSG_TOKEN(Token), MSG_ECHO(u64) -> u64);

/// A random duration below `max` microseconds.
fn micros(rng: &Rng, max: u64) -> Duration {
    Duration::from_micros(rng.below(max))
}

type Nodes = Rc<RefCell<Vec<Tasklet<(), NodeMsg>>>>;

/// What every node shares.
#[derive(Clone)]
struct World {
    rng: Rng,
    nodes: Nodes,
    channel: Channel<Token>,
    made: Arc<AtomicUsize>,
    drops: DropCounter,
}

impl World {
    fn token(&self) -> Token {
        self.made.fetch_add(1, Ordering::SeqCst);
        self.drops.token()
    }

    fn pick(&self) -> Option<Tasklet<(), NodeMsg>> {
        let nodes = self.nodes.borrow();
        (!nodes.is_empty()).then(|| nodes[self.rng.below(nodes.len() as u64) as usize].clone())
    }
}

/// Answers an echo, or drops a token.
fn handle(msg: NodeMsg) {
    match msg {
        NodeMsg::MSG_TOKEN(MSG_TOKEN(token)) => drop(token),
        NodeMsg::MSG_ECHO(MSG_ECHO(n, reply)) => reply.reply(n),
    }
}

#[tasklet(receives(MSG_TOKEN, MSG_ECHO))]
fn node(world: World) {
    let rng = world.rng.clone();
    for _ in 0..30 {
        match rng.below(10) {
            0 => {
                if let Some(to) = world.pick() {
                    // Whatever fails gives the token back; it is dropped here. The long wait is
                    // bounded too: two tasklets sending to each other's full mailboxes (or one to
                    // its own) would otherwise wait for ever, which the dispatcher reports as a
                    // deadlock.
                    let _ = match rng.below(3) {
                        0 => MSG_TOKEN::try_send(&to)(world.token()),
                        1 => MSG_TOKEN::send_timeout(&to, micros(&rng, 2000))(world.token()),
                        _ => MSG_TOKEN::send_timeout(&to, Duration::from_millis(50))(world.token()),
                    };
                }
            }
            1 | 2 => {
                if let Ok(msg) = receive_timeout::<NodeMsg>(micros(&rng, 2000)) {
                    handle(msg);
                }
            }
            3 => {
                if let Some(to) = world.pick() {
                    let n = rng.below(1_000_000);
                    match MSG_ECHO::call_timeout(&to, micros(&rng, 3000))(n) {
                        Ok(answer) => assert_eq!(answer, n),
                        Err(err) => assert!(
                            matches!(
                                err,
                                CallError::Finished { .. }
                                    | CallError::NoReply { .. }
                                    | CallError::TimedOut { .. }
                                    | CallError::CalledSelf { .. }
                            ),
                            "{err}"
                        ),
                    }
                }
            }
            4 => {
                let echo = |m: &NodeMsg| matches!(m, NodeMsg::MSG_ECHO(_));
                if let Ok(msg) = receive_matching_timeout(echo, micros(&rng, 2000)) {
                    handle(msg);
                }
            }
            5 if rng.below(4) == 0 => {
                if let Some(victim) = world.pick() {
                    victim.kill();
                }
            }
            6 => {
                let _ = world
                    .channel
                    .send_timeout(world.token(), micros(&rng, 2000));
            }
            7 => {
                let _ = world.channel.receive_timeout(micros(&rng, 2000));
            }
            8 => sleep(micros(&rng, 1000)),
            _ => yield_(),
        }
    }
}

fn stress(seed: u64) {
    let made = Arc::new(AtomicUsize::new(0));
    let drops = DropCounter::new();
    let (made_seen, drops_seen) = (made.clone(), drops.clone());
    run(move || {
        let world = World {
            rng: Rng::new(seed),
            nodes: Rc::new(RefCell::new(Vec::new())),
            channel: Channel::new(),
            made,
            drops,
        };
        for _ in 0..60 {
            let max = 1 + world.rng.below(4) as usize;
            let node = Node::new().max_mailbox_len(max).spawn(world.clone());
            world.nodes.borrow_mut().push(node);
        }
        let nodes: Vec<_> = world.nodes.borrow().clone();
        for node in &nodes {
            if let Err(err) = node.join() {
                assert!(err.is_killed(), "{node}: {err}");
            }
        }
        assert!(!world.channel.has_sender() && !world.channel.has_receiver());
    });
    let made = made_seen.load(Ordering::SeqCst);
    assert!(made > 100, "seed {seed}: only {made} tokens were made");
    assert_eq!(
        drops_seen.count(),
        made,
        "seed {seed}: a message was lost or dropped twice"
    );
}

#[test]
fn random_mix_of_messaging_operations_keeps_the_invariants() {
    for seed in [1, 7, 42, 2026, 31337] {
        stress(seed);
    }
}
