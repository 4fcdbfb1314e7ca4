//! Benchmarks of the phone-side core, on realistic multilingual cases.
//!
//! `cargo bench -p fieldcase-core --bench core` measures:
//! - `edit/add_visit_500_chars/in_memory`: one typed edit (a visit with a 500-character
//!   note) as an Automerge transaction;
//! - `edit/add_visit_500_chars/persisted`: the same through the store, sealed and committed
//!   to SQLite (WAL, synchronous=FULL) before it returns;
//! - `store/open_1000_cases_and_build_index`: opening a store of 1,000 cases;
//! - `store/search_1000_cases`: a name search over the in-memory index;
//! - `load/case_with_2000_changes/{typical_100_visits,heavy_500_visits}`: loading a case
//!   with 2,000 changes of history from raw bytes and from the store (decrypt + load), and
//!   then reading it as typed values;
//! - `admit/new_case`, `admit/visit`: the server's check of what a phone sends
//!   (`admission::admit`): a new case as an intake makes it (its one creation change), and
//!   a visit added to a case the server holds (`visit/outline_kept`: with the outline of
//!   the case before kept from the write before, as the server's hub keeps it).
//!
//! It also prints the size on disk per case of the 1,000-case store.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use automerge::{ActorId, ReadDoc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use fieldcase_core::case::{
    AssessmentInput, CaseKind, Finding, ProblemInput, RiskInput, VisitInput,
};
use fieldcase_core::store::UserContext;
use fieldcase_core::{Author, CaseDoc, CaseId, CaseStore, NewCase, Role};

const KEY: [u8; 32] = [3u8; 32];
const NAMES: &[&str] = &[
    "สมศรี ใจดี",
    "زهرا احمدی",
    "Фёдорова Анна",
    "Олександр Коваленко",
    "Nguyễn Thị Lan",
];
const NOTE_SEEDS: &[&str] = &[
    "เยี่ยมบ้าน ครอบครัวต้องการความช่วยเหลือด้านที่อยู่อาศัยและการศึกษาของเด็ก ",
    "بازدید از منزل؛ خانواده به کمک فوری برای مسکن و درمان نیاز دارد ",
    "Посещение на дому: семья в трудной жизненной ситуации, нужна помощь ",
    "Відвідування вдома: дитина потребує підтримки та навчання ",
    "Thăm hộ gia đình: trẻ em có hoàn cảnh đặc biệt cần hỗ trợ ",
];

fn note(i: usize, chars: usize) -> String {
    NOTE_SEEDS[i % NOTE_SEEDS.len()]
        .chars()
        .cycle()
        .take(chars)
        .collect()
}

fn user() -> UserContext {
    UserContext {
        user_id: "u-bench".into(),
        name: "Bench".into(),
        role: Role::Worker,
        team: None,
        device_id: "bench".into(),
    }
}

fn author() -> Author {
    Author::new("u-bench", "Bench", Role::Worker, "bench")
}

fn new_case(i: usize) -> NewCase {
    let mut n = NewCase {
        team: "team-north".into(),
        case_kind: Some(CaseKind::ChildProtection),
        ..Default::default()
    };
    n.client.name = Some(format!("{} {i}", NAMES[i % NAMES.len()]));
    n
}

/// A typical case: intake, one assessment, a plan problem and three visits.
fn fill(store: &CaseStore, id: &CaseId, i: usize) {
    store
        .update(id, |c, me, now| {
            c.add_assessment(
                me,
                now,
                AssessmentInput {
                    date: Some("2026-11-01".into()),
                    risk: Some(RiskInput {
                        finding: Some(Finding::ALL[i % 4]),
                        next_step_due: Some("2026-11-15".into()),
                        emergency: Some(false),
                        conclusion: Some(note(i, 200)),
                        next_step: None,
                    }),
                    ..Default::default()
                },
            )?;
            c.add_problem(
                me,
                now,
                ProblemInput {
                    goal: Some(note(i + 1, 80)),
                    priority: Some(1),
                    ..Default::default()
                },
            )?;
            for v in 0..3 {
                c.add_visit(
                    me,
                    now,
                    VisitInput {
                        date: Some("2026-11-10".into()),
                        kind: Some("home".into()),
                        note: Some(note(i + v, 500)),
                        ..Default::default()
                    },
                )?;
            }
            c.set_next_review(me, now, &format!("2026-12-{:02}", 1 + i % 28))
        })
        .unwrap();
}

/// A store of 1,000 typical cases, built once per run.
fn thousand() -> &'static PathBuf {
    static PATH: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &PATH
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("thousand.sqlite");
            let store = CaseStore::open(&path, &KEY).unwrap();
            store.sign_in(user()).unwrap();
            for i in 0..1000 {
                let id = store.create_case(new_case(i)).unwrap();
                fill(&store, &id, i);
            }
            store.compact_all().unwrap();
            drop(store);
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;").unwrap();
            drop(conn);
            let bytes = std::fs::metadata(&path).unwrap().len();
            eprintln!(
                "size on disk: {bytes} bytes for 1,000 typical cases (3 visits of 500 chars, an assessment, a plan problem) = {:.1} KiB per case",
                bytes as f64 / 1000.0 / 1024.0
            );
            (dir, path)
        })
        .1
}

fn bench_edit(c: &mut Criterion) {
    let mut g = c.benchmark_group("edit");
    let a = author();
    let mut base = NewCase {
        team: "t".into(),
        ..Default::default()
    };
    base.client.name = Some(NAMES[4].into());
    let doc = CaseDoc::create(CaseId::random(), ActorId::random(), &a, base, 0).unwrap();
    g.bench_function("add_visit_500_chars/in_memory", |b| {
        b.iter_batched_ref(
            || doc.clone(),
            |d| {
                d.add_visit(
                    &a,
                    1,
                    VisitInput {
                        note: Some(note(1, 500)),
                        kind: Some("home".into()),
                        ..Default::default()
                    },
                )
                .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(dir.path().join("edit.sqlite"), &KEY).unwrap();
    store.sign_in(user()).unwrap();
    let id = store.create_case(new_case(0)).unwrap();
    fill(&store, &id, 0);
    // Each measured edit goes to a fresh typical case, so the case does not grow with the
    // number of iterations criterion picks.
    g.sample_size(30);
    g.bench_function("add_visit_500_chars/persisted", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let id = store.create_case(new_case(i as usize)).unwrap();
                fill(&store, &id, i as usize);
                let start = std::time::Instant::now();
                store
                    .update(&id, |c, me, now| {
                        c.add_visit(
                            me,
                            now,
                            VisitInput {
                                note: Some(note(2, 500)),
                                ..Default::default()
                            },
                        )
                    })
                    .unwrap();
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
}

fn bench_store(c: &mut Criterion) {
    let path = thousand();
    let mut g = c.benchmark_group("store");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("open_1000_cases_and_build_index", |b| {
        b.iter(|| {
            let s = CaseStore::open(path, &KEY).unwrap();
            assert_eq!(s.case_ids().len(), 1000);
            s
        })
    });
    let store = CaseStore::open(path, &KEY).unwrap();
    g.sample_size(100).measurement_time(Duration::from_secs(5));
    g.bench_function("search_1000_cases", |b| {
        b.iter(|| black_box(store.search(black_box("nguyen thi lan 99"))))
    });
    g.bench_function("search_1000_cases_thai", |b| {
        b.iter(|| black_box(store.search(black_box("ใจดี 5"))))
    });
    g.finish();
}

/// Builds a store holding one case with 2,000 changes of history. `visit_every`: one change
/// in that many adds a whole visit; the others are small edits (typing in a note, a field).
fn history_case(visit_every: usize) -> (tempfile::TempDir, PathBuf, CaseId, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    let store = CaseStore::open(&path, &KEY).unwrap();
    store.sign_in(user()).unwrap();
    let id = store.create_case(new_case(7)).unwrap();
    let vid = store
        .update(&id, |c, me, now| {
            c.add_visit(
                me,
                now,
                VisitInput {
                    note: Some(note(3, 100)),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    let text_path = format!("visits/{vid}/note");
    for i in 0..1999 {
        store
            .update(&id, |c, me, now| {
                if i % visit_every == 0 {
                    return c
                        .add_visit(
                            me,
                            now,
                            VisitInput {
                                note: Some(note(i, 300)),
                                ..Default::default()
                            },
                        )
                        .map(|_| ());
                }
                match i % 3 {
                    0 => c.edit_text(me, now, &text_path, 0, 0, "ồ "),
                    1 => c.set_field(
                        me,
                        now,
                        "client/address",
                        &serde_json::json!(format!("Hà Nội {i}")),
                    ),
                    _ => c.edit_text(me, now, &text_path, 5, 2, "ữa"),
                }
            })
            .unwrap();
    }
    let changes = store
        .with_doc(&id, |d| Ok(d.automerge().get_changes(&[]).len()))
        .unwrap();
    assert_eq!(changes, 2001);
    let bytes = store.export_case(&id).unwrap();
    (dir, path, id, bytes)
}

fn bench_load(c: &mut Criterion) {
    let mut g = c.benchmark_group("load");
    g.sample_size(30);
    // typical: 100 visits over the case's life, the rest small edits; heavy: 500 visits.
    for (label, visit_every) in [("typical_100_visits", 20), ("heavy_500_visits", 4)] {
        let (_dir, path, id, bytes) = history_case(visit_every);
        let ops = CaseDoc::load(&bytes).unwrap().automerge().stats().num_ops;
        eprintln!(
            "case with 2,001 changes ({label}): {} bytes saved, {ops} ops",
            bytes.len()
        );
        g.bench_function(format!("case_with_2000_changes/{label}/from_bytes"), |b| {
            b.iter(|| CaseDoc::load(black_box(&bytes)).unwrap())
        });
        // Opening the store (its index) is not timed; the case's first load from disk is:
        // read rows, decrypt, load the snapshot, apply the changes since.
        g.bench_function(format!("case_with_2000_changes/{label}/from_store"), |b| {
            b.iter_batched(
                || CaseStore::open(&path, &KEY).unwrap(),
                |s| s.with_doc(&id, |d| Ok(d.heads().len())).unwrap(),
                BatchSize::PerIteration,
            )
        });
        g.bench_function(
            format!("case_with_2000_changes/{label}/from_store_and_read_typed"),
            |b| {
                b.iter_batched(
                    || CaseStore::open(&path, &KEY).unwrap(),
                    |s| s.get_case(&id).unwrap(),
                    BatchSize::PerIteration,
                )
            },
        );
    }
    g.finish();
}

/// The server's check of a write (`admission::admit`), without storage or network.
fn bench_admit(c: &mut Criterion) {
    use fieldcase_core::case::admission::{admit, Prior, Writer};
    let mut g = c.benchmark_group("admit");
    let a = author();
    let writer = Writer {
        user_id: "u-bench",
        role: Role::Worker,
        team: Some("team-north"),
    };
    let case = CaseDoc::create(
        CaseId::random(),
        ActorId::random(),
        &a,
        new_case(7),
        1_800_000_000_000,
    )
    .unwrap();
    let id = case.id().unwrap();
    let empty = automerge::Automerge::new();
    let created = case.automerge().get_changes(&[]);
    g.bench_function("new_case", |b| {
        b.iter(|| admit(writer, &empty, None, id, case.automerge(), &created).unwrap())
    });
    let before = case.automerge().clone();
    let mut visited = case.clone();
    visited
        .add_visit(
            &a,
            1_800_000_100_000,
            VisitInput {
                date: Some("2026-11-21".into()),
                kind: Some("home".into()),
                note: Some(note(3, 200)),
                ..Default::default()
            },
        )
        .unwrap();
    let changes = visited.automerge().get_changes(&before.get_heads());
    let assigned = vec!["u-bench".to_string()];
    let prior = Prior {
        team: "team-north",
        assigned: &assigned,
        outline: None,
    };
    g.bench_function("visit", |b| {
        b.iter(|| {
            admit(
                writer,
                &before,
                Some(prior),
                id,
                visited.automerge(),
                &changes,
            )
            .unwrap()
        })
    });
    // As the server runs it: the outline of the case before kept from the write before.
    let was = fieldcase_core::Outline::of(&before).unwrap();
    let kept = Prior {
        outline: Some(&was),
        ..prior
    };
    g.bench_function("visit/outline_kept", |b| {
        b.iter(|| {
            admit(
                writer,
                &before,
                Some(kept),
                id,
                visited.automerge(),
                &changes,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_edit, bench_store, bench_load, bench_admit);
criterion_main!(benches);
