//! Attachments' numbers (issue 17), over loopback with real phone stores and the release
//! server in its own process:
//!
//! ```sh
//! cargo build --release -p fieldcase-server -p fieldcase-tests
//! target/release/fieldcase-attachment-bench [--phones 100] [--photos 3] [--photo-mib 5] [--big-mib 10]
//! ```
//!
//! 1. one phone uploads a `--big-mib` photo attached offline (its sync after the case is at
//!    the server: the upload alone), and a colleague's phone fetches it;
//! 2. `--phones` phones, each with `--photos` photos of `--photo-mib` attached offline to a
//!    case already at the server, sync at once: time to the last, p50 and p99 per phone,
//!    errors, and the server's peak memory (VmHWM).
//!
//! That a resumed upload sends only what is missing is proven by the test
//! `attachments::a_cut_upload_resumes_with_only_what_is_missing` (it counts the bytes the
//! server received). Bounded in count and time; stops by itself.
//!
//! Targets (the issue's): 10 MB in under 1 s; 100 phones x 3 x 5 MB with no error while the
//! server stays under 300 MB.

use std::time::{Duration, Instant};

use fieldcase_core::case::{AttachmentInput, AttachmentKind};
use fieldcase_core::{CaseId, CaseStore, NewCase, Role};
use fieldcase_server::{Db, SqliteDb};
use fieldcase_tests::release::{arg, percentile, sync_at_once, ReleaseServer};

const PASSWORD: &str = "attachment bench password";

/// A JPEG-looking file of `len` bytes, different for each `seed` (not compressible).
fn photo(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn phone(dir: &std::path::Path, url: &str, user: &str) -> (CaseStore, String) {
    let store = CaseStore::open(dir.join(format!("{user}.sqlite")), &[5u8; 32]).unwrap();
    let token = store
        .login(url, user, PASSWORD, "bench phone")
        .unwrap()
        .token;
    (store, token)
}

fn case(store: &CaseStore, name: &str) -> CaseId {
    let mut c = NewCase {
        team: "bench".into(),
        ..Default::default()
    };
    c.client.name = Some(name.into());
    store.create_case(c).unwrap()
}

fn attach(store: &CaseStore, id: &CaseId, bytes: &[u8]) {
    store
        .attach(
            id,
            bytes,
            AttachmentInput {
                kind: Some(AttachmentKind::Photo),
                caption: Some("Ảnh giấy tờ".into()),
                about: None,
            },
        )
        .unwrap();
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let phones = arg("--phones", 100);
    let photos = arg("--photos", 3);
    let photo_mib = arg("--photo-mib", 5);
    let big_mib = arg("--big-mib", 10);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("server.sqlite");
    {
        let db = SqliteDb::open(&db_path).unwrap();
        db.add_team("bench").unwrap();
        for user in ["one", "two"] {
            db.add_user(
                user,
                "Bench worker",
                Role::Worker,
                Some("bench"),
                PASSWORD,
                1000,
            )
            .unwrap();
        }
        for p in 0..phones {
            db.add_user(
                &format!("w{p}"),
                "Bench worker",
                Role::Worker,
                Some("bench"),
                PASSWORD,
                1000,
            )
            .unwrap();
        }
    }
    let server = ReleaseServer::start(&db_path);
    println!(
        "fieldcase-attachment-bench: {phones} phones x {photos} photos of {photo_mib} MiB; one of {big_mib} MiB ({profile} build)"
    );

    // 1: one big photo, uploaded and fetched.
    let (one, one_token) = phone(dir.path(), &server.url, "one");
    let id = case(&one, "Nguyễn Thị Lan");
    one.sync(&server.url, &one_token).unwrap();
    let big = photo(big_mib * 1024 * 1024, 1);
    let t = Instant::now();
    attach(&one, &id, &big);
    let sealed = t.elapsed();
    let t = Instant::now();
    let r = one.sync(&server.url, &one_token).unwrap();
    let upload = t.elapsed();
    assert_eq!(r.attachments_uploaded, 1, "{:?}", r.errors);
    println!(
        "A1 attach {:.1} MiB offline (read, hash, seal in chunks): {sealed:?}; upload at the next sync: {upload:?} = {:.0} MiB/s",
        mib(big.len()),
        mib(big.len()) / upload.as_secs_f64()
    );
    // A worker's second phone fetches a photo its first phone uploaded.
    let (two, two_token) = phone(dir.path(), &server.url, "two");
    let shared = case(&two, "Petrenko Maria");
    two.sync(&server.url, &two_token).unwrap();
    let second = photo(big_mib * 1024 * 1024, 2);
    attach(&two, &shared, &second);
    two.sync(&server.url, &two_token).unwrap();
    let entry = two.get_case(&shared).unwrap().attachments[0].id.clone();
    let (again, again_token) = {
        let store =
            CaseStore::open(dir.path().join("two-second-phone.sqlite"), &[6u8; 32]).unwrap();
        let token = store
            .login(&server.url, "two", PASSWORD, "second phone")
            .unwrap()
            .token;
        (store, token)
    };
    again.sync(&server.url, &again_token).unwrap();
    let t = Instant::now();
    again
        .fetch_attachment(&server.url, &again_token, &shared, &entry)
        .unwrap();
    let fetch = t.elapsed();
    assert_eq!(again.attachment_bytes(&shared, &entry).unwrap(), second);
    println!(
        "A2 fetch {:.1} MiB on another phone of the same worker: {fetch:?} = {:.0} MiB/s",
        mib(second.len()),
        mib(second.len()) / fetch.as_secs_f64()
    );

    // 3: many phones uploading at once.
    let mut fleet = Vec::new();
    let t = Instant::now();
    for p in 0..phones {
        let (s, tok) = phone(dir.path(), &server.url, &format!("w{p}"));
        let id = case(&s, &format!("Фёдорова Анна {p}"));
        s.sync(&server.url, &tok).unwrap();
        for k in 0..photos {
            attach(
                &s,
                &id,
                &photo(photo_mib * 1024 * 1024, 100 + (p * photos + k) as u64),
            );
        }
        fleet.push((s, tok));
    }
    println!("   (prepared {phones} phones in {:?})", t.elapsed());
    let before = server.peak_rss_kib();
    let start = Instant::now();
    let deadline = Duration::from_secs(600);
    let (times, uploaded, errors) = sync_at_once(fleet, &server.url, |r| r.attachments_uploaded);
    let total = start.elapsed();
    assert!(total < deadline, "the burst took longer than {deadline:?}");
    let bytes = uploaded * photo_mib;
    println!(
        "A3 {phones} phones x {photos} photos of {photo_mib} MiB at once: {uploaded} files ({bytes} MiB) in {total:?} = {:.0} MiB/s; per phone p50 {:?}, p99 {:?}; errors {errors}",
        bytes as f64 / total.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    println!(
        "server peak memory (VmHWM): {} MiB before the burst, {} MiB after",
        before / 1024,
        server.peak_rss_kib() / 1024
    );
    if errors > 0 || uploaded != phones * photos {
        std::process::exit(1);
    }
}
