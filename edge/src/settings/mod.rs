//! Site settings: the sites whose events are accepted (domain, time zone,
//! data retention), their goals, and the Stats API keys. One document, kept
//! durably by the `Settings` Durable Object and changed only through
//! [`apply`], so every change is validated in one place.
//!
//! ```text
//! admin request ─▶ admin::parse ─▶ Change ─▶ apply(Store) ─▶ Store (persisted)
//! ```

pub mod admin;
pub mod keys;
pub mod retention;

use crate::auth::throttle::{self, Failures};
use serde::{Deserialize, Serialize};

/// Every setting, as persisted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    #[serde(default)]
    pub sites: Vec<Site>,
    #[serde(default)]
    pub keys: Vec<ApiKey>,
    /// The dashboard's sessions (SHA-256 of the cookie's token).
    #[serde(default)]
    pub sessions: Vec<Session>,
    /// Consecutive failed logins (`auth::throttle`).
    #[serde(default)]
    pub login_failures: Failures,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub hash: String,
    pub expires_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// Normalized: lower case, no `www.` (as the edge normalizes `d`).
    pub domain: String,
    /// IANA time zone of the site's reports, e.g. `Europe/Berlin`.
    pub timezone: String,
    pub retention: Retention,
    #[serde(default)]
    pub goals: Vec<Goal>,
    /// Custom property names the dashboard offers for breakdowns (as
    /// Plausible's site settings list them); any prop can be queried.
    #[serde(default)]
    pub props: Vec<String>,
}

/// How long a site's events are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Retention {
    #[serde(rename = "6mo")]
    SixMonths,
    #[serde(rename = "1y")]
    OneYear,
    #[serde(rename = "2y")]
    TwoYears,
    #[default]
    #[serde(rename = "indefinite")]
    Indefinite,
}

impl Retention {
    pub const NAMES: [&'static str; 4] = ["6mo", "1y", "2y", "indefinite"];

    pub fn parse(name: &str) -> Option<Retention> {
        match name {
            "6mo" => Some(Retention::SixMonths),
            "1y" => Some(Retention::OneYear),
            "2y" => Some(Retention::TwoYears),
            "indefinite" => Some(Retention::Indefinite),
            _ => None,
        }
    }

    /// Months kept, or `None` for ever.
    pub fn months(self) -> Option<u32> {
        match self {
            Retention::SixMonths => Some(6),
            Retention::OneYear => Some(12),
            Retention::TwoYears => Some(24),
            Retention::Indefinite => None,
        }
    }
}

/// A conversion: a custom event by name, or a pageview of matching paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Goal {
    Event { event_name: String },
    Page { page_path: String },
}

impl Goal {
    /// The name reports show (`event:goal`): the event's name, or `Visit <path>`
    /// as Plausible names pageview goals.
    pub fn display_name(&self) -> String {
        match self {
            Goal::Event { event_name } => event_name.clone(),
            Goal::Page { page_path } => format!("Visit {page_path}"),
        }
    }
}

/// A Stats API key: only its SHA-256 is kept; it reads the listed sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Public handle (to list and revoke), not the secret.
    pub id: String,
    pub name: String,
    /// Lower-case hex SHA-256 of the key.
    pub hash: String,
    pub sites: Vec<String>,
}

/// One validated change of the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Creates or replaces a site (its goals with it).
    PutSite(Site),
    DeleteSite {
        domain: String,
    },
    AddKey(ApiKey),
    RevokeKey {
        id: String,
    },
    /// A successful login: the session, and the failures forgotten.
    StartSession {
        session: Session,
        now_ms: u64,
    },
    EndSession {
        hash: String,
    },
    LoginFailed {
        now_ms: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("no site {0:?}")]
    NoSite(String),
    #[error("no API key {0:?}")]
    NoKey(String),
    #[error("sites: {0:?} is not a configured site")]
    KeyForUnknownSite(String),
    #[error("an API key with id {0:?} exists")]
    DuplicateKey(String),
}

impl Store {
    pub fn site(&self, domain: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.domain == domain)
    }

    pub fn is_site(&self, domain: &str) -> bool {
        self.site(domain).is_some()
    }

    /// The key whose SHA-256 is `hash`.
    pub fn key_by_hash(&self, hash: &str) -> Option<&ApiKey> {
        self.keys.iter().find(|k| keys::same_hash(&k.hash, hash))
    }

    /// Whether a session token's hash is a live session at `now_ms`.
    pub fn has_session(&self, hash: &str, now_ms: u64) -> bool {
        self.sessions
            .iter()
            .any(|s| s.expires_ms > now_ms && keys::same_hash(&s.hash, hash))
    }

    /// The settings without key hashes, for the admin API to show.
    pub fn public_view(&self) -> serde_json::Value {
        serde_json::json!({
            "sites": self.sites,
            "keys": self.keys.iter().map(|k| serde_json::json!({
                "id": k.id, "name": k.name, "sites": k.sites,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The settings after `change`, or why it cannot be made (the store unchanged).
pub fn apply(store: &Store, change: Change) -> Result<Store, SettingsError> {
    let mut next = store.clone();
    match change {
        Change::PutSite(site) => match next.sites.iter_mut().find(|s| s.domain == site.domain) {
            Some(existing) => *existing = site,
            None => next.sites.push(site),
        },
        Change::DeleteSite { domain } => {
            if !store.is_site(&domain) {
                return Err(SettingsError::NoSite(domain));
            }
            next.sites.retain(|s| s.domain != domain);
            // a key's scope shrinks with its sites; a key left with none goes
            for key in &mut next.keys {
                key.sites.retain(|s| *s != domain);
            }
            next.keys.retain(|k| !k.sites.is_empty());
        }
        Change::AddKey(key) => {
            if let Some(unknown) = key.sites.iter().find(|s| !store.is_site(s)) {
                return Err(SettingsError::KeyForUnknownSite(unknown.clone()));
            }
            if store.keys.iter().any(|k| k.id == key.id) {
                return Err(SettingsError::DuplicateKey(key.id));
            }
            next.keys.push(key);
        }
        Change::RevokeKey { id } => {
            if !store.keys.iter().any(|k| k.id == id) {
                return Err(SettingsError::NoKey(id));
            }
            next.keys.retain(|k| k.id != id);
        }
        Change::StartSession { session, now_ms } => {
            next.sessions.retain(|s| s.expires_ms > now_ms);
            next.sessions.push(session);
            next.login_failures = Failures::default();
        }
        Change::EndSession { hash } => next.sessions.retain(|s| s.hash != hash),
        Change::LoginFailed { now_ms } => {
            next.login_failures = throttle::failed(&store.login_failures, now_ms)
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(domain: &str) -> Site {
        Site {
            domain: domain.into(),
            timezone: "UTC".into(),
            retention: Retention::Indefinite,
            goals: vec![],
            props: vec![],
        }
    }

    fn key(id: &str, sites: &[&str]) -> ApiKey {
        ApiKey {
            id: id.into(),
            name: "ci".into(),
            hash: keys::sha256_hex(id.as_bytes()),
            sites: sites.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn sites_are_created_replaced_and_deleted_with_their_keys_scope() {
        let store = apply(&Store::default(), Change::PutSite(site("a.example"))).unwrap();
        let store = apply(&store, Change::PutSite(site("b.example"))).unwrap();
        let mut berlin = site("a.example");
        berlin.timezone = "Europe/Berlin".into();
        let store = apply(&store, Change::PutSite(berlin.clone())).unwrap();
        assert_eq!(store.sites.len(), 2);
        assert_eq!(store.site("a.example"), Some(&berlin));

        let store = apply(
            &store,
            Change::AddKey(key("k1", &["a.example", "b.example"])),
        )
        .unwrap();
        let store = apply(&store, Change::AddKey(key("k2", &["a.example"]))).unwrap();
        let store = apply(
            &store,
            Change::DeleteSite {
                domain: "a.example".into(),
            },
        )
        .unwrap();
        assert!(!store.is_site("a.example"));
        assert_eq!(store.keys.len(), 1, "k2 read only the deleted site");
        assert_eq!(store.keys[0].sites, vec!["b.example".to_string()]);
    }

    #[test]
    fn impossible_changes_say_why_and_change_nothing() {
        let store = apply(&Store::default(), Change::PutSite(site("a.example"))).unwrap();
        assert_eq!(
            apply(&store, Change::AddKey(key("k", &["z.example"]))),
            Err(SettingsError::KeyForUnknownSite("z.example".into()))
        );
        let with_key = apply(&store, Change::AddKey(key("k", &["a.example"]))).unwrap();
        assert_eq!(
            apply(&with_key, Change::AddKey(key("k", &["a.example"]))),
            Err(SettingsError::DuplicateKey("k".into()))
        );
        assert_eq!(
            apply(&store, Change::RevokeKey { id: "nope".into() }),
            Err(SettingsError::NoKey("nope".into()))
        );
        assert_eq!(
            apply(
                &store,
                Change::DeleteSite {
                    domain: "z.example".into()
                }
            ),
            Err(SettingsError::NoSite("z.example".into()))
        );
    }

    #[test]
    fn keys_are_found_by_hash_and_revoked() {
        let store = apply(&Store::default(), Change::PutSite(site("a.example"))).unwrap();
        let store = apply(&store, Change::AddKey(key("k", &["a.example"]))).unwrap();
        assert!(store.key_by_hash(&keys::sha256_hex(b"k")).is_some());
        assert!(store.key_by_hash(&keys::sha256_hex(b"x")).is_none());
        let view = store.public_view().to_string();
        assert!(
            !view.contains(&keys::sha256_hex(b"k")),
            "hashes stay inside"
        );
        let store = apply(&store, Change::RevokeKey { id: "k".into() }).unwrap();
        assert!(store.key_by_hash(&keys::sha256_hex(b"k")).is_none());
    }

    #[test]
    fn sessions_start_expire_and_end_and_a_login_forgets_failures() {
        let failed = apply(&Store::default(), Change::LoginFailed { now_ms: 5 }).unwrap();
        assert_eq!(failed.login_failures.count, 1);
        let session = Session {
            hash: keys::sha256_hex(b"t"),
            expires_ms: 100,
        };
        let store = apply(
            &failed,
            Change::StartSession {
                session: session.clone(),
                now_ms: 10,
            },
        )
        .unwrap();
        assert_eq!(store.login_failures.count, 0);
        assert!(store.has_session(&session.hash, 99));
        assert!(!store.has_session(&session.hash, 100), "expired");
        assert!(!store.public_view().to_string().contains(&session.hash));
        let ended = apply(
            &store,
            Change::EndSession {
                hash: session.hash.clone(),
            },
        )
        .unwrap();
        assert!(!ended.has_session(&session.hash, 50));
    }

    #[test]
    fn the_store_survives_a_round_trip_through_json() {
        let mut s = site("a.example");
        s.retention = Retention::SixMonths;
        s.goals = vec![
            Goal::Event {
                event_name: "Deploy Application".into(),
            },
            Goal::Page {
                page_path: "/docs/**".into(),
            },
        ];
        let store = Store {
            sites: vec![s],
            keys: vec![key("k", &["a.example"])],
            ..Store::default()
        };
        let text = serde_json::to_string(&store).unwrap();
        assert!(text.contains(r#""retention":"6mo""#));
        assert_eq!(serde_json::from_str::<Store>(&text).unwrap(), store);
    }
}
