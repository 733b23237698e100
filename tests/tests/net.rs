//! Sockets suspend only their tasklet: echo over TCP, UDP and Unix sockets, timeouts, kills of
//! tasklets blocked in accept, read and write, a reader and a writer on one socket, closed and
//! reset peers, and no descriptor left behind.

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use concurrence::net::{
    Server, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream,
};
use concurrence::{join_all, sleep, spawn, yield_, Builder};
use concurrence_tests::{is_child, open_fds, run, run_child};

/// Echoes every connection of `listener` in a tasklet of its own until the client closes.
fn echo_server(listener: TcpListener) {
    loop {
        let (stream, _) = listener.accept().unwrap();
        spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match (&stream).read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if (&stream).write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
}

#[test]
fn a_hundred_clients_each_get_their_own_bytes_echoed_and_no_descriptor_is_left() {
    // In a child process of its own: the descriptor count is the whole process's.
    const NAME: &str =
        "a_hundred_clients_each_get_their_own_bytes_echoed_and_no_descriptor_is_left";
    if !is_child(NAME) {
        let out = run_child(NAME);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    run(|| {
        let baseline = open_fds();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Builder::new()
            .daemon(true)
            .spawn(move || echo_server(listener));
        let clients: Vec<_> = (0..100u32)
            .map(|i| {
                spawn(move || {
                    let mut stream = TcpStream::connect(addr).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_secs(10)))
                        .unwrap();
                    let message = format!("client {i} says hello {}", "x".repeat(i as usize * 50));
                    for _ in 0..3 {
                        stream.write_all(message.as_bytes()).unwrap();
                        let mut back = vec![0u8; message.len()];
                        stream.read_exact(&mut back).unwrap();
                        assert_eq!(back, message.as_bytes());
                        yield_();
                    }
                })
            })
            .collect();
        for result in join_all(&clients) {
            result.unwrap();
        }
        server.kill();
        sleep(Duration::from_millis(20)); // the connection tasklets see their clients close
        assert_eq!(open_fds(), baseline, "every socket was closed");
    });
}

#[test]
fn killing_a_tasklet_blocked_in_accept_or_read_closes_nothing_it_does_not_own() {
    run(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = std::rc::Rc::new(listener);
        let l = listener.clone();
        let acceptor = spawn(move || l.accept().map(|_| ()));
        yield_();
        acceptor.kill();
        assert!(acceptor.join().unwrap_err().is_killed());
        // The listener still works for the next accept.
        let client = spawn(move || TcpStream::connect(addr).unwrap());
        let (server_side, _) = listener.accept_timeout(Duration::from_secs(10)).unwrap();
        let client_side = client.join().unwrap();
        let server_side = std::rc::Rc::new(server_side);
        let s = server_side.clone();
        let reader = spawn(move || (&*s).read(&mut [0u8; 8]));
        yield_();
        reader.kill();
        assert!(reader.join().unwrap_err().is_killed());
        (&client_side).write_all(b"still open").unwrap();
        let mut buf = [0u8; 10];
        (&*server_side).read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"still open");
    });
}

#[test]
fn killing_a_tasklet_blocked_in_a_write_to_a_full_socket_unblocks_nothing_else() {
    run(|| {
        let (a, b) = UnixStream::pair().unwrap();
        let a = std::rc::Rc::new(a);
        let w = a.clone();
        let writer = spawn(move || loop {
            (&*w).write_all(&[0u8; 65536]).unwrap(); // fills the buffer, then waits
        });
        sleep(Duration::from_millis(20));
        assert!(!writer.has_finished());
        writer.kill();
        assert!(writer.join().unwrap_err().is_killed());
        // Drain what was written; the socket is intact.
        b.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut drained = 0;
        let mut buf = [0u8; 65536];
        loop {
            match (&b).read(&mut buf) {
                Ok(n) => drained += n,
                Err(err) if err.kind() == ErrorKind::TimedOut => break,
                Err(err) => panic!("{err}"),
            }
        }
        assert!(drained > 0);
        (&*a).write_all(b"after").unwrap();
    });
}

#[test]
fn a_reader_and_a_writer_tasklet_share_one_stream() {
    run(|| {
        let (left, right) = UnixStream::pair().unwrap();
        let left = std::rc::Rc::new(left);
        let (r, w) = (left.clone(), left.clone());
        let reader = spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 1000];
            while got.len() < 100_000 {
                let n = (&*r).read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            got.len()
        });
        let writer = spawn(move || {
            for _ in 0..100 {
                (&*w).write_all(&[1u8; 1000]).unwrap();
            }
        });
        // The other end echoes everything back.
        let mut buf = [0u8; 4096];
        let mut echoed = 0;
        while echoed < 100_000 {
            let n = (&right).read(&mut buf).unwrap();
            (&right).write_all(&buf[..n]).unwrap();
            echoed += n;
        }
        writer.join().unwrap();
        assert_eq!(reader.join().unwrap(), 100_000);
    });
}

#[test]
fn a_read_past_its_timeout_fails_with_timed_out_while_others_run() {
    run(|| {
        let (a, _b) = UnixStream::pair().unwrap();
        a.set_read_timeout(Some(Duration::from_millis(30))).unwrap();
        let ticks = std::rc::Rc::new(std::cell::Cell::new(0));
        let t = ticks.clone();
        let ticker = spawn(move || loop {
            sleep(Duration::from_millis(5));
            t.set(t.get() + 1);
        });
        let start = Instant::now();
        let err = (&a).read(&mut [0u8; 4]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert!(
            ticks.get() >= 2,
            "the others ran meanwhile: {}",
            ticks.get()
        );
        ticker.kill();
        assert_eq!(
            a.set_read_timeout(Some(Duration::ZERO)).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    });
}

#[test]
fn a_closed_peer_reads_as_the_end_and_a_reset_one_fails_writes() {
    run(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = spawn(move || {
            let stream = TcpStream::connect(addr).unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
            stream
        });
        let (server_side, _) = listener.accept().unwrap();
        let client_side = client.join().unwrap();
        assert_eq!(
            (&server_side).read(&mut [0u8; 4]).unwrap(),
            0,
            "end of stream"
        );
        drop(client_side); // closed with nothing read: the peer resets
        let mut failed = None;
        for _ in 0..100 {
            if let Err(err) = (&server_side).write_all(&[0u8; 1024]) {
                failed = Some(err);
                break;
            }
            sleep(Duration::from_millis(1));
        }
        let err = failed.expect("writes to a closed peer fail");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
            ),
            "{err:?}"
        );
    });
}

#[test]
fn two_tasklets_accept_from_clones_of_one_listener() {
    run(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let clone = listener.try_clone().unwrap();
        let acceptors: Vec<_> = [listener, clone]
            .into_iter()
            .map(|l| spawn(move || l.accept().map(|(s, _)| s).unwrap()))
            .collect();
        yield_(); // both wait in accept on the same socket
        let clients: Vec<_> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let accepted = join_all(&acceptors);
        assert!(
            accepted.iter().all(Result::is_ok),
            "each took one connection"
        );
        drop(clients);
    });
}

#[test]
fn connecting_to_a_closed_port_fails_with_refused() {
    run(|| {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        }; // closed again
        let err = TcpStream::connect(("127.0.0.1", port)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn host_names_are_resolved_without_blocking_the_dispatcher() {
    run(|| {
        let listener = TcpListener::bind("localhost:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = spawn(move || TcpStream::connect(("localhost".to_string(), port)).unwrap());
        let (_server_side, peer) = listener.accept().unwrap();
        assert!(peer.ip().is_loopback());
        client.join().unwrap();
    });
}

#[test]
fn udp_and_unix_datagrams_go_both_ways() {
    run(|| {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let echo = spawn(move || {
            let mut buf = [0u8; 64];
            for _ in 0..3 {
                let (n, from) = server.recv_from(&mut buf).unwrap();
                server.send_to(&buf[..n], from).unwrap();
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(addr).unwrap();
        for word in ["a", "bb", "ccc"] {
            client.send(word.as_bytes()).unwrap();
            let mut buf = [0u8; 64];
            let n = client.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], word.as_bytes());
        }
        echo.join().unwrap();

        let (a, b) = UnixDatagram::pair().unwrap();
        let receiver = spawn(move || {
            let mut buf = [0u8; 16];
            let n = b.recv(&mut buf).unwrap();
            buf[..n].to_vec()
        });
        yield_();
        a.send(b"dgram").unwrap();
        assert_eq!(receiver.join().unwrap(), b"dgram");
    });
}

#[test]
fn a_unix_listener_accepts_connections_from_tasklets() {
    run(|| {
        let dir = std::env::temp_dir().join(format!("concurrence-net-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let path = dir.join("sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let p = path.clone();
        let client = spawn(move || {
            let mut s = UnixStream::connect(&p).unwrap();
            s.write_all(b"over unix").unwrap();
        });
        let (mut conn, _) = listener.accept_timeout(Duration::from_secs(10)).unwrap();
        let mut got = String::new();
        conn.read_to_string(&mut got).unwrap();
        assert_eq!(got, "over unix");
        client.join().unwrap();
        let err = listener
            .accept_timeout(Duration::from_millis(10))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

#[test]
fn outside_a_dispatcher_the_sockets_block_the_thread_as_std_ones_do() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        s.write_all(b"late").unwrap();
    });
    let (mut conn, _) = listener.accept().unwrap();
    let mut buf = [0u8; 4];
    conn.read_exact(&mut buf).unwrap(); // waits with poll(2)
    assert_eq!(&buf, b"late");
    peer.join().unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    assert_eq!(conn.read(&mut buf).unwrap(), 0, "the peer closed");
}

#[test]
fn a_server_names_connections_after_their_peer_limits_them_and_stops_cleanly() {
    run(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let names = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let closed = std::rc::Rc::new(std::cell::Cell::new(0));
        let (n, c) = (names.clone(), closed.clone());
        let server = Server::serve_with(listener, 2, move |stream: TcpStream| {
            n.borrow_mut()
                .push(concurrence::current().name().to_owned());
            struct Closed(std::rc::Rc<std::cell::Cell<u32>>);
            impl Drop for Closed {
                fn drop(&mut self) {
                    self.0.set(self.0.get() + 1);
                }
            }
            let _closed = Closed(c.clone());
            let mut buf = [0u8; 16];
            while let Ok(k) = (&stream).read(&mut buf) {
                if k == 0 {
                    break;
                }
            }
        });
        let addr = server.local_addr();
        let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let start = Instant::now();
        while server.connections() < 2 && start.elapsed() < Duration::from_secs(10) {
            sleep(Duration::from_millis(5));
        }
        sleep(Duration::from_millis(50)); // a third would have been accepted by now
        assert_eq!(server.connections(), 2, "the third waits in the backlog");
        let local = clients[0].local_addr().unwrap().to_string();
        assert!(
            names.borrow().contains(&local),
            "{:?} has {local}",
            names.borrow()
        );
        drop(clients); // all three close: the third is served and ends at once
        let start = Instant::now();
        while (server.connections() > 0 || names.borrow().len() < 3)
            && start.elapsed() < Duration::from_secs(10)
        {
            sleep(Duration::from_millis(5));
        }
        assert_eq!(server.connections(), 0);
        assert_eq!(names.borrow().len(), 3);
        let mut open = TcpStream::connect(addr).unwrap();
        let start = Instant::now();
        while server.connections() < 1 && start.elapsed() < Duration::from_secs(10) {
            sleep(Duration::from_millis(5));
        }
        assert_eq!(server.connections(), 1);
        server.stop();
        assert_eq!(server.connections(), 0);
        assert_eq!(closed.get(), 4, "every handler unwound");
        assert!(server.acceptor().has_finished());
        open.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(
            open.read(&mut [0u8; 4]).unwrap(),
            0,
            "the server closed its side"
        );
        assert!(TcpStream::connect(addr).is_err(), "the listener is closed");
    });
}

/// Raises this process's open-files soft limit to its hard limit; returns the limit.
fn raise_fd_limit() -> usize {
    // SAFETY: getrlimit/setrlimit with a valid resource and a struct of ours.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur as usize
    }
}

#[test]
fn ten_thousand_concurrent_connections_are_echoed_within_the_open_files_limit() {
    const NAME: &str = "ten_thousand_concurrent_connections_are_echoed_within_the_open_files_limit";
    if !is_child(NAME) {
        let out = run_child(NAME);
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    // Both ends live in this process: two descriptors a connection.
    let n = 10_000.min(raise_fd_limit().saturating_sub(300) / 2);
    println!("{n} connections");
    run(move || {
        let baseline = open_fds();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // A deep accept queue, so that the burst of connects is not retried by TCP.
        // SAFETY: listen(2) again on our listening socket only changes its backlog.
        unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&listener), 4096) };
        let server = Server::serve_with(listener, n + 16, |stream: TcpStream| {
            let mut buf = [0u8; 64];
            while let Ok(k @ 1..) = (&stream).read(&mut buf) {
                if (&stream).write_all(&buf[..k]).is_err() {
                    break;
                }
            }
        });
        let addr = server.local_addr();
        let connected = std::rc::Rc::new(std::cell::Cell::new(0usize));
        let release: concurrence::Mailbox<()> = concurrence::Mailbox::new();
        let clients: Vec<_> = (0..n)
            .map(|i| {
                let (connected, release) = (connected.clone(), release.clone());
                Builder::new().stack_size(64 * 1024).spawn(move || {
                    let mut stream = TcpStream::connect(addr).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_secs(30)))
                        .unwrap();
                    let message = format!("{i:>12}");
                    stream.write_all(message.as_bytes()).unwrap();
                    let mut back = [0u8; 12];
                    stream.read_exact(&mut back).unwrap();
                    assert_eq!(&back, message.as_bytes());
                    connected.set(connected.get() + 1);
                    release.popleft(); // every connection is open at once
                    stream.write_all(b"bye").unwrap();
                    stream.read_exact(&mut back[..3]).unwrap();
                    assert_eq!(&back[..3], b"bye");
                })
            })
            .collect();
        let start = Instant::now();
        while connected.get() < n {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{} of {n} connected",
                connected.get()
            );
            sleep(Duration::from_millis(10));
        }
        assert_eq!(server.connections(), n);
        for _ in 0..n {
            release.append(()).unwrap();
        }
        for result in join_all(&clients) {
            result.unwrap();
        }
        server.stop();
        assert_eq!(open_fds(), baseline, "every socket was closed");
    });
}

#[test]
fn killing_a_tasklet_blocked_in_connect_and_a_connect_timeout_leave_no_descriptor() {
    const NAME: &str =
        "killing_a_tasklet_blocked_in_connect_and_a_connect_timeout_leave_no_descriptor";
    if !is_child(NAME) {
        let out = run_child(NAME);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    run(|| {
        // A listener that never accepts, with the smallest backlog: once it is full, the SYN of
        // a further connect is dropped and the connect waits.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        // SAFETY: listen(2) again on our listening socket only changes its backlog.
        unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&listener), 0) };
        let addr = listener.local_addr().unwrap();
        let mut fillers = Vec::new();
        let baseline;
        loop {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(stream) => fillers.push(stream),
                Err(err) => {
                    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
                    baseline = open_fds();
                    break;
                }
            }
            assert!(fillers.len() < 64, "the backlog never filled");
        }
        let connector = spawn(move || TcpStream::connect(addr));
        sleep(Duration::from_millis(50));
        assert!(!connector.has_finished(), "the connect waits");
        connector.kill();
        assert!(connector.join().unwrap_err().is_killed());
        assert_eq!(
            open_fds(),
            baseline,
            "the killed connect's socket was closed"
        );
    });
}

/// What a registered clone's operation must do after `into_std` on another handle of its open
/// file description: time out by its own timeout, within a second, and not block the thread.
/// `op` is the clone's operation (it times out once first, so the clone is registered);
/// `into_std` converts the other handle and returns a probe of the std value (its error kind
/// on an operation that would wait); `unblock` runs on a thread 1.5 s later and would end `op`
/// if it blocked the thread. Returns what went wrong.
fn clone_survives_into_std(
    what: &str,
    op: impl Fn() -> std::io::Result<()>,
    into_std: impl FnOnce() -> std::io::Result<Box<dyn FnOnce() -> ErrorKind>>,
    unblock: impl FnOnce() + Send + 'static,
) -> Option<String> {
    let err = op().expect_err("nothing to do yet");
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{what}: {err}");
    let probe = into_std().unwrap();
    let unblocker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        unblock();
    });
    let start = Instant::now();
    let result = op();
    let took = start.elapsed();
    let failure = match result {
        Err(err) if err.kind() == ErrorKind::TimedOut && took < Duration::from_secs(1) => {
            match probe() {
                ErrorKind::WouldBlock => None,
                kind => Some(format!(
                    "{what}: the std value is not non-blocking: {kind:?}"
                )),
            }
        }
        other => Some(format!(
            "{what}: the clone's operation gave {other:?} after {took:?} instead of timing out"
        )),
    };
    unblocker.join().unwrap();
    failure
}

#[test]
fn into_std_leaves_registered_clones_non_blocking_for_every_socket_type() {
    use std::os::unix::net as stdunix;
    const TIMEOUT: Duration = Duration::from_millis(200);
    run(|| {
        let mut failures = Vec::new();

        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(std_listener.local_addr().unwrap()).unwrap();
        let (peer, _) = std_listener.accept().unwrap();
        let clone = stream.try_clone().unwrap();
        clone.set_read_timeout(Some(TIMEOUT)).unwrap();
        failures.extend(clone_survives_into_std(
            "TcpStream",
            || (&clone).read(&mut [0u8]).map(drop),
            || {
                let mut s = stream.into_std()?;
                Ok(Box::new(move || s.read(&mut [0u8]).unwrap_err().kind()))
            },
            move || (&peer).write_all(&[1]).unwrap(),
        ));

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let clone = listener.try_clone().unwrap();
        failures.extend(clone_survives_into_std(
            "TcpListener",
            || clone.accept_timeout(TIMEOUT).map(drop),
            || {
                let l = listener.into_std()?;
                Ok(Box::new(move || l.accept().unwrap_err().kind()))
            },
            move || drop(std::net::TcpStream::connect(addr).unwrap()),
        ));

        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let clone = socket.try_clone().unwrap();
        clone.set_read_timeout(Some(TIMEOUT)).unwrap();
        failures.extend(clone_survives_into_std(
            "UdpSocket",
            || clone.recv(&mut [0u8]).map(drop),
            || {
                let s = socket.into_std()?;
                Ok(Box::new(move || s.recv(&mut [0u8]).unwrap_err().kind()))
            },
            move || {
                let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                sender.send_to(&[1], addr).unwrap();
            },
        ));

        let (a, peer) = stdunix::UnixStream::pair().unwrap();
        let stream = UnixStream::from_std(a).unwrap();
        let clone = stream.try_clone().unwrap();
        clone.set_read_timeout(Some(TIMEOUT)).unwrap();
        failures.extend(clone_survives_into_std(
            "UnixStream",
            || (&clone).read(&mut [0u8]).map(drop),
            || {
                let mut s = stream.into_std()?;
                Ok(Box::new(move || s.read(&mut [0u8]).unwrap_err().kind()))
            },
            move || (&peer).write_all(&[1]).unwrap(),
        ));

        let (a, peer) = stdunix::UnixDatagram::pair().unwrap();
        // No `try_clone` here: both handles come from a std clone.
        let clone = UnixDatagram::from_std(a.try_clone().unwrap()).unwrap();
        let socket = UnixDatagram::from_std(a).unwrap();
        clone.set_read_timeout(Some(TIMEOUT)).unwrap();
        failures.extend(clone_survives_into_std(
            "UnixDatagram",
            || clone.recv(&mut [0u8]).map(drop),
            || {
                let s = socket.into_std()?;
                Ok(Box::new(move || s.recv(&mut [0u8]).unwrap_err().kind()))
            },
            move || assert_eq!(peer.send(&[1]).unwrap(), 1),
        ));

        let path =
            std::env::temp_dir().join(format!("concurrence-into-std-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let clone = listener.try_clone().unwrap();
        let connect_to = path.clone();
        failures.extend(clone_survives_into_std(
            "UnixListener",
            || clone.accept_timeout(TIMEOUT).map(drop),
            || {
                let l = listener.into_std()?;
                Ok(Box::new(move || l.accept().unwrap_err().kind()))
            },
            move || drop(stdunix::UnixStream::connect(connect_to).unwrap()),
        ));
        let _ = std::fs::remove_file(&path);

        assert!(failures.is_empty(), "{failures:#?}");
    });
}
