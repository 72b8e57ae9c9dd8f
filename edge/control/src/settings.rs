//! The one place the site settings change: a validated [`Change`] applied
//! to the [`Store`] (model::settings) gives the next store, or a
//! [`SettingsError`] and the store unchanged. The Worker's `SiteSettings`
//! Durable Object applies changes one at a time and persists the result.
//!
//! ```text
//! admin request ─▶ admin::put_site … ─▶ Change ─▶ apply(Store) ─▶ Store (persisted)
//! ```

use crate::login::throttle;
use model::settings::{
    ApiKey, Invitation, Role, SecondFactor, Session, SharedLink, Site, SsoPending, Store, User,
};
use serde::{Deserialize, Serialize};

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
    /// A successful login: the session, and its client's attempts
    /// forgotten; a person's last login recorded, and the second factor
    /// they used spent (refused if it was spent already: a replay).
    StartSession {
        session: Session,
        now_ms: u64,
        /// `login::throttle::key` of the user and client.
        attempt: String,
        #[serde(default)]
        second_factor: Option<SecondFactorUse>,
    },
    EndSession {
        hash: String,
    },
    /// One login attempt, counted before the password is checked
    /// (`login::throttle::claim`); refused while its client must wait.
    ClaimLoginAttempt {
        attempt: String,
        now_ms: u64,
    },
    /// A restore (`admin::import`, checked there): every site and key
    /// replaced. Sessions end: they belong to the installation restored over.
    Import {
        sites: Vec<Site>,
        keys: Vec<ApiKey>,
        /// People and shared links replaced too (an export of format 2);
        /// `None`: kept, less what the restored sites no longer hold.
        #[serde(default)]
        people: Option<Vec<User>>,
        #[serde(default)]
        shared_links: Option<Vec<SharedLink>>,
        /// The sites' chart notes replaced too (an export that has them).
        #[serde(default)]
        annotations: Option<Vec<model::settings::Annotation>>,
    },
    /// An invitation (`people::invite`, checked there).
    Invite(Invitation),
    RevokeInvitation {
        id: String,
    },
    /// A new person through an invitation, which is used up
    /// (`people::accept`); refused if it is gone or expired by `now_ms`.
    AcceptInvitation {
        invitation: String,
        user: User,
        now_ms: u64,
    },
    /// A person's role on a site, or none (`people::set_role`).
    SetRole {
        user: String,
        site: String,
        role: Option<Role>,
    },
    /// A person removed: their sessions end with them (`people::remove`).
    RemoveUser {
        id: String,
    },
    /// A person made a super-admin, or no longer one (`people::set_super_admin`).
    SetSuperAdmin {
        user: String,
        super_admin: bool,
    },
    /// A person's second factor set up (unconfirmed), confirmed, or removed.
    SetSecondFactor {
        user: String,
        factor: Option<SecondFactor>,
    },
    AddSharedLink(SharedLink),
    /// A single sign-on login begins (`sso::start`); expired ones are forgotten.
    StartSso {
        pending: SsoPending,
        now_ms: u64,
    },
    /// Its callback came: the pending login is used up (refused if it is
    /// gone, expired, or used already — a replayed callback).
    FinishSso {
        state_hash: String,
        now_ms: u64,
    },
    /// A person signed in through the provider: created, or their name,
    /// roles and super-admin flag replaced by what the provider's groups give.
    SignInWithProvider {
        user: User,
    },
    /// A shared link revoked: whoever holds it, or unlocked it, reads no more.
    RevokeSharedLink {
        id: String,
    },
    /// A dated note added to a site's chart.
    Annotate(model::settings::Annotation),
    RemoveAnnotation {
        id: String,
    },
    /// A notifications pass starts: it holds the lease until `until_ms`,
    /// unless another pass holds it at `now_ms`.
    LeaseNotifications {
        now_ms: u64,
        until_ms: u64,
    },
    /// What a notifications pass did, saved as it goes: reports and alerts
    /// sent (kept so nothing is sent twice), webhook deliveries done or
    /// given up (`finished`, by id) and failed ones to try again
    /// (`pending`); `release` ends the pass's lease.
    Notified {
        sent: Vec<model::settings::Sent>,
        finished: Vec<String>,
        pending: Vec<model::settings::Delivery>,
        /// Entries older than this (Unix ms) are dropped.
        forget_before_ms: u64,
        release: bool,
    },
}

/// The second factor a login used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorUse {
    /// A one-time password of this time step: later than the last one used.
    Code { step: u64 },
    /// A recovery code (its SHA-256): used up.
    Recovery { hash: String },
}

/// A change, and who made it when: what the settings object is sent, and
/// what the audit log records (`audit::entry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    /// `access::Principal::label`: an e-mail address, or `admin`.
    pub by: String,
    pub at_ms: u64,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Someone else is doing it now.
    #[error("{0}")]
    Busy(String),
    #[error("no site {0:?}")]
    NoSite(String),
    #[error("no API key {0:?}")]
    NoKey(String),
    #[error("sites: {0:?} is not a configured site")]
    KeyForUnknownSite(String),
    #[error("an API key with id {0:?} exists")]
    DuplicateKey(String),
    #[error("too many failed logins: try again in {} s", .0.div_ceil(1000))]
    LoginThrottled(u64),
    #[error("no such invitation (used, revoked or mistyped)")]
    NoInvitation,
    #[error("the invitation has expired")]
    InvitationExpired,
    #[error("an invitation with id {0:?} exists")]
    DuplicateInvitation(String),
    #[error("{0} already has an account")]
    EmailTaken(String),
    #[error("no person {0:?}")]
    NoUser(String),
    #[error("this code was used already: wait for the next one")]
    CodeUsed,
    #[error("no such recovery code (used already, or mistyped)")]
    NoRecoveryCode,
    #[error("no such single sign-on login (used already, expired, or never started here)")]
    NoSsoLogin,
    #[error("no shared link {0:?}")]
    NoSharedLink(String),
    #[error("a shared link with id {0:?} exists")]
    DuplicateSharedLink(String),
}

/// Failed webhook deliveries kept per site at most, the oldest dropped first.
pub const MAX_OUTBOX_PER_SITE: usize = 20;

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
            // nobody keeps a role on, or an invitation to, a site that is gone
            for user in &mut next.users {
                user.roles.remove(&domain);
            }
            next.invitations.retain(|i| i.site != domain);
            let links: Vec<String> = store
                .shared_links
                .iter()
                .filter(|l| l.site == domain)
                .map(crate::people::share_session)
                .collect();
            next.sessions.retain(|s| !links.contains(&s.user));
            next.shared_links.retain(|l| l.site != domain);
            next.annotations.retain(|a| a.site != domain);
            next.sent.retain(|s| s.site != domain);
            next.outbox.retain(|d| d.site != domain);
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
        Change::StartSession {
            session,
            now_ms,
            attempt,
            second_factor,
        } => {
            if let Some(link) = session.user.strip_prefix("share:") {
                if store.shared_link(link).is_none() {
                    return Err(SettingsError::NoSharedLink(link.to_string()));
                }
            } else if !session.user.is_empty() {
                let Some(person) = next.users.iter_mut().find(|u| u.id == session.user) else {
                    return Err(SettingsError::NoUser(session.user));
                };
                person.last_login_ms = Some(now_ms);
                if let (Some(used), Some(factor)) = (second_factor, person.second_factor.as_mut()) {
                    spend(factor, used)?;
                }
            }
            // the same user's sessions of an earlier password end with it
            next.sessions.retain(|s| {
                s.expires_ms > now_ms && (s.user != session.user || s.password == session.password)
            });
            let whose = session.user.clone();
            next.sessions.push(session);
            // one person's (or link's) sessions cannot grow the settings without bound:
            // past the cap, the oldest ends
            while next.sessions.iter().filter(|s| s.user == whose).count() > MAX_SESSIONS_EACH {
                if let Some(oldest) = next
                    .sessions
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.user == whose)
                    .min_by_key(|(_, s)| s.expires_ms)
                    .map(|(i, _)| i)
                {
                    next.sessions.remove(oldest);
                }
            }
            next.login_attempts.remove(&attempt);
        }
        Change::EndSession { hash } => next.sessions.retain(|s| s.hash != hash),
        Change::ClaimLoginAttempt { attempt, now_ms } => {
            next.login_attempts = throttle::claim(&store.login_attempts, &attempt, now_ms)
                .map_err(SettingsError::LoginThrottled)?;
        }
        Change::Import {
            sites,
            keys,
            people,
            shared_links,
            annotations,
        } => {
            if let Some(unknown) = keys
                .iter()
                .flat_map(|k| &k.sites)
                .find(|d| !sites.iter().any(|s| &s.domain == *d))
            {
                return Err(SettingsError::KeyForUnknownSite(unknown.clone()));
            }
            let is_site = |d: &str| sites.iter().any(|s| s.domain == d);
            if let Some(people) = people {
                next.users = people;
            }
            if let Some(links) = shared_links {
                next.shared_links = links;
            }
            if let Some(notes) = annotations {
                next.annotations = notes;
            }
            // nothing is left pointing at a site the restore does not hold
            for user in &mut next.users {
                user.roles.retain(|site, _| is_site(site));
            }
            next.shared_links.retain(|l| is_site(&l.site));
            next.annotations.retain(|a| is_site(&a.site));
            next.invitations.retain(|i| is_site(&i.site));
            next.sites = sites;
            next.keys = keys;
            next.sessions.clear();
        }
        Change::Invite(invitation) => {
            if store.invitations.iter().any(|i| i.id == invitation.id) {
                return Err(SettingsError::DuplicateInvitation(invitation.id));
            }
            if !store.is_site(&invitation.site) {
                return Err(SettingsError::NoSite(invitation.site));
            }
            next.invitations.push(invitation);
        }
        Change::RevokeInvitation { id } => {
            if !store.invitations.iter().any(|i| i.id == id) {
                return Err(SettingsError::NoInvitation);
            }
            next.invitations.retain(|i| i.id != id);
        }
        Change::AcceptInvitation {
            invitation,
            user,
            now_ms,
        } => {
            let Some(open) = store.invitations.iter().find(|i| i.id == invitation) else {
                return Err(SettingsError::NoInvitation);
            };
            if open.expires_ms <= now_ms {
                return Err(SettingsError::InvitationExpired);
            }
            if store.user_by_email(&user.email).is_some() || store.user(&user.id).is_some() {
                return Err(SettingsError::EmailTaken(user.email));
            }
            next.invitations.retain(|i| i.id != invitation);
            next.users.push(user);
        }
        Change::SetRole { user, site, role } => {
            if !store.is_site(&site) {
                return Err(SettingsError::NoSite(site));
            }
            let Some(person) = next.users.iter_mut().find(|u| u.id == user) else {
                return Err(SettingsError::NoUser(user));
            };
            match role {
                Some(role) => person.roles.insert(site, role),
                None => person.roles.remove(&site),
            };
        }
        Change::RemoveUser { id } => {
            if store.user(&id).is_none() {
                return Err(SettingsError::NoUser(id));
            }
            next.users.retain(|u| u.id != id);
            // their sessions end at once
            next.sessions.retain(|s| s.user != id);
        }
        Change::SetSuperAdmin { user, super_admin } => {
            let Some(person) = next.users.iter_mut().find(|u| u.id == user) else {
                return Err(SettingsError::NoUser(user));
            };
            person.super_admin = super_admin;
        }
        Change::SetSecondFactor { user, factor } => {
            let Some(person) = next.users.iter_mut().find(|u| u.id == user) else {
                return Err(SettingsError::NoUser(user));
            };
            person.second_factor = factor;
        }
        Change::StartSso { pending, now_ms } => {
            next.sso_pending.retain(|p| p.expires_ms > now_ms);
            next.sso_pending.push(pending);
            // a flood of starts cannot grow the settings without bound
            let excess = next.sso_pending.len().saturating_sub(MAX_SSO_PENDING);
            next.sso_pending.drain(..excess);
        }
        Change::FinishSso { state_hash, now_ms } => {
            let found = store
                .sso_pending
                .iter()
                .any(|p| p.state_hash == state_hash && p.expires_ms > now_ms);
            if !found {
                return Err(SettingsError::NoSsoLogin);
            }
            next.sso_pending
                .retain(|p| p.state_hash != state_hash && p.expires_ms > now_ms);
        }
        Change::SignInWithProvider { user } => {
            // (`sso::sign_in` chose the person: by their provider identity, or a new one)
            if store
                .users
                .iter()
                .any(|u| u.email == user.email && u.id != user.id)
            {
                return Err(SettingsError::EmailTaken(user.email));
            }
            match next.users.iter_mut().find(|u| u.id == user.id) {
                Some(person) => {
                    person.email = user.email;
                    person.name = user.name;
                    person.roles = user.roles;
                    person.super_admin = user.super_admin;
                    person.sso_subject = user.sso_subject;
                }
                None => next.users.push(user),
            }
        }
        Change::AddSharedLink(link) => {
            if store.shared_link(&link.id).is_some() {
                return Err(SettingsError::DuplicateSharedLink(link.id));
            }
            if !store.is_site(&link.site) {
                return Err(SettingsError::NoSite(link.site));
            }
            next.shared_links.push(link);
        }
        Change::RevokeSharedLink { id } => {
            let Some(link) = store.shared_link(&id) else {
                return Err(SettingsError::NoSharedLink(id));
            };
            let unlocked = crate::people::share_session(link);
            next.sessions.retain(|s| s.user != unlocked);
            next.shared_links.retain(|l| l.id != id);
        }
        Change::Annotate(note) => {
            if !store.is_site(&note.site) {
                return Err(SettingsError::NoSite(note.site));
            }
            next.annotations.retain(|a| a.id != note.id);
            next.annotations.push(note);
        }
        Change::RemoveAnnotation { id } => {
            next.annotations.retain(|a| a.id != id);
        }
        Change::LeaseNotifications { now_ms, until_ms } => {
            if store.notifications_lease_ms > now_ms {
                return Err(SettingsError::Busy(
                    "another notifications pass is running".into(),
                ));
            }
            next.notifications_lease_ms = until_ms;
        }
        Change::Notified {
            sent,
            finished,
            pending,
            forget_before_ms,
            release,
        } => {
            if release {
                next.notifications_lease_ms = 0;
            }
            // a site deleted during the pass keeps nothing
            let known = |site: &str| store.is_site(site);
            for entry in sent.into_iter().filter(|s| known(&s.site)) {
                next.sent
                    .retain(|s| !(s.site == entry.site && s.key == entry.key));
                next.sent.push(entry);
            }
            next.sent.retain(|s| s.at_ms >= forget_before_ms);
            next.outbox
                .retain(|d| !finished.contains(&d.id) && !pending.iter().any(|p| p.id == d.id));
            next.outbox
                .extend(pending.into_iter().filter(|d| known(&d.site)));
            // one site's dead endpoints do not push out another's retries
            let mut kept: std::collections::HashMap<String, usize> = Default::default();
            for delivery in next.outbox.iter().rev() {
                *kept.entry(delivery.site.clone()).or_default() += 1;
            }
            next.outbox.retain(|d| {
                let count = kept.get_mut(&d.site).map_or(0, |n| {
                    *n -= 1;
                    *n + 1
                });
                count <= MAX_OUTBOX_PER_SITE
            });
        }
    }
    Ok(next)
}

/// Live sessions of one person, or grants of one shared link, at most.
pub const MAX_SESSIONS_EACH: usize = 50;

/// Single sign-on logins under way at once, at most.
pub const MAX_SSO_PENDING: usize = 200;

/// Spends a second factor a login used: a code's step must be later than
/// the last one accepted (each code once), a recovery code must be unused.
fn spend(factor: &mut SecondFactor, used: SecondFactorUse) -> Result<(), SettingsError> {
    match used {
        SecondFactorUse::Code { step } => {
            if factor.last_step.is_some_and(|last| step <= last) {
                return Err(SettingsError::CodeUsed);
            }
            factor.last_step = Some(step);
        }
        SecondFactorUse::Recovery { hash } => {
            let Some(position) = factor.recovery.iter().position(|h| *h == hash) else {
                return Err(SettingsError::NoRecoveryCode);
            };
            factor.recovery.remove(position);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::public_view;
    use crate::keys;

    fn site(domain: &str) -> Site {
        Site::new(domain)
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
        let view = public_view(&store).to_string();
        assert!(
            !view.contains(&keys::sha256_hex(b"k")),
            "hashes stay inside"
        );
        let store = apply(&store, Change::RevokeKey { id: "k".into() }).unwrap();
        assert!(store.key_by_hash(&keys::sha256_hex(b"k")).is_none());
    }

    #[test]
    fn one_persons_sessions_are_capped_the_oldest_ending_first() {
        let mut store = Store::default();
        for i in 0..(MAX_SESSIONS_EACH as u64 + 5) {
            let session = Session {
                hash: format!("h{i}"),
                expires_ms: 1_000 + i,
                password: "fp".into(),
                user: "share:l1".into(),
                second_factor: false,
            };
            store.shared_links.push(SharedLink {
                id: "l1".into(),
                hash: String::new(),
                site: "a.example".into(),
                name: "x".into(),
                password: String::new(),
                filters: Vec::new(),
                created_ms: 0,
            });
            store.shared_links.truncate(1);
            store = apply(
                &store,
                Change::StartSession {
                    session,
                    now_ms: 1,
                    attempt: "a".into(),
                    second_factor: None,
                },
            )
            .unwrap();
        }
        assert_eq!(store.sessions.len(), MAX_SESSIONS_EACH);
        assert!(store.session("h0", 2).is_none(), "the oldest ended");
        assert!(store
            .session(&format!("h{}", MAX_SESSIONS_EACH + 4), 2)
            .is_some());
    }

    fn live(store: &Store, hash: &str, now_ms: u64, password: &str) -> bool {
        store
            .session(hash, now_ms)
            .is_some_and(|s| s.password == password)
    }

    #[test]
    fn sessions_start_expire_and_end_and_a_login_forgets_its_attempts() {
        let claim = |store: &Store| {
            apply(
                store,
                Change::ClaimLoginAttempt {
                    attempt: "k".into(),
                    now_ms: 5,
                },
            )
        };
        let mut failed = Store::default();
        for _ in 0..3 {
            failed = claim(&failed).unwrap();
        }
        assert_eq!(claim(&failed), Err(SettingsError::LoginThrottled(2_000)));
        assert_eq!(
            SettingsError::LoginThrottled(1_500).to_string(),
            "too many failed logins: try again in 2 s"
        );
        let session = Session {
            hash: keys::sha256_hex(b"t"),
            expires_ms: 100,
            password: "fp1".into(),
            user: String::new(),
            second_factor: false,
        };
        let store = apply(
            &failed,
            Change::StartSession {
                session: session.clone(),
                now_ms: 10,
                attempt: "k".into(),
                second_factor: None,
            },
        )
        .unwrap();
        assert!(store.login_attempts.is_empty());
        assert!(live(&store, &session.hash, 99, "fp1"));
        assert!(
            !live(&store, &session.hash, 99, "fp2"),
            "the password changed"
        );
        assert!(!live(&store, &session.hash, 100, "fp1"), "expired");
        // a login with a new password ends the old password's sessions
        let renewed = apply(
            &store,
            Change::StartSession {
                session: Session {
                    hash: keys::sha256_hex(b"u"),
                    expires_ms: 100,
                    password: "fp2".into(),
                    user: String::new(),
                    second_factor: false,
                },
                now_ms: 10,
                attempt: "k".into(),
                second_factor: None,
            },
        )
        .unwrap();
        assert_eq!(renewed.sessions.len(), 1);
        assert!(!public_view(&store).to_string().contains(&session.hash));
        let ended = apply(
            &store,
            Change::EndSession {
                hash: session.hash.clone(),
            },
        )
        .unwrap();
        assert!(!live(&ended, &session.hash, 50, "fp1"));
    }

    #[test]
    fn notifications_keep_what_was_sent_and_what_to_retry() {
        use model::settings::{Delivery, Sent};
        let store = apply(&Store::default(), Change::PutSite(Site::new("a.example"))).unwrap();
        let sent = |site: &str, key: &str, at_ms| Sent {
            site: site.into(),
            key: key.into(),
            at_ms,
        };
        let delivery = |id: &str, site: &str| Delivery {
            id: id.into(),
            site: site.into(),
            url: "https://h.example/".into(),
            body: "{}".into(),
            attempts: 1,
            next_ms: 0,
            error: String::new(),
        };
        let store = apply(
            &store,
            Change::Notified {
                sent: vec![
                    sent("a.example", "alert:x", 10),
                    sent("gone.example", "alert:x", 10),
                ],
                finished: vec![],
                pending: vec![delivery("d1", "a.example"), delivery("d2", "gone.example")],
                forget_before_ms: 0,
                release: false,
            },
        )
        .unwrap();
        assert_eq!(store.sent, vec![sent("a.example", "alert:x", 10)]);
        assert_eq!(store.outbox.len(), 1);
        // a second firing replaces the first; a finished delivery leaves
        let store = apply(
            &store,
            Change::Notified {
                sent: vec![sent("a.example", "alert:x", 20)],
                finished: vec!["d1".into()],
                pending: vec![],
                forget_before_ms: 15,
                release: false,
            },
        )
        .unwrap();
        assert_eq!(store.sent, vec![sent("a.example", "alert:x", 20)]);
        assert!(store.outbox.is_empty());
        // a site keeps its newest deliveries only
        let many = (0..MAX_OUTBOX_PER_SITE + 3)
            .map(|i| delivery(&format!("m{i}"), "a.example"))
            .collect::<Vec<_>>();
        let notified = |pending, release| Change::Notified {
            sent: vec![],
            finished: vec![],
            pending,
            forget_before_ms: 0,
            release,
        };
        let capped = apply(&store, notified(many, false)).unwrap();
        assert_eq!(capped.outbox.len(), MAX_OUTBOX_PER_SITE);
        assert_eq!(capped.outbox[0].id, "m3");
        // one pass at a time: the lease, then its release
        let lease = |now_ms| Change::LeaseNotifications {
            now_ms,
            until_ms: now_ms + 100,
        };
        let leased = apply(&store, lease(1000)).unwrap();
        assert!(matches!(
            apply(&leased, lease(1050)),
            Err(SettingsError::Busy(_))
        ));
        assert!(
            apply(&leased, lease(1101)).is_ok(),
            "a lease ends on its own"
        );
        let released = apply(&leased, notified(vec![], true)).unwrap();
        assert!(apply(&released, lease(1050)).is_ok());
        let store = apply(
            &store,
            Change::DeleteSite {
                domain: "a.example".into(),
            },
        )
        .unwrap();
        assert!(store.sent.is_empty());
    }
}
