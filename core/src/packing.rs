//! A case document packed for storage: DEFLATE with a preset dictionary.
//!
//! A small case (an intake: a name, a date, a reason) is about 840 bytes saved by
//! Automerge, and most of them are the same in every case: the schema's field names and
//! codes, the empty sections, the change's metadata. Automerge compresses only columns of
//! 256 bytes or more, each on its own, so a small case keeps them all. DEFLATE with a
//! preset dictionary (a few synthetic cases saved uncompressed, [`DICTIONARY_1`]) finds
//! those words in the dictionary instead: the same case packs into about 340 bytes.
//!
//! The packed form is what storage seals; Automerge never sees it. Its first byte tells
//! it apart:
//! - Automerge's own magic (`0x85`): Automerge bytes as they are (what earlier versions
//!   stored, and what [`pack`] keeps when DEFLATE would not make them smaller);
//! - `0`: the bytes that follow as they are (what would not shrink and does not start
//!   with Automerge's magic);
//! - [`Dictionary::One`]'s byte (or another dictionary's: [`Dictionary::Facts`], for the
//!   server's JSON kept beside each case, through [`pack_with`]): the length once
//!   unpacked (4 bytes, little endian), then raw DEFLATE with that dictionary.
//!
//! A dictionary never changes once cases are packed with it (a test pins its SHA-256 and
//! a packed sample): a better one is a new [`Dictionary`] beside it, and [`unpack`] keeps
//! reading every earlier one. The dictionary holds no person's data
//! (`cargo run -p fieldcase-core --example packing_dictionary` wrote it).
//!
//! Packing is for bytes the process itself wrote and sealed (an authenticated record);
//! [`unpack`] still bounds what it inflates by the caller's limit, so a damaged or
//! hostile record is refused, never inflated without a bound.
//!
//! ```
//! use automerge::{transaction::Transactable, AutoCommit, ROOT};
//! use fieldcase_core::packing;
//!
//! let mut doc = AutoCommit::new();
//! doc.put(ROOT, "stage", "intake").unwrap();
//! let saved = doc.save_nocompress();
//! let packed = packing::pack(&saved);
//! assert!(packed.len() < saved.len());
//! assert_eq!(packing::unpack(&packed, 1 << 20).unwrap(), saved);
//! ```

use std::borrow::Cow;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The first dictionary: an intake, and a case worked into a plan, saved uncompressed.
pub const DICTIONARY_1: &[u8] = include_bytes!("packing/dictionary-1.bin");

/// The dictionary of what the server keeps beside each case (its duplicate check's and
/// its lists' facts, JSON): the facts of two synthetic cases, written by
/// `cargo run -p fieldcase-server --example facts_dictionary`.
pub const DICTIONARY_FACTS_1: &[u8] = include_bytes!("packing/facts-1.bin");

/// Automerge's chunk magic: the first byte of anything Automerge saves.
const AUTOMERGE_MAGIC: u8 = 0x85;

/// The first byte of bytes kept as they are, behind it.
const AS_IS: u8 = 0;

/// The dictionaries packed bytes may name (their first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Dictionary {
    /// [`DICTIONARY_1`].
    One = 1,
    /// [`DICTIONARY_FACTS_1`].
    Facts = 2,
}

impl Dictionary {
    fn bytes(self) -> &'static [u8] {
        match self {
            Dictionary::One => DICTIONARY_1,
            Dictionary::Facts => DICTIONARY_FACTS_1,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Dictionary::One),
            2 => Some(Dictionary::Facts),
            _ => None,
        }
    }
}

/// The dictionary [`pack`] packs with.
pub const CURRENT: Dictionary = Dictionary::One;

/// Why packed bytes could not be unpacked. The text is ours: it never quotes the bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unpack {
    /// The record says it unpacks to more than the caller allows.
    #[error("a packed document would unpack to {len} bytes, more than {limit}")]
    TooLarge { len: usize, limit: usize },
    /// Not a form this version reads, or damaged.
    #[error("a packed document is malformed ({0})")]
    Malformed(&'static str),
}

/// DEFLATE writes at most 258 bytes for two bits: a record claiming more than this
/// many times its length is not one [`pack`] wrote.
const MAX_RATIO: usize = 1032;

/// The length of a packed record's header: the dictionary's byte and the unpacked length.
const HEADER: usize = 5;

/// Packs Automerge bytes (best uncompressed: `save_nocompress`, `save_after`) for
/// storage. Keeps them as they are when packing would not make them smaller, or when they
/// are too long for the header's length (4 GiB).
pub fn pack(bytes: &[u8]) -> Vec<u8> {
    pack_with(CURRENT, bytes)
}

/// [`pack`] with another dictionary than the document's (bytes that are not Automerge's:
/// [`Dictionary::Facts`] for the server's facts).
pub fn pack_with(dictionary: Dictionary, bytes: &[u8]) -> Vec<u8> {
    let as_is = || {
        if bytes.first() == Some(&AUTOMERGE_MAGIC) {
            bytes.to_vec()
        } else {
            let mut out = Vec::with_capacity(1 + bytes.len());
            out.push(AS_IS);
            out.extend_from_slice(bytes);
            out
        }
    };
    let Ok(len) = u32::try_from(bytes.len()) else {
        return as_is();
    };
    let mut c = Compress::new(Compression::default(), false);
    if c.set_dictionary(dictionary.bytes()).is_err() {
        return as_is();
    }
    // Room for no more than the bytes themselves: what does not fit is not worth packing.
    let mut out = Vec::with_capacity(bytes.len());
    out.push(dictionary as u8);
    out.extend_from_slice(&len.to_le_bytes());
    match c.compress_vec(bytes, &mut out, FlushCompress::Finish) {
        Ok(Status::StreamEnd) if out.len() < bytes.len() => out,
        _ => as_is(),
    }
}

/// The Automerge bytes of a stored record: unpacked, or as they are when they were stored
/// unpacked. Refuses a record that would unpack to more than `limit` bytes.
pub fn unpack(stored: &[u8], limit: usize) -> Result<Cow<'_, [u8]>, Unpack> {
    let Some(&first) = stored.first() else {
        return Ok(Cow::Borrowed(stored));
    };
    if first == AUTOMERGE_MAGIC {
        return Ok(Cow::Borrowed(stored));
    }
    if first == AS_IS {
        return Ok(Cow::Borrowed(&stored[1..]));
    }
    let dictionary = Dictionary::from_byte(first).ok_or(Unpack::Malformed("unknown form"))?;
    let header: [u8; 4] = stored
        .get(1..HEADER)
        .and_then(|h| h.try_into().ok())
        .ok_or(Unpack::Malformed("cut short"))?;
    let len = u32::from_le_bytes(header) as usize;
    if len > limit {
        return Err(Unpack::TooLarge { len, limit });
    }
    let input = &stored[HEADER..];
    if len
        > input
            .len()
            .saturating_mul(MAX_RATIO)
            .saturating_add(MAX_RATIO)
    {
        return Err(Unpack::Malformed("longer than DEFLATE can say"));
    }
    let mut d = Decompress::new(false);
    d.set_dictionary(dictionary.bytes())
        .map_err(|_| Unpack::Malformed("dictionary"))?;
    // Exactly the length it says: inflation stops there whatever the stream holds.
    let mut out = Vec::with_capacity(len);
    match d.decompress_vec(input, &mut out, FlushDecompress::Finish) {
        Ok(Status::StreamEnd) if out.len() == len && d.total_in() == input.len() as u64 => {
            Ok(Cow::Owned(out))
        }
        Ok(_) => Err(Unpack::Malformed("not the length it says")),
        Err(_) => Err(Unpack::Malformed("not DEFLATE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::IntakeInput;
    use crate::{Author, CaseDoc, CaseId, NewCase, Role};
    use automerge::ActorId;

    fn intake(name: &str) -> CaseDoc {
        let author = Author::new("w1", "W", Role::Worker, &"7".repeat(32));
        let mut n = NewCase {
            team: "north".into(),
            ..Default::default()
        };
        n.client.name = Some(name.into());
        n.intake = Some(IntakeInput {
            date: Some("2026-11-20".into()),
            reason: Some("Gia đình cần hỗ trợ".into()),
            ..Default::default()
        });
        CaseDoc::create(
            CaseId::random(),
            ActorId::random(),
            &author,
            n,
            1_800_000_000_000,
        )
        .unwrap()
    }

    #[test]
    fn a_small_case_packs_to_under_half_and_back() {
        let doc = intake("Nguyễn Văn Minh");
        let saved = doc.automerge().save_nocompress();
        let packed = pack(&saved);
        assert_eq!(packed[0], Dictionary::One as u8);
        assert!(
            packed.len() * 2 < doc.automerge().save().len(),
            "{} packed against {} saved",
            packed.len(),
            doc.automerge().save().len()
        );
        let back = unpack(&packed, 1 << 20).unwrap();
        assert_eq!(back, saved);
        let loaded = CaseDoc::load(&back).unwrap();
        assert_eq!(loaded.heads(), doc.heads());
    }

    #[test]
    fn automerge_bytes_stored_before_are_read_as_they_are() {
        let saved = intake("Somchai").automerge().save();
        assert_eq!(saved[0], AUTOMERGE_MAGIC);
        assert!(matches!(unpack(&saved, 1 << 20).unwrap(), Cow::Borrowed(_)));
        assert_eq!(unpack(&[], 10).unwrap().len(), 0);
    }

    #[test]
    fn what_packing_would_not_shrink_is_kept_as_it_is() {
        // Bytes that do not deflate are kept as they are, and read back as they are.
        let noise: Vec<u8> = (0..200u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut doc = noise.clone();
        doc[0] = AUTOMERGE_MAGIC;
        assert_eq!(pack(&doc), doc);
        assert_eq!(unpack(&doc, 1 << 20).unwrap(), doc);
        // Not Automerge's: marked, so that its first byte is never read as a form.
        for other in [noise.clone(), b"mine".to_vec(), vec![1], Vec::new()] {
            let packed = pack(&other);
            assert_eq!(packed[0], AS_IS);
            assert_eq!(unpack(&packed, 1 << 20).unwrap(), other);
        }
    }

    #[test]
    fn a_record_is_inflated_no_further_than_the_limit_or_its_length() {
        let saved = intake("Олена Коваль").automerge().save_nocompress();
        let packed = pack(&saved);
        assert_eq!(
            unpack(&packed, saved.len() - 1),
            Err(Unpack::TooLarge {
                len: saved.len(),
                limit: saved.len() - 1
            })
        );
        // A header that claims less than the stream holds stops there, refused.
        let mut short = packed.clone();
        short[1..HEADER].copy_from_slice(&(saved.len() as u32 - 1).to_le_bytes());
        assert_eq!(
            unpack(&short, 1 << 20),
            Err(Unpack::Malformed("not the length it says"))
        );
        // More than it holds: refused as well.
        let mut long = packed.clone();
        long[1..HEADER].copy_from_slice(&(saved.len() as u32 + 1).to_le_bytes());
        assert!(unpack(&long, 1 << 20).is_err());
        // Damaged, cut, of another form.
        let mut flipped = packed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        assert!(unpack(&flipped, 1 << 20).is_err());
        assert!(unpack(&packed[..packed.len() / 2], 1 << 20).is_err());
        assert_eq!(
            unpack(&packed[..3], 1 << 20),
            Err(Unpack::Malformed("cut short"))
        );
        assert_eq!(
            unpack(&[9, 0, 0, 0, 0], 1 << 20),
            Err(Unpack::Malformed("unknown form"))
        );
        // A claim DEFLATE cannot make of so few bytes is refused before any allocation.
        let mut huge = packed[..HEADER + 2].to_vec();
        huge[1..HEADER].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            unpack(&huge, usize::MAX),
            Err(Unpack::Malformed("longer than DEFLATE can say"))
        );
        // A zero-length claim with trailing bytes.
        assert!(unpack(&[1, 0, 0, 0, 0, 0x03, 0x00, 0x00], 1 << 20).is_err());
    }

    /// What was packed stays readable: the dictionary never changes, and a record packed
    /// by the first version unpacks to the same bytes.
    #[test]
    fn the_first_dictionary_is_fixed() {
        let digest = ring::digest::digest(&ring::digest::SHA256, DICTIONARY_1);
        assert_eq!(hex_of(digest.as_ref()), DICTIONARY_1_SHA256);
        // Packed once by the first version (the words are the dictionary's).
        assert_eq!(unpack(&hex_bytes(PACKED_SAMPLE), 1024).unwrap(), SAMPLE);
        assert_eq!(unpack(&pack(SAMPLE), 1024).unwrap(), SAMPLE);
    }

    const DICTIONARY_1_SHA256: &str =
        "86185a80a604d76ffb1b643cab94ec0ffd927dfe65012de986900ef3a599fc85";

    /// The same of the facts' dictionary.
    #[test]
    fn the_facts_dictionary_is_fixed() {
        let digest = ring::digest::digest(&ring::digest::SHA256, DICTIONARY_FACTS_1);
        assert_eq!(
            hex_of(digest.as_ref()),
            "5cbffe9a3aab8a36aa9c309186913763826f93ff4e1fdba23576bcc2b57b1f42"
        );
        let facts = br#"{"m":{"v":1,"c":{"n":"Lan"}},"l":{"v":1,"s":{"v":3,"n":"Lan","s":"intake"},"h":1}}"#;
        let packed = pack_with(Dictionary::Facts, facts);
        assert!(packed.len() * 2 < facts.len(), "{} bytes", packed.len());
        assert_eq!(unpack(&packed, 1024).unwrap(), &facts[..]);
        assert_eq!(unpack(&hex_bytes(PACKED_FACTS), 1024).unwrap(), &facts[..]);
    }

    const SAMPLE: &[u8] =
        b"\x85presenting_problems vulnerabilities family_agreement safety_measures";
    const PACKED_SAMPLE: &str = "01450000006bc512650a6891ac801e3f0a68910900";
    const PACKED_FACTS: &str = "0252000000c3ee4a1fa009f85de903b703ea4aa8e9b5b500";

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn hex_of(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
