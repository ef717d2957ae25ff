//! The pinned TLS client against the real server over real TLS: the right pins connect;
//! wrong pins fail as `PinMismatch` before the request leaves the client; a wrong CA or
//! host name is a certificate error, not a pin mismatch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use canopy_core::provisioning::Provisioning;
use canopy_server::{demo, server, tls as server_tls};
use canopy_sync::{ServerClient, SyncError};
use data_encoding::BASE64;

struct Running {
    _dir: tempfile::TempDir,
    files: demo::DemoFiles,
    provisioning: Provisioning,
    _server: server::RunningServer,
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let files = demo::ensure_files(dir.path()).unwrap();
    // On every loopback address, so a name the certificate doesn't carry reaches it too.
    let config = files.config(SocketAddr::from(([0, 0, 0, 0], 0)));
    let running = server::start(&config).await.unwrap();
    let url = format!("https://localhost:{}", running.addr.port());
    let provisioning = demo::write_provisioning(&files, &url).unwrap();
    Running {
        _dir: dir,
        files,
        provisioning,
        _server: running,
    }
}

fn random_pin(byte: u8) -> String {
    BASE64.encode(&[byte; 32])
}

#[tokio::test]
async fn the_right_pins_connect_in_any_order_and_wrong_ones_never_do() {
    let r = start().await;
    let [current, backup] = r.files.pins.clone();
    let cases: &[(&str, Vec<String>, Option<&str>)] = &[
        (
            "current and backup",
            vec![current.clone(), backup.clone()],
            None,
        ),
        (
            "backup listed first",
            vec![backup.clone(), current.clone()],
            None,
        ),
        (
            "current among strangers",
            vec![random_pin(1), random_pin(2), current.clone()],
            None,
        ),
        (
            "only the backup (not yet deployed)",
            vec![backup.clone(), random_pin(3)],
            Some("pin"),
        ),
        (
            "strangers only",
            vec![random_pin(4), random_pin(5)],
            Some("pin"),
        ),
    ];
    for (name, pins, failure) in cases {
        let mut p = r.provisioning.clone();
        p.pins = pins.clone();
        let result = ServerClient::new(&p).unwrap().health().await;
        match (failure, result) {
            (None, Ok(())) => {}
            (Some(_), Err(SyncError::PinMismatch)) => {}
            (_, other) => panic!("{name}: {other:?}"),
        }
    }
    let err = SyncError::PinMismatch;
    assert!(!err.is_retryable(), "an attack is not a network hiccup");
    assert!(err.to_string().starts_with("security warning"));
}

#[tokio::test]
async fn a_certificate_error_is_not_a_pin_mismatch_and_a_closed_port_is_retryable() {
    let r = start().await;
    // A CA that did not issue the server's certificate.
    let other = tempfile::tempdir().unwrap();
    let other_files = demo::ensure_files(other.path()).unwrap();
    let mut wrong_ca = r.provisioning.clone();
    wrong_ca.ca_pem = Some(std::fs::read_to_string(&other_files.ca_cert).unwrap());
    let err = ServerClient::new(&wrong_ca)
        .unwrap()
        .health()
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Certificate(_)), "{err:?}");
    assert!(!err.is_retryable());

    // The right pins at an address the certificate does not name (it names localhost,
    // 127.0.0.1 and ::1).
    let mut wrong_name = r.provisioning.clone();
    wrong_name.server_url = wrong_name.server_url.replace("localhost", "127.0.0.2");
    let err = ServerClient::new(&wrong_name)
        .unwrap()
        .health()
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Certificate(_)), "{err:?}");

    // Nobody listening: offline, try later.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut nowhere = r.provisioning.clone();
    nowhere.server_url = format!("https://localhost:{port}");
    let err = ServerClient::new(&nowhere)
        .unwrap()
        .health()
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Unreachable(_)), "{err:?}");
    assert!(err.is_retryable());
}

/// A bare TLS server with the demo certificate that records every plaintext byte it gets.
fn recording_server(files: &demo::DemoFiles) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    let config = server_tls::server_config(&files.server_cert, &files.server_key).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut received = Vec::new();
        loop {
            match conn.complete_io(&mut tcp) {
                Ok((0, 0)) | Err(_) => break,
                Ok(_) => {
                    let mut chunk = Vec::new();
                    let _ = conn.reader().read_to_end(&mut chunk);
                    received.extend(chunk);
                    if received.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
        received
    });
    (port, handle)
}

#[tokio::test]
async fn on_a_pin_mismatch_not_even_the_request_path_is_sent() {
    let r = start().await;
    // Control: with the right pins, the recording server does see the request.
    let (port, seen) = recording_server(&r.files);
    let mut p = r.provisioning.clone();
    p.server_url = format!("https://localhost:{port}");
    let client = ServerClient::new(&p).unwrap();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), client.health()).await;
    let received = String::from_utf8_lossy(&seen.join().unwrap()).into_owned();
    assert!(received.starts_with("GET /v1/health"), "{received:?}");

    // Wrong pins: the handshake is refused and not one byte of the request arrives.
    let (port, seen) = recording_server(&r.files);
    p.server_url = format!("https://localhost:{port}");
    p.pins = vec![random_pin(8), random_pin(9)];
    let err = ServerClient::new(&p).unwrap().health().await.unwrap_err();
    assert!(matches!(err, SyncError::PinMismatch), "{err:?}");
    assert!(seen.join().unwrap().is_empty());
}
