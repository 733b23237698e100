//! `Server::serve_on_all`: one address served by every dispatcher of the program, each
//! connection on the dispatcher that accepted it; a stop ends every connection on every
//! dispatcher, and a handler's panic on one dispatcher leaves the others serving.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use concurrence::net::{Server, TcpStream};
use concurrence::{current_dispatcher, Dispatcher};
use concurrence_tests::{run_with, DropCounter};

/// Two dispatchers, SIGINT left alone.
fn two() -> Dispatcher {
    Dispatcher::new().threads(2).handle_sigint(false)
}

/// The handler of these tests: it sends the number of its dispatcher, then echoes what it
/// reads until the client closes; a read that holds `panic` makes it panic.
fn announce_and_echo(stream: TcpStream) {
    let me = current_dispatcher();
    if (&stream).write_all(&[me as u8]).is_err() {
        return;
    }
    let mut buf = [0u8; 64];
    while let Ok(n @ 1..) = (&stream).read(&mut buf) {
        assert_eq!(current_dispatcher(), me, "a connection never moves");
        if buf[..n].windows(5).any(|w| w == b"panic") {
            panic!("the handler fails on dispatcher {me}");
        }
        if (&stream).write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// Connects to `server` until it holds `each` connections served by each of the two
/// dispatchers (the kernel picks the listener: by a hash of the addresses); returns them by
/// dispatcher. Fails after 400 connections.
fn connections_on_both(server: &Server, each: usize) -> [Vec<TcpStream>; 2] {
    let mut by_dispatcher: [Vec<TcpStream>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..400 {
        if by_dispatcher.iter().all(|c| c.len() >= each) {
            break;
        }
        let mut client = TcpStream::connect(server.local_addr()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut which = [0u8; 1];
        client.read_exact(&mut which).unwrap();
        let list = &mut by_dispatcher[usize::from(which[0])];
        if list.len() < each {
            list.push(client);
        }
    }
    assert!(
        by_dispatcher.iter().all(|c| c.len() >= each),
        "400 connections did not reach both dispatchers: {} and {}",
        by_dispatcher[0].len(),
        by_dispatcher[1].len()
    );
    by_dispatcher
}

/// Waits (at most 10 s) until `server` counts `n` connections.
fn wait_for_connections(server: &Server, n: usize) {
    let start = Instant::now();
    while server.connections() != n && start.elapsed() < Duration::from_secs(10) {
        concurrence::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.connections(), n);
}

/// Whether `client` sees `bytes` echoed back.
fn echoes(client: &mut TcpStream, bytes: &[u8]) -> bool {
    let mut back = vec![0u8; bytes.len()];
    client.write_all(bytes).is_ok() && client.read_exact(&mut back).is_ok() && back == bytes
}

#[test]
fn a_stop_on_two_dispatchers_ends_every_connection_and_lets_the_program_end() {
    let ended = DropCounter::new();
    let counter = ended.clone();
    run_with(two(), move || {
        let server = Server::serve_on_all("127.0.0.1:0", move |stream: TcpStream| {
            let _ended = counter.token(); // dropped when the connection's tasklet ends
            announce_and_echo(stream);
        })
        .unwrap();
        let [mut on_0, mut on_1] = connections_on_both(&server, 3);
        assert!(echoes(&mut on_0[0], b"zero") && echoes(&mut on_1[0], b"one"));
        wait_for_connections(&server, 6);
        let before = ended.count();
        server.stop();
        assert_eq!(
            ended.count() - before,
            6,
            "every connection tasklet, on both dispatchers, unwound before stop returned"
        );
        assert_eq!(server.connections(), 0);
        for mut client in on_0.into_iter().chain(on_1) {
            assert_eq!(client.read(&mut [0u8; 8]).unwrap(), 0, "the server closed");
        }
        assert!(
            TcpStream::connect(server.local_addr()).is_err(),
            "no dispatcher listens any more"
        );
    }); // returns: no tasklet of the server is left on either dispatcher
}

#[test]
fn a_handler_panicking_on_dispatcher_1_leaves_the_connections_on_dispatcher_0_served() {
    run_with(two(), || {
        let server = Server::serve_on_all("127.0.0.1:0", announce_and_echo).unwrap();
        let [mut on_0, mut on_1] = connections_on_both(&server, 2);
        assert!(echoes(&mut on_0[0], b"before"));
        on_1[0].write_all(b"panic").unwrap();
        let mut rest = Vec::new();
        match on_1[0].read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "nothing echoed: {rest:?}"),
            Err(err) => assert_eq!(
                err.kind(),
                std::io::ErrorKind::ConnectionReset,
                "the panicking connection closed (not a timeout)"
            ),
        }
        wait_for_connections(&server, 3);
        assert!(echoes(&mut on_0[0], b"after"), "dispatcher 0 serves on");
        assert!(echoes(&mut on_0[1], b"after"), "dispatcher 0 serves on");
        assert!(echoes(&mut on_1[1], b"after"), "and so does dispatcher 1");
        let [mut again_0, mut again_1] = connections_on_both(&server, 1);
        assert!(echoes(&mut again_0[0], b"new") && echoes(&mut again_1[0], b"new"));
        server.stop();
    });
}
