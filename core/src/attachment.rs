//! Attachments (issue 17): photos of papers and injuries, documents, signatures and
//! recordings, whose bytes live outside the case document.
//!
//! A case document must stay small to merge and sync fast, so it holds only a reference
//! (`attachments` in the schema, revision 3): what the file is, its SHA-256, its size, its
//! media type and what it belongs to. The bytes are cut into chunks of [`CHUNK_BYTES`],
//! each sealed with the case's key, on the phone ([`crate::store`]) and at the server; they
//! travel over HTTP beside the sync socket, addressed by case and hash
//! ([`crate::sync::attachments`]), and an upload cut off resumes where it stopped.
//!
//! What a file is comes from its bytes ([`sniff`]), never from its name: a file whose bytes
//! are none of [`crate::schema::MEDIA_TYPES`] is refused.

use ring::digest;

use crate::error::{Error, Result};

/// The largest attachment, in bytes (20 MiB, as Primero keeps). The server's
/// `attachments.max_bytes` setting may lower it, never raise it.
pub const MAX_BYTES: u64 = 20 * 1024 * 1024;

/// The size of the chunks an attachment is stored and sent in (the last one may be
/// shorter): the most either side holds of one file in memory at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// A file as the case document's reference names it: its SHA-256 ([`is_hash`]), size and
/// media type (one of [`crate::schema::MEDIA_TYPES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedFile {
    pub hash: String,
    pub size: i64,
    pub media_type: &'static str,
}

/// How many bytes [`sniff`] needs to recognise every media type it knows.
pub const SNIFF_BYTES: usize = 64;

/// The media type of a file, recognised by its first bytes (at least [`SNIFF_BYTES`]
/// when the file is that long): one of [`crate::schema::MEDIA_TYPES`], or `None`.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let found = infer::get(head)?.mime_type();
    let ours = match found {
        // The MP4 audio container (AAC in `.m4a`), under its registered name.
        "audio/m4a" => "audio/mp4",
        other => other,
    };
    crate::schema::MEDIA_TYPES
        .iter()
        .copied()
        .find(|m| *m == ours)
}

/// Whether `hash` is a SHA-256 as the document and the routes write it: 64 lowercase
/// hexadecimal digits.
pub fn is_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The SHA-256 of `bytes`, as [`is_hash`] writes it.
pub fn hash_of(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, bytes).as_ref())
}

/// The number of chunks a file of `size` bytes is cut into.
pub fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK_BYTES as u64)
}

/// Bytes as lowercase hexadecimal digits (as hashes are written).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Reads a whole file from `reader`, chunk by chunk, up to `max` bytes: hands each chunk
/// to `chunk` (index, bytes) and answers the file's hash, size and media type. The first
/// chunk's bytes say the media type; a file over `max`, empty, or of no known type is
/// refused before it is all read.
pub fn read_chunks(
    mut reader: impl std::io::Read,
    max: u64,
    mut chunk: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<(String, u64, &'static str)> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut size = 0u64;
    let mut media = None;
    let mut index = 0u64;
    loop {
        // Fill a whole chunk (a reader may answer less than asked).
        let mut filled = 0;
        while filled < CHUNK_BYTES {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error::invalid(
                        "attachments",
                        format!("the file could not be read ({})", e.kind()),
                    ))
                }
            }
        }
        if filled == 0 {
            break;
        }
        size += filled as u64;
        if size > max {
            return Err(Error::invalid(
                "attachments/size",
                format!("an attachment holds at most {max} bytes"),
            ));
        }
        if index == 0 {
            media = Some(sniff(&buf[..filled]).ok_or_else(|| {
                Error::invalid(
                    "attachments/media_type",
                    "the file is none of the kinds an attachment may be (photos, PDF, recordings)",
                )
            })?);
        }
        ctx.update(&buf[..filled]);
        chunk(index, &buf[..filled])?;
        index += 1;
        if filled < CHUNK_BYTES {
            break;
        }
    }
    let media = media.ok_or_else(|| Error::invalid("attachments/size", "the file is empty"))?;
    Ok((hex(ctx.finish().as_ref()), size, media))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const PNG: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];

    #[test]
    fn media_types_come_from_the_bytes() {
        assert_eq!(sniff(PNG), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(
            sniff(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
            Some("image/jpeg")
        );
        // Text, an executable and a zip are none of the kinds.
        assert_eq!(sniff(b"hello, this is a note"), None);
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\x00"), None);
        assert_eq!(sniff(b"PK\x03\x04\x14\x00"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn a_file_is_read_in_chunks_hashed_and_bounded() {
        let mut file = PNG.to_vec();
        file.resize(CHUNK_BYTES * 2 + 10, 7);
        let mut chunks = Vec::new();
        let (hash, size, media) = read_chunks(&file[..], MAX_BYTES, |i, c| {
            chunks.push((i, c.len()));
            Ok(())
        })
        .unwrap();
        assert_eq!(hash, hash_of(&file));
        assert!(is_hash(&hash));
        assert_eq!((size, media), (file.len() as u64, "image/png"));
        assert_eq!(chunks, [(0, CHUNK_BYTES), (1, CHUNK_BYTES), (2, 10)]);
        assert_eq!(chunk_count(size), 3);

        let over = read_chunks(&file[..], CHUNK_BYTES as u64, |_, _| Ok(()));
        assert!(over.unwrap_err().to_string().contains("at most"));
        let text = read_chunks(&b"just words"[..], MAX_BYTES, |_, _| Ok(()));
        assert!(text.unwrap_err().to_string().contains("none of the kinds"));
        let empty = read_chunks(&b""[..], MAX_BYTES, |_, _| Ok(()));
        assert!(empty.unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn hashes_are_64_lowercase_hex_digits() {
        assert!(is_hash(&"a".repeat(64)));
        assert!(!is_hash(&"A".repeat(64)));
        assert!(!is_hash(&"a".repeat(63)));
        assert!(!is_hash("../../etc/passwd"));
    }
}
