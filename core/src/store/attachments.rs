//! The bytes of attachments on the phone (issue 17; [`crate::attachment`]).
//!
//! A file is kept as sealed chunks of [`CHUNK_BYTES`] under its case's key, so it goes
//! with its case (purged, wiped, or erased at the server: the rows cascade) and no chunk
//! opens under another case or at another place in the file. What the file is (hash, size,
//! media type) is sealed too.
//!
//! A file attached on this phone waits to be uploaded ([`State::ToUpload`]) and is never
//! evicted before. Files downloaded (or uploaded) count against the device's cache limit
//! ([`CaseStore::set_attachment_cache_limit`]): past it, the least recently opened
//! downloaded files go first, then uploaded ones; they are fetched again when opened.

use std::io::Write;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{get_meta, now_ms, put_meta, CaseStore, Inner};
use crate::attachment::{self, AttachedFile, CHUNK_BYTES};
use crate::case::{Attachment, AttachmentInput};
use crate::crypto::{Key, RecordKind};
use crate::error::{Error, Result};
use crate::ids::CaseId;

/// The device's cache of attachments (uploaded and downloaded files) when the app sets
/// none: 200 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 200 * 1024 * 1024;

/// Where an attachment's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum AttachmentState {
    /// Attached on this phone, not yet uploaded: kept until the server has it.
    ToUpload,
    /// On this phone and at the server.
    Uploaded,
    /// Partly downloaded (a download was cut off; the next fetch resumes).
    Downloading,
    /// Downloaded from the server.
    Downloaded,
    /// Only at the server: fetched when opened.
    NotHere,
}

impl AttachmentState {
    fn code(self) -> i64 {
        match self {
            AttachmentState::ToUpload => 0,
            AttachmentState::Uploaded => 1,
            AttachmentState::Downloading => 2,
            AttachmentState::Downloaded => 3,
            AttachmentState::NotHere => -1,
        }
    }

    fn of(code: i64) -> Self {
        match code {
            0 => AttachmentState::ToUpload,
            1 => AttachmentState::Uploaded,
            2 => AttachmentState::Downloading,
            _ => AttachmentState::Downloaded,
        }
    }
}

/// What a file row holds, sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileFacts {
    hash: String,
    size: i64,
    media_type: String,
}

/// A file row: its row id, facts and state.
#[derive(Debug, Clone)]
struct Row {
    id: i64,
    facts: FileFacts,
    state: AttachmentState,
}

/// A file the sync client uploads: its case, hash and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub case_id: CaseId,
    pub hash: String,
    pub size: i64,
}

fn chunk_context(id: &CaseId, row: i64, seq: u64) -> Vec<u8> {
    let mut c = id.as_bytes().to_vec();
    c.extend_from_slice(&row.to_be_bytes());
    c.extend_from_slice(&seq.to_be_bytes());
    c
}

fn file_context(id: &CaseId, row: i64) -> Vec<u8> {
    let mut c = id.as_bytes().to_vec();
    c.extend_from_slice(&row.to_be_bytes());
    c
}

impl Inner {
    fn case_key(&self, id: &CaseId) -> Result<&Key> {
        self.keys
            .get(id)
            .ok_or_else(|| Error::NotFound(format!("case {id}")))
    }

    /// The file rows of a case, opened.
    fn file_rows(&self, id: &CaseId) -> Result<Vec<Row>> {
        let key = self.case_key(id)?;
        let mut stmt = self
            .conn
            .prepare("SELECT id, file, state FROM attachments WHERE case_id = ?1")?;
        let rows = stmt
            .query_map(params![&id.as_bytes()[..]], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(row, sealed, state)| {
                let plain =
                    key.open(RecordKind::AttachmentFile, &file_context(id, row), &sealed)?;
                Ok(Row {
                    id: row,
                    facts: serde_json::from_slice(&plain)?,
                    state: AttachmentState::of(state),
                })
            })
            .collect()
    }

    fn file_row(&self, id: &CaseId, hash: &str) -> Result<Option<Row>> {
        Ok(self
            .file_rows(id)?
            .into_iter()
            .find(|r| r.facts.hash == hash))
    }

    /// Adds a file row (its facts sealed) in `state`; answers its row id.
    fn insert_file_row(
        &self,
        id: &CaseId,
        facts: &FileFacts,
        state: AttachmentState,
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO attachments (case_id, file, state, stored, used_at)
             VALUES (?1, x'', ?2, 0, ?3)",
            params![&id.as_bytes()[..], state.code(), now_ms()],
        )?;
        let row = self.conn.last_insert_rowid();
        self.seal_facts(id, row, facts)?;
        Ok(row)
    }

    fn seal_facts(&self, id: &CaseId, row: i64, facts: &FileFacts) -> Result<()> {
        let sealed = self.case_key(id)?.seal(
            RecordKind::AttachmentFile,
            &file_context(id, row),
            &serde_json::to_vec(facts)?,
        );
        self.conn.execute(
            "UPDATE attachments SET file = ?2 WHERE id = ?1",
            params![row, sealed],
        )?;
        Ok(())
    }

    fn put_chunk(&self, id: &CaseId, row: i64, seq: u64, bytes: &[u8]) -> Result<()> {
        let sealed = self.case_key(id)?.seal(
            RecordKind::AttachmentChunk,
            &chunk_context(id, row, seq),
            bytes,
        );
        self.conn.execute(
            "INSERT INTO attachment_chunks (attachment, seq, data) VALUES (?1, ?2, ?3)
             ON CONFLICT (attachment, seq) DO UPDATE SET data = excluded.data",
            params![row, seq as i64, sealed],
        )?;
        self.conn.execute(
            "UPDATE attachments SET stored = (SELECT coalesce(sum(length(data)), 0)
                 FROM attachment_chunks WHERE attachment = ?1) WHERE id = ?1",
            params![row],
        )?;
        Ok(())
    }

    fn chunk(&self, id: &CaseId, row: &Row, seq: u64) -> Result<Vec<u8>> {
        let sealed: Vec<u8> = self
            .conn
            .query_row(
                "SELECT data FROM attachment_chunks WHERE attachment = ?1 AND seq = ?2",
                params![row.id, seq as i64],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::Corrupt(format!("an attachment of case {id} lacks a chunk")))?;
        self.case_key(id)?.open(
            RecordKind::AttachmentChunk,
            &chunk_context(id, row.id, seq),
            &sealed,
        )
    }

    fn cache_limit(&self) -> Result<u64> {
        Ok(get_meta(&self.conn, &self.meta, "attachment_cache")?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(DEFAULT_CACHE_BYTES))
    }

    /// Drops the least recently used downloaded files, then uploaded ones, while the
    /// cached bytes pass the limit (never a file still to upload, nor `keep`).
    fn evict_attachments(&self, keep: Option<i64>) -> Result<()> {
        let limit = self.cache_limit()? as i64;
        let mut held: i64 = self.conn.query_row(
            "SELECT coalesce(sum(stored), 0) FROM attachments WHERE state <> 0",
            [],
            |r| r.get(0),
        )?;
        if held <= limit {
            return Ok(());
        }
        let victims: Vec<(i64, i64)> = {
            let mut stmt = self.conn.prepare(
                "SELECT id, stored FROM attachments WHERE state <> 0
                 ORDER BY CASE state WHEN 1 THEN 1 ELSE 0 END, used_at, id",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            rows
        };
        for (row, stored) in victims {
            if held <= limit {
                break;
            }
            if Some(row) == keep {
                continue;
            }
            self.conn
                .execute("DELETE FROM attachments WHERE id = ?1", params![row])?;
            held -= stored;
        }
        Ok(())
    }
}

impl CaseStore {
    /// Attaches a file to a case, offline: reads it from `reader` chunk by chunk (at most
    /// [`attachment::MAX_BYTES`]), recognises its media type by its bytes, seals it with the
    /// case's key and adds its reference to the case. The file waits here until the next
    /// sync uploads it. Attaching the same bytes to the case again adds another reference
    /// and keeps one copy.
    pub fn attach(
        &self,
        id: &CaseId,
        reader: impl std::io::Read,
        input: AttachmentInput,
    ) -> Result<Attachment> {
        let file = {
            let g = self.lock();
            g.case_key(id)?;
            let tx = g.conn.unchecked_transaction()?;
            let unknown = FileFacts {
                hash: String::new(),
                size: 0,
                media_type: String::new(),
            };
            let row = g.insert_file_row(id, &unknown, AttachmentState::ToUpload)?;
            // Chunks are sealed under the row they belong to as they are read: the file is
            // never whole in memory.
            let (hash, size, media) =
                attachment::read_chunks(reader, attachment::MAX_BYTES, |seq, c| {
                    g.put_chunk(id, row, seq, c)
                })?;
            if g.file_row(id, &hash)?.is_some_and(|r| r.id != row) {
                // The same bytes are here already: one copy serves both references.
                g.conn
                    .execute("DELETE FROM attachments WHERE id = ?1", params![row])?;
            } else {
                let facts = FileFacts {
                    hash: hash.clone(),
                    size: size as i64,
                    media_type: media.to_string(),
                };
                g.seal_facts(id, row, &facts)?;
            }
            tx.commit()?;
            AttachedFile {
                hash,
                size: size as i64,
                media_type: media,
            }
        };
        let added = self.update(id, |doc, me, now| doc.add_attachment(me, now, &file, input));
        let entry = match added {
            Ok(entry) => entry,
            Err(e) => {
                // The reference was refused: the bytes go too, unless another reference
                // of the case names them.
                let referenced = self
                    .get_case(id)
                    .map(|f| f.attachments.iter().any(|a| a.hash == file.hash))
                    .unwrap_or(true);
                if !referenced {
                    let g = self.lock();
                    if let Some(row) = g.file_row(id, &file.hash)? {
                        g.conn
                            .execute("DELETE FROM attachments WHERE id = ?1", params![row.id])?;
                    }
                }
                return Err(e);
            }
        };
        self.attachment(id, &entry)
    }

    /// Attaches the file at `path` ([`CaseStore::attach`]).
    pub fn attach_file(
        &self,
        id: &CaseId,
        path: impl AsRef<std::path::Path>,
        input: AttachmentInput,
    ) -> Result<Attachment> {
        let file = std::fs::File::open(path).map_err(|e| {
            Error::invalid(
                "attachments",
                format!("the file could not be opened ({})", e.kind()),
            )
        })?;
        self.attach(id, std::io::BufReader::new(file), input)
    }

    /// The reference `entry` of a case's attachments.
    pub fn attachment(&self, id: &CaseId, entry: &str) -> Result<Attachment> {
        self.get_case(id)?
            .attachments
            .into_iter()
            .find(|a| a.id == entry)
            .ok_or_else(|| Error::NotFound(format!("attachments/{entry}")))
    }

    /// Where the bytes of the attachment `entry` of a case are.
    pub fn attachment_state(&self, id: &CaseId, entry: &str) -> Result<AttachmentState> {
        let hash = self.attachment(id, entry)?.hash;
        let g = self.lock();
        Ok(match g.file_row(id, &hash)? {
            Some(row) => row.state,
            None => AttachmentState::NotHere,
        })
    }

    /// The bytes of the attachment `entry` of a case, when they are on this phone (else
    /// `NotFound`: fetch them first, `sync::fetch_attachment`). Checked against the hash
    /// the case names.
    pub fn attachment_bytes(&self, id: &CaseId, entry: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_attachment(id, entry, &mut out)?;
        Ok(out)
    }

    /// Writes the bytes of the attachment `entry` to `out`, chunk by chunk (for an app
    /// that opens it in a viewer from a file), checking them against the case's hash.
    pub fn write_attachment(&self, id: &CaseId, entry: &str, out: &mut impl Write) -> Result<()> {
        let reference = self.attachment(id, entry)?;
        let g = self.lock();
        let row = g
            .file_row(id, &reference.hash)?
            .filter(|r| {
                matches!(
                    r.state,
                    AttachmentState::ToUpload
                        | AttachmentState::Uploaded
                        | AttachmentState::Downloaded
                )
            })
            .ok_or_else(|| {
                Error::NotFound(format!("attachments/{entry} is not on this device yet"))
            })?;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for seq in 0..attachment::chunk_count(row.facts.size as u64) {
            let chunk = g.chunk(id, &row, seq)?;
            ctx.update(&chunk);
            out.write_all(&chunk).map_err(|e| {
                Error::invalid(
                    "attachments",
                    format!("the file could not be written ({})", e.kind()),
                )
            })?;
        }
        if attachment::hex(ctx.finish().as_ref()) != reference.hash {
            return Err(Error::Corrupt(format!(
                "attachments/{entry} does not match its hash"
            )));
        }
        g.conn.execute(
            "UPDATE attachments SET used_at = ?2 WHERE id = ?1",
            params![row.id, now_ms()],
        )?;
        Ok(())
    }

    /// Sets how many bytes of uploaded and downloaded attachments this device keeps
    /// (files still to upload are not counted and never dropped); drops what is past it.
    pub fn set_attachment_cache_limit(&self, bytes: u64) -> Result<()> {
        let g = self.lock();
        let sealed = g
            .meta
            .seal(RecordKind::Meta, b"attachment_cache", &bytes.to_be_bytes());
        put_meta(&g.conn, "attachment_cache", &sealed)?;
        g.evict_attachments(None)
    }

    /// The bytes of uploaded and downloaded attachments this device holds.
    pub fn attachment_cache_bytes(&self) -> Result<u64> {
        let g = self.lock();
        let held: i64 = g.conn.query_row(
            "SELECT coalesce(sum(stored), 0) FROM attachments WHERE state <> 0",
            [],
            |r| r.get(0),
        )?;
        Ok(held as u64)
    }

    /// Files attached on this phone that the server does not have yet.
    pub fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        let g = self.lock();
        let cases: Vec<Vec<u8>> = {
            let mut stmt = g
                .conn
                .prepare("SELECT DISTINCT case_id FROM attachments WHERE state = 0")?;
            let rows = stmt
                .query_map([], |r| r.get(0))?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            rows
        };
        let mut out = Vec::new();
        for case in cases {
            let Ok(bytes) = <[u8; 16]>::try_from(case.as_slice()) else {
                continue;
            };
            let id = CaseId::from_bytes(bytes);
            for row in g.file_rows(&id)? {
                if row.state == AttachmentState::ToUpload && !row.facts.hash.is_empty() {
                    out.push(PendingUpload {
                        case_id: id,
                        hash: row.facts.hash,
                        size: row.facts.size,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Chunk `seq` of a file held here (for its upload).
    pub(crate) fn upload_chunk(&self, id: &CaseId, hash: &str, seq: u64) -> Result<Vec<u8>> {
        let g = self.lock();
        let row = g
            .file_row(id, hash)?
            .ok_or_else(|| Error::NotFound(format!("attachment {hash}")))?;
        g.chunk(id, &row, seq)
    }

    /// Notes that the server holds a file attached here; the cache may drop it now.
    pub(crate) fn mark_uploaded(&self, id: &CaseId, hash: &str) -> Result<()> {
        let g = self.lock();
        if let Some(row) = g.file_row(id, hash)? {
            g.conn.execute(
                "UPDATE attachments SET state = 1 WHERE id = ?1 AND state = 0",
                params![row.id],
            )?;
            g.evict_attachments(None)?;
        }
        Ok(())
    }

    /// How many chunks of a file being downloaded are here (0 when none): where a fetch
    /// resumes. Starts the download's row when there is none.
    pub(crate) fn begin_download(&self, id: &CaseId, reference: &Attachment) -> Result<u64> {
        let g = self.lock();
        match g.file_row(id, &reference.hash)? {
            Some(row) => {
                let n: i64 = g.conn.query_row(
                    "SELECT count(*) FROM attachment_chunks WHERE attachment = ?1",
                    params![row.id],
                    |r| r.get(0),
                )?;
                Ok(n as u64)
            }
            None => {
                let facts = FileFacts {
                    hash: reference.hash.clone(),
                    size: reference.size,
                    media_type: reference.media_type.clone().unwrap_or_default(),
                };
                g.insert_file_row(id, &facts, AttachmentState::Downloading)?;
                Ok(0)
            }
        }
    }

    /// Keeps chunk `seq` of a file being downloaded.
    pub(crate) fn put_download_chunk(
        &self,
        id: &CaseId,
        hash: &str,
        seq: u64,
        bytes: &[u8],
    ) -> Result<()> {
        if bytes.len() > CHUNK_BYTES {
            return Err(Error::Network("the server sent a chunk too large".into()));
        }
        let g = self.lock();
        let row = g
            .file_row(id, hash)?
            .ok_or_else(|| Error::NotFound(format!("attachment {hash}")))?;
        g.put_chunk(id, row.id, seq, bytes)
    }

    /// Ends a download: the chunks are checked against the hash (a mismatch drops them
    /// all, to be fetched again), then the file counts against the cache.
    pub(crate) fn finish_download(&self, id: &CaseId, hash: &str) -> Result<()> {
        let g = self.lock();
        let row = g
            .file_row(id, hash)?
            .ok_or_else(|| Error::NotFound(format!("attachment {hash}")))?;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        let mut size = 0u64;
        for seq in 0..attachment::chunk_count(row.facts.size as u64) {
            let chunk = g.chunk(id, &row, seq)?;
            size += chunk.len() as u64;
            ctx.update(&chunk);
        }
        if size != row.facts.size as u64 || attachment::hex(ctx.finish().as_ref()) != hash {
            g.conn
                .execute("DELETE FROM attachments WHERE id = ?1", params![row.id])?;
            return Err(Error::Network(
                "the attachment downloaded does not match its hash; fetch it again".into(),
            ));
        }
        g.conn.execute(
            "UPDATE attachments SET state = 3, used_at = ?2 WHERE id = ?1",
            params![row.id, now_ms()],
        )?;
        g.evict_attachments(Some(row.id))
    }
}
