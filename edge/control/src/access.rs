//! Who a request is, and what it may read or change: an API key (the Stats
//! API, its sites only), the admin token (everything), a session of the
//! dashboard — the installation's administrator (everything) or a person
//! (what their roles allow, `people::may`; changes only from the
//! dashboard's own page) — or a shared link (one site's numbers). Pure: the
//! Worker passes the headers and the settings, and answers a [`Denied`]
//! with its status and message.

use crate::people::{self, Actor, Need};
use crate::{keys, login};
use model::hex::same_text;
use model::settings::{ApiKey, SharedLink, Site, Store, User};

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
    /// The `X-Shared-Link` header: a shared link's token, and after a `.`
    /// the grant its password was exchanged for (`/api/share/unlock`).
    pub shared_link: Option<&'a str>,
}

/// Who a request acts as, once its session or token has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The installation's administrator: `ADMIN_USER`'s session, or the admin token.
    Installation,
    /// A person, as the settings hold them now (boxed: a principal is
    /// passed around, the record is large), and whether this session's
    /// login passed a second factor.
    User {
        user: Box<User>,
        second_factor: bool,
    },
}

impl Principal {
    pub fn actor(&self) -> Actor<'_> {
        match self {
            Principal::Installation => Actor::Installation,
            Principal::User { user, .. } => Actor::User(user),
        }
    }

    /// How the audit log names them.
    pub fn label(&self) -> &str {
        match self {
            Principal::Installation => "admin",
            Principal::User { user, .. } => &user.email,
        }
    }

    /// The installation's administrator, or a super-admin.
    pub fn is_super_admin(&self) -> bool {
        match self {
            Principal::Installation => true,
            Principal::User { user, .. } => user.super_admin,
        }
    }
}

/// Who may read the Stats API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// An API key: its sites only.
    Key(ApiKey),
    /// A dashboard session: the sites their roles reach.
    Person(Principal),
    /// A shared link: its site, within its filters.
    Shared(SharedLink),
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

/// Whose live session the `Cookie` header carries at `now_ms`, if any.
/// `installation` is the fingerprint of the installation administrator's
/// password (none: that login is not configured). A session holds while
/// the password it was started with does, and its person exists.
pub fn session(
    cookie: Option<&str>,
    store: &Store,
    now_ms: u64,
    installation: Option<&str>,
) -> Option<Principal> {
    let token = login::session_token(cookie)?;
    let session = store.session(&keys::sha256_hex(token.as_bytes()), now_ms)?;
    if session.user.is_empty() {
        return installation
            .is_some_and(|password| same_text(&session.password, password))
            .then_some(Principal::Installation);
    }
    let user = store.user(&session.user)?;
    same_text(&session.password, &people::credential(user)).then(|| Principal::User {
        user: Box::new(user.clone()),
        second_factor: session.second_factor,
    })
}

/// The Stats API's reader: `Authorization: Bearer <API key>`, else a shared
/// link, else the session.
pub fn reader(
    credentials: &Credentials,
    store: &Store,
    now_ms: u64,
    installation: Option<&str>,
) -> Result<Reader, Denied> {
    if let Some(token) = keys::bearer(credentials.authorization) {
        return match store.key_by_hash(&keys::sha256_hex(token.as_bytes())) {
            Some(key) => Ok(Reader::Key(key.clone())),
            None => Err(Denied::Unauthenticated(
                "the API key is not valid (revoked or mistyped)",
            )),
        };
    }
    if let Some(header) = credentials.shared_link {
        return shared_link(header, store, now_ms).map(Reader::Shared);
    }
    match session(credentials.cookie, store, now_ms, installation) {
        Some(principal) => Ok(Reader::Person(principal)),
        None => Err(Denied::Unauthenticated(
            "Authorization: Bearer <API key> is required",
        )),
    }
}

/// The shared link an `X-Shared-Link` header opens: `<token>`, or
/// `<token>.<grant>` for a link with a password (the grant is a session of
/// the link, `people::share_session`).
pub fn shared_link(header: &str, store: &Store, now_ms: u64) -> Result<SharedLink, Denied> {
    let (token, grant) = header.trim().split_once('.').unwrap_or((header.trim(), ""));
    let hash = keys::sha256_hex(token.as_bytes());
    let Some(link) = store
        .shared_links
        .iter()
        .find(|l| same_text(&l.hash, &hash))
    else {
        return Err(Denied::Unauthenticated(
            "the shared link is not valid (revoked or mistyped)",
        ));
    };
    if link.password.is_empty() {
        return Ok(link.clone());
    }
    let unlocked = store
        .session(&keys::sha256_hex(grant.as_bytes()), now_ms)
        .is_some_and(|s| s.user == people::share_session(link) && !grant.is_empty());
    if unlocked {
        Ok(link.clone())
    } else {
        Err(Denied::Unauthenticated(
            "this shared link has a password: unlock it first",
        ))
    }
}

/// The shared link whose token is `token` (compared in constant time).
pub fn link_by_token<'a>(store: &'a Store, token: &str) -> Option<&'a SharedLink> {
    let hash = keys::sha256_hex(token.trim().as_bytes());
    store
        .shared_links
        .iter()
        .find(|l| same_text(&l.hash, &hash))
}

/// The site `reader` may read, or 403 — the same for a site that does not
/// exist, so that a key cannot probe for other sites.
pub fn site_for<'a>(store: &'a Store, reader: &Reader, site_id: &str) -> Result<&'a Site, Denied> {
    let refused = |who: &str| Denied::Forbidden(format!("site_id: {who} cannot read {site_id:?}"));
    match reader {
        Reader::Key(key) => match store.site(site_id) {
            Some(site) if key.sites.iter().any(|s| s == site_id) => Ok(site),
            _ => Err(refused("this API key")),
        },
        Reader::Shared(link) => match store.site(site_id) {
            Some(site) if link.site == site_id => Ok(site),
            _ => Err(refused("this shared link")),
        },
        Reader::Person(principal) => {
            let Some(site) = store
                .site(site_id)
                .filter(|_| people::may(&principal.actor(), site_id, Need::Read))
            else {
                return Err(refused("you"));
            };
            // a site they have a role on, whose second-factor rule their session misses: said so
            allowed(store, principal, site_id, Need::Read)?;
            Ok(site)
        }
    }
}

/// Whether `principal` may do what `need` says on `site` (`people::may`),
/// and has the second factor the site requires of people.
pub fn allowed(store: &Store, principal: &Principal, site: &str, need: Need) -> Result<(), Denied> {
    if !people::may(&principal.actor(), site, need) {
        return Err(Denied::Forbidden(format!(
            "{site}: you need the {} role",
            need.least().name()
        )));
    }
    let required = store.site(site).is_some_and(|s| s.require_second_factor);
    if let Principal::User {
        user,
        second_factor: false,
    } = principal
    {
        if required {
            let has_one = user.second_factor.as_ref().is_some_and(|f| f.confirmed);
            return Err(Denied::Forbidden(if has_one {
                format!("{site} requires a second factor: log in again with your code")
            } else {
                format!(
                    "{site} requires a second factor: set one up under Account, then log in again"
                )
            }));
        }
    }
    Ok(())
}

/// Refuses someone without the role `need` asks for on any site: checked
/// before a request's body or target, which they learn nothing about.
pub fn somewhere(store: &Store, principal: &Principal, need: Need) -> Result<(), Denied> {
    if people::may_somewhere(store, &principal.actor(), need) {
        Ok(())
    } else {
        Err(Denied::Forbidden(format!(
            "you need the {} role on a site",
            need.least().name()
        )))
    }
}

/// A person who requires a second factor on a site has one: requiring it
/// would otherwise lock them out of the site they own.
pub fn may_require_second_factor(principal: &Principal, site: &Site) -> Result<(), Denied> {
    match principal {
        Principal::User { user, .. }
            if site.require_second_factor
                && !user.second_factor.as_ref().is_some_and(|f| f.confirmed) =>
        {
            Err(Denied::Forbidden(format!(
                "{}: set up your own second factor before requiring one",
                site.domain
            )))
        }
        _ => Ok(()),
    }
}

/// Refuses anyone but the installation's administrator (its login or the
/// admin token): what carries every person's credentials (a backup and its
/// restore) is not for a super-admin a group made.
pub fn installation(principal: &Principal) -> Result<(), Denied> {
    match principal {
        Principal::Installation => Ok(()),
        Principal::User { .. } => Err(Denied::Forbidden(
            "only the installation's administrator (ADMIN_TOKEN, or its login) may do this".into(),
        )),
    }
}

/// Refuses anyone but the installation's administrator and super-admins.
pub fn super_admin(principal: &Principal) -> Result<(), Denied> {
    if principal.is_super_admin() {
        Ok(())
    } else {
        Err(Denied::Forbidden(
            "only a super-admin may do this (the installation's own settings)".into(),
        ))
    }
}

/// Who may use the admin API: the admin token (`admin_token`, when one is
/// configured; the installation), or a dashboard session — for a `change`,
/// only from the dashboard's own page. What they may do there, each route
/// asks ([`allowed`], [`super_admin`]).
pub fn admin(
    credentials: &Credentials,
    admin_token: Option<&str>,
    store: &Store,
    now_ms: u64,
    installation: Option<&str>,
    change: bool,
) -> Result<Principal, Denied> {
    if keys::bearer(credentials.authorization).is_some() {
        return shared_secret(
            credentials,
            admin_token,
            "Authorization: Bearer <ADMIN_TOKEN> is required",
        )
        .map(|()| Principal::Installation);
    }
    if let Some(principal) = session(credentials.cookie, store, now_ms, installation) {
        if !change || credentials.same_origin {
            return Ok(principal);
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
            second_factor: false,
        };
        store = apply(&store, Change::AddKey(key)).unwrap();
        store = apply(
            &store,
            Change::StartSession {
                session,
                now_ms: NOW,
                attempt: "a".into(),
                second_factor: None,
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
        assert_eq!(administrator, Reader::Person(Principal::Installation));
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
            Ok(Principal::Installation)
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
            Ok(Principal::Installation)
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
            Ok(Principal::Installation)
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
