//! HTTPS with rustls, used unchanged over a concurrence `TcpStream`: the std `Read`/`Write`
//! traits are all a synchronous TLS crate needs, and each connection's tasklet suspends in the
//! socket calls rustls makes.
//!
//! `cargo run --example https -- ADDRESS CERT.pem KEY.pem`, then
//! `curl --cacert CERT.pem https://...`. It answers every request with a greeting and closes.

use std::io::{Read, Write};
use std::sync::Arc;

use concurrence::net::{Server, TcpStream};
use concurrence::{dispatch, ExitStatus};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// Reads the request head over TLS and answers it.
fn serve(config: &Arc<ServerConfig>, stream: TcpStream) -> std::io::Result<()> {
    let connection = ServerConnection::new(config.clone()).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(connection, stream);
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut chunk)?; // the handshake happens here, in this tasklet
        if n == 0 || request.len() > 64 * 1024 {
            return Ok(());
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let body = b"Hello over TLS\n";
    write!(
        tls,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    tls.write_all(body)?;
    tls.conn.send_close_notify();
    tls.flush()
}

fn main() -> ExitStatus {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(cert), Some(key)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: https ADDRESS CERT.pem KEY.pem");
        std::process::exit(2);
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .and_then(|certs| certs.collect())
        .expect("read the certificate chain");
    let key = PrivateKeyDer::from_pem_file(&key).expect("read the private key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .expect("a TLS configuration");
    let config = Arc::new(config);
    dispatch(move || {
        let server = Server::serve(addr, move |stream| {
            if let Err(err) = serve(&config, stream) {
                log::info!("https: connection ended: {err}");
            }
        })
        .expect("bind the https server");
        println!("https server listening on {}", server.local_addr());
    })
}
