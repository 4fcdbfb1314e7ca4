//! Bounds on what untrusted Automerge bytes may cost before Automerge reads them.
//!
//! Automerge inflates DEFLATE-compressed data without a size limit: a compressed change
//! chunk (chunk type 2) and the compressed columns of a document chunk (type 0). A
//! megabyte of crafted input can ask for gigabytes. Automerge's sync messages also carry
//! bloom filters whose probe count sizes an allocation made on every lookup.
//!
//! [`Limits`] walks the chunk framing itself and stream-inflates every compressed part
//! into a small scratch buffer, counting, and refuses the input as soon as the total
//! would pass [`Limits::allowance`]; it checks the bloom filters of a sync message. Only
//! input it accepts may be given to `Automerge::load`, `load_incremental` or
//! `receive_sync_message`. The server (sync frames, departures) and the phone (messages
//! from the server, imported documents) call the same code.
//!
//! Real documents pass: `save()` and whole-document sync messages deflate columns, and
//! those inflate within the allowance (a floor, plus a multiple of the input, capped).
//!
//! ```
//! use automerge::{transaction::Transactable, AutoCommit, ROOT};
//! use fieldcase_core::limits::Limits;
//!
//! let mut doc = AutoCommit::new();
//! doc.put(ROOT, "note", "a long note ".repeat(1000)).unwrap();
//! assert!(Limits::default().check_chunks(&doc.save()).is_ok());
//! ```

use std::io::Read;

/// The most bytes all compressed parts of one input may inflate to, whatever its size
/// (the server's `max_inflated_bytes` setting defaults to this).
pub const MAX_INFLATED_BYTES: usize = 64 * 1024 * 1024;

/// Inflation always allowed to an input, however small.
pub const INFLATE_FLOOR: usize = 4 * 1024 * 1024;

/// Beyond the floor, an input's compressed parts may inflate to this many times its size.
pub const INFLATE_RATIO: usize = 64;

/// The most probes a bloom filter of a sync message may ask for (Automerge uses 7).
pub const MAX_BLOOM_PROBES: u32 = 64;

/// The most `have` entries (each with a bloom filter) in one sync message (Automerge
/// sends one).
pub const MAX_HAVES: usize = 64;

/// Automerge's chunk magic bytes.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// The deflate bit of a column specification.
const DEFLATE_BIT: u64 = 0b1000;

/// Why input was refused. The text is ours: it never quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Compressed parts would inflate past the allowance.
    #[error("compressed data would inflate to more than {limit} bytes")]
    Inflates { limit: usize },
    /// The chunk framing or a compressed part could not be read.
    #[error("malformed Automerge data ({0})")]
    Malformed(&'static str),
    /// A chunk type this app never sends (Automerge's experimental bundles).
    #[error("Automerge bundles are not accepted")]
    Bundle,
    /// A sync message's bloom filters are out of bounds.
    #[error("a sync message's bloom filter is out of bounds")]
    Bloom,
}

/// The bounds applied to untrusted Automerge input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The cap on inflated bytes per input (see [`MAX_INFLATED_BYTES`]).
    pub max_inflated: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_inflated: MAX_INFLATED_BYTES,
        }
    }
}

impl Limits {
    /// How many bytes the compressed parts of an input of `len` bytes may inflate to.
    pub fn allowance(&self, len: usize) -> usize {
        INFLATE_FLOOR
            .saturating_add(len.saturating_mul(INFLATE_RATIO))
            .min(self.max_inflated)
    }

    /// Checks bytes meant for `Automerge::load` or `load_incremental`: a sequence of whole
    /// chunks whose compressed parts inflate within [`Limits::allowance`].
    pub fn check_chunks(&self, bytes: &[u8]) -> Result<(), Refused> {
        let mut budget = Budget::new(self.allowance(bytes.len()));
        walk_chunks(bytes, &mut budget)
    }

    /// Checks a decoded sync message before it is received: every byte string of its
    /// changes as in [`Limits::check_chunks`] (one allowance for the whole message), and
    /// its bloom filters.
    pub fn check_message(&self, message: &automerge::sync::Message) -> Result<(), Refused> {
        if message.have.len() > MAX_HAVES {
            return Err(Refused::Bloom);
        }
        // Automerge writes every list of hashes in order; one out of order was not written
        // by it (and Automerge's own re-encoding of it asserts the order).
        let sorted = |h: &[automerge::ChangeHash]| h.windows(2).all(|w| w[0] <= w[1]);
        if !sorted(&message.heads)
            || !sorted(&message.need)
            || !message.have.iter().all(|h| sorted(&h.last_sync))
        {
            return Err(Refused::Malformed(
                "a sync message's hashes are out of order",
            ));
        }
        for have in &message.have {
            check_bloom(&have.bloom.to_bytes())?;
        }
        let total: usize = message.changes.iter().map(<[u8]>::len).sum();
        let mut budget = Budget::new(self.allowance(total));
        for bytes in message.changes.iter() {
            walk_chunks(bytes, &mut budget)?;
        }
        Ok(())
    }

    /// Decodes a sync message and checks it ([`Limits::check_message`]).
    pub fn decode_message(&self, bytes: &[u8]) -> Result<automerge::sync::Message, Refused> {
        let message = automerge::sync::Message::decode(bytes)
            .map_err(|_| Refused::Malformed("not a sync message"))?;
        self.check_message(&message)?;
        Ok(message)
    }
}

/// Inflated bytes still allowed.
struct Budget {
    left: usize,
    limit: usize,
}

impl Budget {
    fn new(allowance: usize) -> Self {
        Budget {
            left: allowance,
            limit: allowance,
        }
    }
}

/// A cursor over untrusted bytes.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], Refused> {
        let n = usize::try_from(n).map_err(|_| Refused::Malformed(what))?;
        if n > self.bytes.len() {
            return Err(Refused::Malformed(what));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// An unsigned LEB128 number of at most 64 bits.
    fn leb(&mut self, what: &'static str) -> Result<u64, Refused> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let (&byte, rest) = self.bytes.split_first().ok_or(Refused::Malformed(what))?;
            self.bytes = rest;
            if i == 9 && byte > 1 {
                return Err(Refused::Malformed(what));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Refused::Malformed(what))
    }

    /// A count of items each at least `min_size` bytes long: never more than could fit in
    /// what is left.
    fn count(&mut self, min_size: usize, what: &'static str) -> Result<usize, Refused> {
        let n = self.leb(what)?;
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_size.max(1)) <= self.bytes.len() => Ok(n),
            _ => Err(Refused::Malformed(what)),
        }
    }
}

/// Walks a sequence of chunks, inflating (and counting) their compressed parts.
fn walk_chunks(bytes: &[u8], budget: &mut Budget) -> Result<(), Refused> {
    let mut r = Reader { bytes };
    while !r.bytes.is_empty() {
        if r.take(4, "chunk header")? != MAGIC {
            return Err(Refused::Malformed("not an Automerge chunk"));
        }
        r.take(4, "chunk header")?; // checksum
        let kind = r.take(1, "chunk header")?[0];
        let len = r.leb("chunk length")?;
        let data = r.take(len, "chunk length")?;
        match kind {
            0 => document_chunk(data, budget)?,
            1 => {} // a change chunk: Automerge refuses compressed columns in it
            2 => inflate(data, budget)?,
            3 => return Err(Refused::Bundle),
            _ => return Err(Refused::Malformed("unknown chunk type")),
        }
    }
    Ok(())
}

/// The compressed columns of a document chunk (the layout Automerge parses: actors,
/// heads, change column metadata, op column metadata, then the columns' data).
fn document_chunk(data: &[u8], budget: &mut Budget) -> Result<(), Refused> {
    let mut r = Reader { bytes: data };
    let actors = r.count(1, "document actors")?;
    for _ in 0..actors {
        let len = r.leb("document actor")?;
        r.take(len, "document actor")?;
    }
    let heads = r.count(32, "document heads")?;
    r.take(heads as u64 * 32, "document heads")?;
    let mut columns = Vec::new();
    for _ in 0..2 {
        let n = r.count(2, "document columns")?;
        for _ in 0..n {
            let spec = r.leb("column specification")?;
            let len = r.leb("column length")?;
            columns.push((spec & DEFLATE_BIT != 0, len));
        }
    }
    for (deflated, len) in columns {
        let part = r.take(len, "column data")?;
        if deflated {
            inflate(part, budget)?;
        }
    }
    Ok(())
}

/// Inflates a raw DEFLATE stream into a scratch buffer, counting against the budget.
fn inflate(compressed: &[u8], budget: &mut Budget) -> Result<(), Refused> {
    let mut decoder = flate2::bufread::DeflateDecoder::new(compressed);
    let mut scratch = vec![0u8; 32 * 1024];
    loop {
        let n = decoder
            .read(&mut scratch)
            .map_err(|_| Refused::Malformed("compressed data"))?;
        if n == 0 {
            return Ok(());
        }
        budget.left = budget.left.checked_sub(n).ok_or(Refused::Inflates {
            limit: budget.limit,
        })?;
    }
}

/// A bloom filter as Automerge encodes it: empty, or entries, bits per entry, probes,
/// bits. Automerge allocates `probes` words on every lookup and divides by the bit count.
fn check_bloom(bytes: &[u8]) -> Result<(), Refused> {
    if bytes.is_empty() {
        return Ok(());
    }
    let mut r = Reader { bytes };
    let entries = r.leb("bloom").map_err(|_| Refused::Bloom)?;
    r.leb("bloom").map_err(|_| Refused::Bloom)?;
    let probes = r.leb("bloom").map_err(|_| Refused::Bloom)?;
    if probes > u64::from(MAX_BLOOM_PROBES) || (entries != 0 && r.bytes.is_empty()) {
        return Err(Refused::Bloom);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, Automerge, ObjType, ROOT};
    use std::io::Write;

    pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

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

    fn chunk(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([1, 2, 3, 4, kind]);
        leb(&mut out, data.len() as u64);
        out.extend(data);
        out
    }

    #[test]
    fn a_compressed_change_that_inflates_past_the_allowance_is_refused() {
        let bomb = chunk(2, &deflate(&vec![0u8; 80 * 1024 * 1024]));
        assert!(bomb.len() < 200 * 1024);
        assert!(matches!(
            Limits::default().check_chunks(&bomb),
            Err(Refused::Inflates { .. })
        ));
        let small = chunk(2, &deflate(&[0u8; 1000]));
        assert_eq!(Limits::default().check_chunks(&small), Ok(()));
    }

    #[test]
    fn a_document_with_a_huge_deflated_column_is_refused() {
        let col = deflate(&vec![7u8; 80 * 1024 * 1024]);
        let mut data = vec![0, 0]; // no actors, no heads
        data.push(1); // one change column
        leb(&mut data, 0x10 | DEFLATE_BIT); // a spec with the deflate bit
        leb(&mut data, col.len() as u64);
        data.push(0); // no op columns
        data.extend(&col);
        let doc = chunk(0, &data);
        assert!(matches!(
            Limits::default().check_chunks(&doc),
            Err(Refused::Inflates { .. })
        ));
        assert!(matches!(
            Limits::default().check_chunks(&doc[..doc.len() - 1]),
            Err(Refused::Malformed(_))
        ));
    }

    #[test]
    fn counts_larger_than_the_input_are_refused() {
        let mut data = Vec::new();
        leb(&mut data, u64::MAX >> 1); // actors
        assert!(matches!(
            Limits::default().check_chunks(&chunk(0, &data)),
            Err(Refused::Malformed(_))
        ));
        assert_eq!(
            Limits::default().check_chunks(&chunk(3, &[])),
            Err(Refused::Bundle)
        );
    }

    #[test]
    fn real_documents_and_messages_pass() {
        let mut doc = AutoCommit::new();
        let notes = doc.put_object(ROOT, "notes", ObjType::List).unwrap();
        for i in 0..300 {
            let text = format!(
                "Visite {i}: la famille va bien. Семья в порядке. 家族は元気です。 {}",
                "ok ".repeat(i % 40)
            );
            doc.insert(&notes, i, text).unwrap();
            doc.commit();
        }
        let saved = doc.save();
        let limits = Limits::default();
        assert_eq!(limits.check_chunks(&saved), Ok(()));
        let mut seen = Budget::new(usize::MAX);
        walk_chunks(&saved, &mut seen).unwrap();
        assert!(seen.left < usize::MAX, "save() deflates its long columns");
        assert_eq!(limits.check_chunks(&doc.save_nocompress()), Ok(()));
        let heads = doc.get_heads();
        doc.put(ROOT, "more", "x".repeat(2000)).unwrap();
        assert_eq!(limits.check_chunks(&doc.save_after(&heads)), Ok(()));
        // A whole-document (v2) message and a change-by-change (v1) one.
        let mut full = doc.document().clone();
        let mut empty = Automerge::new();
        let (mut s1, mut s2) = (automerge::sync::State::new(), automerge::sync::State::new());
        for _ in 0..10 {
            if let Some(m) = full.generate_sync_message(&mut s1) {
                let m = limits.decode_message(&m.encode()).unwrap();
                empty.receive_sync_message(&mut s2, m).unwrap();
            }
            if let Some(m) = empty.generate_sync_message(&mut s2) {
                let m = limits.decode_message(&m.encode()).unwrap();
                full.receive_sync_message(&mut s1, m).unwrap();
            }
        }
        assert_eq!(empty.get_heads(), full.get_heads());
    }

    #[test]
    fn a_message_whose_hashes_are_out_of_order_is_refused() {
        use automerge::sync::{Message, SyncDoc};
        use automerge::ChangeHash;
        let doc = automerge::Automerge::new();
        let mut state = automerge::sync::State::new();
        let mut m: Message = doc
            .generate_sync_message(&mut state)
            .expect("a first message");
        let limits = Limits::default();
        m.heads = vec![ChangeHash([1; 32]), ChangeHash([2; 32])];
        assert_eq!(limits.check_message(&m), Ok(()));
        m.heads.reverse();
        assert_eq!(
            limits.check_message(&m),
            Err(Refused::Malformed(
                "a sync message's hashes are out of order"
            ))
        );
        m.heads.reverse();
        m.need = vec![ChangeHash([9; 32]), ChangeHash([3; 32])];
        assert!(limits.check_message(&m).is_err());
    }

    #[test]
    fn bloom_filters_out_of_bounds_are_refused() {
        assert_eq!(check_bloom(&[]), Ok(()));
        assert_eq!(check_bloom(&[1, 10, 7, 0xff, 0xff]), Ok(()));
        let mut many = vec![1, 10];
        leb(&mut many, u64::from(u32::MAX));
        many.extend([0xff; 2]);
        assert_eq!(check_bloom(&many), Err(Refused::Bloom));
        assert_eq!(check_bloom(&[1, 0, 7]), Err(Refused::Bloom));
    }
}
