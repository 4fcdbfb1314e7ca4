//! How long the supervisor console takes to render its pages, through the router (no
//! network), on a SQLite file.
//!
//! `cargo bench -p fieldcase-server --bench console` measures, for a supervisor:
//! - `console/dashboard/{12,500}_cases`: the caseload page over the demo caseload (12
//!   cases) and over a team of 500 cases (each with an assessment, a plan, 10 visits),
//!   with the console's summaries cached (the usual case: nothing changed since the last
//!   page);
//! - `console/dashboard/500_cases_cold`: the same with an empty cache (after a restart, or
//!   when every case changed): every case is loaded and read;
//! - `console/case_record/{demo_conflict,10_visits}`: one case record page;
//! - `console/reports/500_cases`: the reports page over the 500 cases.
//!
//! The dashboard and the reports list every visible case's heads from storage on every
//! request and load only the cases whose heads changed since they were last summarised.

use std::sync::Arc;
use std::time::Duration;

use automerge::ActorId;
use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use fieldcase_core::case::{
    AssessmentInput, CaseKind, Finding, ProblemInput, RiskInput, VisitInput,
};
use fieldcase_core::{Author, CaseDoc, CaseId, NewCase, Role, Stage};
use fieldcase_server::db::{CaseAccess, User};
use fieldcase_server::{app, demo, AppState, Config, Db, SqliteDb};
use http_body_util::BodyExt;
use tower::ServiceExt;

const NAMES: &[&str] = &[
    "สมศรี ใจดี",
    "زهرا احمدی",
    "Фёдорова Анна",
    "Олександр Коваленко",
    "Nguyễn Thị Lan",
];

struct Setup {
    state: Arc<AppState>,
    cookie: String,
    _dir: tempfile::TempDir,
}

fn session_cookie(db: &dyn Db, user: &User) -> String {
    let device = db
        .server_device(user, &ActorId::random().to_hex_string())
        .unwrap();
    let (token, _) = db
        .create_session(
            user,
            &device,
            Default::default(),
            chrono::Utc::now().timestamp_millis(),
        )
        .unwrap();
    format!("fc_session={token}")
}

fn setup(extra_cases: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(SqliteDb::open(dir.path().join("bench.sqlite")).unwrap());
    demo::seed(db.as_ref(), 1_000).unwrap();
    let worker = db.user_by_username("worker1").unwrap().unwrap();
    let actor = ActorId::random();
    let device = db
        .register_device(&worker, None, "bench", &actor.to_hex_string())
        .unwrap();
    let a = Author::new(&worker.id, &worker.display_name, Role::Worker, &device);
    for i in 0..extra_cases {
        let mut new = NewCase {
            team: "demo-team".into(),
            case_kind: Some(CaseKind::ChildProtection),
            ..Default::default()
        };
        new.client.name = Some(format!("{} {i}", NAMES[i % NAMES.len()]));
        let t = 1_700_000_000_000 + i as i64 * 1000;
        let mut doc = CaseDoc::create(CaseId::random(), actor.clone(), &a, new, t).unwrap();
        doc.change_stage(&a, t + 1, Stage::Assessment).unwrap();
        doc.add_assessment(
            &a,
            t + 2,
            AssessmentInput {
                date: Some("2026-10-01".into()),
                risk: Some(RiskInput {
                    finding: Some(Finding::ALL[i % 4]),
                    next_step_due: Some("2026-11-20".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .unwrap();
        doc.change_stage(&a, t + 3, Stage::Planning).unwrap();
        doc.add_problem(
            &a,
            t + 4,
            ProblemInput {
                domain: Some("housing".into()),
                goal: Some("Безопасное жильё".into()),
                ..Default::default()
            },
        )
        .unwrap();
        doc.set_next_review(&a, t + 5, "2026-11-01").unwrap();
        for v in 0..10 {
            doc.add_visit(
                &a,
                t + 10 + v,
                VisitInput {
                    date: Some(format!("2026-10-{:02}", v + 1)),
                    kind: Some("home".into()),
                    note: Some("Thăm hộ gia đình: trẻ em cần hỗ trợ học tập. ".repeat(5)),
                    ..Default::default()
                },
            )
            .unwrap();
        }
        let access = CaseAccess {
            id: doc.id().unwrap(),
            team: "demo-team".into(),
            restricted: false,
            assigned: vec![worker.id.clone()],
            links: Vec::new(),
            closed: false,
            closed_at: None,
            matching: None,
            listing: None,
        };
        db.put_case(&access, &doc.automerge().save(), &doc.heads(), t)
            .unwrap();
    }
    let sup = db.user_by_username("supervisor").unwrap().unwrap();
    let cookie = session_cookie(db.as_ref(), &sup);
    let state = AppState::new(db as Arc<dyn Db>, Config::default());
    Setup {
        state,
        cookie,
        _dir: dir,
    }
}

async fn get(s: &Setup, path: &str) -> usize {
    get_from(s.state.clone(), &s.cookie, path).await
}

async fn get_from(state: Arc<AppState>, cookie: &str, path: &str) -> usize {
    let req = Request::get(path)
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    let res = app(state).oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.into_body().collect().await.unwrap().to_bytes().len()
}

fn case_with(s: &Setup, name_prefix: &str) -> String {
    for (a, _) in s.state.db.cases().unwrap() {
        let doc = CaseDoc::load(&s.state.db.case_document(&a.id).unwrap().unwrap()).unwrap();
        if doc
            .read()
            .unwrap()
            .client
            .name
            .is_some_and(|n| n.starts_with(name_prefix))
        {
            return a.id.to_string();
        }
    }
    panic!("no case of {name_prefix}");
}

fn console(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("console");
    g.measurement_time(Duration::from_secs(5));
    g.sample_size(20);

    let demo = setup(0);
    let conflict = case_with(&demo, "Фёдорова Анна Петровна");
    g.bench_function("dashboard/12_cases", |b| {
        b.iter(|| rt.block_on(get(&demo, "/console")))
    });
    g.bench_function("case_record/demo_conflict", |b| {
        b.iter(|| rt.block_on(get(&demo, &format!("/console/cases/{conflict}"))))
    });

    let big = setup(500);
    let one = case_with(&big, "Nguyễn Thị Lan 4");
    g.sample_size(10);
    g.bench_function("dashboard/500_cases", |b| {
        b.iter(|| rt.block_on(get(&big, "/console")))
    });
    g.bench_function("dashboard/500_cases_cold", |b| {
        b.iter(|| {
            let cold = AppState::new(big.state.db.clone(), Config::default());
            rt.block_on(get_from(cold, &big.cookie, "/console"))
        })
    });
    g.bench_function("case_record/10_visits", |b| {
        b.iter(|| rt.block_on(get(&big, &format!("/console/cases/{one}"))))
    });
    g.bench_function("reports/500_cases", |b| {
        b.iter(|| rt.block_on(get(&big, "/console/reports")))
    });
    g.finish();
}

criterion_group!(benches, console);
criterion_main!(benches);
