//! `/api/admin/…`: sites (time zone, retention, goals, props), Stats API
//! keys and visit rebuilds, for the admin token or the dashboard's session
//! (`control::access::admin`). Requests become `control::admin` changes,
//! made by the `SiteSettings` object.

use super::bindings::{config, random_bytes};
use super::body;
use super::caller::Caller;
use super::clickhouse;
use super::respond::{self, Failure};

/// A site with its goals and props is a few kilobytes.
const MAX_ADMIN_BODY: usize = 64 * 1024;
use super::settings;
use control::access;
use control::admin::{self, public_view};
use control::settings::Change;
use model::settings::Store;
use worker::{Date, Method, Request, Response, Result, RouteContext};

/// The settings, when the request may use the admin API; a refusal otherwise.
pub(super) async fn allowed(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<Store, Failure> {
    let config = config(&ctx.env)?;
    let store = settings::load(&ctx.env).await?;
    let token = config.admin_token.as_ref().map(|t| t.0.as_str());
    let change = request.method() != Method::Get;
    let caller = Caller::of(request);
    let password = config.login.as_ref().map(|l| l.password.fingerprint());
    access::admin(
        &caller.credentials(),
        token,
        &store,
        Date::now().as_millis(),
        password.as_deref(),
        change,
    )?;
    Ok(store)
}

async fn make(ctx: &RouteContext<()>, change: &Change) -> std::result::Result<Response, Failure> {
    match settings::change(&ctx.env, change).await? {
        Ok(store) => respond::ok(&public_view(&store)),
        Err(reason) => Err(Failure::refused(409, reason)),
    }
}

pub async fn show(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async { respond::ok(&public_view(&allowed(&request, &ctx).await?)) }.await,
    )
}

pub async fn put_site(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            allowed(&request, &ctx).await?;
            let domain = ctx.param("domain").cloned().unwrap_or_default();
            let body = body::read(&mut request, MAX_ADMIN_BODY).await?;
            let change = admin::put_site(&domain, &body)?;
            if let Change::PutSite(site) = &change {
                known_timezone(&ctx, &site.timezone, "timezone").await?;
            }
            make(&ctx, &change).await
        }
        .await,
    )
}

/// ClickHouse resolves every report's dates: it must know the zone.
async fn known_timezone(
    ctx: &RouteContext<()>,
    timezone: &str,
    field: &str,
) -> std::result::Result<(), Failure> {
    let sql = admin::timezone_sql(timezone);
    let answer = clickhouse::run(&config(&ctx.env)?.clickhouse, &sql, "TabSeparated").await?;
    if answer.status != 200 {
        return Err(Failure::refused(
            400,
            format!("{field}: {timezone:?} is not a time zone ClickHouse knows"),
        ));
    }
    Ok(())
}

/// `GET /api/admin/export`: the sites and the keys (hashes only), for a
/// backup (`node scripts/admin.mjs export`).
pub async fn export(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async { respond::ok(&admin::export(&allowed(&request, &ctx).await?)) }.await,
    )
}

/// An export of the most sites and goals the admin API allows fits.
const MAX_IMPORT_BODY: usize = 4 * 1024 * 1024;

/// `PUT /api/admin/import`: an export replaces every site and key.
pub async fn import(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            allowed(&request, &ctx).await?;
            let body = body::read(&mut request, MAX_IMPORT_BODY).await?;
            let change = admin::import(&body)?;
            if let Change::Import { sites, .. } = &change {
                let mut zones: Vec<&str> = sites.iter().map(|s| s.timezone.as_str()).collect();
                zones.sort_unstable();
                zones.dedup();
                for zone in zones {
                    known_timezone(&ctx, zone, "sites[].timezone").await?;
                }
            }
            make(&ctx, &change).await
        }
        .await,
    )
}

pub async fn delete_site(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            allowed(&request, &ctx).await?;
            let domain = admin::domain(ctx.param("domain").map_or("", String::as_str))?;
            make(&ctx, &Change::DeleteSite { domain }).await
        }
        .await,
    )
}

pub async fn add_key(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json("admin", async {
        allowed(&request, &ctx).await?;
        let body = body::read(&mut request, MAX_ADMIN_BODY).await?;
        let (key, secret) = admin::add_key(&body, &random_bytes())?;
        match settings::change(&ctx.env, &Change::AddKey(key.clone())).await? {
            // the secret is shown this once; only its hash is kept
            Ok(_) => respond::ok(
                &serde_json::json!({ "id": key.id, "name": key.name, "sites": key.sites, "key": secret }),
            ),
            Err(reason) => Err(Failure::refused(409, reason)),
        }
    }.await)
}

pub async fn revoke_key(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            allowed(&request, &ctx).await?;
            let id = ctx.param("id").cloned().unwrap_or_default();
            make(&ctx, &Change::RevokeKey { id }).await
        }
        .await,
    )
}

/// `POST /api/admin/visits/rebuild` `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}`
/// (UTC days, inclusive): recomputes the stored visits from `events`, for
/// events loaded without the queue (imports, fixtures) or after a repair.
pub async fn rebuild_visits(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            allowed(&request, &ctx).await?;
            let body = body::read(&mut request, MAX_ADMIN_BODY).await?;
            let (from, to) = admin::rebuild_range(&body)?;
            let sql = ingest::store::visits::rebuild_sql(&from, &to);
            let answer = clickhouse::run(&config(&ctx.env)?.clickhouse, &sql, "").await?;
            if answer.status != 200 {
                return Err(Failure::Storage(format!(
                    "rebuilding visits: ClickHouse {} (code {:?})",
                    answer.status, answer.exception_code
                )));
            }
            respond::ok(&serde_json::json!({ "rebuilt": [from, to] }))
        }
        .await,
    )
}

/// `POST /api/admin/retention/run`: the cron's retention pass, now (bare
/// workerd has no cron trigger). 200 with what failed, if anything.
pub async fn run_retention(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            allowed(&request, &ctx).await?;
            let failed = super::retention::enforce(&ctx.env).await;
            respond::ok(&serde_json::json!({ "failed": failed }))
        }
        .await,
    )
}
