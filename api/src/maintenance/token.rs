//! The maintenance login token: a JWT signed with HS256 by the secret that maintenance mode was
//! entered with, valid four hours, as Immich signs it — so a link Immich's server logged works
//! here and the other way round.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a maintenance login lasts.
const VALID_FOR_SECS: i64 = 4 * 60 * 60;

/// The header every token carries, `{"alg":"HS256"}` as `jose` writes it.
const HEADER: &str = r#"{"alg":"HS256"}"#;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    username: String,
    iat: i64,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
}

/// A new secret: 64 random bytes as hex, as Immich makes it (the hex text is the key).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// A token naming `username`, signed with `secret`.
pub fn sign(secret: &str, username: &str) -> String {
    let now = Utc::now().timestamp();
    let claims = Claims {
        username: username.to_owned(),
        iat: now,
        exp: now + VALID_FOR_SECS,
        nbf: None,
    };
    let payload = serde_json::to_vec(&claims).unwrap_or_default();
    let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER), URL_SAFE_NO_PAD.encode(payload));
    let mut mac = mac(secret);
    mac.update(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

/// The user a token names, when `secret` signed it with HS256 and it has not expired.
pub fn verify(secret: &str, token: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    // Only HS256: a token must not choose a weaker algorithm (or "none") for itself.
    if header["alg"] != "HS256" || header.get("crit").is_some() {
        return None;
    }
    let mut mac = mac(secret);
    mac.update(&token.as_bytes()[..token.rfind('.')?]);
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?).ok()?;
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let now = Utc::now().timestamp();
    (claims.exp > now && claims.nbf.is_none_or(|nbf| nbf <= now)).then_some(claims.username)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_names_its_user_until_tampered_with() {
        let secret = new_secret();
        assert_eq!(secret.len(), 128);
        let token = sign(&secret, "Immich Admin");
        assert_eq!(verify(&secret, &token).as_deref(), Some("Immich Admin"));
        assert_eq!(verify(&new_secret(), &token), None);
        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 2, 'x');
        assert_eq!(verify(&secret, &tampered), None);
        assert_eq!(verify(&secret, "a.b"), None);
        assert_eq!(verify(&secret, ""), None);
    }

    #[test]
    fn expired_and_unsigned_tokens_are_refused() {
        let secret = new_secret();
        let past = Claims {
            username: "old".into(),
            iat: 0,
            exp: 1,
            nbf: None,
        };
        let body = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&past).unwrap())
        );
        let mut mac = mac(&secret);
        mac.update(body.as_bytes());
        let expired = format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
        assert_eq!(verify(&secret, &expired), None);
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"username":"x","iat":0,"exp":99999999999}"#)
        );
        assert_eq!(verify(&secret, &unsigned), None);
    }
}
