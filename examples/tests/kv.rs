//! The Redis-protocol example, driven by redis-cli (and socat for malformed input).

mod util;

use util::{client, example, ServerProcess};

/// Runs `redis-cli -p PORT ARGS...` and returns its output, trimmed.
fn redis_cli(port: u16, args: &[&str]) -> String {
    let port = port.to_string();
    let mut all = vec!["-p", port.as_str()];
    all.extend_from_slice(args);
    let out = client("redis-cli", &all, b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_owned()
}

#[test]
#[cfg_attr(
    not(has_redis_cli),
    ignore = "needs redis-cli (apt-get install redis-tools)"
)]
fn redis_cli_sets_gets_increments_and_deletes() {
    let server = ServerProcess::start(&example("kv"));
    let port = server.port;
    assert_eq!(redis_cli(port, &["PING"]), "PONG");
    assert_eq!(redis_cli(port, &["SET", "greeting", "hello world"]), "OK");
    assert_eq!(redis_cli(port, &["GET", "greeting"]), "hello world");
    assert_eq!(redis_cli(port, &["INCR", "visits"]), "1");
    assert_eq!(redis_cli(port, &["INCR", "visits"]), "2");
    assert!(redis_cli(port, &["INCR", "greeting"]).contains("not an integer"));
    assert_eq!(
        redis_cli(port, &["EXISTS", "greeting", "visits", "nothing"]),
        "2"
    );
    assert_eq!(redis_cli(port, &["DEL", "greeting", "nothing"]), "1");
    assert_eq!(redis_cli(port, &["GET", "greeting"]), "");
    assert_eq!(redis_cli(port, &["DBSIZE"]), "1");
    assert!(redis_cli(port, &["FLY"]).contains("unknown command"));
    assert_eq!(server.interrupt(), Some(130));
}

#[test]
#[cfg_attr(
    not(has_redis_cli),
    ignore = "needs redis-cli (apt-get install redis-tools)"
)]
fn redis_cli_pipes_many_commands_over_one_connection() {
    let server = ServerProcess::start(&example("kv"));
    let port = server.port.to_string();
    let mut script = String::new();
    for i in 0..500 {
        script.push_str(&format!("SET key{i} value{i}\nINCR counter\n"));
    }
    script.push_str("GET key499\nGET counter\n");
    let out = client("redis-cli", &["-p", &port], script.as_bytes());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1002, "{text}");
    assert_eq!(lines[1000..], ["value499", "500"]);
}

#[test]
#[cfg_attr(
    not(all(has_socat, has_redis_cli)),
    ignore = "needs socat and redis-cli (apt-get install socat redis-tools)"
)]
fn malformed_protocol_gets_an_error_and_the_server_goes_on() {
    let server = ServerProcess::start(&example("kv"));
    let target = format!("TCP:127.0.0.1:{}", server.port);
    let out = client(
        "socat",
        &["-t", "5", "-T", "10", "-", &target],
        b"*2\r\n$3\r\nGET\r\n:oops\r\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("-ERR Protocol error"), "{text}");
    assert_eq!(redis_cli(server.port, &["PING"]), "PONG");
}

#[test]
#[cfg_attr(
    not(has_redis_cli),
    ignore = "needs redis-cli (apt-get install redis-tools)"
)]
fn redis_cli_on_two_dispatchers_sees_one_store() {
    let server = ServerProcess::start_with(&example("kv"), &["--threads", "2"]);
    let port = server.port;
    // Each redis-cli is a connection of its own, served by either dispatcher: over 20 pairs, a
    // SET and the GET after it are served by different dispatchers many times.
    for i in 0..20 {
        let (key, value) = (format!("key{i}"), format!("value {i}"));
        assert_eq!(redis_cli(port, &["SET", &key, &value]), "OK");
        assert_eq!(redis_cli(port, &["GET", &key]), value);
    }
    // 16 connections at once, incrementing one counter: no increment is lost.
    let incrementers: Vec<_> = (0..16)
        .map(|_| std::thread::spawn(move || redis_cli(port, &["INCR", "counter"])))
        .collect();
    for incrementer in incrementers {
        let answer: i64 = incrementer.join().unwrap().parse().unwrap();
        assert!((1..=16).contains(&answer), "{answer}");
    }
    assert_eq!(redis_cli(port, &["GET", "counter"]), "16");
    assert_eq!(redis_cli(port, &["DBSIZE"]), "21");
    assert_eq!(server.interrupt(), Some(130));
}
