//! The dashboard's login: `POST /api/auth/login`, `POST /api/auth/logout`,
//! `GET /api/auth/session` (`crate::auth`), and who a request is: a
//! session (the administrator), or a bearer token.

use super::{config, random_bytes, respond, settings};
use crate::auth::{self, throttle};
use crate::settings::{keys, Change, Session, Store};
use serde_json::Value;
use worker::{Date, Request, Response, Result, RouteContext};

fn cookie_header(request: &Request) -> Option<String> {
    request.headers().get("Cookie").ok().flatten()
}

/// Whether the request carries a live session.
pub fn has_session(request: &Request, store: &Store) -> bool {
    let header = cookie_header(request);
    auth::session_token(header.as_deref()).is_some_and(|token| {
        store.has_session(&keys::sha256_hex(token.as_bytes()), Date::now().as_millis())
    })
}

/// For a cookie-authenticated change: the page that sent it is ours (the
/// cookie is SameSite=Strict already; this also refuses a forged Origin).
pub fn same_origin(request: &Request) -> bool {
    let Ok(url) = request.url() else {
        return false;
    };
    match request.headers().get("Origin").ok().flatten() {
        None => true,
        Some(origin) => origin == url.origin().ascii_serialization(),
    }
}

fn with_cookie(response: Response, cookie: &str) -> Result<Response> {
    let headers = response.headers().clone();
    headers.set("Set-Cookie", cookie)?;
    Ok(response.with_headers(headers))
}

pub async fn login(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let Some(login) = config(&ctx.env)?.login else {
        return respond::error(
            503,
            "the dashboard login is not configured: set the ADMIN_PASSWORD_HASH secret",
        );
    };
    if !same_origin(&request) {
        return respond::error(403, "a login must come from the dashboard's own page");
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
    let body: Value =
        serde_json::from_slice(&request.bytes().await.unwrap_or_default()).unwrap_or(Value::Null);
    let (Some(user), Some(password)) = (
        body.get("username").and_then(Value::as_str),
        body.get("password").and_then(Value::as_str),
    ) else {
        return respond::error(400, "username and password are required");
    };
    // both checked, so a wrong user name costs as long as a wrong password
    let password_ok = login.password.verify(password);
    if !(auth::same_user(user, &login.user) && password_ok) {
        settings::change(&ctx.env, &Change::LoginFailed { now_ms: now })
            .await?
            .ok();
        return respond::error(401, "wrong user name or password");
    }
    let (token, hash) = auth::new_session(&random_bytes());
    let session = Session {
        hash,
        expires_ms: now + auth::SESSION_SECONDS * 1000,
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
        return respond::error(503, &reason);
    }
    with_cookie(
        respond::json(&serde_json::json!({ "user": login.user }))?,
        &auth::set_cookie(&token),
    )
}

pub async fn logout(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let header = cookie_header(&request);
    if let Some(token) = auth::session_token(header.as_deref()) {
        let hash = keys::sha256_hex(token.as_bytes());
        settings::change(&ctx.env, &Change::EndSession { hash })
            .await?
            .ok();
    }
    with_cookie(
        respond::json(&serde_json::json!({ "user": null }))?,
        &auth::clear_cookie(),
    )
}

pub async fn show(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let store = settings::load(&ctx.env).await?;
    match (has_session(&request, &store), config(&ctx.env)?.login) {
        (true, Some(login)) => respond::json(&serde_json::json!({ "user": login.user })),
        (_, None) => respond::error(
            503,
            "the dashboard login is not configured: set the ADMIN_PASSWORD_HASH secret",
        ),
        _ => respond::error(401, "not logged in"),
    }
}
