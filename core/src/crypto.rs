//! Encryption at rest with ring: AES-256-GCM for every stored byte of case content, HKDF to
//! derive wrapping keys from the device key, and one random data key per case.
//!
//! Sealed format: `version (1 byte) || nonce (12 bytes) || ciphertext || tag (16 bytes)`.
//! The associated data binds every ciphertext to its case and to its record kind, so a
//! record copied into another row or case fails to open.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;

use crate::error::{Error, Result};
use crate::ids::random_bytes;

const VERSION: u8 = 1;
const SALT: &[u8] = b"fieldcase/store/v1";

/// What a sealed record is; part of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum RecordKind {
    CaseKey = 1,
    Snapshot = 2,
    Change = 3,
    Summary = 4,
    SyncState = 5,
    Meta = 6,
    KeyCheck = 7,
    Heads = 8,
    Refused = 9,
    AttachmentChunk = 10,
    AttachmentFile = 11,
}

/// A 256-bit AES-GCM key.
pub(crate) struct Key(LessSafeKey);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Self {
        Key(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, bytes).expect("32-byte key"),
        ))
    }

    /// Derives a purpose-bound key from the device key with HKDF-SHA256.
    pub(crate) fn derive(device_key: &[u8; 32], purpose: &'static str) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(device_key);
        let info = [purpose.as_bytes()];
        let okm = prk.expand(&info, &AES_256_GCM).expect("HKDF output length");
        Key(LessSafeKey::new(UnboundKey::from(okm)))
    }

    pub(crate) fn seal(&self, kind: RecordKind, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce);
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plain.len() + 16);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(kind, context)),
                &mut body,
            )
            .expect("AES-GCM sealing cannot fail for in-range lengths");
        out.extend_from_slice(&body);
        out
    }

    pub(crate) fn open(&self, kind: RecordKind, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 1 + NONCE_LEN + 16 {
            return Err(Error::Corrupt(format!("{kind:?} record too short")));
        }
        if sealed[0] != VERSION {
            return Err(Error::Corrupt(format!(
                "{kind:?} record has unknown version"
            )));
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
            .map_err(|_| Error::Corrupt("bad nonce".into()))?;
        let mut body = sealed[1 + NONCE_LEN..].to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(aad(kind, context)), &mut body)
            .map_err(|_| Error::Corrupt(format!("{kind:?} record failed authentication")))?;
        let n = plain.len();
        body.truncate(n);
        Ok(body)
    }
}

fn aad(kind: RecordKind, context: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(1 + context.len());
    a.push(kind as u8);
    a.extend_from_slice(context);
    a
}

/// A fresh random 256-bit data key.
pub(crate) fn new_data_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    random_bytes(&mut k);
    k
}

/// Wraps a case's data key under the wrapping key, bound to the case id.
pub(crate) fn wrap_case_key(wrap: &Key, case_id: &[u8], data_key: &[u8; 32]) -> Vec<u8> {
    wrap.seal(RecordKind::CaseKey, case_id, data_key)
}

/// Unwraps a case's data key; fails if the key or the case id does not match.
pub(crate) fn unwrap_case_key(wrap: &Key, case_id: &[u8], wrapped: &[u8]) -> Result<Key> {
    let raw = wrap.open(RecordKind::CaseKey, case_id, wrapped)?;
    let arr: [u8; 32] = raw
        .try_into()
        .map_err(|_| Error::Corrupt("case key has the wrong length".into()))?;
    Ok(Key::from_bytes(&arr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_binding() {
        let k = Key::derive(&[7u8; 32], "test");
        let s = k.seal(RecordKind::Change, b"case-a", b"hello");
        assert_eq!(k.open(RecordKind::Change, b"case-a", &s).unwrap(), b"hello");
        assert!(k.open(RecordKind::Change, b"case-b", &s).is_err());
        assert!(k.open(RecordKind::Snapshot, b"case-a", &s).is_err());
        let other = Key::derive(&[8u8; 32], "test");
        assert!(other.open(RecordKind::Change, b"case-a", &s).is_err());
        let mut tampered = s.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(k.open(RecordKind::Change, b"case-a", &tampered).is_err());
        assert!(k.open(RecordKind::Change, b"case-a", &s[..10]).is_err());
    }

    #[test]
    fn wrapped_keys_are_bound_to_their_case() {
        let wrap = Key::derive(&[1u8; 32], "wrap");
        let dk = new_data_key();
        let w = wrap_case_key(&wrap, b"c1", &dk);
        assert!(unwrap_case_key(&wrap, b"c1", &w).is_ok());
        assert!(unwrap_case_key(&wrap, b"c2", &w).is_err());
    }
}
