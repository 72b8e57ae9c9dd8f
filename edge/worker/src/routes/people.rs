//! People and what they share (`control::people`): invitations, roles,
//! removal, the audit log, a person's second factor, shared links and the
//! shared dashboard page. Each route reads the request, asks
//! `control::access` who it is, and makes a `control::people` change.

use super::admin::{make, super_admin, with_role};
use super::bindings::{config, random_bytes};
use super::body;
use super::caller::Caller;
use super::respond::{self, Failure};
use super::session::{claim_attempt, client_of, principal, start_session};
use super::settings;
use control::access::{self, Principal};
use control::audit;
use control::login::{throttle, PasswordHash};
use control::people::{self, Need};
use control::settings::Change;
use serde_json::{json, Value};
use worker::{Date, Env, Request, Response, Result, RouteContext};

/// An invitation, a role or a shared link is a few hundred bytes.
const MAX_BODY: usize = 16 * 1024;

/// The issuer authenticator apps show beside the account.
const ISSUER: &str = "Edge analytics";

fn param(ctx: &RouteContext<()>, name: &str) -> String {
    ctx.param(name).cloned().unwrap_or_default()
}

/// The people view as `principal` may see it: the sites whose people they
/// manage, and whose second-factor rule their session meets.
fn people_view(store: &model::settings::Store, principal: &Principal) -> Value {
    people::view(store, &principal.actor(), |site| {
        access::allowed(store, principal, site, Need::People).is_ok()
    })
}

/// `GET /api/admin/people`
pub async fn list(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "people",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::People).await?;
            respond::ok(&people_view(&store, &principal))
        }
        .await,
    )
}

/// `POST /api/admin/invitations` `{email, site, role}`: the link's token, shown once.
pub async fn invite(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "people",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::People).await?;
            let body = body::read(&mut request, MAX_BODY).await?;
            let now = Date::now().as_millis();
            let (change, token) =
                people::invite(&store, &principal.actor(), &body, &random_bytes(), now)?;
            let Change::Invite(invitation) = &change else {
                return Err(Failure::refused(500, "not an invitation"));
            };
            access::allowed(&store, &principal, &invitation.site, Need::People)?;
            let answer = json!({
                "id": invitation.id, "email": invitation.email, "site": invitation.site,
                "role": invitation.role.name(), "expires_ms": invitation.expires_ms,
                "token": token, "path": format!("/dashboard/?invitation={token}"),
            });
            changed(&ctx.env, principal.label(), &change).await?;
            respond::ok(&answer)
        }
        .await,
    )
}

/// Makes `change` as `by` (`Principal::label`, or the person acting on
/// their own account): 409 with the reason when refused.
async fn changed(
    env: &Env,
    by: &str,
    change: &Change,
) -> std::result::Result<model::settings::Store, Failure> {
    settings::change(env, by, change)
        .await?
        .map_err(|reason| Failure::refused(409, reason))
}

/// Refuses a change to a person unless `principal` meets, on every site of
/// theirs, the site's second-factor rule (`people` checked the roles).
fn over_their_sites(
    store: &model::settings::Store,
    principal: &Principal,
    person: &str,
) -> std::result::Result<(), Failure> {
    if principal.is_super_admin() {
        return Ok(());
    }
    for site in store
        .user(person)
        .map(|p| p.roles.keys())
        .into_iter()
        .flatten()
    {
        access::allowed(store, principal, site, Need::People)?;
    }
    Ok(())
}

/// `DELETE /api/admin/invitations/:id`
pub async fn revoke_invitation(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "people",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::People).await?;
            let id = param(&ctx, "id");
            match store.invitations.iter().find(|i| i.id == id) {
                Some(invitation) => {
                    access::allowed(&store, &principal, &invitation.site, Need::People)?
                }
                None => return Err(Failure::refused(404, format!("no invitation {id:?}"))),
            }
            let store = changed(
                &ctx.env,
                principal.label(),
                &Change::RevokeInvitation { id },
            )
            .await?;
            respond::ok(&people_view(&store, &principal))
        }
        .await,
    )
}

/// `PUT /api/admin/people/:id/roles/:domain` `{role}` (or `null`).
pub async fn set_role(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "people",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::People).await?;
            access::allowed(&store, &principal, &param(&ctx, "domain"), Need::People)?;
            let body = body::read(&mut request, MAX_BODY).await?;
            let change = people::set_role(
                &store,
                &principal.actor(),
                &param(&ctx, "id"),
                &param(&ctx, "domain"),
                &body,
            )?;
            let store = changed(&ctx.env, principal.label(), &change).await?;
            respond::ok(&people_view(&store, &principal))
        }
        .await,
    )
}

/// `DELETE /api/admin/people/:id/second-factor`: a lost phone; whoever may
/// remove the person may reset it.
pub async fn reset_second_factor(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "people",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::People).await?;
            let id = param(&ctx, "id");
            let change = people::reset_second_factor(&store, &principal.actor(), &id)?;
            over_their_sites(&store, &principal, &id)?;
            let store = changed(&ctx.env, principal.label(), &change).await?;
            respond::ok(&people_view(&store, &principal))
        }
        .await,
    )
}

/// `PUT /api/admin/people/:id` `{super_admin}`: super-admins only.
pub async fn set_super_admin(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "people",
        async {
            let (store, principal) = super_admin(&request, &ctx).await?;
            let body = body::read(&mut request, MAX_BODY).await?;
            let change =
                people::set_super_admin(&store, &principal.actor(), &param(&ctx, "id"), &body)?;
            let store = changed(&ctx.env, principal.label(), &change).await?;
            respond::ok(&people_view(&store, &principal))
        }
        .await,
    )
}

/// `DELETE /api/admin/people/:id`: their sessions end at once.
pub async fn remove(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "people",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::People).await?;
            let change = people::remove(&store, &principal.actor(), &param(&ctx, "id"))?;
            over_their_sites(&store, &principal, &param(&ctx, "id"))?;
            let store = changed(&ctx.env, principal.label(), &change).await?;
            respond::ok(&people_view(&store, &principal))
        }
        .await,
    )
}

/// `GET /api/admin/audit[?site=<domain>]`: the newest entries first, those
/// of the sites the caller owns (all, for a super-admin).
pub async fn audit_log(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "audit",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::Own).await?;
            let site = request
                .url()?
                .query_pairs()
                .find(|(k, _)| k == "site")
                .map(|(_, v)| v.to_string());
            let now = Date::now().as_millis();
            let entries: Vec<_> = settings::audit_log(&ctx.env)
                .await?
                .into_iter()
                .filter(|e| audit::visible(e, &principal) && !audit::expired(e, &store, now))
                .filter(|e| {
                    e.site.as_deref().is_none_or(|site| {
                        !store.is_site(site)
                            || access::allowed(&store, &principal, site, Need::Own).is_ok()
                    })
                })
                .filter(|e| site.is_none() || e.site == site)
                .collect();
            respond::ok(&json!({ "entries": entries }))
        }
        .await,
    )
}

/// `POST /api/admin/sites/:domain/shared-links` `{name, password?, filters?}`:
/// the link's token, shown once.
pub async fn share(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "share",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::Manage).await?;
            let site = param(&ctx, "domain");
            access::allowed(&store, &principal, &site, Need::Manage).or_else(
                |denied| match store.is_site(&site) {
                    true => Err(denied),
                    false => Ok(()),
                },
            )?;
            let body = body::read(&mut request, MAX_BODY).await?;
            let now = Date::now().as_millis();
            let (change, token) = people::share(
                &store,
                &principal.actor(),
                &site,
                &body,
                &random_bytes(),
                &random_bytes(),
                now,
            )?;
            let Change::AddSharedLink(link) = &change else {
                return Err(Failure::refused(500, "not a shared link"));
            };
            // the filters are the Stats API's: checked by its parser
            stats::query::filters(&link.filters, "filters")?;
            let answer = json!({
                "id": link.id, "name": link.name, "site": link.site, "token": token,
                "path": format!("/share/{token}"), "password": !link.password.is_empty(),
            });
            changed(&ctx.env, principal.label(), &change).await?;
            respond::ok(&answer)
        }
        .await,
    )
}

/// `DELETE /api/admin/sites/:domain/shared-links/:id`
pub async fn revoke_share(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "share",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::Manage).await?;
            let site = param(&ctx, "domain");
            let id = param(&ctx, "id");
            access::allowed(&store, &principal, &site, Need::Manage)?;
            if store.shared_link(&id).is_none_or(|l| l.site != site) {
                return Err(Failure::refused(
                    404,
                    format!("no shared link {id:?} on {site}"),
                ));
            }
            make(&ctx, &principal, &Change::RevokeSharedLink { id }).await
        }
        .await,
    )
}

/// Refuses a request from another page (the form posts of a login or an
/// account change must come from the dashboard itself).
fn own_page(request: &Request, what: &str) -> std::result::Result<(), Failure> {
    if Caller::of(request).credentials().same_origin {
        Ok(())
    } else {
        Err(Failure::refused(
            403,
            format!("{what} must come from the dashboard's own page"),
        ))
    }
}

/// `POST /api/auth/invitations/accept` `{token, name, password}`: the new
/// person, logged in (a new session; none brought along is kept).
pub async fn accept(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "people",
        async {
            own_page(&request, "accepting an invitation")?;
            if config(&ctx.env)?.single_sign_on_only() {
                return Err(Failure::refused(
                    403,
                    "people sign in through single sign-on here: an invitation makes no password",
                ));
            }
            let body = body::read(&mut request, MAX_BODY).await?;
            let store = settings::load(&ctx.env).await?;
            let now = Date::now().as_millis();
            let change = people::accept(&store, &body, &random_bytes(), &random_bytes(), now)?;
            let Change::AcceptInvitation { user, .. } = &change else {
                return Err(Failure::refused(500, "not an acceptance"));
            };
            let user = user.clone();
            changed(&ctx.env, &user.email, &change).await?;
            let answer = json!({ "user": user.email });
            let credential = (user.id.as_str(), people::credential(&user));
            start_session(&ctx, credential, String::new(), None, false, &answer).await
        }
        .await,
    )
}

/// The logged-in person (not the installation's administrator, whose
/// password is a secret of the deployment).
async fn person(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<model::settings::User, Failure> {
    match principal(request, ctx).await?.0 {
        Principal::User { user, .. } => Ok(*user),
        Principal::Installation => Err(Failure::refused(
            403,
            "the installation's administrator has no second factor here: its password is a deployment secret",
        )),
    }
}

/// `POST /api/auth/second-factor`: a new secret and its `otpauth://` URL
/// (the dashboard shows it as a QR code); unconfirmed until a code is typed.
pub async fn start_second_factor(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let client = client_of(&request, &ctx);
    respond::json(
        "account",
        async {
            own_page(&request, "a second factor")?;
            let user = person(&request, &ctx).await?;
            let body = body::read(&mut request, MAX_BODY).await?;
            // the password it asks for is guessed no faster here than at the login
            let Some(login) = config(&ctx.env)?.login else {
                return Err(Failure::refused(503, super::session::NOT_CONFIGURED));
            };
            let attempt = throttle::key(
                &login.password,
                &format!("second-factor:{}", user.email),
                true,
                &client,
            );
            if let Err(throttled) = claim_attempt(&ctx, &attempt, Date::now().as_millis()).await? {
                return Ok(throttled);
            }
            let (change, url) = people::start_second_factor(&user, &body, &random_bytes(), ISSUER)?;
            let Change::SetSecondFactor {
                factor: Some(factor),
                ..
            } = &change
            else {
                return Err(Failure::refused(500, "not a second factor"));
            };
            let secret = factor.secret.clone();
            changed(&ctx.env, &user.email, &change).await?;
            respond::ok(&json!({ "otpauth_url": url, "secret": secret }))
        }
        .await,
    )
}

/// `POST /api/auth/second-factor/confirm` `{code}`: the recovery codes, shown once.
pub async fn confirm_second_factor(
    mut request: Request,
    ctx: RouteContext<()>,
) -> Result<Response> {
    respond::json(
        "account",
        async {
            own_page(&request, "a second factor")?;
            let user = person(&request, &ctx).await?;
            let body = body::read(&mut request, MAX_BODY).await?;
            let now_s = Date::now().as_millis() / 1000;
            let (change, codes) =
                people::confirm_second_factor(&user, &body, now_s, &random_bytes())?;
            changed(&ctx.env, &user.email, &change).await?;
            respond::ok(&json!({ "recovery_codes": codes }))
        }
        .await,
    )
}

/// `POST /api/share/unlock` `{token, password}`: a grant for a shared link
/// with a password, for 12 hours, kept by the page (no cookie: an embedded
/// page's cookies are a third party's). Failed guesses are throttled per
/// link and client, as logins are.
pub async fn unlock(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let client = client_of(&request, &ctx);
    respond::json(
        "share",
        async {
            let body = body::read(&mut request, MAX_BODY).await?;
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let (Some(token), Some(password)) = (
                body.get("token").and_then(Value::as_str),
                body.get("password").and_then(Value::as_str),
            ) else {
                return Err(Failure::refused(400, "token and password are required"));
            };
            let Some(login) = config(&ctx.env)?.login else {
                return Err(Failure::refused(503, super::session::NOT_CONFIGURED));
            };
            let store = settings::load(&ctx.env).await?;
            let now = Date::now().as_millis();
            let Some(link) = access::link_by_token(&store, token).cloned() else {
                return Err(Failure::refused(
                    401,
                    "the shared link is not valid (revoked or mistyped)",
                ));
            };
            let Some(hash) = PasswordHash::parse(&link.password) else {
                return Err(Failure::refused(400, "this shared link has no password"));
            };
            let attempt = throttle::key(
                &login.password,
                &format!("share:{}", link.id),
                true,
                &client,
            );
            if let Err(throttled) = claim_attempt(&ctx, &attempt, now).await? {
                return Ok(throttled);
            }
            if !hash.verify(password) {
                return Err(Failure::refused(401, "wrong password"));
            }
            let (grant, grant_hash) = control::login::new_session(&random_bytes());
            let session = model::settings::Session {
                hash: grant_hash,
                expires_ms: now + control::login::SESSION_SECONDS * 1000,
                password: String::new(),
                user: people::share_session(&link),
                second_factor: false,
            };
            let change = Change::StartSession {
                session,
                now_ms: now,
                attempt,
                second_factor: None,
            };
            changed(&ctx.env, "", &change).await?;
            respond::ok(&json!({ "grant": grant }))
        }
        .await,
    )
}

/// `GET /api/share` with `X-Shared-Link`: the link's site, for its page.
pub async fn shared(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "share",
        async {
            let store = settings::load(&ctx.env).await?;
            let caller = Caller::of(&request);
            let Some(header) = caller.credentials().shared_link else {
                return Err(Failure::refused(401, "X-Shared-Link is required"));
            };
            let link = access::shared_link(header, &store, Date::now().as_millis())?;
            let site = store.site(&link.site);
            // the props whose values may be listed, and the allowlist for the Backstage ones
            let props = site.map(|s| s.listable_props()).unwrap_or_default();
            let allowed = site.and_then(|s| s.breakdown_props.clone());
            let funnels = site.map(|s| s.funnels.clone()).unwrap_or_default();
            respond::ok(&json!({
                "site": link.site, "name": link.name, "props": props, "breakdown_props": allowed,
                "funnels": funnels, "filters": link.filters,
            }))
        }
        .await,
    )
}

/// `GET /share/:token`: the dashboard's page for a shared link, which the
/// origins in the site's `embed_origins` may frame (and no other). Whether
/// the token is good, the page learns from `/api/share`; a page for an
/// unknown token frames nowhere.
pub async fn page(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let token = param(&ctx, "token");
    let ancestors = match settings::load(&ctx.env).await {
        Ok(store) => access::link_by_token(&store, &token)
            .and_then(|l| store.site(&l.site))
            .map(|site| site.embed_origins.join(" "))
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let assets = ctx.env.assets("ASSETS")?;
    let url = request.url()?;
    let index = url.join("/dashboard/index.html")?;
    let mut page = assets.fetch(index.to_string(), None).await?;
    let html = page.text().await?;
    let headers = worker::Headers::new();
    headers.set("Content-Type", "text/html; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("Referrer-Policy", "no-referrer")?;
    headers.set(
        "Content-Security-Policy",
        format!("frame-ancestors 'self' {ancestors}").trim(),
    )?;
    Ok(Response::ok(html)?.with_headers(headers))
}
