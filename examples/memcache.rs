//! Many tasklets sharing one memcached client (a pool of connections): each sets, reads back
//! and increments its own keys.
//!
//! `cargo run --example memcache -- [ADDRESS] [TASKLETS]` against a
//! running memcached (default 127.0.0.1:11211, 100 tasklets).

use std::rc::Rc;
use std::time::Duration;

use concurrence::{dispatch, join_all, spawn, ExitStatus};
use concurrence_examples::memcache::Client;

fn main() -> ExitStatus {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:11211".to_owned())
        .parse()
        .expect("ADDRESS is ip:port");
    let tasklets: usize = args
        .next()
        .map_or(100, |n| n.parse().expect("TASKLETS is a number"));
    dispatch(move || {
        let client = Rc::new(Client::new(addr, 8, Duration::from_secs(5)));
        let workers: Vec<_> = (0..tasklets)
            .map(|i| {
                let client = client.clone();
                spawn(move || -> std::io::Result<()> {
                    let key = format!("demo:{i}");
                    client.set(&key, format!("value {i}").as_bytes())?;
                    assert_eq!(client.get(&key)?, Some(format!("value {i}").into_bytes()));
                    client.set(&format!("{key}:n"), b"0")?;
                    client.incr(&format!("{key}:n"), 5)?;
                    Ok(())
                })
            })
            .collect();
        let failed = join_all(&workers)
            .into_iter()
            .filter(|r| !matches!(r, Ok(Ok(()))))
            .count();
        println!("{tasklets} tasklets, {failed} failed");
    })
}
