//! The dashboard's login: `POST /api/auth/login`, `POST /api/auth/logout`,
//! `GET /api/auth/session` (`control::login`: the password's slow hash, the
//! session cookie, the login throttle per user and client).

use super::bindings::{config, random_bytes};
use super::body;
use super::caller::Caller;
use super::respond::{self, Failure};
use super::settings;
use control::access::has_session;
use control::login::{self, throttle};
use control::settings::Change;
use ingest::privacy::client::client_ip;
use model::settings::Session;
use serde_json::Value;
use worker::{Date, Request, Response, Result, RouteContext};

const NOT_CONFIGURED: &str =
    "the dashboard login is not configured: set the ADMIN_PASSWORD_HASH secret";

fn with_cookie(response: Response, cookie: &str) -> std::result::Result<Response, Failure> {
    let headers = response.headers().clone();
    headers.set("Set-Cookie", cookie)?;
    Ok(response.with_headers(headers))
}

/// A login body is a user name and a password.
const MAX_LOGIN_BODY: usize = 4 * 1024;

pub async fn login(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let caller = Caller::of(&request);
    // the client, for the throttle only (kept as a keyed digest, never as it is)
    let client = config(&ctx.env)
        .map(|config| {
            client_ip(config.proxy, |name| {
                request.headers().get(name).ok().flatten()
            })
        })
        .unwrap_or_default();
    let body = match body::read(&mut request, MAX_LOGIN_BODY).await {
        Ok(body) => body,
        Err(too_large) => return respond::json("login", Err(too_large.into())),
    };
    respond::json("login", log_in(&caller, &client, &body, &ctx).await)
}

async fn log_in(
    caller: &Caller,
    client: &str,
    body: &[u8],
    ctx: &RouteContext<()>,
) -> std::result::Result<Response, Failure> {
    let Some(login) = config(&ctx.env)?.login else {
        return Err(Failure::refused(503, NOT_CONFIGURED));
    };
    if !caller.credentials().same_origin {
        return Err(Failure::refused(
            403,
            "a login must come from the dashboard's own page",
        ));
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (Some(user), Some(password)) = (
        body.get("username").and_then(Value::as_str),
        body.get("password").and_then(Value::as_str),
    ) else {
        return Err(Failure::refused(400, "username and password are required"));
    };
    let now = Date::now().as_millis();
    let fingerprint = login.password.fingerprint();
    let is_the_user = login::same_user(user, &login.user);
    let attempt = throttle::key(&login.password, user, is_the_user, client);
    // counted before the slow hash, atomically where the settings live:
    // requests racing past it do not each get a guess
    let claimed = settings::change(
        &ctx.env,
        &Change::ClaimLoginAttempt {
            attempt: attempt.clone(),
            now_ms: now,
        },
    )
    .await?;
    if let Err(reason) = claimed {
        let store = settings::load(&ctx.env).await?;
        let wait_ms = store
            .login_attempts
            .get(&attempt)
            .and_then(|failures| throttle::allowed(failures, now))
            .unwrap_or(1000);
        let response = respond::error(429, &reason)?;
        let headers = response.headers().clone();
        headers.set("Retry-After", &wait_ms.div_ceil(1000).to_string())?;
        return Ok(response.with_headers(headers));
    }
    // both checked, so a wrong user name costs as long as a wrong password
    let password_ok = login.password.verify(password);
    if !(is_the_user && password_ok) {
        return Err(Failure::refused(401, "wrong user name or password"));
    }
    let (token, hash) = login::new_session(&random_bytes());
    let session = Session {
        hash,
        expires_ms: now + login::SESSION_SECONDS * 1000,
        password: fingerprint,
        user: String::new(),
    };
    if let Err(reason) = settings::change(
        &ctx.env,
        &Change::StartSession {
            session,
            now_ms: now,
            attempt,
        },
    )
    .await?
    {
        return Err(Failure::refused(503, reason));
    }
    with_cookie(
        respond::ok(&serde_json::json!({ "user": login.user }))?,
        &login::set_cookie(&token),
    )
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
                settings::change(&ctx.env, &Change::EndSession { hash })
                    .await?
                    .ok();
            }
            with_cookie(
                respond::ok(&serde_json::json!({ "user": null }))?,
                &login::clear_cookie(),
            )
        }
        .await,
    )
}

pub async fn show(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "session",
        async {
            let store = settings::load(&ctx.env).await?;
            let caller = Caller::of(&request);
            let login = config(&ctx.env)?.login;
            let password = login.as_ref().map(|l| l.password.fingerprint());
            let live = has_session(
                caller.credentials().cookie,
                &store,
                Date::now().as_millis(),
                password.as_deref(),
            );
            match (live, login) {
                (true, Some(login)) => respond::ok(&serde_json::json!({ "user": login.user })),
                (_, None) => Err(Failure::refused(503, NOT_CONFIGURED)),
                _ => Err(Failure::refused(401, "not logged in")),
            }
        }
        .await,
    )
}
