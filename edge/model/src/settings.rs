//! The site settings document: the sites whose events are accepted (domain,
//! time zone, data retention, goals, props), the Stats API keys, the
//! dashboard's sessions and login attempts. Only its shape and lookups live
//! here; `control::settings::apply` is the one place it changes, and the
//! Worker keeps it in one Durable Object (`SiteSettings`).

use crate::hex::same_text;
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
    /// Login attempts per user and client (`control::login::throttle`),
    /// keyed by a keyed hash of both: never one counter for everyone.
    #[serde(default)]
    pub login_attempts: std::collections::BTreeMap<String, Failures>,
    /// The people who may log in (issue 12), besides the installation's
    /// own administrator (`ADMIN_USER`, a super-admin).
    #[serde(default)]
    pub users: Vec<User>,
    /// Open invitations: the only way in (registration is disabled).
    #[serde(default)]
    pub invitations: Vec<Invitation>,
    /// Read-only links to one site's dashboard (issue 12).
    #[serde(default)]
    pub shared_links: Vec<SharedLink>,
    /// Single sign-on logins under way (`control::sso`): single use, for minutes.
    #[serde(default)]
    pub sso_pending: Vec<SsoPending>,
    /// Dated notes on a site's chart (a portal upgrade, a plugin rollout).
    #[serde(default)]
    pub annotations: Vec<Annotation>,
    /// What the notifications' cron has sent (`notify`): an alert's last
    /// firing, a report's period; so nothing is sent twice.
    #[serde(default)]
    pub sent: Vec<Sent>,
    /// Webhook deliveries that failed, to be tried again with backoff.
    #[serde(default)]
    pub outbox: Vec<Delivery>,
    /// Until when (Unix ms) a notifications pass holds the lease: two
    /// passes at once (the cron and the admin API) would send twice.
    #[serde(default)]
    pub notifications_lease_ms: u64,
}

/// One thing the notifications' cron sent: `key` is `alert:<name>` or
/// `report:<frequency>:<first day>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    pub site: String,
    pub key: String,
    pub at_ms: u64,
}

/// A webhook delivery not yet accepted by its endpoint. Its id and body stay
/// the same across attempts, so the receiver can drop a repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub site: String,
    pub url: String,
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this time (Unix ms).
    pub next_ms: u64,
    /// The last failure, for the admin API and logs.
    #[serde(default)]
    pub error: String,
}

/// A dated note on a site's chart, by one of its admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// Public handle (to remove it).
    pub id: String,
    pub site: String,
    /// The local day it marks, `YYYY-MM-DD`.
    pub date: String,
    pub text: String,
    /// Who wrote it: an e-mail address, or `admin`.
    pub by: String,
    pub created_ms: u64,
}

/// A single sign-on login under way: what its callback must find again.
/// The state is kept as its SHA-256; the nonce and the PKCE verifier are
/// only worth something with a code the provider issues for this login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoPending {
    pub state_hash: String,
    pub nonce: String,
    pub verifier: String,
    pub expires_ms: u64,
}

/// A read-only link to one site's dashboard, for people without an
/// account (a Backstage page embedding it). Only the SHA-256 of its token
/// is kept; a password, when set, as a slow hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedLink {
    /// Public handle (to list and revoke), not the secret.
    pub id: String,
    pub hash: String,
    pub site: String,
    pub name: String,
    /// `pbkdf2-sha256$…`, or empty for a link without a password.
    #[serde(default)]
    pub password: String,
    /// Stats API filters every read through the link is limited to
    /// (`[operator, dimension, values]`, as a query's `filters`).
    #[serde(default)]
    pub filters: Vec<serde_json::Value>,
    pub created_ms: u64,
}

/// One line of the audit log: who changed what, when. Kept per its site's
/// retention (`control::audit`); stored beside the settings, not in them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at_ms: u64,
    /// The e-mail address of the person, or `admin` (the installation's
    /// administrator: its login or the admin token).
    pub by: String,
    /// The site it concerns; none for the installation's own changes.
    #[serde(default)]
    pub site: Option<String>,
    /// What was done, e.g. `site.update`, `key.create`, `person.remove`.
    pub action: String,
    /// What changed, for people: never a secret or a hash.
    pub detail: String,
}

/// What a person may do on a site, as Plausible's roles: a viewer reads
/// the dashboard and the Stats API; an admin also changes the site's
/// settings, goals and keys and invites people; an owner also owns the
/// site (deletes it, requires a second factor, reads its audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Admin,
    Owner,
}

impl Role {
    pub const NAMES: [&'static str; 3] = ["viewer", "admin", "owner"];

    pub fn name(self) -> &'static str {
        Role::NAMES[self as usize]
    }

    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "viewer" => Some(Role::Viewer),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// A person who may log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Public handle (to list, change and remove), not a secret.
    pub id: String,
    /// Lower case; unique; what they log in with.
    pub email: String,
    pub name: String,
    /// `pbkdf2-sha256$…` (`control::login::PasswordHash`); empty for a
    /// person who only signs in through single sign-on.
    #[serde(default)]
    pub password: String,
    /// May do anything on every site, and manage the installation.
    #[serde(default)]
    pub super_admin: bool,
    /// Their role on each site, by domain.
    #[serde(default)]
    pub roles: std::collections::BTreeMap<String, Role>,
    #[serde(default)]
    pub second_factor: Option<SecondFactor>,
    pub created_ms: u64,
    #[serde(default)]
    pub last_login_ms: Option<u64>,
    /// Who they are at the identity provider (`<issuer> <sub>`), once they
    /// signed in through it: later sign-ins find them by it, not by e-mail.
    #[serde(default)]
    pub sso_subject: Option<String>,
}

/// A person's TOTP second factor (`control::totp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactor {
    /// Base32, as the authenticator app holds it.
    pub secret: String,
    /// The time step of the last code accepted: a code is used once.
    #[serde(default)]
    pub last_step: Option<u64>,
    /// SHA-256 of each unused recovery code.
    #[serde(default)]
    pub recovery: Vec<String>,
    /// Set once the person has typed a first code: until then it is not asked.
    #[serde(default)]
    pub confirmed: bool,
}

/// An invitation to a site with a role: single use, expiring, revocable.
/// Only the SHA-256 of its link's token is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub hash: String,
    pub email: String,
    pub site: String,
    pub role: Role,
    pub expires_ms: u64,
    /// Who made it: a user's id, or `admin` for the installation's administrator.
    pub made_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub hash: String,
    pub expires_ms: u64,
    /// The fingerprint of the password it was started with: a session ends
    /// when the password changes (`control::login::PasswordHash::fingerprint`).
    #[serde(default)]
    pub password: String,
    /// Whose session: a user's id, or empty for the installation's
    /// administrator (`ADMIN_USER`). Removing a user ends their sessions.
    #[serde(default)]
    pub user: String,
    /// Whether the login passed a second factor (a TOTP or recovery code,
    /// or the identity provider's multi-factor sign-in): what a site that
    /// requires one asks of the session.
    #[serde(default)]
    pub second_factor: bool,
}

/// Consecutive failed logins, and when the last one was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failures {
    pub count: u32,
    pub last_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// Normalized ([`normalize_domain`]), as the edge normalizes `d`.
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
    /// People with a role on the site must have a second factor to read it
    /// (an owner's choice).
    #[serde(default)]
    pub require_second_factor: bool,
    /// Origins whose pages may embed the site's shared dashboards
    /// (`Content-Security-Policy: frame-ancestors`).
    #[serde(default)]
    pub embed_origins: Vec<String>,
    /// Saved funnels (`POST /api/v2/funnel` with `"funnel": name`, the
    /// dashboard's funnel panel), as Plausible keeps funnels in site settings.
    #[serde(default)]
    pub funnels: Vec<crate::funnel::Funnel>,
    /// Saved segments: named filter sets (Stats API filters) the dashboard
    /// offers, as Plausible's saved segments.
    #[serde(default)]
    pub segments: Vec<Segment>,
    /// Scheduled e-mail reports (weekly, monthly), as Plausible sends them.
    #[serde(default)]
    pub reports: Vec<Report>,
    /// Traffic spike and drop alerts, and goal thresholds (the cron checks
    /// them hourly; `notify`).
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// Where every alert of the site is also posted (JSON, signed).
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
    /// The fewest visitors a reported number may come from
    /// ([`MIN_GROUP_SIZE_NEW`] for a new site, 1 = off): smaller groups are
    /// suppressed on every read surface (the stats crate's `privacy`). A
    /// site stored before the setting existed keeps its behaviour (1).
    #[serde(default = "off")]
    pub min_group_size: u32,
    /// The custom properties whose values may be broken down; `None`: every
    /// one (Plausible's `allowed_event_props`). Others are stored and can
    /// be filtered and counted, never listed.
    #[serde(default)]
    pub breakdown_props: Option<Vec<String>>,
    /// Drop events from browsers that send Global Privacy Control
    /// (`Sec-GPC: 1`) or Do Not Track (`DNT: 1`), counted as drops.
    #[serde(default)]
    pub drop_opted_out: bool,
}

/// The minimum group size of a new site: the common works-council rule
/// that no figure may be shown for fewer than five people.
pub const MIN_GROUP_SIZE_NEW: u32 = 5;
/// The largest minimum group size a site may set.
pub const MAX_MIN_GROUP_SIZE: u32 = 1000;

fn off() -> u32 {
    1
}

/// How often a report is sent, and the period it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Monday to Sunday, the week before.
    Weekly,
    /// The calendar month before.
    Monthly,
}

impl Frequency {
    pub const NAMES: [&'static str; 2] = ["weekly", "monthly"];

    pub fn name(self) -> &'static str {
        match self {
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        }
    }

    pub fn parse(name: &str) -> Option<Frequency> {
        [Frequency::Weekly, Frequency::Monthly]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

/// A scheduled e-mail report of a site's traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub frequency: Frequency,
    pub recipients: Vec<String>,
}

/// What an alert watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Visitors in the window reach the threshold.
    Spike,
    /// Visitors in the window fall below the threshold.
    Drop,
    /// Visitors who completed `goal` in the window reach the threshold.
    Goal,
}

impl AlertKind {
    pub const NAMES: [&'static str; 3] = ["spike", "drop", "goal"];

    pub fn name(self) -> &'static str {
        match self {
            AlertKind::Spike => "spike",
            AlertKind::Drop => "drop",
            AlertKind::Goal => "goal",
        }
    }

    pub fn parse(name: &str) -> Option<AlertKind> {
        [AlertKind::Spike, AlertKind::Drop, AlertKind::Goal]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// A threshold on a site's visitors over the last `hours`, checked hourly;
/// once it fires it is quiet for `hours`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub name: String,
    pub kind: AlertKind,
    /// The goal's display name (`Goal::display_name`), for a goal alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    pub threshold: u64,
    pub hours: u32,
    /// Who is e-mailed when it fires (may be empty: webhooks only).
    #[serde(default)]
    pub recipients: Vec<String>,
}

/// An HTTPS endpoint every alert of a site is posted to, signed as the
/// Standard Webhooks specification says with `secret` (`whsec_` + base64).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    // neither the secret nor the URL's path (a chat's webhook URL is a
    // credential) reaches a log
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let origin = self
            .url
            .splitn(4, '/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/");
        f.debug_struct("Webhook").field("origin", &origin).finish()
    }
}

/// A named set of Stats API filters (`[operator, dimension, values]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub name: String,
    pub filters: Vec<serde_json::Value>,
}

impl Site {
    /// A site as the admin API makes one when only its domain is given:
    /// reports in UTC, events kept indefinitely, no goals, no listed props.
    pub fn new(domain: &str) -> Site {
        Site {
            domain: domain.to_string(),
            timezone: "UTC".into(),
            retention: Retention::Indefinite,
            goals: Vec::new(),
            props: Vec::new(),
            require_second_factor: false,
            embed_origins: Vec::new(),
            funnels: Vec::new(),
            segments: Vec::new(),
            reports: Vec::new(),
            alerts: Vec::new(),
            webhooks: Vec::new(),
            min_group_size: MIN_GROUP_SIZE_NEW,
            breakdown_props: None,
            drop_opted_out: false,
        }
    }

    /// Whether the values of custom property `key` may be listed
    /// (`breakdown_props`).
    pub fn may_list_prop(&self, key: &str) -> bool {
        self.breakdown_props
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|a| a == key))
    }

    /// The site's custom properties whose values may be listed.
    pub fn listable_props(&self) -> Vec<String> {
        self.props
            .iter()
            .filter(|p| self.may_list_prop(p))
            .cloned()
            .collect()
    }
}

/// Plausible's rule: a site's domain is lower case, and `www.` is not part of it.
pub fn normalize_domain(domain: &str) -> String {
    let domain = domain.trim().to_ascii_lowercase();
    domain
        .strip_prefix("www.")
        .map(str::to_string)
        .unwrap_or(domain)
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

impl Store {
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        let email = email.trim().to_ascii_lowercase();
        self.users.iter().find(|u| u.email == email)
    }

    pub fn site(&self, domain: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.domain == domain)
    }

    pub fn is_site(&self, domain: &str) -> bool {
        self.site(domain).is_some()
    }

    /// The key whose SHA-256 is `hash` (compared in constant time).
    pub fn key_by_hash(&self, hash: &str) -> Option<&ApiKey> {
        self.keys.iter().find(|k| same_text(&k.hash, hash))
    }

    /// The live session at `now_ms` whose token's SHA-256 is `hash`
    /// (compared in constant time); whose it is, and whether it still
    /// holds, `control::access::session` decides.
    pub fn session(&self, hash: &str, now_ms: u64) -> Option<&Session> {
        self.sessions
            .iter()
            .find(|s| s.expires_ms > now_ms && same_text(&s.hash, hash))
    }

    pub fn shared_link(&self, id: &str) -> Option<&SharedLink> {
        self.shared_links.iter().find(|l| l.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalized_as_plausible_does() {
        assert_eq!(normalize_domain(" WWW.Portal.Example "), "portal.example");
        assert_eq!(normalize_domain("wwwx.example"), "wwwx.example");
    }

    #[test]
    fn the_store_survives_a_round_trip_through_json() {
        let store = Store {
            sites: vec![Site {
                retention: Retention::SixMonths,
                goals: vec![
                    Goal::Event {
                        event_name: "Deploy Application".into(),
                    },
                    Goal::Page {
                        page_path: "/docs/**".into(),
                    },
                ],
                ..Site::new("a.example")
            }],
            keys: vec![ApiKey {
                id: "k".into(),
                name: "ci".into(),
                hash: "00".into(),
                sites: vec!["a.example".into()],
            }],
            ..Store::default()
        };
        let text = serde_json::to_string(&store).unwrap();
        assert!(text.contains(r#""retention":"6mo""#));
        assert_eq!(serde_json::from_str::<Store>(&text).unwrap(), store);
    }
}
