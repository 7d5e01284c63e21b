//! Secrets handed to clients (session tokens, API keys) and how they are stored.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes as base64 without its non-word characters (Immich's token format).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Tokens and keys are stored only as SHA-256 of their text.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// bcrypt with Immich's cost of 10.
pub fn hash_password(password: &str) -> Result<String, bcrypt::BcryptError> {
    bcrypt::hash(password, 10)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    !hash.is_empty() && bcrypt::verify(password, hash).unwrap_or(false)
}

/// A valid bcrypt hash of a random password: unknown e-mails are checked against it so that a
/// failed login costs the same time whether or not the account exists.
pub const DUMMY_HASH: &str = "$2b$10$8UvRgZ2Z923uJJdxFiwtMO8Mgr8U/p15CY0Z3MLzLZo7xkBtI0DXK";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_word_only() {
        // 43 base64 characters less the `+` and `/` among them (about 1.3 on average).
        let token = generate();
        assert!(
            token.len() >= 32 && token.chars().all(|c| c.is_ascii_alphanumeric()),
            "{token}"
        );
        assert_ne!(token, generate());
        assert_eq!(hash("abc").len(), 32);
    }

    #[test]
    fn dummy_hash_is_a_real_bcrypt_hash() {
        assert!(bcrypt::verify("anything", DUMMY_HASH).is_ok());
        assert!(!verify_password("anything", ""));
    }
}
