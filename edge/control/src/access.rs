//! Who a request is, and what it may read or change: an API key (the Stats
//! API, its sites only), the admin token (everything), or the dashboard's
//! session (everything, changes only from the dashboard's own page). Pure:
//! the Worker passes the headers and the settings, and answers a [`Denied`]
//! with its status and message.

use crate::{keys, login};
use model::hex::same_text;
use model::settings::{ApiKey, Site, Store};

/// What a request shows of who sent it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `Cookie` header.
    pub cookie: Option<&'a str>,
    /// Whether the request came from a page of this origin (its `Origin`
    /// header is absent or ours: [`same_origin`]).
    pub same_origin: bool,
}

/// Who may read the Stats API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// An API key: its sites only.
    Key(ApiKey),
    /// The dashboard's administrator: every site.
    Administrator,
}

/// Why a request may not go on: 401 (who are you?) or 403 (not this).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(String),
}

impl Denied {
    pub fn status(&self) -> u16 {
        match self {
            Denied::Unauthenticated(_) => 401,
            Denied::Forbidden(_) => 403,
        }
    }
}

/// Whether an `Origin` header (absent for same-origin navigations and most
/// non-browser clients) names `own_origin`. A cookie-authenticated change
/// must pass this: the cookie is SameSite=Strict already, this also refuses
/// a forged Origin.
pub fn same_origin(origin_header: Option<&str>, own_origin: &str) -> bool {
    origin_header.is_none_or(|origin| origin == own_origin)
}

/// Whether the `Cookie` header carries a live session at `now_ms`.
/// `password` is the configured password's fingerprint (none: no login).
pub fn has_session(
    cookie: Option<&str>,
    store: &Store,
    now_ms: u64,
    password: Option<&str>,
) -> bool {
    login::session_token(cookie).is_some_and(|token| {
        store.has_session(&keys::sha256_hex(token.as_bytes()), now_ms, password)
    })
}

/// The Stats API's reader: `Authorization: Bearer <API key>`, else the session.
pub fn reader(
    credentials: &Credentials,
    store: &Store,
    now_ms: u64,
    password: Option<&str>,
) -> Result<Reader, Denied> {
    let Some(token) = keys::bearer(credentials.authorization) else {
        if has_session(credentials.cookie, store, now_ms, password) {
            return Ok(Reader::Administrator);
        }
        return Err(Denied::Unauthenticated(
            "Authorization: Bearer <API key> is required",
        ));
    };
    match store.key_by_hash(&keys::sha256_hex(token.as_bytes())) {
        Some(key) => Ok(Reader::Key(key.clone())),
        None => Err(Denied::Unauthenticated(
            "the API key is not valid (revoked or mistyped)",
        )),
    }
}

/// The site `reader` may read, or 403 — the same for a site that does not
/// exist, so that a key cannot probe for other sites.
pub fn site_for<'a>(store: &'a Store, reader: &Reader, site_id: &str) -> Result<&'a Site, Denied> {
    let allowed = match reader {
        Reader::Key(key) => key.sites.iter().any(|s| s == site_id),
        Reader::Administrator => true,
    };
    match store.site(site_id) {
        Some(site) if allowed => Ok(site),
        _ => Err(Denied::Forbidden(format!(
            "site_id: this API key cannot read {site_id:?}"
        ))),
    }
}

/// Whether the admin API may be used: the admin token (`admin_token`, when
/// one is configured), or the dashboard's session — for a `change`, only
/// from the dashboard's own page.
pub fn admin(
    credentials: &Credentials,
    admin_token: Option<&str>,
    store: &Store,
    now_ms: u64,
    password: Option<&str>,
    change: bool,
) -> Result<(), Denied> {
    if keys::bearer(credentials.authorization).is_some() {
        return shared_secret(
            credentials,
            admin_token,
            "Authorization: Bearer <ADMIN_TOKEN> is required",
        );
    }
    if has_session(credentials.cookie, store, now_ms, password) {
        if !change || credentials.same_origin {
            return Ok(());
        }
        return Err(Denied::Forbidden(
            "a change must come from the dashboard's own page".into(),
        ));
    }
    Err(Denied::Unauthenticated(
        "Authorization: Bearer <ADMIN_TOKEN> (or the dashboard's login) is required",
    ))
}

/// A machine's request behind one configured secret: it shows `token` as
/// its bearer, and there is one (without it, nobody gets in). `required`
/// names the secret in the 401. Used for a self-hosted replica reaching the
/// control instance's shared state (`CONTROL_TOKEN`: the salts, the
/// settings) and for a metrics scrape (`METRICS_TOKEN`).
pub fn shared_secret(
    credentials: &Credentials,
    token: Option<&str>,
    required: &'static str,
) -> Result<(), Denied> {
    match (keys::bearer(credentials.authorization), token) {
        (Some(given), Some(token)) if same_text(given, token) => Ok(()),
        _ => Err(Denied::Unauthenticated(required)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{apply, Change};
    use model::settings::Session;

    const NOW: u64 = 1_000;
    const TOKEN: &str = "an-admin-token-of-24-characters";
    const PASSWORD: &str = "fingerprint-of-the-password";

    fn store() -> (Store, String, String) {
        let mut store = Store::default();
        for domain in ["a.example", "b.example"] {
            store = apply(&store, Change::PutSite(Site::new(domain))).unwrap();
        }
        let key = ApiKey {
            id: "k".into(),
            name: "ci".into(),
            hash: keys::sha256_hex(b"ea_secret"),
            sites: vec!["a.example".into()],
        };
        let (session_token, hash) = login::new_session(&[5; 32]);
        let session = Session {
            hash,
            expires_ms: NOW + 1,
            password: PASSWORD.into(),
            user: String::new(),
        };
        store = apply(&store, Change::AddKey(key)).unwrap();
        store = apply(
            &store,
            Change::StartSession {
                session,
                now_ms: NOW,
                attempt: "a".into(),
            },
        )
        .unwrap();
        (store, session_token, login::COOKIE.to_string())
    }

    #[test]
    fn a_key_reads_its_sites_and_no_other() {
        let (store, ..) = store();
        let credentials = Credentials {
            authorization: Some("Bearer ea_secret"),
            ..Credentials::default()
        };
        let key = reader(&credentials, &store, NOW, Some(PASSWORD)).unwrap();
        assert!(site_for(&store, &key, "a.example").is_ok());
        let other = site_for(&store, &key, "b.example").unwrap_err();
        assert_eq!(other.status(), 403);
        assert_eq!(
            site_for(&store, &key, "nowhere.example").unwrap_err(),
            other_site_error("nowhere.example"),
            "a missing site looks like another's"
        );
        let wrong = Credentials {
            authorization: Some("Bearer ea_mistyped"),
            ..Credentials::default()
        };
        assert_eq!(
            reader(&wrong, &store, NOW, Some(PASSWORD))
                .unwrap_err()
                .status(),
            401
        );
        assert_eq!(
            reader(&Credentials::default(), &store, NOW, Some(PASSWORD))
                .unwrap_err()
                .status(),
            401
        );
    }

    fn other_site_error(site: &str) -> Denied {
        Denied::Forbidden(format!("site_id: this API key cannot read {site:?}"))
    }

    #[test]
    fn a_session_reads_everything_until_it_expires() {
        let (store, token, cookie) = store();
        let header = format!("{cookie}={token}");
        let credentials = Credentials {
            cookie: Some(&header),
            ..Credentials::default()
        };
        let administrator = reader(&credentials, &store, NOW, Some(PASSWORD)).unwrap();
        assert_eq!(administrator, Reader::Administrator);
        assert!(site_for(&store, &administrator, "b.example").is_ok());
        assert!(
            reader(&credentials, &store, NOW + 1, Some(PASSWORD)).is_err(),
            "expired"
        );
        assert!(
            reader(&credentials, &store, NOW, Some("a new password")).is_err(),
            "the password changed: the session ended"
        );
    }

    #[test]
    fn the_admin_api_takes_the_token_or_a_same_origin_session() {
        let (store, token, cookie) = store();
        let bearer = format!("Bearer {TOKEN}");
        let with_token = Credentials {
            authorization: Some(&bearer),
            ..Credentials::default()
        };
        assert_eq!(
            admin(&with_token, Some(TOKEN), &store, NOW, Some(PASSWORD), true),
            Ok(())
        );
        assert_eq!(
            admin(&with_token, None, &store, NOW, Some(PASSWORD), false)
                .unwrap_err()
                .status(),
            401,
            "no token configured: the admin API is closed to tokens"
        );
        let header = format!("{cookie}={token}");
        let cross_site = Credentials {
            cookie: Some(&header),
            same_origin: false,
            ..Credentials::default()
        };
        assert_eq!(
            admin(&cross_site, Some(TOKEN), &store, NOW, Some(PASSWORD), false),
            Ok(())
        );
        assert_eq!(
            admin(&cross_site, Some(TOKEN), &store, NOW, Some(PASSWORD), true)
                .unwrap_err()
                .status(),
            403,
            "a change from another page"
        );
        let own_page = Credentials {
            same_origin: true,
            ..cross_site
        };
        assert_eq!(
            admin(&own_page, Some(TOKEN), &store, NOW, Some(PASSWORD), true),
            Ok(())
        );
        assert_eq!(
            admin(
                &Credentials::default(),
                Some(TOKEN),
                &store,
                NOW,
                Some(PASSWORD),
                false
            )
            .unwrap_err()
            .status(),
            401
        );
    }

    #[test]
    fn origins_are_compared_whole() {
        assert!(same_origin(None, "https://a.example"));
        assert!(same_origin(Some("https://a.example"), "https://a.example"));
        assert!(!same_origin(
            Some("https://a.example.evil"),
            "https://a.example"
        ));
        assert!(!same_origin(Some("null"), "https://a.example"));
    }

    #[test]
    fn only_a_replica_with_the_token_reaches_the_shared_state() {
        let control = |credentials: &Credentials, token| {
            shared_secret(
                credentials,
                token,
                "Authorization: Bearer <CONTROL_TOKEN> is required",
            )
        };
        let with = |authorization: Option<&'static str>| Credentials {
            authorization,
            ..Credentials::default()
        };
        assert_eq!(
            control(
                &with(Some("Bearer an-admin-token-of-24-characters")),
                Some(TOKEN)
            ),
            Ok(())
        );
        for refused in [
            None,
            Some("Bearer wrong"),
            Some("an-admin-token-of-24-characters"),
            Some("Basic x"),
        ] {
            assert_eq!(
                control(&with(refused), Some(TOKEN)).map_err(|d| d.status()),
                Err(401)
            );
        }
        // not a control instance: nobody gets in, whatever they show
        assert!(control(&with(Some("Bearer an-admin-token-of-24-characters")), None).is_err());
    }
}
