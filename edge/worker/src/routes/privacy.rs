//! `GET /api/v2/privacy?site_id=` (everyone who reads the site): the site's
//! privacy report (`crate::privacy_report`); `GET
//! /api/admin/sites/:domain/props` (the site's admins): its custom
//! properties of the last 30 days, each with a warning when it looks
//! personal (`stats::privacy::personal`) — counts only, never a value.

use super::admin::with_role;
use super::bindings::config;
use super::respond::{self, Failure};
use super::stats::{reader, select, site_id_param};
use crate::privacy_report;
use control::access;
use control::people::Need;
use serde_json::{json, Value};
use stats::columns::count;
use stats::privacy::{personal, props_sql, PropCounts};
use worker::{Request, Response, Result, RouteContext};

pub async fn report(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "privacy",
        async {
            let (_, store, reader) = reader(&request, &ctx).await?;
            let site = access::site_for(&store, &reader, &site_id_param(&request)?)?;
            let statements = privacy_report::report(site, Some(&store));
            respond::ok(&privacy_report::to_json(site, &statements))
        }
        .await,
    )
}

pub async fn props(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json(
        "privacy",
        async {
            let (store, principal) = with_role(&request, &ctx, Need::Manage).await?;
            let domain = ctx.param("domain").cloned().unwrap_or_default();
            access::allowed(&store, &principal, &domain, Need::Manage)?;
            let site = store
                .site(&domain)
                .ok_or_else(|| Failure::refused(404, format!("no site {domain}")))?;
            let config = config(&ctx.env)?;
            let rows = select(&config.clickhouse_read, &props_sql(site)).await?;
            respond::ok(&json!({ "site": site.domain, "props": listed(site, &rows) }))
        }
        .await,
    )
}

/// Every property seen, and every one the site lists, with its counts and
/// warning.
fn listed(site: &model::settings::Site, rows: &[Value]) -> Vec<Value> {
    let mut out: Vec<(String, PropCounts)> = rows
        .iter()
        .filter_map(|row| {
            let cells = row.as_array()?;
            let number = |i: usize| cells.get(i).and_then(count);
            Some((
                cells.first()?.as_str()?.to_string(),
                PropCounts {
                    values: number(1)?,
                    visitors: number(2)?,
                    emails: number(3)?,
                    ids: number(4)?,
                    count: number(5)?,
                },
            ))
        })
        .collect();
    for key in &site.props {
        if !out.iter().any(|(k, _)| k == key) {
            out.push((key.clone(), PropCounts::default()));
        }
    }
    // the counts of a prop fewer than the site's minimum group size used are
    // not shown, even to its admins
    let counted = |n: u64, c: &PropCounts| {
        (site.min_group_size <= 1 || c.visitors >= u64::from(site.min_group_size)).then_some(n)
    };
    out.iter()
        .map(|(key, c)| {
            json!({
                "key": key,
                "listed": site.props.contains(key),
                "breakdown": site.may_list_prop(key),
                "values": counted(c.values, c),
                "visitors": counted(c.visitors, c),
                "warning": personal(key, c),
            })
        })
        .collect()
}
