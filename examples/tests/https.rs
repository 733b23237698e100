//! The HTTPS example (rustls over a concurrence TcpStream), driven by curl with a certificate
//! that openssl makes for the test.

mod util;

use std::process::Command;

use util::{client, example, ServerProcess};

#[test]
#[cfg_attr(
    not(all(has_openssl, has_curl)),
    ignore = "needs openssl and curl (apt-get install openssl curl)"
)]
fn curl_gets_a_greeting_over_tls_from_rustls_on_a_tasklet_socket() {
    let dir = std::env::temp_dir().join(format!("concurrence-https-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed (scripts/test installs it)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let server = ServerProcess::start_with(
        &example("https"),
        &[cert.to_str().unwrap(), key.to_str().unwrap()],
    );
    let url = format!("https://127.0.0.1:{}/", server.port);
    for _ in 0..3 {
        let out = client(
            "curl",
            &[
                "-sS",
                "--max-time",
                "10",
                "--cacert",
                cert.to_str().unwrap(),
                &url,
            ],
            b"",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, b"Hello over TLS\n");
    }
    // Without the certificate, curl refuses: it really is TLS with that certificate.
    let out = client("curl", &["-sS", "--max-time", "10", &url], b"");
    assert!(!out.status.success());
    assert_eq!(server.interrupt(), Some(130));
    let _ = std::fs::remove_dir_all(&dir);
}
