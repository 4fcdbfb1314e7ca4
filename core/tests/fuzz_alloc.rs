//! What arrives from the network, fuzzed under a memory limit (issue 13, finding 1): sync
//! frames, departure bodies and saved documents, mutated from real ones (bit flips,
//! truncation, splices, inflated length fields, changed chunk types, recompressed chunks,
//! deflate bombs), each taken through the same functions the server's entry points call:
//! `Frame::decode`, `SyncMessage::decode`, the input guard ([`Limits`]), then Automerge
//! (`receive_sync_message` and `generate_sync_message` on a clone of a real case,
//! `load_incremental`, `load`) and the schema.
//!
//! This binary's global allocator counts ([`peak_alloc::PeakAlloc`]): while an input is
//! handled, the live heap (so also any single allocation) may grow by at most
//! `64 MiB + 256 × input length` over its level at the start. The seed of each run is
//! printed (set `FIELDCASE_FUZZ_SEED` to replay a run, `FIELDCASE_FUZZ_CASES` for a longer
//! one); an input over the bound fails its case and proptest shrinks it. An allocation the
//! system cannot satisfy aborts the process instead, so the input being handled is always
//! written first to `fuzz-alloc-input.bin` in Cargo's test temporary folder.
//!
//! What must hold beyond that: real inputs pass the guard and load (no false refusals);
//! what the guard refuses is never given to Automerge; the inputs in
//! `tests/fixtures/crashers/` are each refused or an error.

use std::sync::{Mutex, OnceLock};

use automerge::sync::{Message as SyncMessage, State as SyncState, SyncDoc};
use automerge::{Automerge, ChangeHash};
use fieldcase_core::limits::Limits;
use fieldcase_core::sync::protocol::Frame;
use fieldcase_core::{schema, CaseDoc, CaseId};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

#[allow(dead_code, unreachable_pub)]
#[path = "it/fixtures.rs"]
mod fixtures;
use fixtures::*;

#[global_allocator]
static HEAP: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

/// The most the heap may grow while one input is handled.
fn bound(input_len: usize) -> usize {
    (64 << 20) + 256 * input_len
}

/// One input at a time: the count is process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

/// The largest growth of the heap seen for one input, over the bound for it (per mille).
static WORST: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `f` on `input` and fails if the heap grew by more than [`bound`] meanwhile.
fn bounded<T>(input: &[u8], f: impl FnOnce(&[u8]) -> T) -> T {
    std::fs::write(last_input(), input).expect("keep the input");
    let base = HEAP.current_usage();
    HEAP.reset_peak_usage();
    let out = f(input);
    let grown = HEAP.peak_usage().saturating_sub(base);
    let limit = bound(input.len());
    WORST.fetch_max(grown * 1000 / limit, std::sync::atomic::Ordering::Relaxed);
    assert!(
        grown <= limit,
        "an input of {} bytes grew the heap by {grown} bytes (bound {limit})",
        input.len()
    );
    out
}

fn last_input() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-alloc-input.bin")
}

/// Real inputs: a case with a long multilingual history, saved whole and incrementally,
/// and the sync messages (v2 whole-document and v1 change by change) it is sent with.
struct Corpus {
    case: Automerge,
    /// A replica that lacks the last changes, to apply departures and messages to.
    behind: Automerge,
    saved: Vec<Vec<u8>>,
    departures: Vec<Vec<u8>>,
    messages: Vec<Vec<u8>>,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let author = worker(1);
        let mut case = new_case(&author, NAMES[2]);
        let mut mid: Vec<ChangeHash> = Vec::new();
        for i in 0..40 {
            let note = format!(
                "{} {}",
                NOTES[i % NOTES.len()],
                NOTES[(i + 2) % NOTES.len()]
            )
            .repeat(1 + i % 6);
            case.add_visit(&author, T0 + i as i64, visit(&note))
                .unwrap();
            if i == 30 {
                mid = case.heads();
            }
        }
        let doc = case.automerge().clone();
        let behind = doc.fork_at(&mid).unwrap();
        let saved = vec![
            doc.save(),
            doc.save_nocompress(),
            behind.save(),
            [behind.save(), doc.save_after(&mid)].concat(),
        ];
        let departures = vec![
            doc.save_after(&mid),
            doc.save_after(&[]),
            doc.get_changes(&mid)
                .iter()
                .flat_map(|c| c.raw_bytes().to_vec())
                .collect(),
        ];
        let mut messages = Vec::new();
        for peer in [Automerge::new(), behind.clone()] {
            let (mut a, mut b) = (doc.clone(), peer);
            let (mut sa, mut sb) = (SyncState::new(), SyncState::new());
            for _ in 0..8 {
                if let Some(m) = a.generate_sync_message(&mut sa) {
                    messages.push(m.clone().encode());
                    b.receive_sync_message(&mut sb, m).unwrap();
                }
                if let Some(m) = b.generate_sync_message(&mut sb) {
                    messages.push(m.clone().encode());
                    a.receive_sync_message(&mut sa, m).unwrap();
                }
            }
            assert_eq!(a.get_heads(), b.get_heads());
        }
        Corpus {
            case: doc,
            behind,
            saved,
            departures,
            messages,
        }
    })
}

/// Deflated runs of zeros, made once: (inflated size, raw DEFLATE stream).
fn zeros() -> &'static [(usize, Vec<u8>)] {
    static ZEROS: OnceLock<Vec<(usize, Vec<u8>)>> = OnceLock::new();
    ZEROS.get_or_init(|| {
        [64 << 10, 6 << 20, 96 << 20]
            .into_iter()
            .map(|n| (n, deflate(&vec![0u8; n])))
            .collect()
    })
}

fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

fn leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn read_leb(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Where chunks start in `bytes` (by their magic bytes).
fn chunk_starts(bytes: &[u8]) -> Vec<usize> {
    bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == MAGIC)
        .map(|(i, _)| i)
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
    /// Copies a range of another real input (or this one) into this one.
    Splice {
        from: prop::sample::Index,
        start: prop::sample::Index,
        len: usize,
        at: prop::sample::Index,
    },
    /// Overwrites a byte with a huge LEB128 number.
    Leb(prop::sample::Index, u64),
    /// Changes the type of a chunk.
    ChunkType(prop::sample::Index, u8),
    /// Deflates a change chunk into a compressed one (type 2), as Automerge would.
    Recompress(prop::sample::Index),
    /// Inserts a deflate bomb at a chunk boundary: a compressed change or a document with
    /// a deflated column.
    Bomb {
        at: prop::sample::Index,
        size: prop::sample::Index,
        document: bool,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        3 => (index(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        1 => index().prop_map(Mutation::Truncate),
        2 => (index(), index(), 1usize..512, index())
            .prop_map(|(from, start, len, at)| Mutation::Splice { from, start, len, at }),
        2 => (index(), prop_oneof![Just(u64::MAX >> 1), Just(1 << 40), Just(u64::from(u32::MAX)), any::<u64>()])
            .prop_map(|(i, v)| Mutation::Leb(i, v)),
        1 => (index(), 0u8..5).prop_map(|(i, t)| Mutation::ChunkType(i, t)),
        1 => index().prop_map(Mutation::Recompress),
        1 => (index(), index(), any::<bool>())
            .prop_map(|(at, size, document)| Mutation::Bomb { at, size, document }),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation], pool: &[&[u8]]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        match m {
            Mutation::Flip(i, bit) => {
                let i = i.index(bytes.len());
                bytes[i] ^= 1 << bit;
            }
            Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len())),
            Mutation::Splice {
                from,
                start,
                len,
                at,
            } => {
                let src = pool[from.index(pool.len())];
                if src.is_empty() {
                    continue;
                }
                let s = start.index(src.len());
                let piece = src[s..(s + len).min(src.len())].to_vec();
                let at = at.index(bytes.len());
                bytes.splice(at..at, piece);
            }
            Mutation::Leb(i, v) => {
                let i = i.index(bytes.len());
                let mut n = Vec::new();
                leb(&mut n, *v);
                let old = read_leb(&bytes[i..]).map_or(1, |(_, len)| len);
                bytes.splice(i..(i + old).min(bytes.len()), n);
            }
            Mutation::ChunkType(i, t) => {
                let starts = chunk_starts(&bytes);
                if let Some(&s) = starts.get(i.index(starts.len().max(1))) {
                    if s + 8 < bytes.len() {
                        bytes[s + 8] = *t;
                    }
                }
            }
            Mutation::Recompress(i) => {
                let starts = chunk_starts(&bytes);
                let Some(&s) = starts.get(i.index(starts.len().max(1))) else {
                    continue;
                };
                if s + 9 >= bytes.len() || bytes[s + 8] != 1 {
                    continue;
                }
                let Some((len, n)) = read_leb(&bytes[s + 9..]) else {
                    continue;
                };
                let data_start = s + 9 + n;
                let Some(end) = usize::try_from(len)
                    .ok()
                    .and_then(|l| data_start.checked_add(l))
                    .filter(|&e| e <= bytes.len())
                else {
                    continue;
                };
                let packed = deflate(&bytes[data_start..end]);
                let mut chunk = bytes[s..s + 8].to_vec();
                chunk.push(2);
                leb(&mut chunk, packed.len() as u64);
                chunk.extend(packed);
                bytes.splice(s..end, chunk);
            }
            Mutation::Bomb { at, size, document } => {
                let zeros = zeros();
                let (_, z) = &zeros[size.index(zeros.len())];
                let mut chunk = MAGIC.to_vec();
                chunk.extend([9, 9, 9, 9]);
                if *document {
                    let mut data = vec![0, 0, 1];
                    leb(&mut data, 0x10 | 0b1000);
                    leb(&mut data, z.len() as u64);
                    data.push(0);
                    data.extend(z);
                    chunk.push(0);
                    leb(&mut chunk, data.len() as u64);
                    chunk.extend(data);
                } else {
                    chunk.push(2);
                    leb(&mut chunk, z.len() as u64);
                    chunk.extend(z);
                }
                let mut starts = chunk_starts(&bytes);
                starts.push(bytes.len());
                let at = starts[at.index(starts.len())];
                bytes.splice(at..at, chunk);
            }
        }
    }
    bytes
}

/// What happened to an input.
#[derive(Debug, Default)]
struct Tally {
    refused: u32,
    automerge_err: u32,
    applied: u32,
    undecodable: u32,
}

/// The server's `/v1/sync` path for one frame, on a clone of a real case.
fn sync_frame(frame: &[u8], base: &Automerge, tally: &mut Tally) {
    let limits = Limits::default();
    let mut doc = base.clone();
    bounded(frame, |frame| {
        let data = match Frame::decode(frame) {
            Ok(Frame::Sync { data, .. } | Frame::Request { data, .. }) => data,
            _ => {
                tally.undecodable += 1;
                return;
            }
        };
        let Ok(message) = SyncMessage::decode(&data) else {
            tally.undecodable += 1;
            return;
        };
        if limits.check_message(&message).is_err() {
            tally.refused += 1;
            return; // refused: Automerge never sees it
        }
        let mut state = SyncState::new();
        match doc.receive_sync_message(&mut state, message) {
            Ok(()) => {
                tally.applied += 1;
                let _ = schema::validate(&doc);
                let _ = doc.generate_sync_message(&mut state);
            }
            Err(_) => tally.automerge_err += 1,
        }
    });
}

/// The server's departure path for one body, on a clone of a real case.
fn departure(body: &[u8], base: &Automerge, tally: &mut Tally) {
    let mut doc = base.clone();
    bounded(body, |body| {
        if Limits::default().check_chunks(body).is_err() {
            tally.refused += 1;
            return;
        }
        match doc.load_incremental(body) {
            Ok(_) => {
                tally.applied += 1;
                let _ = schema::validate(&doc);
            }
            Err(_) => tally.automerge_err += 1,
        }
    });
}

/// A saved document received from elsewhere (the phone's import).
fn saved_document(bytes: &[u8], tally: &mut Tally) {
    bounded(bytes, |bytes| {
        if Limits::default().check_chunks(bytes).is_err() {
            tally.refused += 1;
            return;
        }
        match Automerge::load(bytes) {
            Ok(doc) => {
                tally.applied += 1;
                let _ = schema::validate(&doc);
            }
            Err(_) => tally.automerge_err += 1,
        }
    });
}

fn frame_of(data: Vec<u8>) -> Vec<u8> {
    Frame::Sync {
        sender_id: "peer-x".into(),
        target_id: "fieldcase-server".into(),
        document_id: CaseId::random().into(),
        data,
    }
    .encode()
}

fn runner(name: &str, default_cases: u32) -> TestRunner {
    let seed: [u8; 32] = match std::env::var("FIELDCASE_FUZZ_SEED") {
        Ok(hex) => {
            let mut s = [0u8; 32];
            for (i, b) in s.iter_mut().enumerate() {
                *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16)
                    .expect("FIELDCASE_FUZZ_SEED is 64 hex digits");
            }
            s
        }
        Err(_) => {
            let mut s = [0u8; 32];
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                .to_le_bytes();
            s[..16].copy_from_slice(&t);
            s[16..20].copy_from_slice(&std::process::id().to_le_bytes());
            s
        }
    };
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    let cases = std::env::var("FIELDCASE_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default_cases);
    println!(
        "{name}: {cases} cases, FIELDCASE_FUZZ_SEED={hex}; the input under test is kept in {}",
        last_input().display()
    );
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    )
}

fn pool() -> Vec<&'static [u8]> {
    let c = corpus();
    c.saved
        .iter()
        .chain(&c.departures)
        .chain(&c.messages)
        .map(Vec::as_slice)
        .collect()
}

#[test]
fn mutated_sync_frames_stay_within_the_memory_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let c = corpus();
    let pool = pool();
    let tally = std::cell::RefCell::new(Tally::default());
    let mut run = runner("sync frames", 600);
    let strategy = (
        0..c.messages.len(),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(mutation(), 1..5),
    );
    run.run(&strategy, |(which, behind, whole_frame, mutations)| {
        let base = if behind { &c.behind } else { &c.case };
        let message = c.messages[which].clone();
        let frame = if whole_frame {
            apply(frame_of(message), &mutations, &pool)
        } else {
            frame_of(apply(message, &mutations, &pool))
        };
        sync_frame(&frame, base, &mut tally.borrow_mut());
        Ok(())
    })
    .unwrap();
    println!(
        "sync frames: {:?}; the largest heap growth was {}‰ of its bound",
        tally.borrow(),
        WORST.load(std::sync::atomic::Ordering::Relaxed)
    );
}

#[test]
fn mutated_departures_stay_within_the_memory_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let c = corpus();
    let pool = pool();
    let tally = std::cell::RefCell::new(Tally::default());
    let mut run = runner("departures", 600);
    let strategy = (
        0..c.departures.len(),
        proptest::collection::vec(mutation(), 1..5),
    );
    run.run(&strategy, |(which, mutations)| {
        let body = apply(c.departures[which].clone(), &mutations, &pool);
        departure(&body, &c.behind, &mut tally.borrow_mut());
        Ok(())
    })
    .unwrap();
    println!(
        "departures: {:?}; the largest heap growth was {}‰ of its bound",
        tally.borrow(),
        WORST.load(std::sync::atomic::Ordering::Relaxed)
    );
}

#[test]
fn mutated_saved_documents_stay_within_the_memory_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let c = corpus();
    let pool = pool();
    let tally = std::cell::RefCell::new(Tally::default());
    let mut run = runner("saved documents", 600);
    let strategy = (
        0..c.saved.len(),
        proptest::collection::vec(mutation(), 1..5),
    );
    run.run(&strategy, |(which, mutations)| {
        let bytes = apply(c.saved[which].clone(), &mutations, &pool);
        saved_document(&bytes, &mut tally.borrow_mut());
        Ok(())
    })
    .unwrap();
    println!(
        "saved documents: {:?}; the largest heap growth was {}‰ of its bound",
        tally.borrow(),
        WORST.load(std::sync::atomic::Ordering::Relaxed)
    );
}

#[test]
fn real_inputs_pass_the_guard_and_load() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let c = corpus();
    let limits = Limits::default();
    for saved in &c.saved {
        limits.check_chunks(saved).expect("a real save passes");
        let doc = bounded(saved, |b| Automerge::load(b).expect("and loads"));
        schema::validate(&doc).expect("a real case");
        CaseDoc::from_automerge(doc).unwrap();
    }
    for body in &c.departures {
        limits.check_chunks(body).expect("a real departure passes");
        let mut doc = c.behind.clone();
        bounded(body, |b| doc.load_incremental(b).expect("and applies"));
        assert_eq!(doc.get_heads(), c.case.get_heads());
    }
    let mut compressed = 0;
    for m in &c.messages {
        let message = limits.decode_message(m).expect("a real message passes");
        if message.changes.iter().any(|b| b.len() > 1000) {
            compressed += 1;
        }
    }
    assert!(compressed > 0, "whole-document messages are among them");
    // The real inputs, wrapped in frames, take the server's path without a refusal.
    let mut tally = Tally::default();
    for m in &c.messages {
        sync_frame(&frame_of(m.clone()), &c.behind, &mut tally);
    }
    assert_eq!(tally.refused, 0, "{tally:?}");
    assert_eq!(tally.undecodable, 0, "{tally:?}");
}

#[test]
fn crashers_are_refused_or_errors_within_the_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let c = corpus();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crashers");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the crashers are there");
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for (what, tally) in [
            ("as a document", {
                let mut t = Tally::default();
                saved_document(&bytes, &mut t);
                t
            }),
            ("as a departure", {
                let mut t = Tally::default();
                departure(&bytes, &c.behind, &mut t);
                t
            }),
            ("as a sync message", {
                let mut t = Tally::default();
                sync_frame(&frame_of(bytes.clone()), &c.behind, &mut t);
                t
            }),
        ] {
            assert_eq!(tally.applied, 0, "{name} {what}: {tally:?}");
        }
        // Bombs and bloom filters are refused by the guard itself.
        let limits = Limits::default();
        if name.starts_with("sync-message") {
            assert!(limits.decode_message(&bytes).is_err(), "{name}");
        } else {
            assert!(limits.check_chunks(&bytes).is_err(), "{name}");
        }
    }
}
