//! Encryption at rest (issue 18): envelope encryption, once for every storage.
//!
//! Every case has a random 256-bit data key of its own. Its snapshot and every change
//! appended to it are stored sealed with that key (AES-256-GCM, the phone's design in
//! `fieldcase_core::crypto`: `version || nonce || ciphertext || tag`, the associated data
//! the record's kind and the case id, so that a blob moved to another case or slot fails to
//! open). The data key is stored beside the case wrapped (sealed) by the server's master
//! key, which is never stored in the database: it is read from a key file (created on first
//! start, owner-only) or from the environment. Without the master key the database, its
//! WAL, every `backup` copy and every `pg_dump` hold only ciphertext; losing it loses the
//! data.
//!
//! A database remembers which master key it is under: a constant sealed by the key (the
//! key check). A server started with another key refuses to start rather than write
//! cases no key opens. Cases stored in the clear by an earlier version are sealed at
//! startup ([`prepare`], in the transaction that checks the key), so no read or write ever
//! meets a case without a data key. [`rotate`] rewraps every data key under a new master
//! key; the sealed data is not touched.
//!
//! Each storage implements the rows of those two steps ([`KeyTx`]) inside one transaction
//! of its own; what is sealed, and how, is decided here.
//!
//! Erasure destroys a case's data key (`super::erasure`). So that it reaches backups taken
//! before, the data keys are kept apart from them (ADR 0007): a SQLite `backup` copy holds
//! none, and `restore` joins them from the database or a keyring copy
//! (`sqlite::SqliteDb::export_keyring`). PostgreSQL keeps them in a keys database of their
//! own, apart from the data database and its dumps (`postgres::PostgresDb::connect_apart`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

use super::accounts::StorageError;

/// The sealed format's version (its first byte).
const VERSION: u8 = 1;
/// The length of a master key and of a data key, in bytes.
pub const KEY_BYTES: usize = 32;
/// What the key check seals.
const KEY_CHECK: &[u8] = b"fieldcase server master key check v1";

/// What a sealed blob is; part of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A case's data key, wrapped by the master key.
    DataKey = 1,
    /// A case's snapshot (`Automerge::save`).
    Snapshot = 2,
    /// Changes appended to a case (`Automerge::save_after`).
    Change = 3,
    /// The partner directory's snapshot (`db::directory`).
    Directory = 4,
    /// The master key check.
    KeyCheck = 7,
    /// A chunk of an attachment's bytes (`db::attachments`).
    AttachmentChunk = 8,
    // 9 and 10: the duplicate check's facts and the console lists' facts, each sealed in a
    // table of its own before the SQLite storage's migration 26 (PostgreSQL's schema
    // version 23) dropped those tables; never sealed again.
    /// What is kept beside a case in its row (`db::cases`): the duplicate check's facts
    /// (`db::MatchFacts`) and the console lists' (`db::ListFacts`), in one record.
    Facts = 11,
}

/// An AES-256-GCM key: a master key or a case's data key.
pub struct Key(LessSafeKey);

impl std::fmt::Debug for Key {
    // Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    pub fn from_bytes(bytes: &[u8; KEY_BYTES]) -> Self {
        Key(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte key"),
        ))
    }

    /// Seals `plain` as a `kind` record of the case (or other context) `context`.
    pub fn seal(&self, kind: Kind, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = crate::auth::random();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plain.len() + 16);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let tag = self
            .0
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kind, context)),
                &mut out[1 + NONCE_LEN..],
            )
            .expect("AES-GCM seals any length a case has");
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// Opens a record sealed by [`Key::seal`] with the same kind and context.
    pub fn open(&self, kind: Kind, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StorageError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(StorageError::Corrupt(format!(
                "a sealed {kind:?} is malformed"
            )));
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
            .map_err(|_| StorageError::Corrupt("a sealed record's nonce".into()))?;
        let mut body = sealed[1 + NONCE_LEN..].to_vec();
        let n = self
            .0
            .open_in_place(nonce, Aad::from(aad(kind, context)), &mut body)
            .map_err(|_| StorageError::Corrupt(format!("a sealed {kind:?} does not open")))?
            .len();
        body.truncate(n);
        Ok(body)
    }
}

fn aad(kind: Kind, context: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(1 + context.len());
    a.push(kind as u8);
    a.extend_from_slice(context);
    a
}

/// What a storage counts of its sealing and opening, exported at `/metrics`: the case
/// documents it opened (read and decrypted, by anyone: the hub, the console, the
/// retention), and the blobs it sealed and opened for cases (snapshots, changes, data
/// keys) with the time spent in AES-GCM, so that encryption's share of the server's time
/// is measured where it is spent (`bash bench/run.sh` reports it per scenario).
#[derive(Debug, Default)]
pub struct Meter {
    pub documents_opened: AtomicU64,
    pub seals: AtomicU64,
    pub seal_nanos: AtomicU64,
    pub opens: AtomicU64,
    pub open_nanos: AtomicU64,
}

impl Meter {
    /// [`Key::seal`], counted and timed.
    pub fn seal(&self, key: &Key, kind: Kind, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let start = std::time::Instant::now();
        let out = key.seal(kind, context, plain);
        self.seal_nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Relaxed);
        self.seals.fetch_add(1, Relaxed);
        out
    }

    /// [`Key::open`], counted and timed.
    pub fn open(
        &self,
        key: &Key,
        kind: Kind,
        context: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, StorageError> {
        let start = std::time::Instant::now();
        let out = key.open(kind, context, sealed);
        self.open_nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Relaxed);
        self.opens.fetch_add(1, Relaxed);
        out
    }

    /// Times `f` as opening (unwrapping a data key).
    pub fn opening<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let out = f();
        self.open_nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Relaxed);
        self.opens.fetch_add(1, Relaxed);
        out
    }

    /// Times `f` as sealing (making and wrapping a data key).
    pub fn sealing<T>(&self, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let out = f();
        self.seal_nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Relaxed);
        self.seals.fetch_add(1, Relaxed);
        out
    }

    /// The counters in Prometheus' text format.
    pub fn render(&self, out: &mut String) {
        let seconds = |n: &AtomicU64| format!("{:.6}", n.load(Relaxed) as f64 / 1e9);
        for (name, kind, help, v) in [
            (
                "case_documents_opened_total",
                "counter",
                "Case documents read from storage and opened (decrypted), by any reader.",
                self.documents_opened.load(Relaxed).to_string(),
            ),
            (
                "case_seals_total",
                "counter",
                "Case blobs sealed with AES-256-GCM (snapshots, changes, new data keys).",
                self.seals.load(Relaxed).to_string(),
            ),
            (
                "case_seal_seconds_total",
                "counter",
                "Time spent sealing case blobs.",
                seconds(&self.seal_nanos),
            ),
            (
                "case_opens_total",
                "counter",
                "Case blobs opened with AES-256-GCM (snapshots, changes, data keys).",
                self.opens.load(Relaxed).to_string(),
            ),
            (
                "case_open_seconds_total",
                "counter",
                "Time spent opening case blobs.",
                seconds(&self.open_nanos),
            ),
        ] {
            out.push_str(&format!(
                "# HELP fieldcase_{name} {help}\n# TYPE fieldcase_{name} {kind}\nfieldcase_{name} {v}\n"
            ));
        }
    }
}

/// A new data key for case `id`: the key, and the key wrapped by `master` as stored.
pub fn new_data_key(master: &Key, id: &[u8]) -> (Key, Vec<u8>) {
    let raw: [u8; KEY_BYTES] = crate::auth::random();
    (Key::from_bytes(&raw), master.seal(Kind::DataKey, id, &raw))
}

/// Case `id`'s data key from its wrapped form ([`StorageError::Rekeyed`] when `master`
/// does not open it).
pub fn unwrap_data_key(master: &Key, id: &[u8], wrapped: &[u8]) -> Result<Key, StorageError> {
    let raw = master
        .open(Kind::DataKey, id, wrapped)
        .map_err(|_| StorageError::Rekeyed)?;
    let raw: [u8; KEY_BYTES] = raw
        .try_into()
        .map_err(|_| StorageError::Corrupt("a data key has the wrong length".into()))?;
    Ok(Key::from_bytes(&raw))
}

/// Where the master key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A key file: 64 hexadecimal digits (a trailing newline is fine). Created with a
    /// fresh key, readable by its owner only, when absent and the database holds no case
    /// sealed under another key.
    File(PathBuf),
    /// The key itself, in hexadecimal (the environment variable `FIELDCASE_MASTER_KEY`).
    Hex(String),
}

impl std::fmt::Debug for KeySource {
    // The file's path, never a key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::File(p) => write!(f, "File({})", p.display()),
            KeySource::Hex(_) => f.write_str("Hex(..)"),
        }
    }
}

impl KeySource {
    /// The default key file of a SQLite database: beside it, its name and `.key`
    /// (`fieldcase.sqlite.key`).
    pub fn beside(db: &Path) -> Self {
        let mut name = db.as_os_str().to_owned();
        name.push(".key");
        KeySource::File(PathBuf::from(name))
    }

    /// The default key file of a PostgreSQL database: `fieldcase.key` in the current
    /// directory.
    pub fn default_for_postgres() -> Self {
        KeySource::File(PathBuf::from("fieldcase.key"))
    }

    /// What an error or a log line calls it.
    pub fn describe(&self) -> String {
        match self {
            KeySource::File(p) => format!("the key file {}", p.display()),
            KeySource::Hex(_) => "FIELDCASE_MASTER_KEY".into(),
        }
    }

    /// Reads the master key; with `create`, a key file that does not exist is created
    /// with a fresh key (owner-only permissions, 0600).
    pub fn load(&self, create: bool) -> Result<Key, String> {
        let text = match self {
            KeySource::Hex(hex) => hex.clone(),
            KeySource::File(path) => match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    return create_key_file(path)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(format!(
                        "the master key file {} does not exist, and the database holds cases \
                         sealed under a master key: give the key file it was written with \
                         (master_key_file, --master-key-file or FIELDCASE_MASTER_KEY_FILE); \
                         without it the cases cannot be read",
                        path.display()
                    ))
                }
                Err(e) => {
                    return Err(format!(
                        "cannot read the master key file {}: {e}",
                        path.display()
                    ))
                }
            },
        };
        parse_key(text.trim()).map_err(|why| format!("{}: {why}", self.describe()))
    }
}

/// A key from its 64 hexadecimal digits.
pub fn parse_key(hex_text: &str) -> Result<Key, String> {
    Ok(Key::from_bytes(&parse_key_bytes(hex_text)?))
}

fn parse_key_bytes(hex_text: &str) -> Result<[u8; KEY_BYTES], String> {
    let bytes = hex::decode(hex_text)
        .map_err(|_| "a master key is 64 hexadecimal digits (32 bytes)".to_string())?;
    <[u8; KEY_BYTES]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "a master key is 64 hexadecimal digits (32 bytes); this one has {} bytes",
            bytes.len()
        )
    })
}

/// Writes a new key file with a fresh key, readable and writable by its owner only; never
/// replaces a file (two servers starting together: the second reads the first's).
pub fn create_key_file(path: &Path) -> Result<Key, String> {
    let raw: [u8; KEY_BYTES] = crate::auth::random();
    match write_key_file(path, &raw) {
        Ok(()) => {
            tracing::warn!(
                path = %path.display(),
                "created a new master key file: keep it safe and apart from the backups; \
                 losing it loses every case"
            );
            Ok(Key::from_bytes(&raw))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            KeySource::File(path.to_path_buf()).load(false)
        }
        Err(e) => Err(format!(
            "cannot create the master key file {}: {e}",
            path.display()
        )),
    }
}

/// Writes `raw` in hexadecimal to a new file at `path` (0600); fails if it exists.
pub fn write_key_file(path: &Path, raw: &[u8; KEY_BYTES]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(format!("{}\n", hex::encode(raw)).as_bytes())?;
    file.sync_all()
}

/// A case's snapshot and its appended changes with their sequence numbers, as stored.
pub type CaseBlobs = (Vec<u8>, Vec<(i64, Vec<u8>)>);
/// A case's key and its wrapped data key.
pub type DataKeyRow = (Vec<u8>, Vec<u8>);

/// The rows of the key steps, inside one transaction the storage holds.
pub trait KeyTx {
    /// The key check, if the database has one (locked until the transaction ends: no
    /// case is inserted meanwhile).
    fn key_check(&mut self) -> Result<Option<Vec<u8>>, StorageError>;
    fn set_key_check(&mut self, sealed: &[u8]) -> Result<(), StorageError>;
    /// The keys of the cases stored without a data key (by an earlier version).
    fn cases_in_the_clear(&mut self) -> Result<Vec<Vec<u8>>, StorageError>;
    /// A case's snapshot and its appended changes with their sequence numbers.
    fn case_blobs(&mut self, id: &[u8]) -> Result<CaseBlobs, StorageError>;
    /// Replaces a case's snapshot and changes (by sequence number) and sets its data key.
    fn replace_blobs(
        &mut self,
        id: &[u8],
        data_key: &[u8],
        snapshot: &[u8],
        changes: &[(i64, Vec<u8>)],
    ) -> Result<(), StorageError>;
    /// Every case's key and wrapped data key.
    fn data_keys(&mut self) -> Result<Vec<DataKeyRow>, StorageError>;
    /// Replaces a case's wrapped data key.
    fn set_data_key(&mut self, id: &[u8], data_key: &[u8]) -> Result<(), StorageError>;
}

/// What [`prepare`] did.
#[derive(Debug)]
pub struct Prepared {
    pub master: Key,
    /// Cases found in the clear and sealed now.
    pub sealed: usize,
}

/// Whether `master` opens the key check `sealed`.
pub fn checks(master: &Key, sealed: &[u8]) -> bool {
    master
        .open(Kind::KeyCheck, b"", sealed)
        .is_ok_and(|plain| plain == KEY_CHECK)
}

/// At startup: reads the master key from `source` (creating a key file only for a
/// database that has no key check yet), checks it is the database's, and seals the cases
/// an earlier version stored in the clear.
pub fn prepare(tx: &mut dyn KeyTx, source: &KeySource) -> Result<Prepared, String> {
    let storage = |e: StorageError| e.to_string();
    let check = tx.key_check().map_err(storage)?;
    let master = source.load(check.is_none())?;
    match check {
        Some(sealed) => {
            if !checks(&master, &sealed) {
                return Err(format!(
                    "the master key from {} is not the key this database is sealed with \
                     (another key file? a backup from before a rotation?)",
                    source.describe()
                ));
            }
        }
        None => tx
            .set_key_check(&master.seal(Kind::KeyCheck, b"", KEY_CHECK))
            .map_err(storage)?,
    }
    let clear = tx.cases_in_the_clear().map_err(storage)?;
    for id in &clear {
        let (snapshot, changes) = tx.case_blobs(id).map_err(storage)?;
        let (key, wrapped) = new_data_key(&master, id);
        let snapshot = key.seal(Kind::Snapshot, id, &snapshot);
        let changes: Vec<(i64, Vec<u8>)> = changes
            .into_iter()
            .map(|(seq, bytes)| (seq, key.seal(Kind::Change, id, &bytes)))
            .collect();
        tx.replace_blobs(id, &wrapped, &snapshot, &changes)
            .map_err(storage)?;
    }
    Ok(Prepared {
        master,
        sealed: clear.len(),
    })
}

/// The master key a running server reads again when the one it holds no longer opens the
/// database's keys (rotated by `key rotate` meanwhile): from `source`, or from the new key
/// file a rotation writes before it puts it in place (`<file>.new`), whichever opens the
/// key check.
pub fn reload(source: &KeySource, check: Option<&[u8]>) -> Result<Key, StorageError> {
    let mut candidates = vec![source.clone()];
    if let KeySource::File(path) = source {
        let mut name = path.as_os_str().to_owned();
        name.push(".new");
        candidates.push(KeySource::File(PathBuf::from(name)));
    }
    for candidate in candidates {
        if let Ok(key) = candidate.load(false) {
            if check.is_none_or(|c| checks(&key, c)) {
                tracing::info!(source = ?candidate, "read the master key again (rotated)");
                return Ok(key);
            }
        }
    }
    Err(StorageError::Rekeyed)
}

/// Rewraps every data key from `old` to `new` and replaces the key check; the sealed
/// documents and changes stay as they are. Answers how many data keys were rewrapped.
pub fn rotate(tx: &mut dyn KeyTx, old: &Key, new: &Key) -> Result<usize, String> {
    let storage = |e: StorageError| e.to_string();
    let check = tx.key_check().map_err(storage)?;
    if check.is_some_and(|c| !checks(old, &c) && !checks(new, &c)) {
        return Err("the current master key is not this database's".into());
    }
    let keys = tx.data_keys().map_err(storage)?;
    for (id, wrapped) in &keys {
        // A key under the new master already: a rotation over two databases (PostgreSQL's
        // keys apart) interrupted between them, completed now.
        let raw = old
            .open(Kind::DataKey, id, wrapped)
            .or_else(|_| new.open(Kind::DataKey, id, wrapped))
            .map_err(|e| format!("case {}: {e}", hex::encode(id)))?;
        tx.set_data_key(id, &new.seal(Kind::DataKey, id, &raw))
            .map_err(storage)?;
    }
    tx.set_key_check(&new.seal(Kind::KeyCheck, b"", KEY_CHECK))
        .map_err(storage)?;
    Ok(keys.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_blob_opens_only_with_its_key_kind_and_case() {
        let master = Key::from_bytes(&[1; 32]);
        let (key, wrapped) = new_data_key(&master, b"case-a");
        let sealed = key.seal(Kind::Change, b"case-a", b"hello");
        assert!(!sealed.windows(5).any(|w| w == b"hello"));
        let key = unwrap_data_key(&master, b"case-a", &wrapped).unwrap();
        assert_eq!(
            key.open(Kind::Change, b"case-a", &sealed).unwrap(),
            b"hello"
        );
        assert!(key.open(Kind::Change, b"case-b", &sealed).is_err());
        assert!(key.open(Kind::Snapshot, b"case-a", &sealed).is_err());
        assert!(unwrap_data_key(&master, b"case-b", &wrapped).is_err());
        assert!(unwrap_data_key(&Key::from_bytes(&[2; 32]), b"case-a", &wrapped).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(key.open(Kind::Change, b"case-a", &tampered).is_err());
        assert!(key.open(Kind::Change, b"case-a", &sealed[..10]).is_err());
    }

    /// Key rows in memory, for [`rotate`].
    struct Ring {
        check: Option<Vec<u8>>,
        keys: Vec<DataKeyRow>,
    }

    impl KeyTx for Ring {
        fn key_check(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
            Ok(self.check.clone())
        }
        fn set_key_check(&mut self, sealed: &[u8]) -> Result<(), StorageError> {
            self.check = Some(sealed.to_vec());
            Ok(())
        }
        fn cases_in_the_clear(&mut self) -> Result<Vec<Vec<u8>>, StorageError> {
            Ok(Vec::new())
        }
        fn case_blobs(&mut self, _: &[u8]) -> Result<CaseBlobs, StorageError> {
            unreachable!()
        }
        fn replace_blobs(
            &mut self,
            _: &[u8],
            _: &[u8],
            _: &[u8],
            _: &[(i64, Vec<u8>)],
        ) -> Result<(), StorageError> {
            unreachable!()
        }
        fn data_keys(&mut self) -> Result<Vec<DataKeyRow>, StorageError> {
            Ok(self.keys.clone())
        }
        fn set_data_key(&mut self, id: &[u8], data_key: &[u8]) -> Result<(), StorageError> {
            for (i, k) in &mut self.keys {
                if i == id {
                    *k = data_key.to_vec();
                }
            }
            Ok(())
        }
    }

    /// A rotation interrupted after part of the keys were rewrapped (PostgreSQL's two
    /// databases) is completed by running it again with the same keys; a third key is
    /// refused.
    #[test]
    fn an_interrupted_rotation_is_completed_by_running_it_again() {
        let (old, new) = (Key::from_bytes(&[1; 32]), Key::from_bytes(&[2; 32]));
        let (_, a) = new_data_key(&old, b"case-a");
        let (_, b) = new_data_key(&new, b"case-b");
        let mut ring = Ring {
            check: Some(old.seal(Kind::KeyCheck, b"", KEY_CHECK)),
            keys: vec![(b"case-a".to_vec(), a), (b"case-b".to_vec(), b)],
        };
        // A third key: case-b opens with neither (the storage's transaction, rolled back
        // on the error, keeps every key as it was).
        let other = Key::from_bytes(&[3; 32]);
        let mut copy = Ring {
            check: ring.check.clone(),
            keys: ring.keys.clone(),
        };
        assert!(rotate(&mut copy, &old, &other).is_err());
        assert_eq!(rotate(&mut ring, &old, &new).unwrap(), 2);
        for (id, wrapped) in &ring.keys {
            assert!(unwrap_data_key(&new, id, wrapped).is_ok());
        }
        assert!(checks(&new, ring.check.as_ref().unwrap()));
        // Once more, the check already the new key's: still done, nothing lost.
        assert_eq!(rotate(&mut ring, &old, &new).unwrap(), 2);
        assert!(rotate(&mut ring, &other, &Key::from_bytes(&[4; 32])).is_err());
    }

    #[test]
    fn a_key_file_is_created_owner_only_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let source = KeySource::File(path.clone());
        let e = source.load(false).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
        let made = source.load(true).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = source.load(true).unwrap();
        let sealed = made.seal(Kind::KeyCheck, b"", b"x");
        assert_eq!(again.open(Kind::KeyCheck, b"", &sealed).unwrap(), b"x");
        std::fs::write(&path, "abcd\n").unwrap();
        let e = source.load(true).unwrap_err();
        assert!(
            e.contains("64 hexadecimal digits") && e.contains("master.key"),
            "{e}"
        );
        std::fs::write(&path, "not hex at all").unwrap();
        assert!(source.load(true).unwrap_err().contains("hexadecimal"));
        let e = KeySource::Hex("00".repeat(31)).load(true).unwrap_err();
        assert!(
            e.contains("FIELDCASE_MASTER_KEY") && e.contains("31 bytes"),
            "{e}"
        );
        assert!(KeySource::Hex("ab".repeat(32)).load(false).is_ok());
        assert_eq!(
            KeySource::beside(Path::new("/v/fc.sqlite")),
            KeySource::File("/v/fc.sqlite.key".into())
        );
    }
}
