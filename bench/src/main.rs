//! fieldcase-bench: the same scenarios, one server at a time, driven by one automerge-repo
//! client, beside the cost of automerge alone. `bash bench/run.sh` builds it, pins it and
//! writes `bench/RESULTS.md`; see there for what each scenario does.
//!
//! ```sh
//! fieldcase-bench [--docs 10000] [--conns 32] [--fetchers 64] [--phones 100] [--per-phone 50]
//!                 [--clients 500] [--big-edits 100000] [--settle 300] [--deadline 1200]
//!                 [--servers fieldcase,fieldcase-pg,fieldcase-pg2,js,samod] [--out FILE]
//!                 [--keep-db FILE] [--s1-only]
//! ```
//! `fieldcase-pg` is fieldcase-server on PostgreSQL, `fieldcase-pg2` two instances on one
//! PostgreSQL database with the clients split between them (S1 to S3 only, each then
//! read back from the database); the run starts a PostgreSQL cluster of its own
//! (`pg.rs`). `--keep-db` copies fieldcase's SQLite file as the run left it.
//!
//! Everything is bounded: each document has 20 s (pings do not extend it), and each
//! scenario `--deadline` seconds: a lane takes no new document once it has passed, and the
//! table says "did not finish: N of M in T s". A server whose S1 did not finish runs no
//! further scenario. The run stops by itself.

mod pg;
mod servers;
mod wire;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ChangeHash, ReadDoc, ROOT};
use fieldcase_core::case::{IntakeInput, VisitInput};
use fieldcase_core::{Author, CaseDoc, CaseId, NewCase, Role};
use fieldcase_server::db::accounts::{AccountRows, NewUserRow};
use fieldcase_server::db::keys::KeySource;
use fieldcase_server::{Db, PostgresDb, SqliteDb};

use servers::{Kind, Server};
use wire::Conn;

const PASSWORD: &str = "benchmark password";
const SERVER_CORE: &str = "0";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn arg_str(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// The sizes of a run.
#[derive(Debug, Clone, Copy)]
struct Plan {
    docs: usize,
    conns: usize,
    fetchers: usize,
    phones: usize,
    per_phone: usize,
    clients: usize,
    big_edits: usize,
    settle: u64,
    /// Seconds a scenario may take before its lanes take no new document.
    deadline: u64,
    /// S1 alone (then the server stops; the disk it used is measured).
    s1_only: bool,
}

impl Plan {
    /// When a scenario starting now must stop taking new documents.
    fn until(&self) -> Instant {
        Instant::now() + Duration::from_secs(self.deadline)
    }
}

/// A user of the run: who writes, with which actor, and (on fieldcase) its token.
#[derive(Debug, Clone)]
struct Writer {
    actor: ActorId,
    author: Author,
    token: Option<String>,
}

/// One document of the run, as its writer made it.
#[derive(Debug, Clone)]
struct Doc {
    id: String,
    bytes: Vec<u8>,
    heads: Vec<ChangeHash>,
}

/// A document a client fetched: its id, saved bytes and encoded sync state.
type Fetched = (String, Vec<u8>, Vec<u8>);

/// Outcome of one scenario on one server.
#[derive(Debug, Clone, Default)]
struct Outcome {
    docs: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    bytes: u64,
    errors: usize,
    peak_mib: f64,
    /// Server CPU time (user and system) spent in the scenario, ms per document.
    cpu_ms_per_doc: f64,
    /// Time the server spent sealing and opening cases (AES-256-GCM) in the scenario,
    /// seconds, as it counts it (`Server::sealing_seconds`); `None`: not measured.
    sealing_seconds: Option<f64>,
    /// Documents never tried: the scenario's deadline passed first.
    untried: usize,
    /// Documents the scenario meant to sync.
    planned: usize,
    note: String,
}

impl Outcome {
    /// Encryption's cost in the scenario: ms a case, its share of the server's CPU time
    /// (on one core, an upper bound of the throughput it costs), and its share of the
    /// scenario's time.
    fn sealing(&self) -> Option<String> {
        let s = self.sealing_seconds?;
        let cpu = self.cpu_ms_per_doc * self.docs as f64 / 1000.0;
        Some(format!(
            "{:.3} ms a case, {:.1} % of server CPU, {:.1} % of the scenario's time",
            s * 1000.0 / self.docs.max(1) as f64,
            if cpu > 0.0 { 100.0 * s / cpu } else { 0.0 },
            if self.seconds > 0.0 {
                100.0 * s / self.seconds
            } else {
                0.0
            },
        ))
    }

    /// Sets the sealing time spent since `before` ([`Server::sealing_seconds`]).
    fn sealed_since(&mut self, server: &Server, before: Option<f64>) {
        self.sealing_seconds = before.zip(server.sealing_seconds()).map(|(a, b)| b - a);
    }

    /// "did not finish: N of M in T s" when the deadline cut the scenario short.
    fn unfinished(&self) -> Option<String> {
        (self.untried > 0).then(|| {
            format!(
                "did not finish: {} of {} in {:.0} s",
                self.docs, self.planned, self.seconds
            )
        })
    }

    fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.docs as f64 / self.seconds
        } else {
            0.0
        }
    }
}

fn percentile_ms(times: &mut [Duration], p: f64) -> f64 {
    if times.is_empty() {
        return 0.0;
    }
    times.sort();
    times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The letters of the clients' names: Thai, Persian, Russian, Ukrainian and Vietnamese.
const ALPHABETS: [&str; 5] = [
    "กขคงจฉชซดตถทนบปผพฟมยรลวสหอ",
    "ابپتجچحخدرزسشعفقکگلمنوهی",
    "абвгдежзиклмнопрстуфхцчшэюя",
    "абвгґдежзиклмнопрстуфхцчшщюяєії",
    "abcdeghiklmnopqrstuvxyăâđêôơư",
];

/// Client `i`'s name: two words of six letters of one script, drawn from a fixed LCG, so
/// that no two cases are the same person to the duplicate check (names four letters or
/// fewer apart would be proposed as possible duplicates, each pair a stored row; the
/// "name" plus a number of earlier runs made every case a possible duplicate of about 20
/// others: docs/benchmarks.md).
fn client_name(i: usize) -> String {
    let letters: Vec<char> = ALPHABETS[i % ALPHABETS.len()].chars().collect();
    let mut seed = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed;
    let mut word = || {
        let w: String = (0..6)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                letters[(seed >> 33) as usize % letters.len()]
            })
            .collect();
        w
    };
    format!("{} {}", word(), word())
}

/// A small case, as a phone's intake makes it.
fn small_case(w: &Writer, i: usize) -> CaseDoc {
    let mut n = NewCase {
        team: "bench".into(),
        ..Default::default()
    };
    n.client.name = Some(client_name(i));
    n.intake = Some(IntakeInput {
        date: Some("2026-11-20".into()),
        reason: Some("Gia đình cần hỗ trợ".into()),
        ..Default::default()
    });
    CaseDoc::create(CaseId::random(), w.actor.clone(), &w.author, n, now_ms()).expect("a case")
}

fn doc_of(c: &CaseDoc) -> Doc {
    Doc {
        id: c.id().expect("id").to_string(),
        bytes: c.automerge().save(),
        heads: c.heads(),
    }
}

/// Users on a fresh fieldcase database: `n` writers named `prefix0…`, logged in later.
fn add_users(db: &SqliteDb, prefix: &str, n: usize, role: Role) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = format!("{prefix}{i}");
            db.add_user(&name, &name, role, Some("bench"), PASSWORD, 1000)
                .expect("user");
            name
        })
        .collect()
}

/// Logs `username` in with a new actor: its writer (fieldcase), or a local one (peers).
fn login(server: Option<&Server>, username: &str) -> Writer {
    login_as(server, username, ActorId::random())
}

/// Logs `username` in on `server` with `actor` (a new device of that actor).
fn login_as(server: Option<&Server>, username: &str, actor: ActorId) -> Writer {
    let Some(server) = server else {
        return Writer {
            author: Author::new(&format!("u-{username}"), username, Role::Worker, "d-local"),
            actor,
            token: None,
        };
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let body = serde_json::json!({
        "username": username, "password": PASSWORD,
        "device_name": "bench", "actor_id": actor.to_hex_string(),
    });
    let mut res = agent
        .post(&format!("{}/v1/login", server.http()))
        .header("content-type", "application/json")
        .header(
            fieldcase_core::sync::protocol::SCHEMA_HEADER,
            &fieldcase_core::schema::SCHEMA_REVISION.to_string(),
        )
        .send(body.to_string())
        .expect("login");
    let v: serde_json::Value =
        serde_json::from_str(&res.body_mut().read_to_string().expect("body")).expect("json");
    let token = v["token"].as_str().expect("token").to_string();
    let device = v["device_id"].as_str().expect("device").to_string();
    let mut me = agent
        .get(&format!("{}/v1/me", server.http()))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .expect("me");
    let me: serde_json::Value =
        serde_json::from_str(&me.body_mut().read_to_string().expect("body")).expect("json");
    let role = Role::from_code(me["role"].as_str().unwrap_or("worker")).unwrap_or(Role::Worker);
    Writer {
        author: Author::new(me["user_id"].as_str().expect("id"), username, role, &device),
        actor,
        token: Some(token),
    }
}

/// What the lanes of one scenario did.
#[derive(Debug, Default)]
struct Lanes {
    elapsed: Duration,
    /// Each finished job's duration.
    times: Vec<Duration>,
    bytes: u64,
    errors: usize,
    /// Jobs never tried: the deadline passed first.
    untried: usize,
}

impl Lanes {
    /// Jobs of `planned` that finished.
    fn done(&self, planned: usize) -> usize {
        planned.saturating_sub(self.errors + self.untried)
    }

    fn add(&mut self, (times, errors, untried, bytes): (Vec<Duration>, usize, usize, u64)) {
        self.times.extend(times);
        self.errors += errors;
        self.untried += untried;
        self.bytes += bytes;
    }
}

/// Says every 10 s how far a long scenario has come (a server slowing as it fills shows
/// here), until dropped.
struct Progress {
    done: Arc<AtomicU64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Progress {
    fn start(label: &str, planned: usize) -> Progress {
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (d, st, label) = (done.clone(), stop.clone(), label.to_string());
        std::thread::spawn(move || {
            let start = Instant::now();
            let mut before = 0;
            let mut tick = Instant::now();
            while !st.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if tick.elapsed() >= Duration::from_secs(10) {
                    let now = d.load(Ordering::Relaxed);
                    eprintln!(
                        "{label}: {now} of {planned} after {:.0} s ({:.1}/s over the last {:.0} s)",
                        start.elapsed().as_secs_f64(),
                        (now - before) as f64 / tick.elapsed().as_secs_f64(),
                        tick.elapsed().as_secs_f64()
                    );
                    before = now;
                    tick = Instant::now();
                }
            }
        });
        Progress { done, stop }
    }

    fn one(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs `jobs` on `threads` threads, each over its own connection; each job returns its
/// duration. A lane takes no new job once `until` has passed.
fn parallel<J, F>(
    server: &Server,
    token: Option<&str>,
    threads: usize,
    jobs: Vec<J>,
    (until, label): (Instant, &str),
    work: F,
) -> Lanes
where
    J: Send + 'static,
    F: Fn(&mut Conn, J) -> Result<(), String> + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let progress = Arc::new(Progress::start(label, jobs.len()));
    let mut lanes: Vec<Vec<J>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, j) in jobs.into_iter().enumerate() {
        lanes[i % threads].push(j);
    }
    let start = Instant::now();
    let handles: Vec<_> = lanes
        .into_iter()
        .enumerate()
        .map(|(t, lane)| {
            let (work, progress) = (work.clone(), progress.clone());
            let (url, token) = (server.ws(t), token.map(str::to_string));
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let mut errors = 0;
                // Opened before a job when there is none: after an error the lane starts
                // afresh (a connection the server stopped answering would make every later
                // job wait out its patience), but opens nothing it will not use.
                let mut conn: Option<Conn> = None;
                let mut spent = 0;
                let total = lane.len();
                for (i, job) in lane.into_iter().enumerate() {
                    if Instant::now() >= until {
                        if let Some(c) = conn.take() {
                            spent += c.bytes_in + c.bytes_out;
                            c.close();
                        }
                        return (times, errors, total - i, spent);
                    }
                    let c = match conn.as_mut() {
                        Some(c) => c,
                        None => match Conn::open(&url, token.as_deref(), &format!("bench-{t}-{i}"))
                        {
                            Ok(c) => conn.insert(c),
                            Err(e) => {
                                errors += 1;
                                if errors <= 3 {
                                    eprintln!("connection {t}: {e}");
                                }
                                continue;
                            }
                        },
                    };
                    let t0 = Instant::now();
                    match work(c, job) {
                        Ok(()) => {
                            times.push(t0.elapsed());
                            progress.one();
                        }
                        Err(e) => {
                            errors += 1;
                            if errors <= 3 {
                                eprintln!("connection {t}: {e}");
                            }
                            if let Some(c) = conn.take() {
                                spent += c.bytes_in + c.bytes_out;
                                c.close();
                            }
                        }
                    }
                }
                if let Some(c) = conn.take() {
                    spent += c.bytes_in + c.bytes_out;
                    c.close();
                }
                (times, errors, 0, spent)
            })
        })
        .collect();
    let mut all = Lanes::default();
    for h in handles {
        all.add(h.join().expect("a lane"));
    }
    all.elapsed = start.elapsed();
    all
}

/// The outcome of `docs` finished documents of `planned`.
fn outcome(
    (docs, planned): (usize, usize),
    lanes: Lanes,
    server: &Server,
    cpu_before: f64,
) -> Outcome {
    let cpu = server.cpu_seconds() - cpu_before;
    let mut times = lanes.times;
    Outcome {
        cpu_ms_per_doc: if docs > 0 {
            cpu * 1000.0 / docs as f64
        } else {
            0.0
        },
        docs,
        seconds: lanes.elapsed.as_secs_f64(),
        p50_ms: percentile_ms(&mut times, 0.5),
        p99_ms: percentile_ms(&mut times, 0.99),
        bytes: lanes.bytes,
        errors: lanes.errors,
        untried: lanes.untried,
        planned,
        peak_mib: server.peak_mib(),
        sealing_seconds: None,
        note: String::new(),
    }
}

/// Pushes every doc of `docs` (the writer's own) over `conns` connections, one per writer;
/// a writer takes no new document once `until` has passed.
fn push_all(
    server: &Server,
    writers: &[Writer],
    docs: &[(usize, Doc)],
    until: Instant,
    label: &str,
) -> Outcome {
    // One lane per writer: its token and its documents.
    let cpu0 = server.cpu_seconds();
    let progress = Arc::new(Progress::start(label, docs.len()));
    let starts = Instant::now();
    let handles: Vec<_> = writers
        .iter()
        .enumerate()
        .map(|(w, writer)| {
            let mine: Vec<Doc> = docs
                .iter()
                .filter(|(o, _)| *o == w)
                .map(|(_, d)| d.clone())
                .collect();
            let (url, token) = (server.ws(w), writer.token.clone());
            let progress = progress.clone();
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let mut errors = 0;
                let mut conn = match Conn::open(&url, token.as_deref(), &format!("writer-{w}")) {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("writer {w}: {e}");
                        return (times, mine.len(), 0, 0);
                    }
                };
                let total = mine.len();
                for (i, d) in mine.into_iter().enumerate() {
                    if Instant::now() >= until {
                        let bytes = conn.bytes_in + conn.bytes_out;
                        conn.close();
                        return (times, errors, total - i, bytes);
                    }
                    let mut doc = Automerge::load(&d.bytes).expect("load");
                    let mut state = State::new();
                    let t0 = Instant::now();
                    match conn.sync(&d.id, &mut doc, &mut state, None, false) {
                        Ok(()) => {
                            times.push(t0.elapsed());
                            progress.one();
                        }
                        Err(e) => {
                            errors += 1;
                            if errors <= 3 {
                                eprintln!("writer {w}: {e}");
                            }
                        }
                    }
                }
                let bytes = conn.bytes_in + conn.bytes_out;
                conn.close();
                (times, errors, 0, bytes)
            })
        })
        .collect();
    let mut all = Lanes::default();
    for h in handles {
        all.add(h.join().expect("writer"));
    }
    all.elapsed = starts.elapsed();
    // Only the documents that made it count towards the rate.
    let done = all.done(docs.len());
    outcome((done, docs.len()), all, server, cpu0)
}

/// What one server did in every scenario.
#[derive(Debug, Default)]
struct Report {
    s1: Outcome,
    disk_per_doc: f64,
    s1_all_there: usize,
    s2: Outcome,
    s6_rss_mib: f64,
    s3: Outcome,
    s4_push: Outcome,
    s4_fetch: Outcome,
    s5_persisted: Outcome,
    s5_fresh: Outcome,
    /// Only S1 to S3 ran (the PostgreSQL servers).
    s1_to_s3_only: bool,
    /// Only S1 ran, and why: `--s1-only`, or S1 did not finish before the deadline.
    s1_only: Option<&'static str>,
    /// PostgreSQL: the data database's tables and the keys database's, bytes per small
    /// case (after S1, less what they held before it), and the same of everything in them.
    pg_space: Option<PgSpace>,
    /// Read back from the storage itself once the server stopped (fieldcase): S1's cases
    /// with the pushed heads, S3's with the phones' heads.
    stored_s1: Option<usize>,
    stored_s3: Option<usize>,
}

/// PostgreSQL's space, bytes per small case.
#[derive(Debug, Clone, Copy, Default)]
struct PgSpace {
    /// `pg_total_relation_size` of every table of the data database (tables, indexes,
    /// TOAST), its growth during S1 per case pushed.
    data: f64,
    /// The same of the table of cases alone.
    cases_table: f64,
    /// The keys database's tables (the cases' wrapped data keys).
    keys: f64,
    /// Every table of the data database after S1 (also the accounts and the empty
    /// tables' first pages), per case.
    data_total: f64,
}

struct Fixture {
    writers: Vec<Writer>,
    reader: Writer,
    phones: Vec<Writer>,
    docs: Vec<(usize, Doc)>,
    phone_docs: Vec<(usize, Doc)>,
    /// The phones' documents after one more visit each.
    phone_edits: Vec<(usize, Doc, Vec<u8>)>,
    big: Doc,
}

impl Fixture {
    /// The same writers logged in again on `server` (another fieldcase database holding
    /// the same users): the same actors, sessions of that database.
    fn on(&self, server: &Server) -> Fixture {
        let again = |w: &Writer| Writer {
            token: login_as(Some(server), &w.author.name, w.actor.clone()).token,
            ..w.clone()
        };
        Fixture {
            writers: self.writers.iter().map(again).collect(),
            reader: again(&self.reader),
            phones: self.phones.iter().map(again).collect(),
            docs: self.docs.clone(),
            phone_docs: self.phone_docs.clone(),
            phone_edits: self.phone_edits.clone(),
            big: self.big.clone(),
        }
    }
}

/// The documents of the run, made once (with fieldcase's user ids) and pushed to every
/// server alike.
fn make_fixture(plan: Plan, server: Option<&Server>) -> Fixture {
    let writers: Vec<Writer> = (0..plan.conns)
        .map(|i| login(server, &format!("w{i}")))
        .collect();
    let reader = login(server, "sup");
    let phones: Vec<Writer> = (0..plan.phones)
        .map(|i| login(server, &format!("p{i}")))
        .collect();
    let docs = (0..plan.docs)
        .map(|i| {
            let w = i % writers.len();
            (w, doc_of(&small_case(&writers[w], i)))
        })
        .collect();
    let mut phone_docs = Vec::new();
    let mut phone_edits = Vec::new();
    for (p, phone) in phones.iter().enumerate() {
        for i in 0..plan.per_phone {
            let mut c = small_case(phone, plan.docs + p * plan.per_phone + i);
            let before = doc_of(&c);
            c.add_visit(
                &phone.author,
                now_ms(),
                VisitInput {
                    note: Some("Thăm hộ gia đình: trẻ em cần hỗ trợ học tập.".into()),
                    ..Default::default()
                },
            )
            .expect("visit");
            phone_edits.push((p, before.clone(), c.automerge().save()));
            phone_docs.push((p, before));
        }
    }
    // The large case: a note typed character by character, 100 keystrokes a change.
    let mut big = small_case(&writers[0], 0);
    let note = {
        let am = big.automerge_mut();
        let client = am.get(ROOT, "client").expect("get").expect("client").1;
        let mut tx = am.transaction();
        let note = tx
            .put_object(&client, "notes", automerge::ObjType::Text)
            .expect("note");
        tx.commit();
        note
    };
    // Words drawn pseudo-randomly (a fixed LCG), so the note does not compress to nothing.
    let words = [
        "gia",
        "đình",
        "cần",
        "hỗ",
        "trợ",
        "trẻ",
        "em",
        "học",
        "tập",
        "nhà",
        "ครอบครัว",
        "ต้องการ",
        "ช่วยเหลือ",
        "семья",
        "нуждается",
        "в",
        "помощи",
        "خانواده",
        "کمک",
    ];
    let mut seed: u64 = 0x5eed;
    let mut chars: Vec<char> = Vec::with_capacity(plan.big_edits);
    while chars.len() < plan.big_edits {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        chars.extend(words[(seed >> 33) as usize % words.len()].chars());
        chars.push(' ');
    }
    // Every fifth keystroke a backspace: 100,000 edits leave 60,000 characters (a case note
    // may hold 65,536; fieldcase refuses a longer one).
    let (mut typed, mut len, mut next) = (0, 0, 0);
    while typed < plan.big_edits {
        let am = big.automerge_mut();
        let mut tx = am.transaction();
        for _ in 0..100.min(plan.big_edits - typed) {
            typed += 1;
            if typed % 5 == 0 {
                tx.splice_text(&note, len - 1, 1, "").expect("backspace");
                len -= 1;
                continue;
            }
            let c = chars[next];
            next += 1;
            tx.splice_text(&note, len, 0, &c.to_string()).expect("type");
            len += 1;
        }
        tx.commit();
    }
    let big = doc_of(&big);
    Fixture {
        writers,
        reader,
        phones,
        docs,
        phone_docs,
        phone_edits,
        big,
    }
}

/// Every scenario against one server.
fn run(kind: Kind, plan: Plan, fx: &Fixture, env: &Env) -> Report {
    let pg = env.pg.as_ref().filter(|_| kind.is_postgres());
    let storage = match kind {
        Kind::Fieldcase => env.dir.join("fieldcase.sqlite"),
        Kind::FieldcasePg | Kind::FieldcasePg2 => {
            PathBuf::from(pg.expect("a cluster").url(pg_database(kind)))
        }
        Kind::Js => env.dir.join("js-storage"),
        Kind::Samod => env.dir.join("samod-storage"),
    };
    let mut report = Report::default();
    let start = || {
        Server::start(kind, &storage, SERVER_CORE, &env.key)
            .counting(pg.map(|c| c.postmaster_pid()))
    };
    let server = start();
    eprintln!("== {} on {}", kind.name(), server.ws(0));
    // On PostgreSQL the same users, logged in there.
    let there;
    let fx = if kind.is_postgres() {
        there = fx.on(&server);
        &there
    } else {
        fx
    };
    let reader = fx.reader.token.as_deref().map(str::to_string);
    let space0 = pg.map(|c| c.space(pg_database(kind)));

    // S1: push every small case from `conns` connections.
    let sealed0 = server.sealing_seconds();
    report.s1 = push_all(&server, &fx.writers, &fx.docs, plan.until(), "S1");
    report.s1.sealed_since(&server, sealed0);
    if let Some(u) = report.s1.unfinished() {
        eprintln!("S1 {u}");
    }
    eprintln!(
        "S1 {:.0} docs/s, server CPU {:.2} ms each; encryption {}",
        report.s1.rate(),
        report.s1.cpu_ms_per_doc,
        report.s1.sealing().unwrap_or_else(|| "not measured".into())
    );
    // Restart on the same storage; all must be there (S2 checks each one's heads).
    server.stop();
    // The server stopped: SQLite's last connection checkpointed the WAL into the file
    // (what is left of a WAL counts too, and is said).
    // Per case pushed; when the deadline cut S1 short, per case that got there.
    let pushed = if report.s1.untried > 0 {
        report.s1.docs.max(1)
    } else {
        fx.docs.len()
    } as f64;
    report.disk_per_doc = servers::disk_bytes(&storage) as f64 / pushed;
    let wal = servers::disk_bytes(&PathBuf::from(format!("{}-wal", storage.display())));
    report.disk_per_doc += wal as f64 / pushed;
    if kind == Kind::Fieldcase {
        eprintln!(
            "disk after S1, server stopped: {} B file, {wal} B WAL, {:.0} B a case",
            servers::disk_bytes(&storage),
            report.disk_per_doc
        );
    }
    // A server that could not take S1's cases in time is not asked for the rest (each
    // scenario would wait out its deadline on a part of the documents).
    if plan.s1_only {
        report.s1_only = Some("(S1 only)");
        return report;
    }
    if report.s1.untried > 0 {
        report.s1_only = Some("(not run: S1 did not finish)");
        return report;
    }
    let server = start();
    if let (Some(c), Some(before)) = (pg, space0) {
        let after = c.space(pg_database(kind));
        let n = fx.docs.len().max(1) as f64;
        report.pg_space = Some(PgSpace {
            data: (after.0 - before.0) as f64 / n,
            cases_table: (after.1 - before.1) as f64 / n,
            keys: (after.2 - before.2) as f64 / n,
            data_total: after.0 as f64 / n,
        });
        report.disk_per_doc = report.pg_space.map_or(0.0, |s| s.data + s.keys);
    }

    // S2: cold fetch of everything, `fetchers` requests in flight.
    let states = Arc::new(std::sync::Mutex::new(Vec::new()));
    let jobs: Vec<Doc> = fx.docs.iter().map(|(_, d)| d.clone()).collect();
    let kept = states.clone();
    let cpu0 = server.cpu_seconds();
    let sealed0 = server.sealing_seconds();
    let r = parallel(
        &server,
        reader.as_deref(),
        plan.fetchers,
        jobs,
        (plan.until(), "S2"),
        move |conn, d: Doc| {
            let mut doc = Automerge::new();
            let mut state = State::new();
            conn.sync(&d.id, &mut doc, &mut state, Some(&d.heads), true)?;
            kept.lock()
                .expect("states")
                .push((d.id.clone(), doc.save(), state.encode()));
            Ok(())
        },
    );
    report.s1_all_there = r.times.len();
    let done = r.done(fx.docs.len());
    report.s2 = outcome((done, fx.docs.len()), r, &server, cpu0);
    report.s2.sealed_since(&server, sealed0);
    eprintln!(
        "S2 {:.0} docs/s, server CPU {:.2} ms each; encryption {} ({} of {} there)",
        report.s2.rate(),
        report.s2.cpu_ms_per_doc,
        report.s2.sealing().unwrap_or_else(|| "not measured".into()),
        report.s1_all_there,
        fx.docs.len()
    );

    // S6: memory once the server has been left alone after S2.
    std::thread::sleep(Duration::from_secs(plan.settle));
    report.s6_rss_mib = server.rss_mib();

    // S3: the office-return burst. Setup (not timed): each phone's cases on the server.
    let _ = push_all(
        &server,
        &fx.phones,
        &fx.phone_docs,
        plan.until(),
        "S3 (setup)",
    );
    let cpu0 = server.cpu_seconds();
    let sealed0 = server.sealing_seconds();
    let start = Instant::now();
    let until = plan.until();
    let handles: Vec<_> = fx
        .phones
        .iter()
        .enumerate()
        .map(|(p, phone)| {
            let edits: Vec<(Doc, Vec<u8>)> = fx
                .phone_edits
                .iter()
                .filter(|(o, _, _)| *o == p)
                .map(|(_, before, after)| (before.clone(), after.clone()))
                .collect();
            let (url, token) = (server.ws(p), phone.token.clone());
            std::thread::spawn(move || {
                let t0 = Instant::now();
                let mut conn = Conn::open(&url, token.as_deref(), &format!("phone-{p}"))?;
                // The phone knows what the server had: its state from the last sync.
                for (i, (before, after)) in edits.iter().enumerate() {
                    if Instant::now() >= until {
                        let bytes = conn.bytes_in + conn.bytes_out;
                        conn.close();
                        return Ok((None, bytes, i, edits.len() - i));
                    }
                    let mut state = State::new();
                    state.shared_heads = before.heads.clone();
                    let mut doc = Automerge::load(after).map_err(|e| e.to_string())?;
                    conn.sync(&before.id, &mut doc, &mut state, None, false)?;
                }
                let bytes = conn.bytes_in + conn.bytes_out;
                conn.close();
                Ok::<_, String>((Some(t0.elapsed()), bytes, edits.len(), 0))
            })
        })
        .collect();
    let (mut lanes, mut merged) = (Lanes::default(), 0);
    for h in handles {
        match h.join().expect("phone") {
            Ok((t, b, n, untried)) => {
                lanes.times.extend(t);
                lanes.bytes += b;
                lanes.untried += untried;
                merged += n;
            }
            Err(e) => {
                lanes.errors += 1;
                eprintln!("phone: {e}");
            }
        }
    }
    lanes.elapsed = start.elapsed();
    report.s3 = outcome((merged, fx.phone_edits.len()), lanes, &server, cpu0);
    report.s3.sealed_since(&server, sealed0);
    eprintln!(
        "S3 {:.0} cases/s, server CPU {:.2} ms each; encryption {}",
        report.s3.rate(),
        report.s3.cpu_ms_per_doc,
        report.s3.sealing().unwrap_or_else(|| "not measured".into())
    );
    if kind.is_postgres() {
        // S1 to S3 only on PostgreSQL (issue 20), then what the database holds.
        report.s1_to_s3_only = true;
        server.stop();
        read_back(&mut report, &storage, fx, env);
        return report;
    }

    // S4: the large case, pushed, then fetched by a fresh client.
    let big_writer = fx.writers[0].clone();
    let big = fx.big.clone();
    let cpu0 = server.cpu_seconds();
    let r = parallel(
        &server,
        big_writer.token.as_deref(),
        1,
        vec![big.clone()],
        (plan.until(), "S4 push"),
        |conn, d: Doc| {
            let mut doc = Automerge::load(&d.bytes).map_err(|e| e.to_string())?;
            conn.sync(&d.id, &mut doc, &mut State::new(), None, false)
        },
    );
    report.s4_push = outcome((1, 1), r, &server, cpu0);
    let cpu0 = server.cpu_seconds();
    let r = parallel(
        &server,
        reader.as_deref(),
        1,
        vec![big],
        (plan.until(), "S4 fetch"),
        |conn, d: Doc| {
            let mut doc = Automerge::new();
            conn.sync(&d.id, &mut doc, &mut State::new(), Some(&d.heads), true)
        },
    );
    report.s4_fetch = outcome((1, 1), r, &server, cpu0);
    eprintln!(
        "S4 push {:.2} s, fetch {:.2} s",
        report.s4_push.seconds, report.s4_fetch.seconds
    );

    // S5: `clients` clients reconnect, each with its share of the fetched documents, with
    // the sync state kept from S2, then again from scratch.
    let states = std::mem::take(&mut *states.lock().expect("states"));
    let per_client = (states.len() / plan.clients.max(1)).max(1);
    let clients: Vec<Vec<Fetched>> = states
        .chunks(per_client)
        .take(plan.clients)
        .map(<[_]>::to_vec)
        .collect();
    for persisted in [true, false] {
        let cpu0 = server.cpu_seconds();
        // The documents synced (a client cut short by an error or the deadline counts
        // those it got through).
        let synced = Arc::new(AtomicU64::new(0));
        let counted = synced.clone();
        let r = parallel(
            &server,
            reader.as_deref(),
            plan.clients.min(50),
            clients.clone(),
            (
                plan.until(),
                if persisted {
                    "S5 persisted"
                } else {
                    "S5 fresh"
                },
            ),
            move |conn, docs: Vec<Fetched>| {
                for (id, bytes, state) in docs {
                    let mut doc = Automerge::load(&bytes).map_err(|e| e.to_string())?;
                    let mut st = if persisted {
                        State::decode(&state).map_err(|e| e.to_string())?
                    } else {
                        State::new()
                    };
                    conn.sync(&id, &mut doc, &mut st, None, false)?;
                    counted.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            },
        );
        let synced = synced.load(Ordering::Relaxed) as usize;
        let planned = clients.iter().map(Vec::len).sum();
        let mut o = outcome((synced, planned), r, &server, cpu0);
        o.note = format!("{} clients × {per_client} documents", plan.clients);
        if persisted {
            report.s5_persisted = o;
        } else {
            report.s5_fresh = o;
        }
    }
    eprintln!(
        "S5 persisted {} B, fresh {} B",
        report.s5_persisted.bytes, report.s5_fresh.bytes
    );
    server.stop();
    if kind.is_fieldcase() {
        read_back(&mut report, &storage, fx, env);
    }
    // --keep-db PATH: the SQLite database as the run left it, to look into (dbstat).
    let keep = arg_str("--keep-db", "");
    if kind == Kind::Fieldcase && !keep.is_empty() {
        match std::fs::copy(&storage, &keep) {
            Ok(_) => eprintln!("kept the database as {keep}"),
            Err(e) => eprintln!("cannot keep the database as {keep}: {e}"),
        }
    }
    report
}

/// The PostgreSQL database of `kind`.
fn pg_database(kind: Kind) -> &'static str {
    if kind == Kind::FieldcasePg2 {
        "fieldcase_pg2"
    } else {
        "fieldcase_pg"
    }
}

/// What the run needs besides the plan and the documents.
struct Env {
    dir: PathBuf,
    /// fieldcase's master key (hex), the same for every instance.
    key: String,
    /// The PostgreSQL cluster, when a PostgreSQL server is in the run.
    pg: Option<pg::Cluster>,
}

/// Heads sorted, to compare.
fn sorted(mut h: Vec<ChangeHash>) -> Vec<ChangeHash> {
    h.sort();
    h
}

/// Opens fieldcase's storage itself (the server stopped) and counts the cases there with
/// the heads pushed in S1, and with the phones' heads after S3: nothing lost.
fn read_back(report: &mut Report, storage: &std::path::Path, fx: &Fixture, env: &Env) {
    let opened = match fieldcase_server::db::open_with(storage, &KeySource::Hex(env.key.clone())) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cannot open the storage to read it back: {e}");
            return;
        }
    };
    let db = opened.as_dyn();
    let heads = |id: &str| -> Option<Vec<ChangeHash>> {
        let bytes = db.case_document(&id.parse().ok()?).ok()??;
        Some(sorted(Automerge::load(&bytes).ok()?.get_heads()))
    };
    report.stored_s1 = Some(
        fx.docs
            .iter()
            .filter(|(_, d)| heads(&d.id) == Some(sorted(d.heads.clone())))
            .count(),
    );
    report.stored_s3 = Some(
        fx.phone_edits
            .iter()
            .filter(|(_, before, after)| {
                let want = Automerge::load(after).map(|d| sorted(d.get_heads())).ok();
                want.is_some() && heads(&before.id) == want
            })
            .count(),
    );
    eprintln!(
        "read back from the storage: S1 {} of {}, S3 {} of {}",
        report.stored_s1.unwrap_or(0),
        fx.docs.len(),
        report.stored_s3.unwrap_or(0),
        fx.phone_edits.len()
    );
}

/// The floor: automerge alone, in this process, no network or storage: only the sync
/// exchange is timed (documents are loaded beforehand, which a server must also do).
fn floor(fx: &Fixture) -> (f64, f64) {
    // A small case synced to an empty peer.
    let mut pairs: Vec<_> = fx
        .docs
        .iter()
        .map(|(_, d)| (Automerge::load(&d.bytes).expect("load"), Automerge::new()))
        .collect();
    let t = Instant::now();
    for (a, b) in &mut pairs {
        converge(a, &mut State::new(), b, &mut State::new());
    }
    let push = pairs.len() as f64 / t.elapsed().as_secs_f64();
    drop(pairs);
    // One more change synced to a peer that had the case before (the phone's burst), both
    // sides knowing what they shared.
    let mut pairs: Vec<_> = fx
        .phone_edits
        .iter()
        .map(|(_, before, after)| {
            let mut shared = State::new();
            shared.shared_heads = before.heads.clone();
            (
                Automerge::load(after).expect("load"),
                Automerge::load(&before.bytes).expect("load"),
                shared.clone(),
                shared,
            )
        })
        .collect();
    let t = Instant::now();
    for (a, b, sa, sb) in &mut pairs {
        converge(a, sa, b, sb);
    }
    let incremental = pairs.len() as f64 / t.elapsed().as_secs_f64();
    (push, incremental)
}

fn converge(a: &mut Automerge, sa: &mut State, b: &mut Automerge, sb: &mut State) {
    for _ in 0..20 {
        let ma = a.generate_sync_message(sa);
        let mb = b.generate_sync_message(sb);
        if ma.is_none() && mb.is_none() {
            return;
        }
        if let Some(m) = ma {
            b.receive_sync_message(sb, m).expect("receive");
        }
        if let Some(m) = mb {
            a.receive_sync_message(sa, m).expect("receive");
        }
    }
    panic!("automerge did not converge");
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let run = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    format!(
        "{} ({cores} cores visible to the client), {}; node {}; date {}",
        cpu,
        run("uname", &["-srm"]),
        run("node", &["--version"]),
        run("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
    )
}

fn table(plan: Plan, fx: &Fixture, reports: &[(Kind, Report)], floor: (f64, f64)) -> String {
    let mut s = String::new();
    let f = |o: &Outcome| {
        if o.docs == 1 {
            return format!(
                "{:.2} s, server CPU {:.2} s, {:.1} MB wire, peak {:.0} MiB{}",
                o.seconds,
                o.cpu_ms_per_doc / 1000.0,
                o.bytes as f64 / 1e6,
                o.peak_mib,
                if o.errors > 0 { ", **failed**" } else { "" }
            );
        }
        format!(
            "{}{:.0}/s ({} in {:.1} s), p50 {:.1} ms, p99 {:.1} ms, server CPU {:.2} ms each, {:.1} MB wire, peak {:.0} MiB{}",
            o.unfinished()
                .map(|u| format!("**{u}** (the deadline, --deadline {} s): ", plan.deadline))
                .unwrap_or_default(),
            o.rate(),
            o.docs,
            o.seconds,
            o.p50_ms,
            o.p99_ms,
            o.cpu_ms_per_doc,
            o.bytes as f64 / 1e6,
            o.peak_mib,
            if o.errors > 0 {
                format!(", **{} errors**", o.errors)
            } else {
                String::new()
            }
        )
    };
    let _ = writeln!(
        s,
        "| scenario | {} |",
        reports
            .iter()
            .map(|(k, _)| k.name())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(s, "| --- |{}", " --- |".repeat(reports.len()));
    // A scenario after S1 (after S3 with `past_s3`): "not run" when the run stopped before.
    let later = |r: &Report, o: &Outcome, past_s3: bool| {
        if let Some(why) = r.s1_only {
            why.into()
        } else if past_s3 && r.s1_to_s3_only {
            "(S1-S3 only)".into()
        } else {
            f(o)
        }
    };
    let mut row = |name: String, cell: &dyn Fn(&Report) -> String| {
        let _ = writeln!(
            s,
            "| {name} | {} |",
            reports
                .iter()
                .map(|(_, r)| cell(r))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    };
    row(
        format!(
            "S1 push {} small cases, {} connections",
            plan.docs, plan.conns
        ),
        &|r| f(&r.s1),
    );
    row(
        "S1 after restart: cases there with the pushed heads".into(),
        &|r| match r.s1_only {
            Some(why) => why.into(),
            None => format!("{} of {}", r.s1_all_there, plan.docs),
        },
    );
    row("disk per small case".into(), &|r| {
        match r.pg_space {
        Some(p) => format!(
            "{:.0} B: data database {:.0} B (the table of cases {:.0} B), keys database {:.0} B (growth in S1 ÷ cases; everything in the data database ÷ cases {:.0} B)",
            p.data + p.keys,
            p.data,
            p.cases_table,
            p.keys,
            p.data_total
        ),
        None => format!("{:.0} B", r.disk_per_doc),
    }
    });
    row(
        format!(
            "S2 cold fetch of {}, {} in flight",
            plan.docs, plan.fetchers
        ),
        &|r| later(r, &r.s2, false),
    );
    row(
        format!(
            "S3 {} phones × {} changed cases",
            plan.phones, plan.per_phone
        ),
        &|r| later(r, &r.s3, false),
    );
    for (name, pick) in [
        ("S1", (|r: &Report| &r.s1) as fn(&Report) -> &Outcome),
        ("S2", |r: &Report| &r.s2),
        ("S3", |r: &Report| &r.s3),
    ] {
        row(
            format!("{name}: encryption at rest (sealing and opening, timed by the server)"),
            &|r| {
                if let Some(why) = r.s1_only.filter(|_| name != "S1") {
                    return why.into();
                }
                pick(r)
                    .sealing()
                    .unwrap_or_else(|| "(does not encrypt)".into())
            },
        );
    }
    row(
        "read back from the storage itself after the run (server stopped): S1's cases with the pushed heads, S3's with the phones' heads".into(),
        &|r| match (r.stored_s1, r.stored_s3) {
            (Some(a), Some(b)) => format!(
                "{a} of {} and {b} of {}",
                fx.docs.len(),
                fx.phone_edits.len()
            ),
            _ => "(not read)".into(),
        },
    );
    row(
        format!(
            "S4 one case with {} keystrokes (a fifth of them backspaces): push",
            plan.big_edits
        ),
        &|r| later(r, &r.s4_push, true),
    );
    row("S4 the same case to a fresh client".into(), &|r| {
        later(r, &r.s4_fetch, true)
    });
    row(
        format!(
            "S5 {} clients reconnect, persisted sync state",
            plan.clients
        ),
        &|r| later(r, &r.s5_persisted, true),
    );
    row(
        format!("S5 {} clients reconnect, fresh sync state", plan.clients),
        &|r| later(r, &r.s5_fresh, true),
    );
    row(
        format!("S6 server memory {} s after S2", plan.settle),
        &|r| {
            if let Some(why) = r.s1_only {
                why.into()
            } else if r.s1_to_s3_only {
                "(S1-S3 only)".into()
            } else {
                format!("{:.0} MiB", r.s6_rss_mib)
            }
        },
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "A small case (client name, intake) is {:.0} B as a saved Automerge document; the large case {:.0} KB.",
        fx.docs.iter().map(|(_, d)| d.bytes.len()).sum::<usize>() as f64 / fx.docs.len().max(1) as f64,
        fx.big.bytes.len() as f64 / 1024.0
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "The floor (automerge alone, one process, no network or storage): a small case synced to an empty peer **{:.0}/s**; one new change synced to a peer that had the case **{:.0}/s**.", floor.0, floor.1);
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.1}×", a / b)
        } else {
            "n/a".into()
        }
    };
    let of = |k: Kind| reports.iter().find(|(kind, _)| *kind == k).map(|(_, r)| r);
    let mut lines = Vec::new();
    let mut line = |name: String, a: &Report, b: &Report| {
        lines.push(format!(
            "| {name} (throughput) | {} | {} | {} |",
            ratio(a.s1.rate(), b.s1.rate()),
            ratio(a.s2.rate(), b.s2.rate()),
            ratio(a.s3.rate(), b.s3.rate())
        ));
    };
    if let Some(ours) = of(Kind::Fieldcase) {
        for (kind, peer) in reports.iter().filter(|(k, _)| !k.is_fieldcase()) {
            line(format!("fieldcase (SQLite) / {}", kind.name()), ours, peer);
        }
        for k in [Kind::FieldcasePg, Kind::FieldcasePg2] {
            if let Some(pg) = of(k) {
                line(format!("{} / fieldcase (SQLite)", k.name()), pg, ours);
            }
        }
    }
    if let (Some(two), Some(one)) = (of(Kind::FieldcasePg2), of(Kind::FieldcasePg)) {
        line("two instances / one instance (PostgreSQL)".into(), two, one);
    }
    for (kind, r) in reports.iter().filter(|(k, _)| k.is_fieldcase()) {
        lines.push(format!(
            "| floor / {} (how far from automerge alone) | {} | {} | {} |",
            kind.name(),
            ratio(floor.0, r.s1.rate()),
            ratio(floor.0, r.s2.rate()),
            ratio(floor.1, r.s3.rate())
        ));
    }
    if !lines.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "| ratio | S1 | S2 | S3 |");
        let _ = writeln!(s, "| --- | --- | --- | --- |");
        for l in lines {
            let _ = writeln!(s, "{l}");
        }
    }
    s
}

fn main() {
    let plan = Plan {
        docs: arg("--docs", 10_000),
        conns: arg("--conns", 32),
        fetchers: arg("--fetchers", 64),
        phones: arg("--phones", 100),
        per_phone: arg("--per-phone", 50),
        clients: arg("--clients", 500),
        big_edits: arg("--big-edits", 100_000),
        settle: arg("--settle", 300) as u64,
        deadline: arg("--deadline", 1200) as u64,
        s1_only: std::env::args().any(|a| a == "--s1-only"),
    };
    let kinds: Vec<Kind> = arg_str("--servers", "fieldcase,js")
        .split(',')
        .map(|k| match k {
            "fieldcase" => Kind::Fieldcase,
            "fieldcase-pg" => Kind::FieldcasePg,
            "fieldcase-pg2" => Kind::FieldcasePg2,
            "js" => Kind::Js,
            "samod" => Kind::Samod,
            other => {
                panic!("unknown server {other} (fieldcase, fieldcase-pg, fieldcase-pg2, js, samod)")
            }
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    // One master key for every fieldcase database and instance of the run.
    let key = format!(
        "{}{}",
        ActorId::random().to_hex_string(),
        ActorId::random().to_hex_string()
    );
    // Accounts on fieldcase's database first: the documents carry their user ids.
    let db_path = dir.path().join("fieldcase.sqlite");
    let users = {
        let db = SqliteDb::open_with(&db_path, &KeySource::Hex(key.clone())).expect("database");
        db.add_team("bench").expect("team");
        add_users(&db, "w", plan.conns, Role::Worker);
        add_users(&db, "p", plan.phones, Role::Worker);
        db.add_user(
            "sup",
            "sup",
            Role::Supervisor,
            Some("bench"),
            PASSWORD,
            1000,
        )
        .expect("supervisor");
        db.users().expect("users")
    };
    // PostgreSQL: a cluster of the run's own, a database for each PostgreSQL server with
    // the same users (the same ids: the documents name them).
    let pg = kinds.iter().any(|k| k.is_postgres()).then(|| {
        let cluster = pg::Cluster::start(&dir.path().join("pg"));
        let hash = fieldcase_server::auth::hash_password(PASSWORD, 1000);
        for &k in kinds.iter().filter(|k| k.is_postgres()) {
            let url = cluster.database(pg_database(k));
            let db = PostgresDb::connect_apart(&url, None, &KeySource::Hex(key.clone()))
                .expect("the PostgreSQL database");
            db.add_team("bench").expect("team");
            for u in &users {
                db.insert_user(&NewUserRow {
                    id: &u.id,
                    username: &u.username,
                    display_name: &u.display_name,
                    role: u.role,
                    team: Some("bench"),
                    hash: &hash,
                    now: now_ms(),
                })
                .expect("user");
            }
        }
        eprintln!("{} on 127.0.0.1:{}", cluster.version(), cluster.port);
        cluster
    });
    let env = Env {
        dir: dir.path().to_path_buf(),
        key,
        pg,
    };
    let fx = {
        let server = kinds
            .iter()
            .any(|k| k.is_fieldcase())
            .then(|| Server::start(Kind::Fieldcase, &db_path, SERVER_CORE, &env.key));
        let t = Instant::now();
        let fx = make_fixture(plan, server.as_ref());
        eprintln!("fixture made in {:.1} s", t.elapsed().as_secs_f64());
        if let Some(s) = server {
            s.stop();
        }
        fx
    };
    let floor = floor(&fx);
    eprintln!("floor {:.0}/s, incremental {:.0}/s", floor.0, floor.1);
    let reports: Vec<(Kind, Report)> = kinds
        .iter()
        .map(|&k| (k, run(k, plan, &fx, &env)))
        .collect();
    let mut out = String::new();
    let _ = writeln!(out, "Machine: {}", machine());
    if let Some(c) = &env.pg {
        let _ = writeln!(
            out,
            "PostgreSQL: {} from Debian, its own cluster on 127.0.0.1 (durable defaults: fsync, \
             synchronous_commit, full_page_writes on), started on core 0 with the server.",
            c.version()
        );
    }
    let _ = writeln!(out);
    out.push_str(&table(plan, &fx, &reports, floor));
    println!("{out}");
    let path = arg_str("--out", "");
    if !path.is_empty() {
        std::fs::write(&path, &out).expect("write the results");
    }
}
