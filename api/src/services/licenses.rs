//! Immich licences (server `IMSV-…` and client `IMCL-…`): the activation key is an RSA
//! PKCS#1 v1.5 SHA-256 signature of the licence key, checked against Immich's public keys.

use base64::Engine;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use sha2::Sha256;

/// Which of Immich's key pairs signs licences: production, or staging for non-production `IMMICH_ENV`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySet {
    Production,
    Staging,
}

impl KeySet {
    pub fn for_environment(environment: &str) -> Self {
        if environment == "production" {
            Self::Production
        } else {
            Self::Staging
        }
    }

    fn keys(self) -> (&'static str, &'static str) {
        match self {
            Self::Production => (PRODUCTION_CLIENT, PRODUCTION_SERVER),
            Self::Staging => (STAGING_CLIENT, STAGING_SERVER),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseKind {
    Server,
    Client,
}

/// The format every licence key has: `IMSV-`/`IMCL-` and eight groups of four.
pub fn is_well_formed(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("IMSV").or_else(|| key.strip_prefix("IMCL")) else {
        return false;
    };
    let groups: Vec<&str> = rest.split('-').collect();
    groups.len() == 9
        && groups[0].is_empty()
        && groups[1..]
            .iter()
            .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Whether `activation_key` activates `license_key` for the given kind of licence.
/// Server licences need a server key; user licences accept either kind.
pub fn verify(keys: KeySet, kind: LicenseKind, license_key: &str, activation_key: &str) -> bool {
    let (client, server) = keys.keys();
    match kind {
        LicenseKind::Server => license_key.starts_with("IMSV-") && signed_by(server, license_key, activation_key),
        LicenseKind::Client => {
            (license_key.starts_with("IMCL-") || license_key.starts_with("IMSV-"))
                && (signed_by(client, license_key, activation_key) || signed_by(server, license_key, activation_key))
        }
    }
}

pub(crate) fn signed_by(public_key_pem: &str, message: &str, signature_text: &str) -> bool {
    // Activation keys are base64url without padding; accept the standard alphabet too.
    let cleaned: String = signature_text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let Ok(signature_bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cleaned) else {
        return false;
    };
    let (Ok(key), Ok(signature)) = (
        RsaPublicKey::from_public_key_pem(public_key_pem),
        Signature::try_from(signature_bytes.as_slice()),
    ) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(key)
        .verify(message.as_bytes(), &signature)
        .is_ok()
}

const PRODUCTION_CLIENT: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAv/7S32cRA5++1NnVDsCM
spP/jJHIMqOJXFnh4NwA2Opz+RMfdco92PsOgh+wwQeEv1U2c2pjzTiQ/2lrKq/k
zJRlXwc4cUesQDMJOF+P2qONPbAJkXvCXYBULitCIkoLwfhSGNjyIKaRDhd/tNyN
8+hNRZnYT1hSIj9SCkKxUCOzatPV4mCDerS+bE+gEUeWp99V9azvF0FImnTWpQSw
c8wEZgOMh4svh6aicwdzkPCwELak0VaBH31BEUCQLb9+AItHAUtJCKxhb5Wjs1s9
brXfi0vrpgcZ/6DanY2qfSPznOmvD2FrrlS1q4JJN3Vo7Ww/0Yy/yMcmzTWZhGuh
UQIDAQAB
-----END PUBLIC KEY-----\n";

const PRODUCTION_SERVER: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAopnYDa0a/dU5IeG74iEE
MwdAKjsNczLdCqRd1Z9y5T2wjO7eYIOeJTsl350sR0p4KfSUDSXvC9NpDpc1tOKl
5shC/AxpvQALCokF4jt8vrrd9fCaXc1TqRbOmnhiugD6vkr0O/Fb3UDi3U0TvhPP
lPdvSawzLrWZPLfmHVVrbrSKmn9IeSgy07ukWTIyLsciNrvnBywsJaReDuoNWPBH
U/mo2mXa8m4wMWhiXehiIOQqMuSUgPeCsWj8UVx1CGlRzPDA0bVNQveKXWVxcEI6
ULEgJy2F49lH0+aYCmBf7NEr6VQ2WB95evTKXKvn0qIM7ngFlcUAw6fuV1cNCTJS
6wIDAQAB
-----END PUBLIC KEY-----\n";

const STAGING_CLIENT: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAnICrNncljOH/Iu3mYUZE
ttbKWW78dnj9y3E6zI7uMMRwDrGXXXdLhdP1qIkedxtrUUyJB1dxGN2AouKO62SF
WkmOONcFBTAXVSv8T5V4KEpZqPaa0izMhlLhNlEq/cVJvYkZXuglzoZ7pmgo1Rtx
jmbFnM78ka1QQBj9WKhL6yjVEIv07UKIJXpMNsnKh5WO726abc3HOnu9DN69VqEE
7tfkRtV6lvSSs2AU2x3Onypp8zNwoIOMdblk2oOZYdNg64cyvK2hSAeSsU0Tr9W9
H+kF9BSB6Y4AytBUdJi++jLInG3d9qObxUsNV+7NfFAy62d/LMGLR8/NPW4SK7sC
FQIDAQAB
-----END PUBLIC KEY-----\n";

const STAGING_SERVER: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA7K/2wvKQ/MuO2v/LRnlh
2S/sLxC8bbLL5QIJ8j0CpUen4aDecgX1JJRkF6ZTUKi57SlHmKtR3bNO2fu0TQX9
NV0BsW9eePt2iS1ixUQfO4Nn7oN6slKZsMjwoQ4kFDaf3uGNVIsGLou1UdKQXix1
RTGquSosYV3VFY7CXFa5VhCA/zhUsl4anUzwxAz3McPUeMpZzv/mVbBTJW0OK+Vf
VABo1wX2EAjzAzEGW47VJ8s8g2t+4sOhqA5+LB0JW9NEH9AJpxfsXN3K5m3M25BU
VWq9Qa+HttD6rtnp/qApyudYGpfOGa4BRVSGS11DY3LkoaeG60PE94zhb7n8zLZH
zQIDAQAB
-----END PUBLIC KEY-----\n";

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::signature::{SignatureEncoding, Signer};

    #[test]
    fn key_format() {
        assert!(is_well_formed("IMSV-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"));
        assert!(!is_well_formed("IMSV-AAAA-BBBB"));
        assert!(!is_well_formed("XXSV-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"));
    }

    #[test]
    fn signatures_are_checked_against_the_public_key() {
        let mut rng = rand_core_compat();
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let pem = private.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
        let license = "IMSV-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH";
        let signature = SigningKey::<Sha256>::new(private).sign(license.as_bytes()).to_vec();
        let activation = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
        assert!(signed_by(&pem, license, &activation));
        assert!(!signed_by(
            &pem,
            "IMSV-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHX",
            &activation
        ));
        assert!(!signed_by(&pem, license, "not-a-signature"));
        assert!(
            !verify(KeySet::Production, LicenseKind::Server, license, &activation),
            "not signed by Immich"
        );
    }

    fn rand_core_compat() -> rsa::rand_core::OsRng {
        rsa::rand_core::OsRng
    }
}
