//! The dashboard's login: `POST /api/auth/login`, `POST /api/auth/logout`,
//! `GET /api/auth/session` (`control::login`: the password's slow hash, the
//! session cookie, the login throttle per user and client;
//! `control::people`: who the name is, and their second factor).

use super::bindings::{config, random_bytes};
use super::body;
use super::caller::Caller;
use super::respond::{self, Failure};
use super::settings;
use control::access::{self, Principal};
use control::login::{self, throttle, PasswordHash};
use control::people::{self, Actor, SecondFactorError};
use control::settings::{Change, SecondFactorUse};
use ingest::privacy::client::client_ip;
use model::settings::{Session, Store};
use serde_json::{json, Value};
use worker::{Date, Request, Response, Result, RouteContext};

pub(super) const NOT_CONFIGURED: &str =
    "the dashboard login is not configured: set the ADMIN_PASSWORD_HASH secret";

pub(super) fn with_cookie(
    response: Response,
    cookie: &str,
) -> std::result::Result<Response, Failure> {
    let headers = response.headers().clone();
    headers.set("Set-Cookie", cookie)?;
    Ok(response.with_headers(headers))
}

/// A login body is a user name, a password and perhaps a code.
const MAX_LOGIN_BODY: usize = 4 * 1024;

/// The client, for the throttle only (kept as a keyed digest, never as it is).
pub(super) fn client_of(request: &Request, ctx: &RouteContext<()>) -> String {
    config(&ctx.env)
        .map(|config| {
            client_ip(config.proxy, |name| {
                request.headers().get(name).ok().flatten()
            })
        })
        .unwrap_or_default()
}

pub async fn login(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let caller = Caller::of(&request);
    let client = client_of(&request, &ctx);
    let body = match body::read(&mut request, MAX_LOGIN_BODY).await {
        Ok(body) => body,
        Err(too_large) => return respond::json("login", Err(too_large.into())),
    };
    respond::json("login", log_in(&caller, &client, &body, &ctx).await)
}

/// Counts an attempt for `attempt` before any slow hash, atomically where
/// the settings live (requests racing past it do not each get a guess):
/// `Err` is the 429 to answer.
pub(super) async fn claim_attempt(
    ctx: &RouteContext<()>,
    attempt: &str,
    now: u64,
) -> std::result::Result<std::result::Result<(), Response>, Failure> {
    let claimed = settings::change(
        &ctx.env,
        "",
        &Change::ClaimLoginAttempt {
            attempt: attempt.to_string(),
            now_ms: now,
        },
    )
    .await?;
    let Err(reason) = claimed else {
        return Ok(Ok(()));
    };
    let store = settings::load(&ctx.env).await?;
    let wait_ms = store
        .login_attempts
        .get(attempt)
        .and_then(|failures| throttle::allowed(failures, now))
        .unwrap_or(1000);
    let response = respond::error(429, &reason)?;
    let headers = response.headers().clone();
    headers.set("Retry-After", &wait_ms.div_ceil(1000).to_string())?;
    Ok(Err(response.with_headers(headers)))
}

/// Starts a session (a new token: a session is never taken over from a
/// cookie the browser brought) and answers with its cookie.
pub(super) async fn start_session(
    ctx: &RouteContext<()>,
    session_of: (&str, String),
    attempt: String,
    second_factor: Option<SecondFactorUse>,
    provider_second_factor: bool,
    answer: &Value,
) -> std::result::Result<Response, Failure> {
    let passed_second_factor = second_factor.is_some() || provider_second_factor;
    let now = Date::now().as_millis();
    let (token, hash) = login::new_session(&random_bytes());
    let (user, password) = session_of;
    let session = Session {
        hash,
        expires_ms: now + login::SESSION_SECONDS * 1000,
        password,
        user: user.to_string(),
        second_factor: passed_second_factor,
    };
    let change = Change::StartSession {
        session,
        now_ms: now,
        attempt,
        second_factor,
    };
    if let Err(reason) = settings::change(&ctx.env, "", &change).await? {
        // a code spent by a login that raced this one, or a person removed meanwhile
        return Err(Failure::refused(401, reason));
    }
    with_cookie(respond::ok(answer)?, &login::set_cookie(&token))
}

async fn log_in(
    caller: &Caller,
    client: &str,
    body: &[u8],
    ctx: &RouteContext<()>,
) -> std::result::Result<Response, Failure> {
    let config = config(&ctx.env)?;
    let Some(login) = config.login.clone() else {
        return Err(Failure::refused(503, NOT_CONFIGURED));
    };
    if !caller.credentials().same_origin {
        return Err(Failure::refused(
            403,
            "a login must come from the dashboard's own page",
        ));
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (Some(name), Some(password)) = (
        body.get("username").and_then(Value::as_str),
        body.get("password").and_then(Value::as_str),
    ) else {
        return Err(Failure::refused(400, "username and password are required"));
    };
    let code = body.get("code").and_then(Value::as_str);
    let now = Date::now().as_millis();
    let store = settings::load(&ctx.env).await?;
    let account = people::account(&store, &login.user, name);
    // the account's own name, not the text typed: " a@x", "A@X" and "a@x" are one account's tries
    let key = match account {
        Some(Actor::User(user)) => user.email.clone(),
        Some(Actor::Installation) => login.user.clone(),
        None => String::new(),
    };
    let attempt = throttle::key(&login.password, &key, account.is_some(), client);
    if let Err(throttled) = claim_attempt(ctx, &attempt, now).await? {
        return Ok(throttled);
    }
    // every branch pays one slow hash, so a wrong name costs as long as a wrong password
    let password_ok = match account {
        Some(Actor::Installation) => login.password.verify(password),
        Some(Actor::User(user)) => {
            let hash = PasswordHash::parse(&user.password);
            let ok = hash.as_ref().is_some_and(|h| h.verify(password));
            if hash.is_none() {
                login.password.verify(password);
            }
            ok && !config.single_sign_on_only()
        }
        None => {
            login.password.verify(password);
            false
        }
    };
    if !password_ok {
        let message = if config.single_sign_on_only() && matches!(account, Some(Actor::User(_))) {
            "people sign in through single sign-on here"
        } else {
            "wrong user name or password"
        };
        return Err(Failure::refused(401, message));
    }
    match account {
        Some(Actor::User(user)) => {
            let used = match people::second_factor(user, code, now / 1000) {
                Ok(used) => used,
                Err(SecondFactorError::Required) => {
                    let response = respond::ok(&json!({
                        "error": SecondFactorError::Required.to_string(),
                        "second_factor": "required",
                    }))?;
                    return Ok(response.with_status(401));
                }
                Err(wrong) => return Err(Failure::refused(401, wrong.to_string())),
            };
            let answer = json!({ "user": user.email });
            let credential = (user.id.as_str(), people::credential(user));
            start_session(ctx, credential, attempt, used, false, &answer).await
        }
        _ => {
            let answer = json!({ "user": login.user });
            let credential = ("", login.password.fingerprint());
            start_session(ctx, credential, attempt, None, false, &answer).await
        }
    }
}

pub async fn logout(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "logout",
        async {
            let caller = Caller::of(&request);
            // SameSite=Strict keeps the cookie from other sites' requests; the
            // Origin check also refuses a page that forges a logout
            if !caller.credentials().same_origin {
                return Err(Failure::refused(
                    403,
                    "a logout must come from the dashboard's own page",
                ));
            }
            if let Some(token) = login::session_token(caller.credentials().cookie) {
                let hash = control::keys::sha256_hex(token.as_bytes());
                settings::change(&ctx.env, "", &Change::EndSession { hash })
                    .await?
                    .ok();
            }
            with_cookie(
                respond::ok(&json!({ "user": null }))?,
                &login::clear_cookie(),
            )
        }
        .await,
    )
}

/// The session's principal and the settings, or 401.
pub(super) async fn principal(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<(Principal, Store), Failure> {
    let config = config(&ctx.env)?;
    let Some(login) = config.login else {
        return Err(Failure::refused(503, NOT_CONFIGURED));
    };
    let store = settings::load(&ctx.env).await?;
    let caller = Caller::of(request);
    let installation = login.password.fingerprint();
    match access::session(
        caller.credentials().cookie,
        &store,
        Date::now().as_millis(),
        Some(&installation),
    ) {
        Some(principal) => Ok((principal, store)),
        None => Err(Failure::refused(401, "not logged in")),
    }
}

/// `GET /api/auth/session`: who is logged in, and the sites they read with
/// their role on each (the dashboard shows what the role allows).
pub async fn show(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "session",
        async {
            let config = config(&ctx.env)?;
            let (principal, store) = match principal(&request, &ctx).await {
                Ok(found) => found,
                // the login page learns how people sign in here
                Err(Failure::Refused(401, message)) => {
                    let answer = respond::ok(&json!({
                        "error": message,
                        "single_sign_on": config.sso.is_some(),
                        "sso_only": config.single_sign_on_only(),
                    }))?;
                    return Ok(answer.with_status(401));
                }
                Err(other) => return Err(other),
            };
            let login = config.login;
            let readable: Vec<Value> = store
                .sites
                .iter()
                .filter(|site| {
                    people::may(&principal.actor(), &site.domain, people::Need::Read)
                })
                .map(|site| {
                    let role = match &principal {
                        Principal::User { user, .. } if !user.super_admin => user
                            .roles
                            .get(&site.domain)
                            .map_or("owner", |r| r.name()),
                        _ => "owner",
                    };
                    let blocked = access::allowed(&store, &principal, &site.domain, people::Need::Read)
                        .err()
                        .map(|denied| denied.to_string());
                    json!({ "domain": site.domain, "props": site.listable_props(), "breakdown_props": site.breakdown_props, "funnels": site.funnels, "segments": site.segments, "role": role, "blocked": blocked })
                })
                .collect();
            let (user, name, super_admin, second_factor) = match &principal {
                Principal::Installation => (
                    login.map(|l| l.user).unwrap_or_default(),
                    String::new(),
                    true,
                    false,
                ),
                Principal::User { user, .. } => (
                    user.email.clone(),
                    user.name.clone(),
                    user.super_admin,
                    user.second_factor.as_ref().is_some_and(|f| f.confirmed),
                ),
            };
            respond::ok(&json!({
                "user": user,
                "name": name,
                "super_admin": super_admin,
                "second_factor": second_factor,
                "installation": matches!(principal, Principal::Installation),
                "sites": readable,
            }))
        }
        .await,
    )
}
