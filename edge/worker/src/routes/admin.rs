//! `/api/admin/…`: sites (time zone, retention, goals, props), Stats API
//! keys and visit rebuilds, for the admin token or the dashboard's session
//! (`control::access::admin`), each as far as the caller's role on the site
//! allows (`control::access::allowed`; the installation's own operations
//! for super-admins). Requests become `control::admin` changes, made by the
//! `SiteSettings` object, which records them in the audit log.

use super::bindings::{config, random_bytes};
use super::body;
use super::caller::Caller;
use super::clickhouse;
use super::respond::{self, Failure};

/// A site with its goals and props is a few kilobytes.
const MAX_ADMIN_BODY: usize = 64 * 1024;
use super::settings;
use control::access::{self, Principal};
use control::admin;
use control::people::Need;
use control::settings::Change;
use model::settings::Store;
use worker::{Date, Method, Request, Response, Result, RouteContext};

/// The settings and who asks, when the request may use the admin API; a
/// refusal otherwise. What they may do there, each route asks.
pub(super) async fn allowed(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<(Store, Principal), Failure> {
    let config = config(&ctx.env)?;
    let store = settings::load(&ctx.env).await?;
    let token = config.admin_token.as_ref().map(|t| t.0.as_str());
    let change = request.method() != Method::Get;
    let caller = Caller::of(request);
    let password = config.login.as_ref().map(|l| l.password.fingerprint());
    let principal = access::admin(
        &caller.credentials(),
        token,
        &store,
        Date::now().as_millis(),
        password.as_deref(),
        change,
    )?;
    Ok((store, principal))
}

/// The settings and who asks, when they have the role `need` asks for on
/// at least one site (each route then checks the site it touches).
pub(super) async fn with_role(
    request: &Request,
    ctx: &RouteContext<()>,
    need: Need,
) -> std::result::Result<(Store, Principal), Failure> {
    let (store, principal) = allowed(request, ctx).await?;
    access::somewhere(&store, &principal, need)?;
    Ok((store, principal))
}

/// The installation's own operations: super-admins only.
pub(super) async fn super_admin(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<(Store, Principal), Failure> {
    let (store, principal) = allowed(request, ctx).await?;
    access::super_admin(&principal)?;
    Ok((store, principal))
}

/// The settings as `principal` may see them: the sites they manage.
pub(super) fn view(store: &Store, principal: &Principal) -> serde_json::Value {
    admin::view_for(store, |site| {
        access::allowed(store, principal, site, Need::Manage).is_ok()
    })
}

pub(super) async fn make(
    ctx: &RouteContext<()>,
    principal: &Principal,
    change: &Change,
) -> std::result::Result<Response, Failure> {
    match settings::change(&ctx.env, principal.label(), change).await? {
        Ok(store) => respond::ok(&view(&store, principal)),
        Err(reason) => Err(Failure::refused(409, reason)),
    }
}

pub async fn show(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::Manage).await?;
            respond::ok(&view(&store, &principal))
        }
        .await,
    )
}

pub async fn put_site(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::Manage).await?;
            let domain = ctx.param("domain").cloned().unwrap_or_default();
            let body = body::read(&mut request, MAX_ADMIN_BODY).await?;
            let change = admin::put_site(&domain, &body)?;
            if let Change::PutSite(site) = &change {
                match store.site(&site.domain) {
                    // a new site is the installation's business
                    None => access::super_admin(&principal)?,
                    Some(old) => {
                        access::allowed(&store, &principal, &site.domain, Need::Manage)?;
                        // a new webhook into this machine's network is the
                        // installation's own admins' call
                        let new_private_hook = site.webhooks.iter().any(|hook| {
                            control::notifications::reaches_private_network(&hook.url)
                                && !old.webhooks.iter().any(|o| o.url == hook.url)
                        });
                        if new_private_hook {
                            access::super_admin(&principal)?;
                        }
                        if old.require_second_factor != site.require_second_factor {
                            access::allowed(&store, &principal, &site.domain, Need::Own)?;
                            access::may_require_second_factor(&principal, site)?;
                        }
                    }
                }
                known_timezone(&ctx, &site.timezone, "timezone").await?;
                // a segment's filters are the Stats API's: checked by its parser
                for (i, segment) in site.segments.iter().enumerate() {
                    stats::query::filters(&segment.filters, &format!("segments[{i}].filters"))?;
                }
            }
            make(&ctx, &principal, &change).await
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
        async {
            let (store, principal) = super_admin(&request, &ctx).await?;
            access::installation(&principal)?;
            respond::ok(&admin::export(&store))
        }
        .await,
    )
}

/// An export of the most sites and goals the admin API allows fits.
const MAX_IMPORT_BODY: usize = 4 * 1024 * 1024;

/// `PUT /api/admin/import`: an export replaces every site and key.
pub async fn import(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            let (_, principal) = super_admin(&request, &ctx).await?;
            access::installation(&principal)?;
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
            make(&ctx, &principal, &change).await
        }
        .await,
    )
}

pub async fn delete_site(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::Own).await?;
            let domain = admin::domain(ctx.param("domain").map_or("", String::as_str))?;
            access::allowed(&store, &principal, &domain, Need::Own)?;
            make(&ctx, &principal, &Change::DeleteSite { domain }).await
        }
        .await,
    )
}

pub async fn add_key(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json("admin", async {
        let (store, principal) = with_role(&request, &ctx, Need::Manage).await?;
        let body = body::read(&mut request, MAX_ADMIN_BODY).await?;
        let (key, secret) = admin::add_key(&body, &random_bytes())?;
        for site in &key.sites {
            if store.is_site(site) {
                access::allowed(&store, &principal, site, Need::Manage)?;
            } else {
                access::super_admin(&principal)?;
            }
        }
        match settings::change(&ctx.env, principal.label(), &Change::AddKey(key.clone())).await? {
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
            let (store, principal) = with_role(&request, &ctx, Need::Manage).await?;
            let id = ctx.param("id").cloned().unwrap_or_default();
            match store.keys.iter().find(|k| k.id == id) {
                Some(key) => {
                    for site in &key.sites {
                        access::allowed(&store, &principal, site, Need::Manage)?;
                    }
                }
                None => return Err(Failure::refused(404, format!("no API key {id:?}"))),
            }
            make(&ctx, &principal, &Change::RevokeKey { id }).await
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
            super_admin(&request, &ctx).await?;
            let body = body::read(&mut request, MAX_ADMIN_BODY).await?;
            let (from, to) = admin::rebuild_range(&body)?;
            // the visits, then the days' change stamps: their rolls are stale
            let clickhouse = config(&ctx.env)?.clickhouse;
            for sql in [
                ingest::store::visits::rebuild_sql(&from, &to),
                ingest::store::visits::rebuilt_sql(&from, &to),
            ] {
                let answer = clickhouse::run(&clickhouse, &sql, "").await?;
                if answer.status != 200 {
                    return Err(Failure::Storage(format!(
                        "rebuilding visits: ClickHouse {} (code {:?})",
                        answer.status, answer.exception_code
                    )));
                }
            }
            respond::ok(&serde_json::json!({ "rebuilt": [from, to] }))
        }
        .await,
    )
}

/// `POST /api/admin/rollups/run`: the cron's rollup pass, now: 200 with the
/// days rolled, what failed, and whether more days are due (run again).
pub async fn run_rollups(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            super_admin(&request, &ctx).await?;
            let pass = super::rollups::roll(&ctx.env).await;
            let rolled: Vec<serde_json::Value> = pass
                .rolled
                .iter()
                .map(|(site, day)| serde_json::json!({ "site": site, "day": day }))
                .collect();
            respond::ok(&serde_json::json!({
                "rolled": rolled,
                "failed": pass.failed,
                "more": pass.more
            }))
        }
        .await,
    )
}

/// `POST /api/admin/notifications/run`: the cron's notifications pass, now
/// (bare workerd has no cron trigger). 200 with what it sent and what failed.
pub async fn run_notifications(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            super_admin(&request, &ctx).await?;
            let pass = super::notify::run(&ctx.env).await;
            respond::ok(&serde_json::json!({
                "sent": pass.sent,
                "delivered": pass.delivered,
                "pending": pass.pending,
                "failed": pass.failed,
            }))
        }
        .await,
    )
}

/// `POST /api/admin/exports/run`: the cron's Parquet export pass, now.
/// 200 with the days exported and what failed; 409 without `EXPORT_URL`.
pub async fn run_exports(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "admin",
        async {
            super_admin(&request, &ctx).await?;
            let pass = super::exports::run(&ctx.env).await;
            if pass.off {
                return Err(Failure::refused(
                    409,
                    "no export is configured: set EXPORT_URL (docs/exports.md)",
                ));
            }
            let exported: Vec<serde_json::Value> = pass
                .exported
                .iter()
                .map(|(site, date)| serde_json::json!({ "site": site, "date": date }))
                .collect();
            respond::ok(&serde_json::json!({ "exported": exported, "failed": pass.failed }))
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
            super_admin(&request, &ctx).await?;
            let failed = super::retention::enforce(&ctx.env).await;
            respond::ok(&serde_json::json!({ "failed": failed }))
        }
        .await,
    )
}
