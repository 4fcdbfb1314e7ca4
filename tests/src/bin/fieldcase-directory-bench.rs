//! The partner directory's numbers (issue 16): a generated directory of `--services`
//! services in the five scripts, on a real server on loopback and a real phone store.
//!
//! ```sh
//! cargo run -p fieldcase-tests --bin fieldcase-directory-bench [--release] -- [--services 10000] [--searches 500]
//! ```
//!
//! Measures, each once (medians for searches):
//! 1. the import: reading the HSDS data package from a folder, checking every row and the
//!    whole directory, and storing it sealed (`fieldcase_server::directory::import`, the
//!    code of `fieldcase-server directory import`);
//! 2. the first sync of a new phone (no cases; the whole directory fetched, checked and
//!    kept sealed);
//! 3. offline searches on the phone: the index built at the first search, then
//!    `--searches` searches of words in the five scripts and filters by domain, area,
//!    language and age (median, 95th percentile, slowest).
//!
//! Targets (the issue's): import under 10 s, first sync under 2 s, search under 5 ms.

use std::time::{Duration, Instant};

use fieldcase_core::directory::{hsds, sample, DirectoryFilter};
use fieldcase_tests::TestServer;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn folder_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let services = arg("--services", 10_000);
    let searches = arg("--searches", 500).max(1);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "fieldcase-directory-bench: {services} services, {searches} searches ({profile} build)"
    );

    let server = TestServer::start();
    let tmp = tempfile::tempdir().expect("temp dir");
    let package = tmp.path().join("package");
    let directory = sample::generate(services);
    hsds::export(&directory)
        .write_dir(&package)
        .expect("package written");
    println!(
        "package: {} organizations, {} services, {} locations; {:.1} MB of CSV",
        directory.organizations.len(),
        directory.services.len(),
        directory.locations.len(),
        folder_bytes(&package) as f64 / 1e6
    );

    // 1. Import.
    let db: &dyn fieldcase_server::Db = server.db.as_ref();
    let started = Instant::now();
    let outcome = fieldcase_server::directory::import(
        db,
        &server.state.config,
        None,
        &package,
        "bench",
        false,
    )
    .expect("import");
    let import = started.elapsed();
    assert!(
        outcome.report.refused.is_empty(),
        "{:?}",
        outcome.report.refused
    );
    assert_eq!(outcome.version, Some(1));
    println!("import: {} ({})", ms(import), outcome.report.summary());

    // 2. The first sync of a new phone.
    let (phone, token, _dir) = server.phone("anna");
    let started = Instant::now();
    let report = phone.sync(&server.url, &token).expect("sync");
    let first_sync = started.elapsed();
    assert!(report.directory_updated && report.directory_version == 1);
    let snapshot = db.directory().expect("read").expect("stored").json.len();
    println!(
        "first sync of a new phone: {} (a {:.1} MB snapshot)",
        ms(first_sync),
        snapshot as f64 / 1e6
    );

    // 3. Offline searches.
    let started = Instant::now();
    let all = phone
        .directory_search(&DirectoryFilter::default())
        .expect("search");
    println!("index built at the first search: {}", ms(started.elapsed()));
    assert!(!all.is_empty());
    let queries = [
        "benh vien",
        "tư vấn",
        "юридическая",
        "помощь в учебе",
        "правова",
        "притулок",
        "ฉุกเฉิน",
        "ฝึกอาชีพ",
        "كمك نقدي",
        "مشاوره",
        "legal",
        "hà nội",
        "zzz",
    ];
    let filters: Vec<DirectoryFilter> = (0..searches)
        .map(|i| {
            let mut f = DirectoryFilter {
                query: Some(queries[i % queries.len()].into()),
                ..DirectoryFilter::default()
            };
            match i % 5 {
                1 => f.domain = Some("housing".into()),
                2 => f.area = Some("київ".into()),
                3 => f.language = Some("th".into()),
                4 => {
                    f.age = Some(12);
                    f.query = None;
                }
                _ => {}
            }
            f
        })
        .collect();
    let mut times: Vec<Duration> = Vec::with_capacity(searches);
    let mut found = 0;
    for f in &filters {
        let started = Instant::now();
        found += phone.directory_search(f).expect("search").len();
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "offline search: median {}, 95th percentile {}, slowest {} ({} hits in all)",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(at(1.0)),
        found
    );
    println!(
        "targets: import < 10 s {}; first sync < 2 s {}; search < 5 ms (median) {}",
        if import < Duration::from_secs(10) {
            "met"
        } else {
            "MISSED"
        },
        if first_sync < Duration::from_secs(2) {
            "met"
        } else {
            "MISSED"
        },
        if at(0.5) < Duration::from_millis(5) {
            "met"
        } else {
            "MISSED"
        },
    );
}
