//! Single sign-on (`control::sso`): `GET /api/auth/sso/start` sends the
//! browser to the provider with a new state, nonce and PKCE challenge (the
//! state also in a short-lived cookie of this browser); `GET
//! /api/auth/sso/callback` checks the state against that cookie and the
//! pending login (used up), redeems the code, verifies the ID token, maps
//! the groups to roles, and starts a session.

use super::bindings::{config, random_bytes};
use super::respond::{self, Failure};
use super::session::start_session;
use super::settings;
use crate::config::Sso;
use control::people;
use control::settings::Change;
use control::sso::{self, Discovery, Expected, SsoError};
use serde_json::Value;
use std::time::Duration;
use worker::{Date, Fetch, Headers, Method, Request, RequestInit, Response, Result, RouteContext};

/// The cookie that ties a login to the browser that began it: Lax, since
/// the provider's redirect back is a top-level navigation from its site.
const STATE_COOKIE: &str = "__Host-ea_sso";
/// The provider's discovery document and keys are fetched again after this.
const CACHE_MS: u64 = 10 * 60 * 1000;
/// Each request to the provider is abandoned after this.
const TIMEOUT: Duration = Duration::from_secs(10);

thread_local! {
    static DOCUMENTS: std::cell::RefCell<Vec<(String, u64, Value)>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl From<SsoError> for Failure {
    fn from(error: SsoError) -> Self {
        Failure::refused(error.status(), error.to_string())
    }
}

fn configured(ctx: &RouteContext<()>) -> std::result::Result<Sso, Failure> {
    config(&ctx.env)?
        .sso
        .ok_or_else(|| Failure::refused(404, "single sign-on is not configured (OIDC_ISSUER)"))
}

/// A JSON document of the provider's, from this isolate's copy while fresh
/// (`fresh`: fetched again whatever the copy's age).
async fn document(
    url: &str,
    what: &'static str,
    fresh: bool,
) -> std::result::Result<Value, Failure> {
    let now = Date::now().as_millis();
    let cached = DOCUMENTS.with(|d| {
        d.borrow()
            .iter()
            .find(|(u, at, _)| u == url && now.saturating_sub(*at) < CACHE_MS)
            .map(|(_, _, v)| v.clone())
    });
    if let (Some(value), false) = (cached, fresh) {
        return Ok(value);
    }
    let (status, text) = send(url, None).await?;
    let value: Value = serde_json::from_str(&text)
        .ok()
        .filter(|_| status == 200)
        .ok_or_else(|| SsoError::Provider(what, format!("{url} answered {status}, not JSON")))?;
    DOCUMENTS.with(|d| {
        let mut d = d.borrow_mut();
        d.retain(|(u, _, _)| u != url);
        d.push((url.to_string(), now, value.clone()));
    });
    Ok(value)
}

/// One request to the provider: its status and body, within [`TIMEOUT`].
async fn send(
    url: &str,
    post: Option<(String, String)>,
) -> std::result::Result<(u16, String), Failure> {
    use futures_util::future::{select, Either};
    let headers = Headers::new();
    headers.set("Accept", "application/json")?;
    let mut init = RequestInit::new();
    if let Some((authorization, body)) = post {
        headers.set("Authorization", &authorization)?;
        headers.set("Content-Type", "application/x-www-form-urlencoded")?;
        init.with_method(Method::Post).with_body(Some(body.into()));
    }
    init.with_headers(headers);
    let request = Request::new_with_init(url, &init)?;
    let fetch = Fetch::Request(request);
    let sending = fetch.send();
    let unreachable = |why: String| SsoError::Provider("server", why);
    let answer = match select(Box::pin(sending), Box::pin(worker::Delay::from(TIMEOUT))).await {
        Either::Left((Ok(mut response), _)) => {
            let text = response.text().await.unwrap_or_default();
            Ok((response.status_code(), text))
        }
        Either::Left((Err(error), _)) => Err(unreachable(format!("{url}: {error}")).into()),
        Either::Right(_) => Err(unreachable(format!("{url} did not answer in time")).into()),
    };
    answer
}

async fn discovery(sso: &Sso) -> std::result::Result<Discovery, Failure> {
    let issuer = sso.issuer.as_str().trim_end_matches('/');
    let url = format!("{issuer}/.well-known/openid-configuration");
    Ok(sso::discovery(
        &document(&url, "discovery document", false).await?,
        sso.issuer.as_str(),
    )?)
}

fn redirect_uri(request: &Request) -> std::result::Result<String, Failure> {
    let url = request.url()?;
    Ok(format!(
        "{}/api/auth/sso/callback",
        url.origin().ascii_serialization()
    ))
}

/// `GET /api/auth/sso/start`: to the provider's login.
pub async fn start(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "sso",
        async {
            let sso = configured(&ctx)?;
            let endpoints = discovery(&sso).await?;
            let now = Date::now().as_millis();
            let Some((pending, state, url)) = sso::start(
                &endpoints.authorization_endpoint,
                &sso.client_id,
                &redirect_uri(&request)?,
                &random_bytes(),
                now,
            ) else {
                return Err(SsoError::Provider(
                    "discovery document",
                    "no authorization endpoint".into(),
                )
                .into());
            };
            settings::change(
                &ctx.env,
                "",
                &Change::StartSso {
                    pending,
                    now_ms: now,
                },
            )
            .await?
            .map_err(|reason| Failure::refused(503, reason))?;
            let headers = Headers::new();
            headers.set("Location", &url)?;
            headers.set("Cache-Control", "no-store")?;
            headers.set(
                "Set-Cookie",
                &format!(
                    "{STATE_COOKIE}={state}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={}",
                    sso::PENDING_MS / 1000
                ),
            )?;
            Ok(Response::empty()?.with_status(302).with_headers(headers))
        }
        .await,
    )
}

fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v)
}

/// `GET /api/auth/sso/callback?code&state`: a session, or 403 saying why (no session).
pub async fn callback(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json("sso", finish(&request, &ctx).await)
}

async fn finish(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<Response, Failure> {
    let sso = configured(ctx)?;
    let url = request.url()?;
    let query = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
    };
    if let Some(error) = query("error") {
        let description = query("error_description").unwrap_or_default();
        return Err(Failure::refused(
            403,
            format!("the identity provider did not sign you in ({error}: {description})"),
        ));
    }
    let (Some(code), Some(state)) = (query("code"), query("state")) else {
        return Err(Failure::refused(400, "code and state are required"));
    };
    let cookies = request.headers().get("Cookie")?;
    let ours = cookie(cookies.as_deref(), STATE_COOKIE).unwrap_or("");
    if !model::hex::same_text(ours, &state) {
        return Err(Failure::refused(
            403,
            "state: this sign-in was not started by this browser (a forged or stale link): sign in again",
        ));
    }
    let store = settings::load(&ctx.env).await?;
    let now = Date::now().as_millis();
    let state_hash = control::keys::sha256_hex(state.as_bytes());
    let Some(pending) = store
        .sso_pending
        .iter()
        .find(|p| sso::state_matches(p, &state) && p.expires_ms > now)
        .cloned()
    else {
        return Err(Failure::refused(
            403,
            "state: no such sign-in (used already, or expired): sign in again",
        ));
    };
    // used up before the code is redeemed: a replayed callback finds nothing
    settings::change(
        &ctx.env,
        "",
        &Change::FinishSso {
            state_hash,
            now_ms: now,
        },
    )
    .await?
    .map_err(|reason| Failure::refused(403, format!("state: {reason}")))?;
    let endpoints = discovery(&sso).await?;
    let body = sso::token_request(&code, &redirect_uri(request)?, &pending.verifier);
    let authorization = sso::basic_auth(&sso.client_id, &sso.client_secret);
    let (status, text) = send(&endpoints.token_endpoint, Some((authorization, body))).await?;
    let token = sso::id_token(status, &text)?;
    let expected = Expected {
        issuer: sso.issuer.as_str(),
        client_id: &sso.client_id,
        nonce: &pending.nonce,
        now_s: now / 1000,
    };
    let claims = match sso::verify(
        &token,
        &document(&endpoints.jwks_uri, "keys", false).await?,
        &expected,
    ) {
        // the provider may have rotated its keys since they were fetched
        Err(SsoError::UnknownKey) => sso::verify(
            &token,
            &document(&endpoints.jwks_uri, "keys", true).await?,
            &expected,
        )?,
        other => other?,
    };
    let multi_factor = sso::multi_factor(&claims);
    let user = sso::sign_in(
        &store,
        &claims,
        &sso.roles,
        &sso.role_claim,
        &random_bytes(),
        now,
    )?;
    let email = user.email.clone();
    let store = settings::change(&ctx.env, &email, &Change::SignInWithProvider { user })
        .await?
        .map_err(|reason| Failure::refused(409, reason))?;
    let Some(person) = store.user_by_email(&email) else {
        return Err(Failure::refused(409, "the person signed in is gone"));
    };
    let answer = serde_json::json!({ "user": person.email });
    let credential = (person.id.as_str(), people::credential(person));
    let response =
        start_session(ctx, credential, String::new(), None, multi_factor, &answer).await?;
    let headers = response.headers().clone();
    headers.append(
        "Set-Cookie",
        &format!("{STATE_COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0"),
    )?;
    headers.set("Location", "/dashboard/")?;
    Ok(response.with_status(302).with_headers(headers))
}
