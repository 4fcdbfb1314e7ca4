//! Connection limits and timeouts (`fieldcase_server::listen`): clients that connect and
//! send nothing, or send slowly, or open too many connections, cannot take the server's
//! sockets from everyone else.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use fieldcase_core::sync::protocol::Frame;
use fieldcase_server::Db;
use fieldcase_tests::{raw, TestServer};
use tungstenite::Message;

fn addr(server: &TestServer) -> SocketAddr {
    server
        .url
        .rsplit('/')
        .next()
        .and_then(|a| a.parse().ok())
        .expect("the server's address")
}

/// Test settings changed by `f`.
fn config(f: impl FnOnce(&mut fieldcase_server::Config)) -> fieldcase_server::Config {
    let mut c = fieldcase_server::Config::default();
    f(&mut c);
    c
}

/// A connection to `to` from the loopback address `from` (all of 127.0.0.0/8 is loopback).
fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(from)), 0))
            .expect("bind");
        let stream = socket.connect(to).await.expect("connect");
        let stream = stream.into_std().expect("std stream");
        stream.set_nonblocking(false).expect("blocking");
        stream
    })
}

/// Reads until the server closes the connection (or `limit` passes): what it sent, and
/// whether it closed.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, bool) {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (String::from_utf8_lossy(&got).into(), false);
        }
        s.set_read_timeout(Some(left)).expect("timeout");
        match s.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (String::from_utf8_lossy(&got).into(), false)
            }
            // Reset by the server: closed.
            Err(_) => return (String::from_utf8_lossy(&got).into(), true),
        }
    }
}

/// The value of one line of `/metrics`.
fn metric(server: &TestServer, name: &str) -> u64 {
    let text = server.metrics();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// `GET /healthz` on a fresh connection from `from`: the status line.
fn healthz_from(from: [u8; 4], to: SocketAddr) -> String {
    let mut s = connect_from(from, to);
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .expect("write");
    let (answer, _) = read_until_closed(&mut s, Duration::from_secs(5));
    answer.lines().next().unwrap_or_default().to_string()
}

#[test]
fn half_sent_requests_and_silent_connections_are_closed_after_the_header_timeout() {
    let server =
        TestServer::start_with(config(|c| c.limits.header_timeout = Duration::from_secs(1)));
    let to = addr(&server);
    let started = Instant::now();
    let mut half = Vec::new();
    for i in 0..20u8 {
        let mut s = connect_from([127, 0, 0, 1 + i % 4], to);
        if i % 2 == 0 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ")
                .expect("write");
        }
        half.push(s);
    }
    for s in &mut half {
        let (answer, closed) = read_until_closed(s, Duration::from_secs(5));
        assert!(closed, "still open after {:?}", started.elapsed());
        assert!(!answer.contains("200 OK"), "{answer}");
    }
    assert!(started.elapsed() < Duration::from_secs(4));
    let metrics = server.metrics();
    assert!(
        metrics.contains("fieldcase_http_timeouts_total{kind=\"header\"} 20"),
        "{metrics}"
    );
    assert_eq!(healthz_from([127, 0, 0, 1], to), "HTTP/1.1 200 OK");
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let server =
        TestServer::start_with(config(|c| c.limits.header_timeout = Duration::from_secs(1)));
    let mut s = connect_from([127, 0, 0, 1], addr(&server));
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("write");
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(closed, "an idle keep-alive connection stayed open");
    let idle = started.elapsed();
    assert!(
        idle >= Duration::from_millis(900) && idle < Duration::from_secs(4),
        "{idle:?}"
    );
}

#[test]
fn a_slow_request_body_is_cut() {
    let server = TestServer::start_with(config(|c| {
        c.limits.header_timeout = Duration::from_secs(1);
        c.limits.request_timeout = Duration::from_secs(2);
    }));
    let mut s = connect_from([127, 0, 0, 1], addr(&server));
    s.write_all(
        format!(
            "POST /v1/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             fieldcase-schema: {}\r\ncontent-length: 1000\r\n\r\n{{\"username\":",
            fieldcase_core::schema::SCHEMA_REVISION
        )
        .as_bytes(),
    )
    .expect("write");
    let started = Instant::now();
    // A byte every 200 ms: never idle for long, never finished.
    let mut answer = String::new();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(6) {
        if s.write_all(b" ").is_err() {
            break;
        }
        let (got, c) = read_until_closed(&mut s, Duration::from_millis(200));
        answer.push_str(&got);
        if c {
            closed = true;
            break;
        }
    }
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        closed || read_until_closed(&mut s, Duration::from_secs(2)).1,
        "the connection stayed open"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(server
        .metrics()
        .contains("fieldcase_http_timeouts_total{kind=\"request\"} 1"));
}

#[test]
fn connections_over_the_per_address_limit_are_refused_while_other_addresses_are_served() {
    let server = TestServer::start_with(config(|c| c.limits.max_connections_per_address = 4));
    let to = addr(&server);
    let held: Vec<TcpStream> = (0..4).map(|_| connect_from([127, 0, 0, 7], to)).collect();
    for _ in 0..3 {
        let mut over = connect_from([127, 0, 0, 7], to);
        let _ = over.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
        let (answer, closed) = read_until_closed(&mut over, Duration::from_secs(2));
        assert!(closed, "a connection over the limit was kept");
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 503"),
            "{answer}"
        );
    }
    assert_eq!(healthz_from([127, 0, 0, 8], to), "HTTP/1.1 200 OK");
    // Places come back when connections close.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    while healthz_from([127, 0, 0, 7], to) != "HTTP/1.1 200 OK" {
        assert!(Instant::now() < deadline, "the address stayed refused");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Three, and any refused while the server had not yet seen the held ones close.
    let refused = metric(
        &server,
        "fieldcase_connections_refused_total{reason=\"per_address\"}",
    );
    assert!(refused >= 3, "{refused}");
}

#[test]
fn the_total_connection_limit_holds_and_frees_places_as_connections_close() {
    let server = TestServer::start_with(config(|c| c.limits.max_connections = 6));
    let to = addr(&server);
    let mut held: Vec<TcpStream> = (0..6u8)
        .map(|i| connect_from([127, 0, 1, 1 + i], to))
        .collect();
    // Accepted in order: the server has seen all six before the next arrives.
    std::thread::sleep(Duration::from_millis(200));
    let mut over = connect_from([127, 0, 1, 100], to);
    let (_, closed) = read_until_closed(&mut over, Duration::from_secs(2));
    assert!(closed, "a connection over the total limit was kept");
    held.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    while healthz_from([127, 0, 1, 101], to) != "HTTP/1.1 200 OK" {
        assert!(Instant::now() < deadline, "no place came back");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(held);
    let refused = metric(
        &server,
        "fieldcase_connections_refused_total{reason=\"total\"}",
    );
    assert!(refused >= 1, "{refused}");
}

#[test]
fn a_sync_websocket_outlives_the_request_timeout_and_closes_when_idle() {
    let server = TestServer::start_with(config(|c| {
        c.limits.header_timeout = Duration::from_secs(1);
        c.limits.request_timeout = Duration::from_secs(1);
        c.limits.sync_idle_timeout = Duration::from_secs(3);
    }));
    let (_, token, _p) = server.phone("anna");
    let mut ws = raw::open(&server, &token).expect("upgrade");
    // Past the header and request timeouts, messages within the idle timeout: still served.
    std::thread::sleep(Duration::from_millis(1500));
    let join = Frame::Join {
        sender_id: "raw".into(),
        metadata: Default::default(),
        versions: None,
    };
    ws.send(Message::Binary(join.encode().into()))
        .expect("send");
    assert!(matches!(raw::next(&mut ws), Some(Frame::Peer { .. })));
    std::thread::sleep(Duration::from_secs(2));
    ws.send(Message::Ping(b"still here".to_vec().into()))
        .expect("ping");
    assert!(matches!(ws.read(), Ok(Message::Pong(_))));
    // Then silence: closed by the server.
    let started = Instant::now();
    assert!(raw::next(&mut ws).is_none());
    let idle = started.elapsed();
    assert!(
        idle >= Duration::from_secs(2) && idle < Duration::from_secs(6),
        "{idle:?}"
    );
    assert!(server
        .metrics()
        .contains("fieldcase_sync_idle_closed_total 1"));
}

#[test]
fn a_tls_connection_that_never_finishes_its_handshake_is_closed() {
    let server =
        TestServer::start_tls_with(config(|c| c.limits.header_timeout = Duration::from_secs(1)));
    let to = addr(&server);
    let mut silent = connect_from([127, 0, 0, 1], to);
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(5));
    assert!(closed && started.elapsed() < Duration::from_secs(4));
    // And the server still serves phones over TLS.
    let (_, token, _p) = server.phone("anna");
    assert_eq!(token.len(), 64);
}

#[test]
fn a_small_soak_keeps_healthz_fast_while_phones_sync() {
    // The full size runs as `fieldcase-soak` (README); this is the same load, small.
    let server =
        TestServer::start_with(config(|c| c.limits.header_timeout = Duration::from_secs(2)));
    for user in ["idle", "soak0", "soak1", "soak2", "soak3"] {
        server
            .db
            .add_user(
                user,
                user,
                fieldcase_core::Role::Worker,
                Some("north"),
                fieldcase_tests::PASSWORD,
                fieldcase_tests::ITERATIONS,
            )
            .unwrap();
    }
    let params = fieldcase_tests::soak::Params {
        websockets: 200,
        slow: 100,
        phones: 4,
        phone_prefix: "soak".into(),
        idle_user: "idle".into(),
        password: fieldcase_tests::PASSWORD.into(),
        cases: 5,
        rounds: 2,
        team: "north".into(),
        hold: Duration::from_secs(6),
        server_pid: std::process::id(),
    };
    let report = fieldcase_tests::soak::run(&server.url, &params);
    let table = report.table(&params);
    assert_eq!(report.phones_done, 4, "{table}\n{:?}", report.phone_errors);
    assert_eq!(report.cases_synced, 4 * 5 * 2, "{table}");
    assert_eq!(
        (report.websockets_opened, report.websockets_held),
        (200, 200),
        "{table}"
    );
    assert!(
        report.healthz_probes >= 20 && report.healthz_failed == 0,
        "{table}"
    );
    assert!(report.slow_closed_by_server >= 100, "{table}");
}
