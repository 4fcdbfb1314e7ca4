//! Identifiers: case ids (automerge-repo `DocumentId`s) and ids of entries inside a case.

use std::fmt;
use std::str::FromStr;

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Result};

/// Fills `buf` from the operating system's secure random source.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    SystemRandom::new()
        .fill(buf)
        .expect("the system random source failed");
}

/// A case id: 16 random bytes, written as bs58check like an automerge-repo `DocumentId`, so
/// the same id works in our API, in the sync protocol and in any automerge-repo client.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId([u8; 16]);

impl CaseId {
    /// A new random case id (a v4 UUID, as automerge-repo makes them).
    pub fn random() -> Self {
        let mut b = [0u8; 16];
        random_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        CaseId(b)
    }

    /// The id from its 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        CaseId(bytes)
    }

    /// The 16 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The automerge-repo URL of the document (`automerge:<id>`).
    pub fn url(&self) -> String {
        format!("automerge:{self}")
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaseId({self})")
    }
}

impl FromStr for CaseId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.strip_prefix("automerge:").unwrap_or(s);
        let bytes = bs58::decode(s)
            .with_check(None)
            .into_vec()
            .map_err(|_| Error::invalid("case_id", "not a valid case id"))?;
        let arr: [u8; 16] = bytes
            .try_into()
            .map_err(|_| Error::invalid("case_id", "a case id holds 16 bytes"))?;
        Ok(CaseId(arr))
    }
}

/// A new id for an entry inside a case (a visit, a referral, a goal...): 64 random bits in
/// hex, unique within a case whichever phone made it.
pub fn new_item_id() -> String {
    let mut b = [0u8; 8];
    random_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Heads (change hashes) as one byte string of 32-byte hashes, for storage.
pub fn heads_blob(heads: &[automerge::ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// Heads back from [`heads_blob`] (a trailing partial hash is ignored).
pub fn heads_of(blob: &[u8]) -> Vec<automerge::ChangeHash> {
    blob.chunks_exact(32)
        .filter_map(|c| automerge::ChangeHash::try_from(c).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_id_round_trips_and_rejects_garbage() {
        let id = CaseId::random();
        let s = id.to_string();
        assert_eq!(s.parse::<CaseId>().unwrap(), id);
        assert_eq!(id.url().parse::<CaseId>().unwrap(), id);
        assert!("not-an-id".parse::<CaseId>().is_err());
        // A one-character change breaks the checksum.
        let mut broken = s.clone().into_bytes();
        broken[3] = if broken[3] == b'2' { b'3' } else { b'2' };
        assert!(String::from_utf8(broken)
            .unwrap()
            .parse::<CaseId>()
            .is_err());
        // Valid bs58check of the wrong length.
        let short = bs58::encode([1u8; 8]).with_check().into_string();
        assert!(short.parse::<CaseId>().is_err());
    }
}
