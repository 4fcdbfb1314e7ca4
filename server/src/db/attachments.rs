//! The bytes of attachments at the server (issue 17), written once over the rows each
//! storage keeps ([`AttachmentRows`]).
//!
//! A file is stored as the chunks the phone sends ([`CHUNK_BYTES`]), each sealed with its
//! case's data key and bound to its case, file and place, so that destroying the case's
//! key makes its files unreadable with its documents, and no chunk opens elsewhere. A file
//! is keyed by the SHA-256 of its case id and its own hash, so its hash (a fingerprint of
//! the bytes) is not stored as it is; someone holding the database and a file can still
//! check whether that very file is attached to a given case (stated in `docs/security.md`).
//!
//! An upload goes chunk by chunk, in order, from the first the server lacks; the last one
//! makes the server read the file back, chunk by chunk, and check it against its hash and
//! its media type against its bytes: a file that fails is deleted whole, so nothing is ever
//! kept half-written as if it were whole.

use ring::digest;

use super::accounts::StorageError;
use super::cases::{with_master_key, CaseRows};
use super::keys::{self, Key, Kind};
use crate::error::{AppError, AppResult};
use fieldcase_core::attachment::{self, CHUNK_BYTES};
use fieldcase_core::CaseId;

/// A file's row: what its reference said when its upload began, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub size: i64,
    pub media_type: String,
    /// Chunks stored, from the first.
    pub received: i64,
    /// Whether the whole file is stored and was checked.
    pub complete: bool,
    pub created_at: i64,
    pub created_by: String,
}

/// The rows each storage keeps.
pub trait AttachmentRows: CaseRows {
    /// The case's data key, wrapped (`None`: no such case).
    fn wrapped_key_row(&self, case: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    fn file_row(&self, case: &[u8], file: &[u8]) -> Result<Option<FileRow>, StorageError>;
    /// Adds a file's row unless one is there.
    fn insert_file_row(&self, case: &[u8], file: &[u8], row: &FileRow) -> Result<(), StorageError>;
    /// Stores chunk `seq` when it is the next one (`received == seq`), and counts it, in one
    /// transaction; a chunk already stored is left as it is.
    fn put_chunk_row(
        &self,
        case: &[u8],
        file: &[u8],
        seq: i64,
        sealed: &[u8],
    ) -> Result<(), StorageError>;
    fn chunk_row(
        &self,
        case: &[u8],
        file: &[u8],
        seq: i64,
    ) -> Result<Option<Vec<u8>>, StorageError>;
    fn complete_file_row(&self, case: &[u8], file: &[u8]) -> Result<(), StorageError>;
    /// Deletes a file's row and its chunks.
    fn delete_file_rows(&self, case: &[u8], file: &[u8]) -> Result<(), StorageError>;
}

/// How an upload stands, as the phone reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct UploadStatus {
    pub received: i64,
    pub chunks: i64,
    pub complete: bool,
}

/// What the case's reference says of a file: the only facts an upload is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub hash: String,
    pub size: i64,
    pub media_type: String,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Over the `attachments.max_bytes` setting.
    TooLarge { max: u64 },
    /// A chunk after one the server lacks.
    OutOfOrder { received: i64 },
    /// A chunk of the wrong length (a cut upload), or past the file's end.
    BadChunk,
    /// The whole file's bytes are not the hash its reference names.
    HashMismatch,
    /// The bytes are not the media type the reference names.
    MediaMismatch,
}

impl Refused {
    /// The error code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::TooLarge { .. } => "too_large",
            Refused::OutOfOrder { .. } => "out_of_order",
            Refused::BadChunk => "bad_chunk",
            Refused::HashMismatch => "hash_mismatch",
            Refused::MediaMismatch => "media_type_mismatch",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Refused::TooLarge { max } => format!("an attachment holds at most {max} bytes here"),
            Refused::OutOfOrder { received } => {
                format!("send chunk {received} first: the server holds {received} chunks")
            }
            Refused::BadChunk => "the chunk does not have the length its place needs".into(),
            Refused::HashMismatch => {
                "the file's bytes are not those its reference names; it was dropped".into()
            }
            Refused::MediaMismatch => {
                "the file's bytes are not of the media type its reference names; it was dropped"
                    .into()
            }
        }
    }
}

/// The key a file is stored under: SHA-256 of the case id and the file's hash.
pub fn file_key(case: &CaseId, hash: &str) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(case.as_bytes());
    ctx.update(hash.as_bytes());
    ctx.finish().as_ref().to_vec()
}

fn chunk_context(case: &CaseId, file: &[u8], seq: i64) -> Vec<u8> {
    let mut c = case.as_bytes().to_vec();
    c.extend_from_slice(file);
    c.extend_from_slice(&seq.to_be_bytes());
    c
}

fn case_key<R: AttachmentRows>(rows: &R, case: &CaseId) -> AppResult<Key> {
    let id = &case.as_bytes()[..];
    let wrapped = rows.wrapped_key_row(id)?.ok_or(AppError::NotFound)?;
    Ok(with_master_key(rows, |master| {
        keys::unwrap_data_key(&master, id, &wrapped)
    })?)
}

/// The expected length of chunk `seq` of a file of `size` bytes (`None`: past its end).
fn chunk_len(size: i64, seq: i64) -> Option<usize> {
    let count = attachment::chunk_count(size as u64) as i64;
    if seq < 0 || seq >= count {
        return None;
    }
    Some(if seq + 1 < count {
        CHUNK_BYTES
    } else {
        (size as usize) - (seq as usize) * CHUNK_BYTES
    })
}

/// How the upload of `reference` to `case` stands.
pub fn upload_status<R: AttachmentRows>(
    rows: &R,
    case: &CaseId,
    reference: &Reference,
) -> AppResult<UploadStatus> {
    let chunks = attachment::chunk_count(reference.size as u64) as i64;
    let row = rows.file_row(&case.as_bytes()[..], &file_key(case, &reference.hash))?;
    Ok(match row {
        Some(r) => UploadStatus {
            received: r.received,
            chunks,
            complete: r.complete,
        },
        None => UploadStatus {
            received: 0,
            chunks,
            complete: false,
        },
    })
}

/// Stores chunk `seq` of the file `reference` names (at most `max` bytes in all); the
/// last one completes the file once it checks. A chunk the server holds is not written
/// again (the answer is the status, as for the first time).
#[allow(clippy::too_many_arguments)]
pub fn put_chunk<R: AttachmentRows>(
    rows: &R,
    case: &CaseId,
    reference: &Reference,
    seq: i64,
    bytes: &[u8],
    max: u64,
    by: &str,
    now: i64,
) -> AppResult<Result<UploadStatus, Refused>> {
    if reference.size as u64 > max {
        return Ok(Err(Refused::TooLarge { max }));
    }
    let id = &case.as_bytes()[..];
    let file = file_key(case, &reference.hash);
    let status = upload_status(rows, case, reference)?;
    if status.complete || seq < status.received {
        return Ok(Ok(status));
    }
    if seq > status.received {
        return Ok(Err(Refused::OutOfOrder {
            received: status.received,
        }));
    }
    if chunk_len(reference.size, seq) != Some(bytes.len()) {
        return Ok(Err(Refused::BadChunk));
    }
    if seq == 0 {
        // The first bytes say what the file is.
        if attachment::sniff(bytes) != Some(reference.media_type.as_str()) {
            return Ok(Err(Refused::MediaMismatch));
        }
        rows.insert_file_row(
            id,
            &file,
            &FileRow {
                size: reference.size,
                media_type: reference.media_type.clone(),
                received: 0,
                complete: false,
                created_at: now,
                created_by: by.to_string(),
            },
        )?;
    }
    let key = case_key(rows, case)?;
    let sealed = key.seal(
        Kind::AttachmentChunk,
        &chunk_context(case, &file, seq),
        bytes,
    );
    rows.put_chunk_row(id, &file, seq, &sealed)?;
    let mut status = upload_status(rows, case, reference)?;
    if status.received == status.chunks && !status.complete {
        // The whole file is here: read it back, chunk by chunk, against its hash.
        let mut ctx = digest::Context::new(&digest::SHA256);
        for n in 0..status.chunks {
            ctx.update(&read_chunk_with(rows, &key, case, &file, n)?);
        }
        if attachment::hex(ctx.finish().as_ref()) != reference.hash {
            rows.delete_file_rows(id, &file)?;
            return Ok(Err(Refused::HashMismatch));
        }
        rows.complete_file_row(id, &file)?;
        status.complete = true;
    }
    Ok(Ok(status))
}

fn read_chunk_with<R: AttachmentRows>(
    rows: &R,
    key: &Key,
    case: &CaseId,
    file: &[u8],
    seq: i64,
) -> AppResult<Vec<u8>> {
    let sealed = rows
        .chunk_row(&case.as_bytes()[..], file, seq)?
        .ok_or_else(|| StorageError::Corrupt("an attachment lacks a chunk".into()))?;
    Ok(key.open(
        Kind::AttachmentChunk,
        &chunk_context(case, file, seq),
        &sealed,
    )?)
}

/// Chunk `seq` of a file the server holds whole (`None`: it does not, or no such chunk).
pub fn read_chunk<R: AttachmentRows>(
    rows: &R,
    case: &CaseId,
    hash: &str,
    seq: i64,
) -> AppResult<Option<Vec<u8>>> {
    let file = file_key(case, hash);
    let Some(row) = rows.file_row(&case.as_bytes()[..], &file)? else {
        return Ok(None);
    };
    if !row.complete || chunk_len(row.size, seq).is_none() {
        return Ok(None);
    }
    let key = case_key(rows, case)?;
    Ok(Some(read_chunk_with(rows, &key, case, &file, seq)?))
}

/// A file the server holds whole: its row (size and media type), if it does.
pub fn stored_file<R: AttachmentRows>(
    rows: &R,
    case: &CaseId,
    hash: &str,
) -> AppResult<Option<FileRow>> {
    Ok(rows
        .file_row(&case.as_bytes()[..], &file_key(case, hash))?
        .filter(|r| r.complete))
}
