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
use crate::settings::{Change, SecondFactorUse};
use crate::totp;
use model::hex::{encode, same_text};
use model::settings::{Invitation, Role, SecondFactor, SharedLink, Store, User};
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
    /// The least role that may.
    pub fn least(self) -> Role {
        match self {
            Need::Read => Role::Viewer,
            Need::Manage | Need::People => Role::Admin,
            Need::Own => Role::Owner,
        }
    }
}

/// The fingerprint a person's sessions carry: a new password ends them.
/// A person without a password signs in through single sign-on only.
pub fn credential(user: &User) -> String {
    match PasswordHash::parse(&user.password) {
        Some(hash) => hash.fingerprint(),
        None => SINGLE_SIGN_ON.to_string(),
    }
}

/// What a session started through single sign-on records as its credential.
pub const SINGLE_SIGN_ON: &str = "sso";

/// The `user` of the sessions a shared link's password was exchanged for.
pub fn share_session(link: &SharedLink) -> String {
    format!("share:{}", link.id)
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

/// An e-mail address as people are known by (`admin::email`).
pub use crate::admin::{email, MAX_EMAIL_BYTES};

impl From<AdminError> for PeopleError {
    fn from(error: AdminError) -> Self {
        PeopleError {
            status: 400,
            message: error.0,
        }
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
    // an invitation is as good as its maker is now: one removed, or no longer
    // an admin of the site, gives nothing
    let maker_may = invitation.made_by == Actor::Installation.id()
        || store
            .user(&invitation.made_by)
            .is_some_and(|maker| may_grant(&Actor::User(maker), &invitation.site, invitation.role));
    if !maker_may {
        return refuse(
            410,
            "token: whoever made this invitation may no longer give this role: ask for a new one",
        );
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
        sso_subject: None,
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
    // what a caller may not touch, they learn nothing about
    if !may(actor, site, Need::People) {
        return refuse(403, format!("you may not change roles on {site}"));
    }
    if !store.is_site(site) {
        return refuse(404, format!("no site {site:?}"));
    }
    let Some(user) = store.user(user_id) else {
        return refuse(404, format!("no person {user_id:?}"));
    };
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

/// `PUT /api/admin/people/<id>` `{super_admin}`: a super-admin makes
/// another person one, or takes it away (never their own).
pub fn set_super_admin(
    store: &Store,
    actor: &Actor,
    user_id: &str,
    body: &[u8],
) -> Result<Change, PeopleError> {
    if !is_super_admin(actor) {
        return refuse(403, "only a super-admin may make super-admins");
    }
    let object = object(body, &["super_admin"])?;
    let Some(Value::Bool(super_admin)) = object.get("super_admin") else {
        return refuse(400, "super_admin: true or false is required");
    };
    let Some(user) = store.user(user_id) else {
        return refuse(404, format!("no person {user_id:?}"));
    };
    if actor.id() == user.id {
        return refuse(403, "you may not change your own role");
    }
    Ok(Change::SetSuperAdmin {
        user: user.id.clone(),
        super_admin: *super_admin,
    })
}

/// The installation's administrator, or a super-admin.
pub fn is_super_admin(actor: &Actor) -> bool {
    matches!(actor, Actor::Installation) || matches!(actor, Actor::User(u) if u.super_admin)
}

/// Whether `actor` may do what `need` says on at least one site (or is a
/// super-admin): the first check of a route about people or settings, so
/// that someone without the role anywhere learns nothing more than a 403.
pub fn may_somewhere(store: &Store, actor: &Actor, need: Need) -> bool {
    is_super_admin(actor) || store.sites.iter().any(|s| may(actor, &s.domain, need))
}

/// `DELETE /api/admin/people/<id>/second-factor`: a lost phone. Whoever may
/// remove the person may reset it; they set up a new one at their next login.
pub fn reset_second_factor(
    store: &Store,
    actor: &Actor,
    user_id: &str,
) -> Result<Change, PeopleError> {
    remove(store, actor, user_id)?;
    Ok(Change::SetSecondFactor {
        user: user_id.to_string(),
        factor: None,
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
    // a person with no role left is the installation's to remove
    let over_every_role = !user.super_admin
        && !user.roles.is_empty()
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

/// `GET /api/admin/people`: the people and open invitations of the sites
/// `actor` may manage people on (every one, for a super-admin), each with
/// their roles there and their last login; never a password or a secret.
/// `manages` says which sites (the caller's `may(People)`, and the site's
/// second-factor rule, which `access` knows).
pub fn view(store: &Store, actor: &Actor, manages: impl Fn(&str) -> bool) -> Value {
    let everything = is_super_admin(actor);
    let people: Vec<Value> = store
        .users
        .iter()
        .filter(|u| everything || u.roles.keys().any(|s| manages(s)))
        .map(|u| {
            let roles: serde_json::Map<String, Value> = u
                .roles
                .iter()
                .filter(|(site, _)| everything || manages(site))
                .map(|(site, role)| (site.clone(), Value::from(role.name())))
                .collect();
            serde_json::json!({
                "id": u.id, "email": u.email, "name": u.name, "super_admin": u.super_admin,
                "roles": roles, "second_factor": u.second_factor.as_ref().is_some_and(|f| f.confirmed),
                "single_sign_on": u.password.is_empty(),
                "created_ms": u.created_ms, "last_login_ms": u.last_login_ms,
            })
        })
        .collect();
    let invitations: Vec<Value> = store
        .invitations
        .iter()
        .filter(|i| manages(&i.site))
        .map(|i| {
            serde_json::json!({
                "id": i.id, "email": i.email, "site": i.site, "role": i.role.name(),
                "expires_ms": i.expires_ms,
            })
        })
        .collect();
    serde_json::json!({ "people": people, "invitations": invitations })
}

/// Who a login names: the installation's administrator by `ADMIN_USER`
/// (compared in constant time), or a person by e-mail address.
pub fn account<'a>(store: &'a Store, installation_user: &str, name: &str) -> Option<Actor<'a>> {
    if crate::login::same_user(name, installation_user) {
        return Some(Actor::Installation);
    }
    store.user_by_email(name).map(Actor::User)
}

/// Why a login's second factor was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecondFactorError {
    #[error("a code from your authenticator app (or a recovery code) is required")]
    Required,
    #[error("wrong code")]
    Wrong,
}

/// The second factor a person's login must show, checked at `now_s`: none
/// for a person without a confirmed one; else a current code not used
/// before, or one of their recovery codes. The settings spend it
/// (`Change::StartSession`), refusing a replay that raced this check.
pub fn second_factor(
    user: &User,
    code: Option<&str>,
    now_s: u64,
) -> Result<Option<SecondFactorUse>, SecondFactorError> {
    let Some(factor) = user.second_factor.as_ref().filter(|f| f.confirmed) else {
        return Ok(None);
    };
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(SecondFactorError::Required);
    };
    if let Some(step) = totp::verify(&factor.secret, code, now_s, factor.last_step) {
        return Ok(Some(SecondFactorUse::Code { step }));
    }
    let hash = totp::recovery_hash(code);
    if code.len() > totp::DIGITS && factor.recovery.iter().any(|h| same_text(h, &hash)) {
        return Ok(Some(SecondFactorUse::Recovery { hash }));
    }
    Err(SecondFactorError::Wrong)
}

/// `POST /api/auth/second-factor`: a new, unconfirmed second factor for
/// `user` (replacing one not yet confirmed), and the `otpauth://` URL the
/// authenticator app scans. A confirmed one is only replaced after removal.
pub fn start_second_factor(
    user: &User,
    body: &[u8],
    random: &[u8; totp::SECRET_BYTES],
    issuer: &str,
) -> Result<(Change, String), PeopleError> {
    let Some(hash) = PasswordHash::parse(&user.password) else {
        return refuse(
            409,
            "you sign in through your identity provider: its multi-factor sign-in is your second factor",
        );
    };
    if user.second_factor.as_ref().is_some_and(|f| f.confirmed) {
        return refuse(
            409,
            "you have a second factor already: an administrator can reset it",
        );
    }
    // a session alone (a cookie taken from a browser) cannot tie the account to another phone
    let object = object(body, &["password"])?;
    if !hash.verify(text(&object, "password")?) {
        return refuse(403, "password: wrong password");
    }
    let secret = totp::new_secret(random);
    let Some(url) = totp::otpauth_url(&secret, issuer, &user.email) else {
        return refuse(
            400,
            "an authenticator URL cannot be made for this account name",
        );
    };
    let factor = SecondFactor {
        secret,
        last_step: None,
        recovery: Vec::new(),
        confirmed: false,
    };
    Ok((
        Change::SetSecondFactor {
            user: user.id.clone(),
            factor: Some(factor),
        },
        url,
    ))
}

/// `POST /api/auth/second-factor/confirm` `{code}`: the first code from the
/// app confirms the factor; the recovery codes are shown this once.
pub fn confirm_second_factor(
    user: &User,
    body: &[u8],
    now_s: u64,
    random: &[u8; totp::RECOVERY_CODES * totp::RECOVERY_BYTES],
) -> Result<(Change, Vec<String>), PeopleError> {
    let object = object(body, &["code"])?;
    let code = text(&object, "code")?;
    let Some(factor) = user.second_factor.as_ref().filter(|f| !f.confirmed) else {
        return refuse(409, "no second factor is being set up: start again");
    };
    let Some(step) = totp::verify(&factor.secret, code, now_s, None) else {
        return refuse(
            400,
            "code: wrong code: check the app's clock and try the next one",
        );
    };
    let (codes, hashes) = totp::recovery_codes(random);
    let confirmed = SecondFactor {
        secret: factor.secret.clone(),
        last_step: Some(step),
        recovery: hashes,
        confirmed: true,
    };
    Ok((
        Change::SetSecondFactor {
            user: user.id.clone(),
            factor: Some(confirmed),
        },
        codes,
    ))
}

/// Random bytes of a shared link: 32 for its token, 8 for its id.
pub const SHARED_LINK_RANDOM_BYTES: usize = 40;
/// The most shared links per site.
pub const MAX_SHARED_LINKS: usize = 20;
/// The most filters a shared link is limited to.
pub const MAX_SHARED_LINK_FILTERS: usize = 10;

/// `POST /api/admin/sites/<domain>/shared-links` `{name, password?, filters?}`:
/// the link to store and its token, shown once. The filters' shape is the
/// Stats API's (checked by the caller, which knows it).
pub fn share(
    store: &Store,
    actor: &Actor,
    site: &str,
    body: &[u8],
    salt: &[u8; 16],
    random: &[u8; SHARED_LINK_RANDOM_BYTES],
    now_ms: u64,
) -> Result<(Change, String), PeopleError> {
    let object = object(body, &["name", "password", "filters"])?;
    if !may(actor, site, Need::Manage) {
        return refuse(403, format!("{site}: you need the admin role"));
    }
    if !store.is_site(site) {
        return refuse(404, format!("no site {site:?}"));
    }
    if store.shared_links.iter().filter(|l| l.site == site).count() >= MAX_SHARED_LINKS {
        return refuse(
            409,
            format!("{site} has {MAX_SHARED_LINKS} shared links: revoke one first"),
        );
    }
    let name = text(&object, "name")?.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return refuse(400, format!("name: 1 to {MAX_NAME_CHARS} characters"));
    }
    let password = match object.get("password") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(p)) if p.is_empty() => String::new(),
        Some(Value::String(p)) if p.chars().count() >= 8 && p.len() <= MAX_PASSWORD_BYTES => {
            PasswordHash::make(p, salt, MIN_ITERATIONS)
        }
        Some(_) => return refuse(400, "password: at least 8 characters, or none"),
    };
    let filters = match object.get("filters") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) if list.len() <= MAX_SHARED_LINK_FILTERS => list.clone(),
        Some(_) => {
            return refuse(
                400,
                format!("filters: a list of at most {MAX_SHARED_LINK_FILTERS} Stats API filters"),
            )
        }
    };
    let (secret, id) = random.split_at(32);
    let token = encode(secret);
    let link = SharedLink {
        id: encode(id),
        hash: sha256_hex(token.as_bytes()),
        site: site.to_string(),
        name: name.to_string(),
        password,
        filters,
        created_ms: now_ms,
    };
    Ok((Change::AddSharedLink(link), token))
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
            sso_subject: None,
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
            second_factor: false,
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

    #[test]
    fn a_second_factor_is_set_up_confirmed_and_asked_at_login_once_per_code() {
        let mut store = store();
        let viewer = store.user("viewer").unwrap().clone();
        assert_eq!(second_factor(&viewer, None, 0), Ok(None), "none set up");
        assert_eq!(
            start_second_factor(&viewer, b"{}", &[9; totp::SECRET_BYTES], "Edge analytics")
                .unwrap_err()
                .status,
            409,
            "a person of the identity provider's"
        );
        let mut viewer = viewer;
        viewer.password = PasswordHash::make("a long password", &[1; 16], MIN_ITERATIONS);
        store.users[0] = viewer.clone();
        let wrong = start_second_factor(
            &viewer,
            br#"{"password":"not it"}"#,
            &[9; totp::SECRET_BYTES],
            "Edge analytics",
        );
        assert_eq!(wrong.unwrap_err().status, 403);
        let (change, url) = start_second_factor(
            &viewer,
            br#"{"password":"a long password"}"#,
            &[9; totp::SECRET_BYTES],
            "Edge analytics",
        )
        .unwrap();
        assert!(
            url.starts_with("otpauth://totp/Edge%20analytics:viewer%40example.com?secret="),
            "{url}"
        );
        store = apply(&store, change).unwrap();
        let pending = store.user("viewer").unwrap().clone();
        assert_eq!(
            second_factor(&pending, None, 0),
            Ok(None),
            "not asked until confirmed"
        );
        let secret = pending.second_factor.clone().unwrap().secret;
        let now = 1_800_000_000;
        assert_eq!(
            confirm_second_factor(&pending, br#"{"code":"000000"}"#, now, &[1; 100])
                .unwrap_err()
                .status,
            400
        );
        let (change, codes) = confirm_second_factor(
            &pending,
            format!(r#"{{"code":"{}"}}"#, totp::code(&secret, now)).as_bytes(),
            now,
            &std::array::from_fn(|i| i as u8),
        )
        .unwrap();
        assert_eq!(codes.len(), totp::RECOVERY_CODES);
        store = apply(&store, change).unwrap();
        let user = store.user("viewer").unwrap().clone();
        assert_eq!(
            second_factor(&user, None, now),
            Err(SecondFactorError::Required)
        );
        assert_eq!(
            second_factor(&user, Some("123456"), now + 60),
            Err(SecondFactorError::Wrong)
        );
        // the confirming code was spent: not again, but the next one is fine
        assert_eq!(
            second_factor(&user, Some(&totp::code(&secret, now)), now),
            Err(SecondFactorError::Wrong),
            "replayed within its window"
        );
        let later = now + 60;
        let used = second_factor(&user, Some(&totp::code(&secret, later)), later)
            .unwrap()
            .unwrap();
        let session = |hash: &str| Session {
            hash: hash.into(),
            expires_ms: u64::MAX,
            password: String::new(),
            user: "viewer".into(),
            second_factor: false,
        };
        let start = |store: &Store, used: SecondFactorUse, hash: &str| {
            apply(
                store,
                Change::StartSession {
                    session: session(hash),
                    now_ms: 1,
                    attempt: "a".into(),
                    second_factor: Some(used),
                },
            )
        };
        let after = start(&store, used.clone(), "s1").unwrap();
        assert_eq!(
            start(&after, used, "s2"),
            Err(SettingsError::CodeUsed),
            "two logins raced with one code: the second is refused"
        );
        let recovery = second_factor(&user, Some(&codes[0].to_uppercase()), later)
            .unwrap()
            .unwrap();
        let after = start(&after, recovery.clone(), "s3").unwrap();
        assert_eq!(
            after
                .user("viewer")
                .unwrap()
                .second_factor
                .as_ref()
                .unwrap()
                .recovery
                .len(),
            9
        );
        assert_eq!(
            start(&after, recovery, "s4"),
            Err(SettingsError::NoRecoveryCode)
        );
    }

    #[test]
    fn a_shared_link_is_made_by_an_admin_and_revoked_with_its_unlocked_sessions() {
        let store = store();
        let viewer = store.user("viewer").unwrap().clone();
        let admin = store.user("admin").unwrap().clone();
        let body = br#"{"name":"Backstage home","password":"open sesame","filters":[["is","visit:country",["DE"]]]}"#;
        assert_eq!(
            share(
                &store,
                &Actor::User(&viewer),
                "a.example",
                body,
                &[0; 16],
                &[4; 40],
                NOW
            )
            .unwrap_err()
            .status,
            403
        );
        let (change, token) = share(
            &store,
            &Actor::User(&admin),
            "a.example",
            body,
            &[0; 16],
            &[4; 40],
            NOW,
        )
        .unwrap();
        let store = apply(&store, change).unwrap();
        let link = store.shared_links[0].clone();
        assert!(link.password.starts_with("pbkdf2-sha256$") && link.hash != token);
        assert_eq!(link.filters.len(), 1);
        let unlocked = apply(
            &store,
            Change::StartSession {
                session: Session {
                    hash: "g".into(),
                    expires_ms: u64::MAX,
                    password: String::new(),
                    user: share_session(&link),
                    second_factor: false,
                },
                now_ms: 1,
                attempt: "a".into(),
                second_factor: None,
            },
        )
        .unwrap();
        let revoked = apply(
            &unlocked,
            Change::RevokeSharedLink {
                id: link.id.clone(),
            },
        )
        .unwrap();
        assert!(revoked.shared_links.is_empty() && revoked.sessions.is_empty());
        for (bad, message) in [
            (&br#"{"name":""}"#[..], "name: 1 to 100 characters"),
            (
                br#"{"name":"x","password":"short"}"#,
                "password: at least 8 characters, or none",
            ),
            (
                br#"{"name":"x","filters":"DE"}"#,
                "filters: a list of at most 10 Stats API filters",
            ),
            (
                br#"{"name":"x","owner":"me"}"#,
                "unknown field \"owner\": the fields are name, password, filters",
            ),
        ] {
            let refused = share(
                &store,
                &Actor::Installation,
                "a.example",
                bad,
                &[0; 16],
                &[5; 40],
                NOW,
            )
            .unwrap_err();
            assert_eq!((refused.status, refused.message.as_str()), (400, message));
        }
    }
}
