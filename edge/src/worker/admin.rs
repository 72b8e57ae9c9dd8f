//! `/api/admin/…`: sites (time zone, retention, goals) and Stats API keys,
//! behind `Authorization: Bearer <ADMIN_TOKEN>`. Requests become
//! `settings::admin` changes, made by the `SiteSettings` object.

use super::{clickhouse, config, random_bytes, respond, session, settings};
use crate::settings::admin::{self, AdminError};
use crate::settings::{keys, Change};
use crate::stats::sql::Sql;
use worker::{Method, Request, Response, Result, RouteContext};

/// `None` when the request may use the admin API — the admin token, or the
/// dashboard's session (changes only from its own page); else the refusal.
async fn refused(request: &Request, ctx: &RouteContext<()>) -> Result<Option<Response>> {
    let header = request.headers().get("Authorization").ok().flatten();
    if let Some(given) = keys::bearer(header.as_deref()) {
        return match config(&ctx.env)?.admin_token {
            Some(token) if keys::same_hash(given, &token.0) => Ok(None),
            _ => respond::error(401, "Authorization: Bearer <ADMIN_TOKEN> is required").map(Some),
        };
    }
    let store = settings::load(&ctx.env).await?;
    if session::has_session(request, &store) {
        if request.method() == Method::Get || session::same_origin(request) {
            return Ok(None);
        }
        return respond::error(403, "a change must come from the dashboard's own page").map(Some);
    }
    respond::error(
        401,
        "Authorization: Bearer <ADMIN_TOKEN> (or the dashboard's login) is required",
    )
    .map(Some)
}

async fn make(ctx: &RouteContext<()>, change: &Change) -> Result<Response> {
    match settings::change(&ctx.env, change).await? {
        Ok(store) => respond::json(&store.public_view()),
        Err(reason) => respond::error(409, &reason),
    }
}

pub async fn show(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    if let Some(refusal) = refused(&request, &ctx).await? {
        return Ok(refusal);
    }
    respond::json(&settings::load(&ctx.env).await?.public_view())
}

/// Whether ClickHouse knows the time zone (it resolves every report's dates).
async fn known_timezone(ctx: &RouteContext<()>, timezone: &str) -> Result<bool> {
    let mut sql = Sql::default();
    let tz = sql.bind("String", timezone);
    sql.text = format!("SELECT toTimeZone(now(), {tz})");
    let answer = clickhouse::run(&config(&ctx.env)?.clickhouse, &sql, "TabSeparated").await?;
    Ok(answer.status == 200)
}

pub async fn put_site(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    if let Some(refusal) = refused(&request, &ctx).await? {
        return Ok(refusal);
    }
    let domain = ctx.param("domain").cloned().unwrap_or_default();
    let body = request.bytes().await.unwrap_or_default();
    let change = match admin::put_site(&domain, &body) {
        Ok(change) => change,
        Err(AdminError(message)) => return respond::error(400, &message),
    };
    if let Change::PutSite(site) = &change {
        if !known_timezone(&ctx, &site.timezone).await? {
            return respond::error(
                400,
                &format!(
                    "timezone: {:?} is not a time zone ClickHouse knows",
                    site.timezone
                ),
            );
        }
    }
    make(&ctx, &change).await
}

pub async fn delete_site(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    if let Some(refusal) = refused(&request, &ctx).await? {
        return Ok(refusal);
    }
    let domain = match admin::domain(ctx.param("domain").map_or("", String::as_str)) {
        Ok(domain) => domain,
        Err(AdminError(message)) => return respond::error(400, &message),
    };
    make(&ctx, &Change::DeleteSite { domain }).await
}

pub async fn add_key(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    if let Some(refusal) = refused(&request, &ctx).await? {
        return Ok(refusal);
    }
    let body = request.bytes().await.unwrap_or_default();
    let (change, secret) = match admin::add_key(&body, &random_bytes()) {
        Ok(made) => made,
        Err(AdminError(message)) => return respond::error(400, &message),
    };
    let Change::AddKey(key) = &change else {
        return respond::error(500, "not a key");
    };
    match settings::change(&ctx.env, &change).await? {
        // the secret is shown this once; only its hash is kept
        Ok(_) => respond::json(
            &serde_json::json!({ "id": key.id, "name": key.name, "sites": key.sites, "key": secret }),
        ),
        Err(reason) => respond::error(409, &reason),
    }
}

/// `POST /api/admin/visits/rebuild` `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}`
/// (UTC days, inclusive): recomputes the stored visits from `events`, for
/// events loaded without the queue (imports, fixtures) or after a repair.
pub async fn rebuild_visits(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    if let Some(refusal) = refused(&request, &ctx).await? {
        return Ok(refusal);
    }
    let body = request.bytes().await.unwrap_or_default();
    let (from, to) = match admin::rebuild_range(&body) {
        Ok(range) => range,
        Err(AdminError(message)) => return respond::error(400, &message),
    };
    let sql = crate::sink::visits::rebuild_sql(&from, &to);
    let answer = clickhouse::run(&config(&ctx.env)?.clickhouse, &sql, "").await?;
    if answer.status != 200 {
        return respond::error(503, "ClickHouse did not rebuild the visits; try again");
    }
    respond::json(&serde_json::json!({ "rebuilt": [from, to] }))
}

pub async fn revoke_key(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    if let Some(refusal) = refused(&request, &ctx).await? {
        return Ok(refusal);
    }
    let id = ctx.param("id").cloned().unwrap_or_default();
    make(&ctx, &Change::RevokeKey { id }).await
}
