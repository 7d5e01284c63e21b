//! Who the provider says signed in: the ID token's claims, or the userinfo endpoint's when the
//! ID token carries no e-mail (as Immich reads them), and what a new account takes from them.

use serde_json::{Map, Value};

use crate::system_config::sections::OauthConfig;

const GIB: i64 = 1 << 30;

#[derive(Debug)]
pub struct Profile {
    pub sub: String,
    /// The provider's session, for back-channel logout.
    pub sid: Option<String>,
    claims: Map<String, Value>,
}

/// What a registered account takes from the claims.
#[derive(Debug, PartialEq)]
pub struct Registration {
    pub is_admin: bool,
    pub storage_label: Option<String>,
    pub quota_size_in_bytes: Option<i64>,
}

impl Profile {
    pub fn from_id_token(claims: Map<String, Value>) -> Result<Self, &'static str> {
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let sub = text("sub").ok_or("the ID token has no subject")?;
        let sid = text("sid");
        Ok(Self { sub, sid, claims })
    }

    pub fn has_email(&self) -> bool {
        self.claims.contains_key("email")
    }

    /// Takes the userinfo claims instead, which must be about the same subject.
    pub fn add_user_info(&mut self, claims: Map<String, Value>) -> Result<(), &'static str> {
        if claims.get("sub").and_then(Value::as_str) != Some(self.sub.as_str()) {
            return Err("the user info is about another subject");
        }
        self.claims = claims;
        Ok(())
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// The `picture` claim: an http(s) URL of the user's picture.
    pub fn picture(&self) -> Option<&str> {
        self.text("picture")
            .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
    }

    pub fn email(&self) -> Option<String> {
        self.text("email").map(str::to_lowercase)
    }

    /// Whether the provider vouches for the e-mail (some send the flag as text).
    pub fn email_verified(&self) -> bool {
        match self.claims.get("email_verified") {
            Some(Value::Bool(verified)) => *verified,
            Some(Value::String(text)) => text == "true",
            _ => false,
        }
    }

    pub fn display_name(&self, email: &str) -> String {
        if let Some(name) = self.text("name") {
            return name.to_owned();
        }
        let given_family = [self.text("given_name"), self.text("family_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !given_family.is_empty() {
            return given_family;
        }
        self.text("preferred_username").unwrap_or(email).to_owned()
    }

    /// The role, storage label and quota (GiB) claims configured, else the defaults.
    pub fn registration(&self, config: &OauthConfig) -> Registration {
        let claim = |name: &str| self.claims.get(name).filter(|_| !name.is_empty());
        let storage_label = claim(&config.storage_label_claim)
            .and_then(Value::as_str)
            .filter(|label| !label.is_empty())
            .map(str::to_owned);
        let quota_gib = match claim(&config.storage_quota_claim) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|gib| gib.is_finite() && *gib >= 0.0);
        let quota_size_in_bytes = match quota_gib {
            Some(gib) => Some((gib * GIB as f64).round() as i64),
            None => config.default_storage_quota.map(|gib| gib.saturating_mul(GIB)),
        };
        let is_admin = claim(&config.role_claim).and_then(Value::as_str) == Some("admin");
        Registration {
            is_admin,
            storage_label,
            quota_size_in_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn profile(claims: Value) -> Profile {
        Profile::from_id_token(claims.as_object().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_new_account_takes_the_configured_claims() {
        let config = crate::system_config::SystemConfig::default().oauth;
        let quinn = profile(
            json!({"sub": "quinn", "preferred_username": "quinn", "immich_quota": 1.5, "immich_role": "admin"}),
        );
        assert_eq!(
            quinn.registration(&config),
            Registration {
                is_admin: true,
                storage_label: Some("quinn".into()),
                quota_size_in_bytes: Some(3 * GIB / 2),
            }
        );
        let mut with_default = config.clone();
        with_default.default_storage_quota = Some(5);
        let plain = profile(json!({"sub": "p", "immich_quota": -1, "immich_role": "root"}));
        assert_eq!(
            plain.registration(&with_default),
            Registration {
                is_admin: false,
                storage_label: None,
                quota_size_in_bytes: Some(5 * GIB),
            }
        );
    }

    #[test]
    fn names_and_emails_are_read_as_immich_reads_them() {
        let p =
            profile(json!({"sub": "s", "given_name": "Zoë", "family_name": "Ångström", "email": " Zoe@Example.COM "}));
        assert_eq!(p.email().as_deref(), Some("zoe@example.com"));
        assert_eq!(p.display_name("zoe@example.com"), "Zoë Ångström");
        assert!(!p.email_verified());
        let verified = profile(json!({"sub": "s", "email_verified": "true"}));
        assert!(verified.email_verified());
        assert_eq!(verified.display_name("x@y"), "x@y");
    }

    #[test]
    fn user_info_about_another_subject_is_refused() {
        let mut p = profile(json!({"sub": "alice"}));
        assert!(
            p.add_user_info(json!({"sub": "bob"}).as_object().unwrap().clone())
                .is_err()
        );
        assert!(
            p.add_user_info(json!({"sub": "alice", "email": "a@b"}).as_object().unwrap().clone())
                .is_ok()
        );
        assert!(p.has_email());
    }
}
