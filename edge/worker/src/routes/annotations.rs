//! `/api/admin/sites/:domain/annotations` (add, remove: the site's admins)
//! and `GET /api/v2/annotations?site_id=` (everyone who reads the site):
//! dated notes on a site's chart, by `control::annotations`.

use super::admin::with_role;
use super::bindings::random_bytes;
use super::body;
use super::respond::{self, Failure};
use super::settings;
use super::stats::{reader, site_id_param};
use control::access::{self, Principal};
use control::annotations;
use control::people::Need;
use control::settings::Change;
use model::settings::Store;
use serde_json::json;
use worker::{Date, Request, Response, Result, RouteContext};

const MAX_BODY: usize = 4 * 1024;

/// The settings, the caller and the site of a change: the caller must be
/// one of the site's admins, meeting its second-factor rule.
async fn manager(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<(Store, Principal, String), Failure> {
    let (store, principal) = with_role(request, ctx, Need::Manage).await?;
    let site = ctx.param("domain").cloned().unwrap_or_default();
    access::allowed(&store, &principal, &site, Need::Manage)?;
    Ok((store, principal, site))
}

/// The site's notes, as every route here answers: date and text (who wrote
/// one is the audit log's, not every reader's, to know).
fn notes(store: &Store, site: &str) -> std::result::Result<Response, Failure> {
    let notes: Vec<_> = annotations::of_site(store, site)
        .into_iter()
        .map(|a| json!({ "id": a.id, "date": a.date, "text": a.text }))
        .collect();
    respond::ok(&json!({ "annotations": notes }))
}

async fn apply(
    ctx: &RouteContext<()>,
    principal: &Principal,
    site: &str,
    change: &Change,
) -> std::result::Result<Response, Failure> {
    let store = settings::change(&ctx.env, principal.label(), change)
        .await?
        .map_err(|reason| Failure::refused(409, reason))?;
    notes(&store, site)
}

/// `POST /api/admin/sites/:domain/annotations` `{date, text}`.
pub async fn add(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "annotations",
        async {
            let (store, principal, site) = manager(&request, &ctx).await?;
            let body = body::read(&mut request, MAX_BODY).await?;
            let change = annotations::annotate(
                &store,
                &principal.actor(),
                principal.label(),
                &site,
                &body,
                &random_bytes(),
                Date::now().as_millis(),
            )?;
            apply(&ctx, &principal, &site, &change).await
        }
        .await,
    )
}

/// `DELETE /api/admin/sites/:domain/annotations/:id`.
pub async fn remove(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "annotations",
        async {
            let (store, principal, site) = manager(&request, &ctx).await?;
            let id = ctx.param("id").cloned().unwrap_or_default();
            let change = annotations::remove(&store, &principal.actor(), &site, &id)?;
            apply(&ctx, &principal, &site, &change).await
        }
        .await,
    )
}

/// `GET /api/v2/annotations?site_id=`: the notes of a site the caller reads
/// (an API key, a session, a shared link), by date.
pub async fn list(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "annotations",
        async {
            let (_, store, reader) = reader(&request, &ctx).await?;
            let site = access::site_for(&store, &reader, &site_id_param(&request)?)?;
            notes(&store, &site.domain)
        }
        .await,
    )
}
