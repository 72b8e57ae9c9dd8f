//! People (issue 12): who may do what on which site, and the invitations
//! that are the only way in (registration stays disabled). Pure: requests
//! into [`Change`]s, or a [`PeopleError`] with its status and a message
//! naming the field.
//!
//! | who | on a site they have a role on |
//! |---|---|
//! | viewer | read the dashboard and the Stats API |
//! | admin | also change the site's settings, goals and keys; invite viewers and admins |
//! | owner | also invite owners, require a second factor, delete the site, read its audit log |
//! | super-admin (and the installation's `ADMIN_USER`, the admin token) | everything, on every site |

use crate::admin::{self, domain, AdminError};
use crate::keys::sha256_hex;
use crate::login::{PasswordHash, MIN_ITERATIONS};
use crate::settings::Change;
use model::hex::{encode, same_text};
use model::settings::{Invitation, Role, Store, User};
use serde_json::Value;

/// Who is acting.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// The installation's administrator (`ADMIN_USER`, or the admin token).
    Installation,
    User(&'a User),
}

impl Actor<'_> {
    /// What invitations record as their maker.
    pub fn id(&self) -> &str {
        match self {
            Actor::Installation => "admin",
            Actor::User(user) => &user.id,
        }
    }
}

/// What a request needs on a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The dashboard and the Stats API.
    Read,
    /// The site's settings, goals and keys.
    Manage,
    /// Inviting people, changing and removing their roles.
    People,
    /// Deleting the site, requiring a second factor, its audit log.
    Own,
}

impl Need {
    fn least(self) -> Role {
        match self {
            Need::Read => Role::Viewer,
            Need::Manage | Need::People => Role::Admin,
            Need::Own => Role::Owner,
        }
    }
}

/// Whether `actor` may do what `need` says on `site`.
pub fn may(actor: &Actor, site: &str, need: Need) -> bool {
    match actor {
        Actor::Installation => true,
        Actor::User(user) if user.super_admin => true,
        Actor::User(user) => user
            .roles
            .get(site)
            .is_some_and(|role| *role >= need.least()),
    }
}

/// Whether `actor` may give `role` on `site`: an admin up to admin, an owner any.
pub fn may_grant(actor: &Actor, site: &str, role: Role) -> bool {
    may(actor, site, Need::People) && (role < Role::Owner || may(actor, site, Need::Own))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PeopleError {
    pub status: u16,
    pub message: String,
}

fn refuse<T>(status: u16, message: impl Into<String>) -> Result<T, PeopleError> {
    Err(PeopleError {
        status,
        message: message.into(),
    })
}

/// How long an invitation link is good for.
pub const INVITATION_MS: u64 = 7 * 24 * 3600 * 1000;
/// Random bytes of an invitation: 32 for its link's token, 8 for its id.
pub const INVITATION_RANDOM_BYTES: usize = 40;
pub const MAX_EMAIL_BYTES: usize = 254;
pub const MAX_NAME_CHARS: usize = 100;
/// NIST SP 800-63B asks for at least 8; a dashboard that can read every
/// site's numbers asks for more.
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The body as an object of `fields` only (`admin`'s rules: a 400 naming what is wrong).
fn object(body: &[u8], fields: &[&str]) -> Result<serde_json::Map<String, Value>, PeopleError> {
    let bad = |e: AdminError| PeopleError {
        status: 400,
        message: e.0,
    };
    let object = admin::object(body).map_err(bad)?;
    admin::known_fields(&object, fields).map_err(bad)?;
    Ok(object)
}

fn text<'a>(
    object: &'a serde_json::Map<String, Value>,
    field: &str,
) -> Result<&'a str, PeopleError> {
    match object.get(field) {
        Some(Value::String(value)) => Ok(value),
        Some(other) => refuse(400, format!("{field}: {other} is not a string")),
        None => refuse(400, format!("{field} is required")),
    }
}

/// An e-mail address as people are known by: lower case, one `@`, no
/// spaces, within RFC 5321's length.
pub fn email(text: &str) -> Result<String, PeopleError> {
    let email = text.trim().to_ascii_lowercase();
    let shaped = email.len() <= MAX_EMAIL_BYTES
        && email.split('@').count() == 2
        && email.split('@').all(|part| !part.is_empty())
        && email
            .split('@')
            .nth(1)
            .is_some_and(|host| host.contains('.') || host == "localhost")
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if shaped {
        Ok(email)
    } else {
        refuse(400, format!("email: {text:?} is not an e-mail address"))
    }
}

/// `POST /api/admin/invitations` `{email, site, role}`: the invitation to
/// store and its link's token, shown once (only its SHA-256 is kept).
pub fn invite(
    store: &Store,
    actor: &Actor,
    body: &[u8],
    random: &[u8; INVITATION_RANDOM_BYTES],
    now_ms: u64,
) -> Result<(Change, String), PeopleError> {
    let object = object(body, &["email", "site", "role"])?;
    let email = email(text(&object, "email")?)?;
    let site = domain(text(&object, "site")?).map_err(|e| PeopleError {
        status: 400,
        message: format!("site: {e}"),
    })?;
    if !store.is_site(&site) {
        return refuse(400, format!("site: {site:?} is not a configured site"));
    }
    let role_name = text(&object, "role")?;
    let Some(role) = Role::parse(role_name) else {
        return refuse(
            400,
            format!(
                "role: {role_name:?} is not one of {}",
                Role::NAMES.join(", ")
            ),
        );
    };
    if !may_grant(actor, &site, role) {
        return refuse(403, format!("you may not invite an {role_name} to {site}"));
    }
    if store.user_by_email(&email).is_some() {
        return refuse(
            409,
            format!("email: {email} already has an account: change their role instead"),
        );
    }
    let (secret, id) = random.split_at(32);
    let token = encode(secret);
    let invitation = Invitation {
        id: encode(id),
        hash: sha256_hex(token.as_bytes()),
        email,
        site,
        role,
        expires_ms: now_ms + INVITATION_MS,
        made_by: actor.id().to_string(),
    };
    Ok((Change::Invite(invitation), token))
}

/// The open invitation whose link carries `token`, if any (compared in constant time).
pub fn invitation_for<'a>(store: &'a Store, token: &str) -> Option<&'a Invitation> {
    let hash = sha256_hex(token.trim().as_bytes());
    store.invitations.iter().find(|i| same_text(&i.hash, &hash))
}

/// `POST /api/auth/invitations/accept` `{token, name, password}`: the new
/// person, with the invitation's role; the invitation is used up.
pub fn accept(
    store: &Store,
    body: &[u8],
    salt: &[u8; 16],
    user_id: &[u8; 8],
    now_ms: u64,
) -> Result<Change, PeopleError> {
    let object = object(body, &["token", "name", "password"])?;
    let Some(invitation) = invitation_for(store, text(&object, "token")?) else {
        return refuse(404, "token: no such invitation (used, revoked or mistyped)");
    };
    if invitation.expires_ms <= now_ms {
        return refuse(410, "token: the invitation has expired: ask for a new one");
    }
    let name = text(&object, "name")?.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return refuse(400, format!("name: 1 to {MAX_NAME_CHARS} characters"));
    }
    let password = text(&object, "password")?;
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return refuse(
            400,
            format!("password: at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_BYTES} bytes)"),
        );
    }
    if store.user_by_email(&invitation.email).is_some() {
        return refuse(
            409,
            format!("email: {} already has an account", invitation.email),
        );
    }
    let user = User {
        id: encode(user_id),
        email: invitation.email.clone(),
        name: name.to_string(),
        password: PasswordHash::make(password, salt, MIN_ITERATIONS),
        super_admin: false,
        roles: [(invitation.site.clone(), invitation.role)].into(),
        second_factor: None,
        created_ms: now_ms,
        last_login_ms: None,
    };
    Ok(Change::AcceptInvitation {
        invitation: invitation.id.clone(),
        user,
        now_ms,
    })
}

/// `PUT /api/admin/people/<id>/roles/<site>` `{role}` (or `null` to take it
/// away): the change, if `actor` may make it. Nobody changes their own role,
/// and only an owner touches an owner's.
pub fn set_role(
    store: &Store,
    actor: &Actor,
    user_id: &str,
    site: &str,
    body: &[u8],
) -> Result<Change, PeopleError> {
    let object = object(body, &["role"])?;
    let role = match object.get("role") {
        Some(Value::Null) => None,
        Some(Value::String(name)) => match Role::parse(name) {
            Some(role) => Some(role),
            None => {
                return refuse(
                    400,
                    format!(
                        "role: {name:?} is not one of {}, or null",
                        Role::NAMES.join(", ")
                    ),
                )
            }
        },
        Some(other) => return refuse(400, format!("role: {other} is not a role")),
        None => return refuse(400, "role is required (null takes it away)"),
    };
    let Some(user) = store.user(user_id) else {
        return refuse(404, format!("no person {user_id:?}"));
    };
    if !store.is_site(site) {
        return refuse(404, format!("no site {site:?}"));
    }
    if actor.id() == user.id {
        return refuse(403, "you may not change your own role");
    }
    let touches_owner = role == Some(Role::Owner) || user.roles.get(site) == Some(&Role::Owner);
    let allowed = may(actor, site, Need::People) && (!touches_owner || may(actor, site, Need::Own));
    if !allowed {
        return refuse(403, format!("you may not change roles on {site}"));
    }
    Ok(Change::SetRole {
        user: user.id.clone(),
        site: site.to_string(),
        role,
    })
}

/// `DELETE /api/admin/people/<id>`: a person removed by a super-admin (or
/// the installation's administrator), or by an admin of every site they
/// have a role on. Their sessions end with them.
pub fn remove(store: &Store, actor: &Actor, user_id: &str) -> Result<Change, PeopleError> {
    let Some(user) = store.user(user_id) else {
        return refuse(404, format!("no person {user_id:?}"));
    };
    if actor.id() == user.id {
        return refuse(403, "you may not remove yourself");
    }
    let installation =
        matches!(actor, Actor::Installation) || matches!(actor, Actor::User(u) if u.super_admin);
    let over_every_role = !user.super_admin
        && user.roles.iter().all(|(site, role)| {
            may(actor, site, Need::People) && (*role < Role::Owner || may(actor, site, Need::Own))
        });
    if !(installation || over_every_role) {
        return refuse(403, format!("you may not remove {}", user.email));
    }
    Ok(Change::RemoveUser {
        id: user.id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{apply, SettingsError};
    use model::settings::{Session, Site};

    const NOW: u64 = 1_000_000;

    fn person(id: &str, roles: &[(&str, Role)]) -> User {
        User {
            id: id.into(),
            email: format!("{id}@example.com"),
            name: id.into(),
            password: String::new(),
            super_admin: false,
            roles: roles.iter().map(|(s, r)| (s.to_string(), *r)).collect(),
            second_factor: None,
            created_ms: 0,
            last_login_ms: None,
        }
    }

    fn store() -> Store {
        Store {
            sites: vec![Site::new("a.example"), Site::new("b.example")],
            users: vec![
                person("viewer", &[("a.example", Role::Viewer)]),
                person("admin", &[("a.example", Role::Admin)]),
                person(
                    "owner",
                    &[("a.example", Role::Owner), ("b.example", Role::Viewer)],
                ),
            ],
            ..Store::default()
        }
    }

    #[test]
    fn the_roles_matrix() {
        let store = store();
        let needs = [Need::Read, Need::Manage, Need::People, Need::Own];
        let expect = [
            ("viewer", [true, false, false, false]),
            ("admin", [true, true, true, false]),
            ("owner", [true, true, true, true]),
        ];
        for (id, allowed) in expect {
            let actor = Actor::User(store.user(id).unwrap());
            for (need, allowed) in needs.iter().zip(allowed) {
                assert_eq!(may(&actor, "a.example", *need), allowed, "{id} {need:?}");
            }
            // no role on a site is no access to it
            assert!(!may(&actor, "c.example", Need::Read), "{id}");
        }
        let mut root = person("root", &[]);
        root.super_admin = true;
        for need in needs {
            assert!(may(&Actor::User(&root), "c.example", need));
            assert!(may(&Actor::Installation, "c.example", need));
        }
        let admin = Actor::User(store.user("admin").unwrap());
        assert!(may_grant(&admin, "a.example", Role::Admin));
        assert!(
            !may_grant(&admin, "a.example", Role::Owner),
            "an admin makes no owners"
        );
    }

    #[test]
    fn an_invitation_is_single_use_expiring_and_revocable() {
        let mut store = store();
        let owner = store.user("owner").unwrap().clone();
        let (change, token) = invite(
            &store,
            &Actor::User(&owner),
            br#"{"email":" New.Person@Example.com ","site":"a.example","role":"admin"}"#,
            &[3; INVITATION_RANDOM_BYTES],
            NOW,
        )
        .unwrap();
        let Change::Invite(invitation) = &change else {
            panic!("not an invitation")
        };
        assert_eq!(invitation.email, "new.person@example.com");
        assert!(
            !invitation.hash.contains(&token),
            "only the token's hash is kept"
        );
        store = apply(&store, change).unwrap();
        let body = |t: &str| {
            format!(r#"{{"token":"{t}","name":"New Person","password":"correct horse battery"}}"#)
        };
        // expired
        let late = accept(
            &store,
            body(&token).as_bytes(),
            &[1; 16],
            &[2; 8],
            NOW + INVITATION_MS,
        )
        .unwrap_err();
        assert_eq!(late.status, 410);
        // accepted once
        let accepted = accept(&store, body(&token).as_bytes(), &[1; 16], &[2; 8], NOW + 1).unwrap();
        store = apply(&store, accepted.clone()).unwrap();
        let user = store.user_by_email("new.person@example.com").unwrap();
        assert_eq!(user.roles.get("a.example"), Some(&Role::Admin));
        assert!(PasswordHash::parse(&user.password)
            .unwrap()
            .verify("correct horse battery"));
        // and never again: the link is used up, and the change itself is refused a second time
        assert_eq!(
            accept(&store, body(&token).as_bytes(), &[1; 16], &[4; 8], NOW + 2)
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            apply(&store, accepted).unwrap_err(),
            SettingsError::NoInvitation
        );
        // revoked
        let (change, token) = invite(
            &store,
            &Actor::Installation,
            br#"{"email":"other@example.com","site":"b.example","role":"viewer"}"#,
            &[5; INVITATION_RANDOM_BYTES],
            NOW,
        )
        .unwrap();
        let Change::Invite(invitation) = &change else {
            panic!("not an invitation")
        };
        let id = invitation.id.clone();
        store = apply(&store, change).unwrap();
        store = apply(&store, Change::RevokeInvitation { id }).unwrap();
        assert_eq!(
            accept(&store, body(&token).as_bytes(), &[1; 16], &[6; 8], NOW + 1)
                .unwrap_err()
                .status,
            404
        );
    }

    #[test]
    fn bad_invitations_name_the_field_and_change_nothing() {
        let store = store();
        let admin = store.user("admin").unwrap();
        let viewer = store.user("viewer").unwrap();
        let cases: [(&Actor, &str, u16, &str); 9] = [
            (
                &Actor::User(admin),
                r#"{"email":"x","site":"a.example","role":"viewer"}"#,
                400,
                "email",
            ),
            (
                &Actor::User(admin),
                r#"{"email":"a@b@c.com","site":"a.example","role":"viewer"}"#,
                400,
                "email",
            ),
            (
                &Actor::User(admin),
                r#"{"email":"x@example.com","site":"nowhere.example","role":"viewer"}"#,
                400,
                "site",
            ),
            (
                &Actor::User(admin),
                r#"{"email":"x@example.com","site":"a.example","role":"god"}"#,
                400,
                "role",
            ),
            (
                &Actor::User(admin),
                r#"{"email":"x@example.com","site":"a.example","role":"owner"}"#,
                403,
                "you may not",
            ),
            (
                &Actor::User(viewer),
                r#"{"email":"x@example.com","site":"a.example","role":"viewer"}"#,
                403,
                "you may not",
            ),
            (
                &Actor::User(admin),
                r#"{"email":"viewer@example.com","site":"a.example","role":"viewer"}"#,
                409,
                "email",
            ),
            (
                &Actor::User(admin),
                r#"{"email":"x@example.com","site":"a.example","role":"viewer","extra":1}"#,
                400,
                "unknown field",
            ),
            (&Actor::User(admin), r#"["not an object"]"#, 400, "the body"),
        ];
        for (actor, body, status, start) in cases {
            let error = invite(
                &store,
                actor,
                body.as_bytes(),
                &[0; INVITATION_RANDOM_BYTES],
                NOW,
            )
            .unwrap_err();
            assert_eq!(error.status, status, "{body}");
            assert!(
                error.message.starts_with(start),
                "{body}: {}",
                error.message
            );
        }
        let long = format!(
            r#"{{"email":"{}@example.com","site":"a.example","role":"viewer"}}"#,
            "x".repeat(250)
        );
        assert_eq!(
            invite(&store, &Actor::Installation, long.as_bytes(), &[0; 40], NOW)
                .unwrap_err()
                .status,
            400
        );
        // a weak password or a missing name
        let (change, token) = invite(
            &store,
            &Actor::Installation,
            br#"{"email":"n@example.com","site":"a.example","role":"viewer"}"#,
            &[8; 40],
            NOW,
        )
        .unwrap();
        let store = apply(&store, change).unwrap();
        for (body, field) in [
            (
                format!(r#"{{"token":"{token}","name":"N","password":"short"}}"#),
                "password",
            ),
            (
                format!(r#"{{"token":"{token}","name":" ","password":"long enough password"}}"#),
                "name",
            ),
            (
                format!(
                    r#"{{"token":"{token}","name":"{}","password":"long enough password"}}"#,
                    "n".repeat(101)
                ),
                "name",
            ),
            (
                r#"{"token":"nope","name":"N","password":"long enough password"}"#.to_string(),
                "token",
            ),
        ] {
            let error = accept(&store, body.as_bytes(), &[1; 16], &[2; 8], NOW).unwrap_err();
            assert!(
                error.message.starts_with(field),
                "{body}: {}",
                error.message
            );
        }
    }

    #[test]
    fn roles_change_only_downward_of_the_actor_and_removal_ends_sessions() {
        let mut store = store();
        store.sessions.push(Session {
            hash: "h1".into(),
            expires_ms: NOW * 2,
            password: String::new(),
            user: "viewer".into(),
        });
        let admin = store.user("admin").unwrap().clone();
        let owner = store.user("owner").unwrap().clone();
        let viewer = store.user("viewer").unwrap().clone();
        // an admin makes a viewer an admin, but not an owner, and not themselves anything
        assert!(set_role(
            &store,
            &Actor::User(&admin),
            "viewer",
            "a.example",
            br#"{"role":"admin"}"#
        )
        .is_ok());
        assert_eq!(
            set_role(
                &store,
                &Actor::User(&admin),
                "viewer",
                "a.example",
                br#"{"role":"owner"}"#
            )
            .unwrap_err()
            .status,
            403
        );
        assert_eq!(
            set_role(
                &store,
                &Actor::User(&admin),
                "owner",
                "a.example",
                br#"{"role":null}"#
            )
            .unwrap_err()
            .status,
            403
        );
        assert_eq!(
            set_role(
                &store,
                &Actor::User(&admin),
                "admin",
                "a.example",
                br#"{"role":"owner"}"#
            )
            .unwrap_err()
            .status,
            403
        );
        assert_eq!(
            set_role(
                &store,
                &Actor::User(&viewer),
                "admin",
                "a.example",
                br#"{"role":null}"#
            )
            .unwrap_err()
            .status,
            403
        );
        assert_eq!(
            set_role(
                &store,
                &Actor::User(&owner),
                "viewer",
                "a.example",
                br#"{"role":"king"}"#
            )
            .unwrap_err()
            .status,
            400
        );
        let change = set_role(
            &store,
            &Actor::User(&owner),
            "viewer",
            "a.example",
            br#"{"role":null}"#,
        )
        .unwrap();
        let after = apply(&store, change).unwrap();
        assert!(after.user("viewer").unwrap().roles.is_empty());
        // removal: the admin of a.example removes its viewer, and their session ends at once
        assert_eq!(
            remove(&store, &Actor::User(&admin), "owner")
                .unwrap_err()
                .status,
            403,
            "an owner is not the admin's to remove"
        );
        let change = remove(&store, &Actor::User(&admin), "viewer").unwrap();
        let after = apply(&store, change).unwrap();
        assert!(after.user("viewer").is_none());
        assert!(
            after.sessions.iter().all(|s| s.user != "viewer"),
            "their sessions end"
        );
        assert_eq!(
            remove(&store, &Actor::User(&admin), "admin")
                .unwrap_err()
                .status,
            403,
            "not yourself"
        );
    }
}
