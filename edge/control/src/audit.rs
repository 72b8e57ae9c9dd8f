//! The audit log: who changed which setting, invited or removed whom, made
//! or revoked which key or shared link, and when. Pure: an [`Edit`] and the
//! settings before it give the entry (or none, for a login or a throttle
//! count); the `SiteSettings` object stores it in the same write as the
//! change, under [`storage_key`], and forgets it once [`expired`].
//!
//! An entry names people by e-mail and things by name or id; it never holds
//! a secret, a hash or a password.

use crate::settings::{Change, Edit};
use model::settings::{AuditEntry, Goal, Retention, Site, Store};

/// Where entries are kept in the settings object's storage, in time order.
pub const PREFIX: &str = "audit:";

/// The storage key of an entry: sorts by time; `seq` tells apart two in
/// the same millisecond.
pub fn storage_key(entry: &AuditEntry, seq: u32) -> String {
    format!("{PREFIX}{:020}:{seq:010}", entry.at_ms)
}

/// How long the entries of a deleted site, and the installation's own, are
/// kept: the longest retention short of indefinite.
pub const DEFAULT_MONTHS: u32 = 24;

/// Whether `entry` is past its site's retention at `now_ms`.
pub fn expired(entry: &AuditEntry, store: &Store, now_ms: u64) -> bool {
    let months = match entry.site.as_deref().and_then(|s| store.site(s)) {
        Some(site) => site.retention.months(),
        None => Some(DEFAULT_MONTHS),
    };
    // a month as 31 days: an entry is never forgotten early
    months.is_some_and(|m| entry.at_ms + u64::from(m) * 31 * 86_400_000 < now_ms)
}

/// The entries `reader` may read: a site's for its owners, everything for
/// a super-admin.
pub fn visible(entry: &AuditEntry, principal: &crate::access::Principal) -> bool {
    match &entry.site {
        _ if principal.is_super_admin() => true,
        Some(site) => crate::people::may(&principal.actor(), site, crate::people::Need::Own),
        None => false,
    }
}

/// The entries `edit` makes, given the settings before it: one, or one per
/// site of a key that reads several (each site's owners see theirs, and no
/// other site's name).
pub fn entries(before: &Store, edit: &Edit) -> Vec<AuditEntry> {
    let Some(entry) = entry(before, edit) else {
        return Vec::new();
    };
    let key_sites = match &edit.change {
        Change::AddKey(key) => key.sites.clone(),
        Change::RevokeKey { id } => before
            .keys
            .iter()
            .find(|k| &k.id == id)
            .map(|k| k.sites.clone())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if key_sites.len() < 2 {
        return vec![entry];
    }
    let others = key_sites.len() - 1;
    key_sites
        .into_iter()
        .map(|site| AuditEntry {
            detail: format!(
                "{} (and {others} other site{})",
                entry.detail,
                if others == 1 { "" } else { "s" }
            ),
            site: Some(site),
            ..entry.clone()
        })
        .collect()
}

/// The entry `edit` makes, given the settings before it.
fn entry(before: &Store, edit: &Edit) -> Option<AuditEntry> {
    let email_of = |id: &str| {
        before
            .user(id)
            .map_or_else(|| format!("person {id}"), |u| u.email.clone())
    };
    let (site, action, detail): (Option<String>, &str, String) = match &edit.change {
        Change::PutSite(site) => match before.site(&site.domain) {
            None => (Some(site.domain.clone()), "site.create", site_summary(site)),
            Some(old) => (
                Some(site.domain.clone()),
                "site.update",
                site_changes(old, site),
            ),
        },
        Change::DeleteSite { domain } => (Some(domain.clone()), "site.delete", String::new()),
        Change::AddKey(key) => (
            key.sites.first().cloned(),
            "key.create",
            if key.sites.len() == 1 {
                format!("{:?} (id {}) for {}", key.name, key.id, key.sites[0])
            } else {
                format!("{:?} (id {})", key.name, key.id)
            },
        ),
        Change::RevokeKey { id } => {
            let key = before.keys.iter().find(|k| &k.id == id);
            (
                key.and_then(|k| k.sites.first().cloned()),
                "key.revoke",
                key.map_or_else(|| format!("id {id}"), |k| format!("{:?} (id {id})", k.name)),
            )
        }
        Change::Import {
            sites,
            keys,
            people,
            shared_links,
            ..
        } => (
            None,
            "settings.import",
            format!(
                "{} sites, {} keys{}",
                sites.len(),
                keys.len(),
                match (people, shared_links) {
                    (Some(p), Some(l)) => format!(", {} people, {} shared links", p.len(), l.len()),
                    _ => String::new(),
                }
            ),
        ),
        Change::Invite(invitation) => (
            Some(invitation.site.clone()),
            "invitation.create",
            format!("{} as {}", invitation.email, invitation.role.name()),
        ),
        Change::RevokeInvitation { id } => {
            let invitation = before.invitations.iter().find(|i| &i.id == id);
            (
                invitation.map(|i| i.site.clone()),
                "invitation.revoke",
                invitation.map_or_else(|| format!("id {id}"), |i| i.email.clone()),
            )
        }
        Change::AcceptInvitation {
            invitation, user, ..
        } => {
            let site = before
                .invitations
                .iter()
                .find(|i| &i.id == invitation)
                .map(|i| i.site.clone());
            let role = user.roles.values().next().map_or("", |r| r.name());
            (
                site,
                "invitation.accept",
                format!("{} joined as {role}", user.email),
            )
        }
        Change::SetRole { user, site, role } => (
            Some(site.clone()),
            "role.set",
            format!(
                "{}: {}",
                email_of(user),
                role.map_or("no role", |r| r.name())
            ),
        ),
        Change::RemoveUser { id } => (None, "person.remove", email_of(id)),
        Change::SetSuperAdmin { user, super_admin } => (
            None,
            "person.super_admin",
            format!("{}: {super_admin}", email_of(user)),
        ),
        Change::SetSecondFactor { user, factor } => (
            None,
            "second_factor.set",
            format!(
                "{}: {}",
                email_of(user),
                match factor {
                    None => "removed",
                    Some(f) if f.confirmed => "confirmed",
                    Some(_) => "set up",
                }
            ),
        ),
        Change::AddSharedLink(link) => (
            Some(link.site.clone()),
            "shared_link.create",
            format!(
                "{:?} (id {}){}{}",
                link.name,
                link.id,
                if link.password.is_empty() {
                    ""
                } else {
                    ", with a password"
                },
                if link.filters.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", limited to {}",
                        serde_json::Value::from(link.filters.clone())
                    )
                }
            ),
        ),
        Change::RevokeSharedLink { id } => {
            let link = before.shared_link(id);
            (
                link.map(|l| l.site.clone()),
                "shared_link.revoke",
                link.map_or_else(|| format!("id {id}"), |l| format!("{:?} (id {id})", l.name)),
            )
        }
        Change::Annotate(note) => (
            Some(note.site.clone()),
            "annotation.add",
            format!("{} {:?}", note.date, note.text),
        ),
        Change::RemoveAnnotation { id } => {
            let note = before.annotations.iter().find(|a| a.id == *id);
            (
                note.map(|a| a.site.clone()),
                "annotation.remove",
                note.map_or_else(
                    || format!("id {id}"),
                    |a| format!("{} {:?}", a.date, a.text),
                ),
            )
        }
        Change::SignInWithProvider { user } => {
            let before_roles = before
                .user_by_email(&user.email)
                .map(|u| (&u.roles, u.super_admin));
            if before_roles == Some((&user.roles, user.super_admin)) {
                return None;
            }
            let roles: Vec<String> = user
                .roles
                .iter()
                .map(|(site, role)| format!("{} on {site}", role.name()))
                .collect();
            (
                None,
                "person.single_sign_on",
                format!(
                    "{}: {}{}",
                    user.email,
                    if roles.is_empty() {
                        "no site role".to_string()
                    } else {
                        roles.join(", ")
                    },
                    if user.super_admin {
                        ", super-admin"
                    } else {
                        ""
                    }
                ),
            )
        }
        Change::StartSession { .. }
        | Change::EndSession { .. }
        | Change::ClaimLoginAttempt { .. }
        | Change::StartSso { .. }
        | Change::FinishSso { .. }
        | Change::LeaseNotifications { .. }
        | Change::Notified { .. } => return None,
    };
    Some(AuditEntry {
        at_ms: edit.at_ms,
        by: edit.by.clone(),
        site,
        action: action.to_string(),
        detail,
    })
}

fn retention_name(retention: Retention) -> &'static str {
    match retention {
        Retention::SixMonths => "6mo",
        Retention::OneYear => "1y",
        Retention::TwoYears => "2y",
        Retention::Indefinite => "indefinite",
    }
}

fn site_summary(site: &Site) -> String {
    format!(
        "timezone {}, retention {}, {} goals",
        site.timezone,
        retention_name(site.retention),
        site.goals.len()
    )
}

/// What differs between two versions of a site, field by field.
fn site_changes(old: &Site, new: &Site) -> String {
    let mut changes = Vec::new();
    if old.timezone != new.timezone {
        changes.push(format!("timezone {} → {}", old.timezone, new.timezone));
    }
    if old.retention != new.retention {
        changes.push(format!(
            "retention {} → {}",
            retention_name(old.retention),
            retention_name(new.retention)
        ));
    }
    let names = |goals: &[Goal]| goals.iter().map(Goal::display_name).collect::<Vec<_>>();
    let (old_goals, new_goals) = (names(&old.goals), names(&new.goals));
    for added in new_goals.iter().filter(|g| !old_goals.contains(g)) {
        changes.push(format!("goal added: {added}"));
    }
    for removed in old_goals.iter().filter(|g| !new_goals.contains(g)) {
        changes.push(format!("goal removed: {removed}"));
    }
    for added in new.props.iter().filter(|p| !old.props.contains(p)) {
        changes.push(format!("property added: {added}"));
    }
    for removed in old.props.iter().filter(|p| !new.props.contains(p)) {
        changes.push(format!("property removed: {removed}"));
    }
    if old.require_second_factor != new.require_second_factor {
        changes.push(format!(
            "second factor {}",
            if new.require_second_factor {
                "required"
            } else {
                "no longer required"
            }
        ));
    }
    if old.embed_origins != new.embed_origins {
        changes.push(format!("embed origins: {}", new.embed_origins.join(" ")));
    }
    let alert_names = |site: &Site| {
        site.alerts
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
    };
    let (old_alerts, new_alerts) = (alert_names(old), alert_names(new));
    for added in new_alerts.iter().filter(|a| !old_alerts.contains(a)) {
        changes.push(format!("alert added: {added}"));
    }
    for removed in old_alerts.iter().filter(|a| !new_alerts.contains(a)) {
        changes.push(format!("alert removed: {removed}"));
    }
    if old.alerts != new.alerts && old_alerts == new_alerts {
        changes.push("alerts changed".into());
    }
    if old.reports != new.reports {
        changes.push(format!("reports: {}", new.reports.len()));
    }
    // a webhook's path and secret are credentials (a chat's incoming-webhook
    // URL is): only its host is written down
    let hook_hosts = |site: &Site| {
        site.webhooks
            .iter()
            .map(|h| {
                url::Url::parse(&h.url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
    };
    if old.webhooks != new.webhooks {
        changes.push(format!("webhooks: {}", hook_hosts(new).join(" ")));
    }
    if changes.is_empty() {
        "no change".into()
    } else {
        changes.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Principal;
    use crate::settings::apply;
    use model::settings::{ApiKey, Role, User};

    const DAY: u64 = 86_400_000;

    fn edit(change: Change) -> Edit {
        Edit {
            by: "owner@example.com".into(),
            at_ms: 1_000 * DAY,
            change,
        }
    }

    fn store() -> Store {
        let mut store = Store::default();
        for site in [Site::new("a.example"), Site::new("b.example")] {
            store = apply(&store, Change::PutSite(site)).unwrap();
        }
        store
    }

    #[test]
    fn a_site_change_says_what_changed_and_nothing_secret() {
        let before = store();
        let mut site = Site::new("a.example");
        site.retention = Retention::OneYear;
        site.goals.push(Goal::Event {
            event_name: "Deploy Application".into(),
        });
        let updated = entry_of(&before, Change::PutSite(site));
        assert_eq!(updated.action, "site.update");
        assert_eq!(updated.site.as_deref(), Some("a.example"));
        assert_eq!(
            updated.detail,
            "retention indefinite → 1y; goal added: Deploy Application"
        );
        let mut hooked = Site::new("a.example");
        hooked.webhooks.push(model::settings::Webhook {
            url: "https://hooks.slack.com/services/T0/B0/secretpath".into(),
            secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2Vj".into(),
        });
        hooked.alerts.push(model::settings::Alert {
            name: "Spike".into(),
            kind: model::settings::AlertKind::Spike,
            goal: None,
            threshold: 5,
            hours: 1,
            recipients: vec![],
        });
        let hooks = entry_of(&before, Change::PutSite(hooked));
        assert_eq!(
            hooks.detail,
            "alert added: Spike; webhooks: hooks.slack.com"
        );
        let key = ApiKey {
            id: "k1".into(),
            name: "CI".into(),
            hash: "f".repeat(64),
            sites: vec!["a.example".into()],
        };
        let made = entry_of(&before, Change::AddKey(key.clone()));
        assert_eq!(made.detail, "\"CI\" (id k1) for a.example");
        let both = ApiKey {
            sites: vec!["a.example".into(), "b.example".into()],
            ..key
        };
        let each = entries(&before, &edit(Change::AddKey(both)));
        assert_eq!(
            each.iter()
                .map(|e| (e.site.as_deref().unwrap(), e.detail.as_str()))
                .collect::<Vec<_>>(),
            [
                ("a.example", "\"CI\" (id k1) (and 1 other site)"),
                ("b.example", "\"CI\" (id k1) (and 1 other site)")
            ],
            "one entry per site, naming no other"
        );
        assert!(!made.detail.contains("fff"), "no hash");
        assert!(
            entry(&before, &edit(Change::EndSession { hash: "h".into() })).is_none(),
            "a logout is not a setting"
        );
    }

    fn entry_of(before: &Store, change: Change) -> AuditEntry {
        entry(before, &edit(change)).unwrap()
    }

    #[test]
    fn entries_are_kept_per_their_sites_retention() {
        let mut store = store();
        store.sites[0].retention = Retention::SixMonths;
        let at = |site: Option<&str>| AuditEntry {
            at_ms: 0,
            by: "admin".into(),
            site: site.map(str::to_string),
            action: "site.update".into(),
            detail: String::new(),
        };
        let six_months = 6 * 31 * DAY;
        assert!(!expired(&at(Some("a.example")), &store, six_months));
        assert!(expired(&at(Some("a.example")), &store, six_months + 1));
        assert!(
            !expired(&at(Some("b.example")), &store, 100 * 365 * DAY),
            "indefinite"
        );
        assert!(
            expired(&at(Some("gone.example")), &store, 25 * 31 * DAY),
            "a deleted site's: two years"
        );
        assert!(!expired(&at(None), &store, 24 * 31 * DAY));
        assert!(
            storage_key(&at(None), 3)
                < storage_key(
                    &AuditEntry {
                        at_ms: 1,
                        ..at(None)
                    },
                    0
                )
        );
    }

    #[test]
    fn owners_read_their_sites_entries_and_super_admins_all() {
        let person = |roles: &[(&str, Role)]| Principal::User {
            second_factor: false,
            user: Box::new(User {
                id: "u".into(),
                email: "u@example.com".into(),
                name: "U".into(),
                password: String::new(),
                super_admin: false,
                roles: roles.iter().map(|(s, r)| (s.to_string(), *r)).collect(),
                second_factor: None,
                created_ms: 0,
                last_login_ms: None,
                sso_subject: None,
            }),
        };
        let on = |site: Option<&str>| AuditEntry {
            at_ms: 0,
            by: "admin".into(),
            site: site.map(str::to_string),
            action: "x".into(),
            detail: String::new(),
        };
        let owner = person(&[("a.example", Role::Owner)]);
        let admin = person(&[("a.example", Role::Admin)]);
        assert!(visible(&on(Some("a.example")), &owner));
        assert!(!visible(&on(Some("b.example")), &owner));
        assert!(!visible(&on(None), &owner), "the installation's own");
        assert!(!visible(&on(Some("a.example")), &admin), "owners only");
        assert!(visible(&on(None), &Principal::Installation));
    }
}
