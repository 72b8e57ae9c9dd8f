//! The dashboard's login: `POST /api/auth/login`, `POST /api/auth/logout`,
//! `GET /api/auth/session` (`control::login`: the password's slow hash, the
//! session cookie, the failed-login throttle).

use super::bindings::{config, random_bytes};
use super::body;
use super::caller::Caller;
use super::respond::{self, Failure};
use super::settings;
use control::access::has_session;
use control::login::{self, throttle};
use control::settings::Change;
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
    let body = match body::read(&mut request, MAX_LOGIN_BODY).await {
        Ok(body) => body,
        Err(too_large) => return respond::json("login", Err(too_large.into())),
    };
    respond::json("login", log_in(&caller, &body, &ctx).await)
}

async fn log_in(
    caller: &Caller,
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
    let now = Date::now().as_millis();
    let store = settings::load(&ctx.env).await?;
    if let Some(wait_ms) = throttle::allowed(&store.login_failures, now) {
        let seconds = wait_ms.div_ceil(1000);
        let response = respond::error(
            429,
            &format!("too many failed logins: try again in {seconds} s"),
        )?;
        let headers = response.headers().clone();
        headers.set("Retry-After", &seconds.to_string())?;
        return Ok(response.with_headers(headers));
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (Some(user), Some(password)) = (
        body.get("username").and_then(Value::as_str),
        body.get("password").and_then(Value::as_str),
    ) else {
        return Err(Failure::refused(400, "username and password are required"));
    };
    // both checked, so a wrong user name costs as long as a wrong password
    let password_ok = login.password.verify(password);
    if !(login::same_user(user, &login.user) && password_ok) {
        settings::change(&ctx.env, &Change::LoginFailed { now_ms: now })
            .await?
            .ok();
        return Err(Failure::refused(401, "wrong user name or password"));
    }
    let (token, hash) = login::new_session(&random_bytes());
    let session = Session {
        hash,
        expires_ms: now + login::SESSION_SECONDS * 1000,
    };
    if let Err(reason) = settings::change(
        &ctx.env,
        &Change::StartSession {
            session,
            now_ms: now,
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
            let live = has_session(caller.credentials().cookie, &store, Date::now().as_millis());
            match (live, config(&ctx.env)?.login) {
                (true, Some(login)) => respond::ok(&serde_json::json!({ "user": login.user })),
                (_, None) => Err(Failure::refused(503, NOT_CONFIGURED)),
                _ => Err(Failure::refused(401, "not logged in")),
            }
        }
        .await,
    )
}
