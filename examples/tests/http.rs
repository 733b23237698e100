//! The HTTP example, driven by curl (and socat for raw pipelined and malformed requests).

mod util;

use util::{client, example, ServerProcess};

fn url(port: u16, path: &str) -> String {
    format!("http://127.0.0.1:{port}{path}")
}

/// curl GETs `/` (hello) and POSTs to `/echo` (the body comes back) on the server at `port`.
fn curl_get_and_post(port: u16) {
    let out = client("curl", &["-sS", "--max-time", "10", &url(port, "/")], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"Hello, World!\n");
    let out = client(
        "curl",
        &[
            "-sS",
            "--max-time",
            "10",
            "--data-binary",
            "@-",
            &url(port, "/echo"),
        ],
        b"posted body",
    );
    assert_eq!(out.stdout, b"posted body");
}

#[test]
#[cfg_attr(not(has_curl), ignore = "needs curl (apt-get install curl)")]
fn curl_gets_hello_and_posts_are_echoed() {
    let server = ServerProcess::start(&example("http"));
    curl_get_and_post(server.port);
    let out = client(
        "curl",
        &[
            "-sS",
            "--max-time",
            "10",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &url(server.port, "/nope"),
        ],
        b"",
    );
    assert_eq!(out.stdout, b"404");
    assert_eq!(server.interrupt(), Some(130));
}

#[test]
#[cfg_attr(not(has_curl), ignore = "needs curl (apt-get install curl)")]
fn curl_reuses_one_keep_alive_connection_for_several_requests() {
    let server = ServerProcess::start(&example("http"));
    let u = url(server.port, "/");
    let out = client("curl", &["-sS", "-v", "--max-time", "10", &u, &u, &u], b"");
    assert!(out.status.success());
    assert_eq!(out.stdout, b"Hello, World!\n".repeat(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reused = stderr.matches("existing connection").count();
    assert!(reused >= 2, "curl reused the connection twice: {stderr}");
    assert_eq!(stderr.matches("Connected to").count(), 1, "{stderr}");
}

#[test]
#[cfg_attr(not(has_socat), ignore = "needs socat (apt-get install socat)")]
fn pipelined_requests_are_answered_in_order_on_one_connection() {
    let server = ServerProcess::start(&example("http"));
    let requests = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\
POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst\
GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let target = format!("TCP:127.0.0.1:{}", server.port);
    let out = client("socat", &["-t", "5", "-T", "10", "-", &target], requests);
    let text = String::from_utf8_lossy(&out.stdout);
    // Bodies have no line end of their own: find each status line wherever it starts.
    let statuses: Vec<&str> = text
        .match_indices("HTTP/1.1 ")
        .map(|(at, _)| text[at..].lines().next().unwrap_or(""))
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 200 OK",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 404 Not Found"
        ],
        "{text}"
    );
    assert!(text.contains("Hello, World!"), "{text}");
    assert!(text.contains("\r\n\r\nfirst"), "{text}");
}

#[test]
#[cfg_attr(
    not(all(has_socat, has_curl)),
    ignore = "needs socat and curl (apt-get install socat curl)"
)]
fn a_malformed_request_gets_400_and_the_server_goes_on() {
    let server = ServerProcess::start(&example("http"));
    let target = format!("TCP:127.0.0.1:{}", server.port);
    let out = client(
        "socat",
        &["-t", "5", "-T", "10", "-", &target],
        b"NOT HTTP AT ALL\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/1.1 400 Bad Request"), "{text}");
    let out = client(
        "curl",
        &["-sS", "--max-time", "10", &url(server.port, "/")],
        b"",
    );
    assert_eq!(out.stdout, b"Hello, World!\n");
}

#[test]
#[cfg_attr(
    not(all(has_socat, has_curl)),
    ignore = "needs socat and curl (apt-get install socat curl)"
)]
fn a_client_that_disconnects_mid_request_leaves_the_server_serving() {
    let server = ServerProcess::start(&example("http"));
    let target = format!("TCP:127.0.0.1:{}", server.port);
    for _ in 0..5 {
        // Half a request, then the client goes away.
        let out = client(
            "socat",
            &["-t", "1", "-T", "5", "-", &target],
            b"GET / HTTP/1.1\r\nHo",
        );
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = client(
        "curl",
        &["-sS", "--max-time", "10", &url(server.port, "/")],
        b"",
    );
    assert_eq!(out.stdout, b"Hello, World!\n");
    assert_eq!(server.interrupt(), Some(130));
}

#[test]
#[cfg_attr(not(has_curl), ignore = "needs curl (apt-get install curl)")]
fn an_idle_client_is_disconnected_after_the_read_timeout() {
    use std::io::Read;
    let server = ServerProcess::start_with(&example("http"), &["200"]);
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    slow.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let start = std::time::Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(
        slow.read(&mut buf).unwrap(),
        0,
        "the server closed the idle connection"
    );
    let waited = start.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(150),
        "{waited:?}"
    );
    let out = client(
        "curl",
        &["-sS", "--max-time", "10", &url(server.port, "/")],
        b"",
    );
    assert_eq!(out.stdout, b"Hello, World!\n");
}

#[test]
#[cfg_attr(not(has_curl), ignore = "needs curl (apt-get install curl)")]
fn curl_is_answered_by_both_dispatchers_with_threads_2() {
    let server = ServerProcess::start_with(&example("http"), &["--threads", "2"]);
    curl_get_and_post(server.port);
    // Rounds of 16 concurrent requests, each on a connection of its own, until both dispatchers
    // have answered (the kernel spreads the connections: a round misses one with odds 2^-15).
    let u = url(server.port, "/dispatcher");
    let mut args = vec![
        "-sS",
        "--max-time",
        "10",
        "--parallel",
        "--parallel-max",
        "16",
    ];
    args.extend(["-H", "Connection: close"]);
    args.extend(std::iter::repeat_n(u.as_str(), 16));
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..5 {
        let out = client("curl", &args, b"");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let answers: Vec<&str> = text.lines().collect();
        assert_eq!(answers.len(), 16, "every request was answered: {text:?}");
        seen.extend(answers.iter().map(|a| a.to_string()));
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["0", "1"],
        "connections were served on both dispatchers, and only there"
    );
    // Stopped with a keep-alive connection open: SIGINT ends both dispatchers.
    let _open = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    assert_eq!(server.interrupt(), Some(130));
}
