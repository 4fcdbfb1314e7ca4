//! The soak: many idle sync WebSockets and slow half-open HTTP connections held against a
//! server while phones sync, with `/healthz` timed throughout and the server's memory
//! sampled. Used by the `fieldcase-soak` binary (a release server process, full size) and
//! by a small end-to-end test (an in-process server).
//!
//! Every client connection comes from its own loopback address range (all of
//! 127.0.0.0/8 is loopback on Linux), at most [`PER_ADDRESS`] from one address, so the
//! server's limit per address does not refuse them: the WebSockets from 127.0.1.x, the slow
//! connections from 127.0.2.x, the `/healthz` probe from 127.0.3.1; the phones from
//! 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldcase_core::case::VisitInput;
use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{CaseStore, NewCase};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Client connections opened from one loopback address.
pub const PER_ADDRESS: usize = 100;

/// What to hold and for how long.
#[derive(Debug, Clone)]
pub struct Params {
    /// Idle sync WebSockets (joined, then silent).
    pub websockets: usize,
    /// Slow half-open HTTP connections, each reopened when the server closes it.
    pub slow: usize,
    /// Phones syncing while the load is held (usernames `{phone_prefix}0`, ...).
    pub phones: usize,
    pub phone_prefix: String,
    /// The account the WebSockets log in as.
    pub idle_user: String,
    pub password: String,
    /// Cases each phone creates, then edits, over `rounds` syncs.
    pub cases: usize,
    pub rounds: usize,
    /// The team the phones' cases belong to.
    pub team: String,
    /// How long the load is held in all (the phones start once it is up).
    pub hold: Duration,
    /// The process whose memory is sampled (`/proc/PID/status`).
    pub server_pid: u32,
}

/// What the soak saw.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub websockets_opened: usize,
    pub websockets_failed: usize,
    /// WebSockets still open at the end.
    pub websockets_held: usize,
    pub slow_opened: u64,
    /// Slow connections the server closed (its header timeout).
    pub slow_closed_by_server: u64,
    pub phones_done: usize,
    pub phone_errors: Vec<String>,
    pub phone_seconds_max: f64,
    pub cases_synced: usize,
    pub healthz_probes: usize,
    pub healthz_failed: usize,
    pub healthz_p50: Duration,
    pub healthz_p99: Duration,
    pub healthz_max: Duration,
    /// Server memory: the highest resident size sampled, and the kernel's high-water mark.
    pub rss_max_kib: u64,
    pub hwm_kib: u64,
    pub rss_end_kib: u64,
    pub seconds: f64,
}

impl Report {
    /// The figures as a table.
    pub fn table(&self, p: &Params) -> String {
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        let rows = [
            (
                "sync WebSockets held",
                format!(
                    "{} of {} opened ({} failed), {} still open at the end",
                    self.websockets_opened, p.websockets, self.websockets_failed, self.websockets_held
                ),
            ),
            (
                "slow half-open HTTP",
                format!(
                    "{} held; {} opened in all, {} closed by the server",
                    p.slow, self.slow_opened, self.slow_closed_by_server
                ),
            ),
            (
                "phones",
                format!(
                    "{} of {} finished ({} rounds x {} cases, {} case syncs), slowest {:.1} s, errors {}",
                    self.phones_done,
                    p.phones,
                    p.rounds,
                    p.cases,
                    self.cases_synced,
                    self.phone_seconds_max,
                    self.phone_errors.len()
                ),
            ),
            (
                "/healthz",
                format!(
                    "{} probes, {} failed or over 1 s; p50 {}, p99 {}, max {}",
                    self.healthz_probes,
                    self.healthz_failed,
                    ms(self.healthz_p50),
                    ms(self.healthz_p99),
                    ms(self.healthz_max)
                ),
            ),
            (
                "server memory",
                format!(
                    "RSS max {} MiB sampled, VmHWM {} MiB, {} MiB at the end",
                    self.rss_max_kib / 1024,
                    self.hwm_kib / 1024,
                    self.rss_end_kib / 1024
                ),
            ),
            ("duration", format!("{:.1} s", self.seconds)),
        ];
        let mut out = String::from("| measure | figure |\n| --- | --- |\n");
        for (k, v) in rows {
            out.push_str(&format!("| {k} | {v} |\n"));
        }
        out
    }
}

/// Resident size and high-water mark of `pid`, KiB.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The soft limit of open files of this process (`ulimit -n`).
pub fn open_files_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/self/limits")
        .ok()?
        .lines()
        .find(|l| l.starts_with("Max open files"))?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()
}

fn loopback(range: u8, i: usize) -> IpAddr {
    let n = i / PER_ADDRESS;
    IpAddr::V4(Ipv4Addr::new(127, 0, range, 1 + (n % 250) as u8))
}

async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    tokio::time::timeout(Duration::from_secs(10), socket.connect(to))
        .await
        .map_err(|_| std::io::Error::other("connect timed out"))?
}

/// A client frame: binary, masked (RFC 6455 5.3).
fn masked_binary(payload: &[u8]) -> Vec<u8> {
    let mask = [0x5a, 0x17, 0xc3, 0x2e];
    let mut out = vec![0x82];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n < 65_536 => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// Opens `/v1/sync`, joins, and waits for the server's `peer` frame.
async fn open_websocket(from: IpAddr, to: SocketAddr, token: &str) -> std::io::Result<TcpStream> {
    let mut s = connect_from(from, to).await?;
    let request = format!(
        "GET /v1/sync HTTP/1.1\r\nhost: {to}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\
         authorization: Bearer {token}\r\nfieldcase-schema: {schema}\r\n\r\n",
        schema = fieldcase_core::schema::SCHEMA_REVISION,
    );
    s.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Err(std::io::Error::other("closed during the upgrade"));
            }
            head.extend_from_slice(&buf[..n]);
        }
        if !head.starts_with(b"HTTP/1.1 101") {
            return Err(std::io::Error::other(format!(
                "upgrade refused: {}",
                String::from_utf8_lossy(&head).lines().next().unwrap_or("")
            )));
        }
        let join = Frame::Join {
            sender_id: "soak".into(),
            metadata: Default::default(),
            versions: None,
        };
        s.write_all(&masked_binary(&join.encode())).await?;
        // The peer frame (small; its bytes may follow the head in the same read).
        let after = head.len() - head.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) - 4;
        if after < 2 {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Err(std::io::Error::other("closed after the join"));
            }
        }
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .map_err(|_| std::io::Error::other("upgrade timed out"))??;
    Ok(s)
}

fn phone_work(
    url: &str,
    user: &str,
    p: &Params,
    dir: &std::path::Path,
) -> Result<(usize, Duration), String> {
    let store = CaseStore::open(dir.join(format!("{user}.sqlite")), &[7u8; 32])
        .map_err(|e| e.to_string())?;
    let token = store
        .login(url, user, &p.password, "soak phone")
        .map_err(|e| e.to_string())?
        .token;
    let started = Instant::now();
    let mut ids = Vec::new();
    for i in 0..p.cases {
        let mut c = NewCase {
            team: p.team.clone(),
            ..Default::default()
        };
        c.client.name = Some(format!("Nguyễn Thị Lan {i}"));
        ids.push(store.create_case(c).map_err(|e| e.to_string())?);
    }
    let mut synced = 0;
    for round in 0..p.rounds.max(1) {
        if round > 0 {
            for id in &ids {
                store
                    .update(id, |c, me, now| {
                        c.add_visit(
                            me,
                            now,
                            VisitInput {
                                note: Some("Thăm hộ gia đình: trẻ em cần hỗ trợ học tập.".into()),
                                ..Default::default()
                            },
                        )
                        .map(|_| ())
                    })
                    .map_err(|e| e.to_string())?;
            }
        }
        let r = store.sync(url, &token).map_err(|e| e.to_string())?;
        if let Some(e) = r.errors.first() {
            return Err(format!(
                "{user}: {} sync errors, first {e:?}",
                r.errors.len()
            ));
        }
        synced += r.sent;
    }
    Ok((synced, started.elapsed()))
}

/// Holds the load against the server at `url` (plain HTTP on loopback) and reports.
pub fn run(url: &str, p: &Params) -> Report {
    let to: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("a loopback http://ADDRESS:PORT");
    let started = Instant::now();
    let deadline = started + p.hold;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let stop = Arc::new(AtomicBool::new(false));
    let mut report = Report::default();

    // Memory, sampled throughout.
    let rss_max = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, rss_max, pid) = (stop.clone(), rss_max.clone(), p.server_pid);
        rt.spawn(async move {
            while !stop.load(Relaxed) {
                rss_max.fetch_max(memory_kib(pid).0, Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    // /healthz, ten times a second, each on a fresh connection.
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let failed = Arc::new(AtomicU64::new(0));
    let probe = {
        let (stop, latencies, failed) = (stop.clone(), latencies.clone(), failed.clone());
        rt.spawn(async move {
            while !stop.load(Relaxed) {
                let t = Instant::now();
                let answer = tokio::time::timeout(Duration::from_secs(5), async {
                    let mut s = connect_from(IpAddr::V4(Ipv4Addr::new(127, 0, 3, 1)), to).await?;
                    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                        .await?;
                    let mut body = Vec::new();
                    s.read_to_end(&mut body).await?;
                    Ok::<_, std::io::Error>(body)
                })
                .await;
                let took = t.elapsed();
                match answer {
                    Ok(Ok(b))
                        if b.starts_with(b"HTTP/1.1 200") && took <= Duration::from_secs(1) => {}
                    _ => {
                        failed.fetch_add(1, Relaxed);
                    }
                }
                latencies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(took);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    // The idle sync WebSockets, 64 handshakes at a time.
    let idle_dir = tempfile::tempdir().expect("temp dir");
    let idle = CaseStore::open(idle_dir.path().join("idle.sqlite"), &[3u8; 32]).expect("store");
    let token = idle
        .login(url, &p.idle_user, &p.password, "soak idle")
        .expect("idle login")
        .token;
    let held = Arc::new(AtomicU64::new(0));
    let (opened, ws_failed) = rt.block_on(async {
        let gate = Arc::new(tokio::sync::Semaphore::new(64));
        let mut opening = tokio::task::JoinSet::new();
        for i in 0..p.websockets {
            let (gate, token, held, stop) =
                (gate.clone(), token.clone(), held.clone(), stop.clone());
            opening.spawn(async move {
                let permit = gate.acquire_owned().await.expect("gate");
                let s = open_websocket(loopback(1, i), to, &token).await;
                drop(permit);
                let mut s = s?;
                held.fetch_add(1, Relaxed);
                tokio::spawn(async move {
                    let mut buf = [0u8; 256];
                    loop {
                        tokio::select! {
                            r = s.read(&mut buf) => if !matches!(r, Ok(n) if n > 0) { break },
                            _ = tokio::time::sleep(Duration::from_millis(250)) => {
                                if stop.load(Relaxed) { return }
                            }
                        }
                    }
                    held.fetch_sub(1, Relaxed);
                });
                Ok::<_, std::io::Error>(())
            });
        }
        let (mut ok, mut bad) = (0, 0);
        while let Some(r) = opening.join_next().await {
            match r {
                Ok(Ok(())) => ok += 1,
                Ok(Err(e)) => {
                    if bad == 0 {
                        eprintln!("a WebSocket failed: {e}");
                    }
                    bad += 1;
                }
                Err(_) => bad += 1,
            }
        }
        (ok, bad)
    });
    report.websockets_opened = opened;
    report.websockets_failed = ws_failed;

    // The slow half-open HTTP connections: a request's head, a header line a second, never
    // finished; reopened when the server closes them.
    let slow_opened = Arc::new(AtomicU64::new(0));
    let slow_closed = Arc::new(AtomicU64::new(0));
    for i in 0..p.slow {
        let (stop, opened, closed) = (stop.clone(), slow_opened.clone(), slow_closed.clone());
        rt.spawn(async move {
            while !stop.load(Relaxed) {
                let Ok(mut s) = connect_from(loopback(2, i), to).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                opened.fetch_add(1, Relaxed);
                if s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
                    .await
                    .is_err()
                {
                    continue;
                }
                let mut buf = [0u8; 256];
                while !stop.load(Relaxed) {
                    tokio::select! {
                        r = s.read(&mut buf) => if !matches!(r, Ok(n) if n > 0) {
                            closed.fetch_add(1, Relaxed);
                            break;
                        },
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {
                            if s.write_all(b"x-slow: 1\r\n").await.is_err() {
                                closed.fetch_add(1, Relaxed);
                                break;
                            }
                        }
                    }
                }
            }
        });
    }
    // Let the slow connections arrive before the phones start.
    std::thread::sleep(Duration::from_millis(500));

    // The phones.
    let phones_dir = tempfile::tempdir().expect("temp dir");
    let phones: Vec<_> = (0..p.phones)
        .map(|i| {
            let (url, p, dir) = (url.to_string(), p.clone(), phones_dir.path().to_path_buf());
            std::thread::spawn(move || {
                phone_work(&url, &format!("{}{i}", p.phone_prefix), &p, &dir)
            })
        })
        .collect();
    for h in phones {
        match h.join() {
            Ok(Ok((synced, took))) => {
                report.phones_done += 1;
                report.cases_synced += synced;
                report.phone_seconds_max = report.phone_seconds_max.max(took.as_secs_f64());
            }
            Ok(Err(e)) => report.phone_errors.push(e),
            Err(_) => report.phone_errors.push("a phone panicked".into()),
        }
    }

    // Hold the load for the rest of the time.
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    report.websockets_held = held.load(Relaxed) as usize;
    report.slow_opened = slow_opened.load(Relaxed);
    report.slow_closed_by_server = slow_closed.load(Relaxed);
    let (rss, hwm) = memory_kib(p.server_pid);
    report.rss_end_kib = rss;
    report.hwm_kib = hwm;
    stop.store(true, Relaxed);
    rt.block_on(async {
        let _ = probe.await;
        let _ = sampler.await;
    });
    report.rss_max_kib = rss_max.load(Relaxed).max(rss);
    let mut l = latencies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    l.sort();
    report.healthz_probes = l.len();
    report.healthz_failed = failed.load(Relaxed) as usize;
    if !l.is_empty() {
        let at = |q: f64| l[((l.len() as f64 - 1.0) * q).round() as usize];
        report.healthz_p50 = at(0.5);
        report.healthz_p99 = at(0.99);
        report.healthz_max = l[l.len() - 1];
    }
    report.seconds = started.elapsed().as_secs_f64();
    rt.shutdown_timeout(Duration::from_secs(2));
    report
}
