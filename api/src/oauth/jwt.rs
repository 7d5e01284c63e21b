//! JSON Web Tokens from the OpenID provider (ID tokens, logout tokens, signed userinfo): the
//! signature checked with the provider's published keys (or the client secret for HS*), then
//! the claims that bind the token to this provider, this client and this sign-in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::{hmac, signature};
use serde::Deserialize;
use serde_json::{Map, Value};
use thiserror::Error;

/// How far clocks may disagree, as OpenID client libraries allow by default.
pub const CLOCK_LEEWAY_SECS: i64 = 30;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("it is not a signed JWT")]
    Malformed,
    #[error("it is signed with {found}, but {expected} is configured")]
    UnexpectedAlgorithm { expected: String, found: String },
    #[error("the algorithm {0} is not supported")]
    UnsupportedAlgorithm(String),
    #[error("no key of the provider matches it")]
    UnknownKey,
    #[error("its signature does not verify")]
    BadSignature,
    #[error("it was issued by {found}, not {expected}")]
    WrongIssuer { expected: String, found: String },
    #[error("it is meant for another client")]
    WrongAudience,
    #[error("it has expired")]
    Expired,
    #[error("it was issued in the future")]
    IssuedInFuture,
    #[error("it is too old")]
    TooOld,
    #[error("its nonce does not match this sign-in")]
    NonceMismatch,
    #[error("it has no {0} claim")]
    MissingClaim(&'static str),
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// A key from the provider's JWKS document.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    pub fn has_key(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid.as_deref() == Some(kid))
    }
}

/// A token split into its parts; nothing in it is trusted until [`Jwt::verify`] passed.
#[derive(Debug)]
pub struct Jwt {
    header: Header,
    signing_input: String,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

impl Jwt {
    pub fn parse(token: &str) -> Result<Self, JwtError> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed);
        let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
        let claims: Map<String, Value> = serde_json::from_slice(&decode(payload)?).map_err(|_| JwtError::Malformed)?;
        Ok(Self {
            signing_input: token.trim()[..token.trim().len() - signature.len() - 1].to_owned(),
            signature: decode(signature)?,
            header,
            claims,
        })
    }

    /// The key id the token names, to know when the provider's keys must be fetched again.
    pub fn key_id(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// Checks the signature: `algorithm` must be the one the token uses (never `none`); HS*
    /// tokens are keyed by the client secret, the others by one of `keys`.
    pub fn verify(self, algorithm: &str, keys: &JwkSet, client_secret: &str) -> Result<Map<String, Value>, JwtError> {
        if self.header.alg != algorithm {
            return Err(JwtError::UnexpectedAlgorithm {
                expected: algorithm.to_owned(),
                found: self.header.alg,
            });
        }
        let message = self.signing_input.as_bytes();
        if let Some(hmac_algorithm) = hmac_algorithm(algorithm) {
            let key = hmac::Key::new(hmac_algorithm, client_secret.as_bytes());
            hmac::verify(&key, message, &self.signature).map_err(|_| JwtError::BadSignature)?;
            return Ok(self.claims);
        }
        let mut candidates = keys
            .keys
            .iter()
            .filter(|key| self.header.kid.is_none() || key.kid == self.header.kid)
            .filter(|key| key.usage.as_deref() != Some("enc"))
            .filter(|key| key.alg.as_deref().is_none_or(|alg| alg == algorithm))
            .peekable();
        if candidates.peek().is_none() {
            return Err(JwtError::UnknownKey);
        }
        for key in candidates {
            if verify_with(key, algorithm, message, &self.signature)? {
                return Ok(self.claims);
            }
        }
        Err(JwtError::BadSignature)
    }
}

fn hmac_algorithm(algorithm: &str) -> Option<hmac::Algorithm> {
    match algorithm {
        "HS256" => Some(hmac::HMAC_SHA256),
        "HS384" => Some(hmac::HMAC_SHA384),
        "HS512" => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

/// Whether `key` verifies the signature; `Ok(false)` for a key of another kind.
fn verify_with(key: &Jwk, algorithm: &str, message: &[u8], sig: &[u8]) -> Result<bool, JwtError> {
    let field = |value: &Option<String>| value.as_deref().and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
    let rsa = |params: &'static signature::RsaParameters| -> bool {
        match (key.kty.as_str(), field(&key.n), field(&key.e)) {
            ("RSA", Some(n), Some(e)) => signature::RsaPublicKeyComponents { n, e }
                .verify(params, message, sig)
                .is_ok(),
            _ => false,
        }
    };
    let ec = |curve: &str, params: &'static signature::EcdsaVerificationAlgorithm| -> bool {
        match (key.kty.as_str(), key.crv.as_deref(), field(&key.x), field(&key.y)) {
            ("EC", Some(crv), Some(x), Some(y)) if crv == curve => {
                let point = [&[0x04][..], &x, &y].concat();
                signature::UnparsedPublicKey::new(params, point)
                    .verify(message, sig)
                    .is_ok()
            }
            _ => false,
        }
    };
    Ok(match algorithm {
        "RS256" => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => rsa(&signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => rsa(&signature::RSA_PSS_2048_8192_SHA512),
        "ES256" => ec("P-256", &signature::ECDSA_P256_SHA256_FIXED),
        "ES384" => ec("P-384", &signature::ECDSA_P384_SHA384_FIXED),
        "EdDSA" => match (key.kty.as_str(), key.crv.as_deref(), field(&key.x)) {
            ("OKP", Some("Ed25519"), Some(x)) => signature::UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(message, sig)
                .is_ok(),
            _ => false,
        },
        other => return Err(JwtError::UnsupportedAlgorithm(other.to_owned())),
    })
}

/// What the claims of a verified token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    /// The sign-in's nonce (ID tokens); `None` where the token must carry none (logout tokens).
    pub nonce: Option<&'a str>,
    /// Whether `exp` must be present (ID tokens) or may be left out (logout tokens).
    pub requires_expiry: bool,
    /// The oldest `iat` accepted, in seconds before now (logout tokens).
    pub max_age_secs: Option<i64>,
    pub now: i64,
}

pub fn check_claims(claims: &Map<String, Value>, expected: Expected<'_>) -> Result<(), JwtError> {
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(JwtError::MissingClaim("iss"))?;
    if issuer != expected.issuer {
        return Err(JwtError::WrongIssuer {
            expected: expected.issuer.to_owned(),
            found: issuer.to_owned(),
        });
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => return Err(JwtError::MissingClaim("aud")),
    };
    // With several audiences, the authorized party must be this client (OpenID Core 3.1.3.7).
    let authorized_party = claims.get("azp").and_then(Value::as_str);
    if !audiences.contains(&expected.audience)
        || (audiences.len() > 1 && authorized_party != Some(expected.audience))
        || authorized_party.is_some_and(|azp| azp != expected.audience)
    {
        return Err(JwtError::WrongAudience);
    }
    let time = |name| claims.get(name).and_then(Value::as_i64);
    match time("exp") {
        Some(exp) if exp + CLOCK_LEEWAY_SECS <= expected.now => return Err(JwtError::Expired),
        None if expected.requires_expiry => return Err(JwtError::MissingClaim("exp")),
        _ => {}
    }
    let issued_at = time("iat").ok_or(JwtError::MissingClaim("iat"))?;
    if issued_at > expected.now + CLOCK_LEEWAY_SECS {
        return Err(JwtError::IssuedInFuture);
    }
    if expected
        .max_age_secs
        .is_some_and(|max_age| issued_at + max_age + CLOCK_LEEWAY_SECS < expected.now)
    {
        return Err(JwtError::TooOld);
    }
    let nonce = claims.get("nonce").and_then(Value::as_str);
    if nonce != expected.nonce {
        return Err(JwtError::NonceMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    use super::*;

    fn encode(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    fn hs256(claims: &Value, secret: &str) -> String {
        let input = format!("{}.{}", encode(&json!({"alg": "HS256"})), encode(claims));
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes()), input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    fn expected(now: i64) -> Expected<'static> {
        Expected {
            issuer: "https://sso.example.com",
            audience: "darkroom",
            nonce: Some("n-1"),
            requires_expiry: true,
            max_age_secs: None,
            now,
        }
    }

    fn claims(now: i64) -> Value {
        json!({"iss": "https://sso.example.com", "aud": "darkroom", "sub": "alice", "iat": now, "exp": now + 300, "nonce": "n-1"})
    }

    #[test]
    fn an_hs256_token_verifies_with_the_client_secret_only() {
        let token = hs256(&claims(1000), "secret");
        let verified = Jwt::parse(&token)
            .unwrap()
            .verify("HS256", &JwkSet::default(), "secret")
            .unwrap();
        assert_eq!(verified["sub"], "alice");
        let wrong = Jwt::parse(&token).unwrap().verify("HS256", &JwkSet::default(), "other");
        assert_eq!(wrong.unwrap_err(), JwtError::BadSignature);
        let configured_rs256 = Jwt::parse(&token)
            .unwrap()
            .verify("RS256", &JwkSet::default(), "secret");
        assert!(matches!(configured_rs256, Err(JwtError::UnexpectedAlgorithm { .. })));
    }

    #[test]
    fn an_es256_token_verifies_with_the_matching_published_key() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let point = pair.public_key().as_ref();
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "k1",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])});
        let keys: JwkSet = serde_json::from_value(json!({ "keys": [jwk] })).unwrap();
        let input = format!(
            "{}.{}",
            encode(&json!({"alg": "ES256", "kid": "k1"})),
            encode(&claims(5))
        );
        let sig = pair.sign(&rng, input.as_bytes()).unwrap();
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()));
        assert!(Jwt::parse(&token).unwrap().verify("ES256", &keys, "").is_ok());
        let tampered = token.replacen(&encode(&claims(5)), &encode(&claims(6)), 1);
        assert_eq!(
            Jwt::parse(&tampered).unwrap().verify("ES256", &keys, "").unwrap_err(),
            JwtError::BadSignature
        );
        let other_kid = token.replacen(
            &encode(&json!({"alg": "ES256", "kid": "k1"})),
            &encode(&json!({"alg": "ES256", "kid": "k2"})),
            1,
        );
        assert_eq!(
            Jwt::parse(&other_kid).unwrap().verify("ES256", &keys, "").unwrap_err(),
            JwtError::UnknownKey
        );
    }

    #[test]
    fn unsigned_and_malformed_tokens_are_refused() {
        let none = format!("{}.{}.", encode(&json!({"alg": "none"})), encode(&claims(1)));
        assert!(matches!(
            Jwt::parse(&none).unwrap().verify("RS256", &JwkSet::default(), ""),
            Err(JwtError::UnexpectedAlgorithm { .. })
        ));
        assert_eq!(Jwt::parse("a.b").unwrap_err(), JwtError::Malformed);
        assert_eq!(Jwt::parse("invalid token").unwrap_err(), JwtError::Malformed);
    }

    #[test]
    fn claims_bind_the_token_to_issuer_client_time_and_nonce() {
        let now = 10_000;
        let check = |value: Value| check_claims(value.as_object().unwrap(), expected(now));
        assert_eq!(check(claims(now)), Ok(()));
        let with = |key: &str, value: Value| {
            let mut c = claims(now);
            c[key] = value;
            c
        };
        assert!(matches!(
            check(with("iss", json!("https://evil.example"))),
            Err(JwtError::WrongIssuer { .. })
        ));
        assert_eq!(check(with("aud", json!("other-client"))), Err(JwtError::WrongAudience));
        assert_eq!(
            check(with("aud", json!(["darkroom", "other"]))),
            Err(JwtError::WrongAudience)
        );
        let mut shared = with("aud", json!(["darkroom", "other"]));
        shared["azp"] = json!("darkroom");
        assert_eq!(check(shared), Ok(()));
        assert_eq!(check(with("exp", json!(now - 60))), Err(JwtError::Expired));
        assert_eq!(check(with("exp", json!(now - 5))), Ok(()), "within the clock leeway");
        assert_eq!(check(with("iat", json!(now + 600))), Err(JwtError::IssuedInFuture));
        assert_eq!(check(with("nonce", json!("n-2"))), Err(JwtError::NonceMismatch));
        let mut no_nonce = claims(now);
        no_nonce.as_object_mut().unwrap().remove("nonce");
        assert_eq!(check(no_nonce), Err(JwtError::NonceMismatch));
    }

    #[test]
    fn logout_tokens_must_be_recent_and_carry_no_nonce() {
        let now = 10_000;
        let logout = Expected {
            nonce: None,
            requires_expiry: false,
            max_age_secs: Some(120),
            ..expected(now)
        };
        let token = json!({"iss": "https://sso.example.com", "aud": "darkroom", "iat": now - 10, "sid": "s"});
        assert_eq!(check_claims(token.as_object().unwrap(), logout), Ok(()));
        let old = json!({"iss": "https://sso.example.com", "aud": "darkroom", "iat": now - 600});
        assert_eq!(check_claims(old.as_object().unwrap(), logout), Err(JwtError::TooOld));
        let with_nonce = json!({"iss": "https://sso.example.com", "aud": "darkroom", "iat": now, "nonce": "x"});
        assert_eq!(
            check_claims(with_nonce.as_object().unwrap(), logout),
            Err(JwtError::NonceMismatch)
        );
    }
}
