//! Passwords and session tokens.
//!
//! Passwords: PBKDF2-HMAC-SHA256 (ring), a 16-byte random salt per user, at least 600,000
//! iterations in production; the iteration count is stored with each hash so it can be
//! raised, and a login with an older count re-hashes. Verification is constant-time.
//! Tokens: 256 random bits given to the client once, stored only as their SHA-256, bound to
//! one device, with an idle and an absolute expiry.

use std::num::NonZeroU32;

use ring::digest::{digest, SHA256};
use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};

/// The OWASP minimum for PBKDF2-HMAC-SHA256 (2023).
pub const DEFAULT_ITERATIONS: u32 = 600_000;

/// A stored password hash with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    pub hash: Vec<u8>,
    pub salt: Vec<u8>,
    pub iterations: u32,
}

pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    SystemRandom::new()
        .fill(&mut b)
        .expect("system random source");
    b
}

/// Hashes a password with a fresh salt.
pub fn hash_password(password: &str, iterations: u32) -> PasswordHash {
    let salt = random::<16>().to_vec();
    let mut hash = vec![0u8; 32];
    let n = NonZeroU32::new(iterations.max(1)).expect("non-zero");
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        n,
        &salt,
        password.as_bytes(),
        &mut hash,
    );
    PasswordHash {
        hash,
        salt,
        iterations,
    }
}

/// Checks a password against a stored hash in constant time.
pub fn verify_password(password: &str, stored: &PasswordHash) -> bool {
    let Some(n) = NonZeroU32::new(stored.iterations) else {
        return false;
    };
    pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        n,
        &stored.salt,
        password.as_bytes(),
        &stored.hash,
    )
    .is_ok()
}

/// Spends the same time as a verification, for unknown users (no user enumeration by timing).
pub fn dummy_verify(password: &str, iterations: u32) {
    let fake = PasswordHash {
        hash: vec![0; 32],
        salt: vec![0; 16],
        iterations,
    };
    let _ = verify_password(password, &fake);
}

/// A new session token (hex of 32 random bytes) and the hash to store.
pub fn new_token() -> (String, Vec<u8>) {
    let token = hex::encode(random::<32>());
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    digest(&SHA256, token.as_bytes()).as_ref().to_vec()
}

/// A new random id with a prefix (`u-`, `d-`...).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(random::<8>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_salts_differ() {
        let a = hash_password("correct horse", 1000);
        let b = hash_password("correct horse", 1000);
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.hash, b.hash);
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("correct hors", &a));
        assert!(!verify_password("", &a));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (t1, h1) = new_token();
        let (t2, _) = new_token();
        assert_eq!(t1.len(), 64);
        assert_ne!(t1, t2);
        assert_eq!(h1, token_hash(&t1));
        assert_ne!(h1, t1.as_bytes());
    }
}
