//! `POST /api/v2/query`, `POST /api/v2/funnel` and `GET
//! /api/v1/stats/realtime/visitors`: who may read (`control::access`), then
//! `stats`: the range first (ClickHouse resolves the site's time zone), then
//! the plan's statements, sent together, then the answer.

use super::bindings::config;
use super::body;
use super::caller::Caller;
use super::clickhouse::{self, Answer};
use super::respond::{self, Failure};
use super::{metrics, settings};
use crate::config::{Clickhouse, Config};
use control::access::{self, Reader};
use futures_util::future::try_join_all;
use model::settings::Site;
use model::settings::Store;
use model::sql::Sql;
use serde_json::Value;
use stats::answer::{answer, realtime_answer};
use stats::range::{read_resolved, resolve_sql};
use stats::sql::{funnel_privacy_statements, funnel_statement};
use stats::{first_page_statement, funnel, plan, query, realtime_sql, statements, v1};
use worker::{Date, Request, Response, Result, RouteContext};

pub async fn query(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let started = Date::now().as_millis();
    timed(
        started,
        respond::json("stats", run_query(&mut request, &ctx).await),
    )
}

pub async fn funnel(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let started = Date::now().as_millis();
    timed(
        started,
        respond::json("stats", run_funnel(&mut request, &ctx).await),
    )
}

pub async fn realtime(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let started = Date::now().as_millis();
    timed(
        started,
        respond::json("stats", run_realtime(&request, &ctx).await),
    )
}

/// `POST /api/v2/export`: a view (site, range, filters) as Plausible's zip
/// of one CSV per panel (`stats::export`).
pub async fn export(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let started = Date::now().as_millis();
    timed(
        started,
        respond::json("stats", run_export(&mut request, &ctx).await),
    )
}

async fn run_export(
    request: &mut Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<Response, Failure> {
    let (config, store, reader) = reader(request, ctx).await?;
    let body = body::read(request, stats::limits::MAX_BODY_BYTES).await?;
    let site = access::site_for(&store, &reader, &stats::export::site_id(&body)?)?;
    let mut panels = stats::export::panels(&body, site)?;
    if let Reader::Shared(link) = &reader {
        // a link limited to a filter exports nothing outside it
        let scope = query::filters(&link.filters, "shared link filters")?;
        for panel in &mut panels {
            query::limit_to(&mut panel.query, scope.clone())?;
        }
    }
    let ch = &config.clickhouse_read;
    // every panel has the view's range: resolved once
    let Some(first) = panels.first() else {
        return Err(Failure::refused(400, "nothing to export"));
    };
    let range = read_resolved(&select(ch, &resolve_sql(&first.query.date_range, site)).await?)?;
    // each answer becomes its file's rows at once: the answers are never all held
    let mut files = stats::export::Files::default();
    for panel in &panels {
        let answer = answer_in_range(ch, site, panel.query.clone(), range.clone()).await?;
        if !files.add(panel, &answer) {
            return Err(Failure::refused(
                413,
                format!(
                    "the export passes {} MiB of CSV: narrow the date range or filters",
                    stats::export::MAX_CSV_BYTES / (1024 * 1024)
                ),
            ));
        }
    }
    let zipped = stats::export::zip(&files.into_files()).map_err(Failure::Storage)?;
    let mut response = Response::from_bytes(zipped)?;
    let headers = response.headers_mut();
    headers.set("content-type", "application/zip")?;
    // a site's domain is letters, digits, dots and dashes (`admin::domain`)
    headers.set(
        "content-disposition",
        &format!("attachment; filename=\"{}-export.zip\"", site.domain),
    )?;
    headers.set("cache-control", "no-store")?;
    Ok(response)
}

/// Records a Stats API request's latency, and whether it failed (5xx).
fn timed(started: u64, response: Result<Response>) -> Result<Response> {
    let failed = response.as_ref().map_or(true, |r| r.status_code() >= 500);
    metrics::record(|m| {
        m.query_latency.observe(metrics::seconds_since(started));
        if failed {
            m.query_errors += 1;
        }
    });
    response
}

/// `data` of a `JSONCompact` answer, read-only and within ClickHouse's
/// limits (`stats::limits::READ_SETTINGS`); ClickHouse errors become failures.
pub(super) async fn select(
    clickhouse: &Clickhouse,
    sql: &Sql,
) -> std::result::Result<Vec<Value>, Failure> {
    let limited = stats::limits::limited(sql);
    let Answer {
        status,
        exception_code,
        body,
    } = clickhouse::run(clickhouse, &limited, "JSONCompact").await?;
    if status != 200 {
        if let Some(fault) = stats::error::request_fault(exception_code)
            .or_else(|| stats::limits::over_limit(exception_code))
        {
            return Err(fault.into());
        }
        return Err(Failure::Storage(format!(
            "ClickHouse {status} (code {exception_code:?})"
        )));
    }
    let parsed: Value = serde_json::from_str(&body)?;
    Ok(parsed
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// `?site_id=` of a read by query string, or a 400.
pub(super) fn site_id_param(request: &Request) -> std::result::Result<String, Failure> {
    request
        .url()?
        .query_pairs()
        .find(|(k, _)| k == "site_id")
        .map(|(_, v)| v.to_string())
        .ok_or_else(|| Failure::refused(400, "site_id is required"))
}

/// The configuration, the settings, and who reads (an API key, or the session), or 401.
pub(super) async fn reader(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<(Config, Store, Reader), Failure> {
    let config = config(&ctx.env)?;
    let store = settings::load(&ctx.env).await?;
    let caller = Caller::of(request);
    let password = config.login.as_ref().map(|l| l.password.fingerprint());
    let reader = access::reader(
        &caller.credentials(),
        &store,
        Date::now().as_millis(),
        password.as_deref(),
    )?;
    Ok((config, store, reader))
}

async fn run_query(
    request: &mut Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<Response, Failure> {
    let (config, store, reader) = reader(request, ctx).await?;
    let body = body::read(request, stats::limits::MAX_BODY_BYTES).await?;
    let query = query::parse(&body)?;
    let site = access::site_for(&store, &reader, &query.site_id)?;
    respond::ok(&answer_query(&config.clickhouse_read, site, &reader, query).await?)
}

/// A v2 query's answer: the range, the plan's statements sent together,
/// then the answer. A shared link's filters are added first.
async fn answer_query(
    ch: &Clickhouse,
    site: &Site,
    reader: &Reader,
    mut query: query::Query,
) -> std::result::Result<Value, Failure> {
    if let Reader::Shared(link) = reader {
        // a link limited to a filter reads nothing outside it
        query::limit_to(
            &mut query,
            query::filters(&link.filters, "shared link filters")?,
        )?;
    }
    answer_of(ch, site, query).await
}

/// The answer to a query already limited to what its reader may see (the
/// cron's reports and alerts read as the installation).
pub(super) async fn answer_of(
    ch: &Clickhouse,
    site: &Site,
    query: query::Query,
) -> std::result::Result<Value, Failure> {
    let range_sql = resolve_sql(&query.date_range, site);
    let range = read_resolved(&select(ch, &range_sql).await?)?;
    answer_in_range(ch, site, query, range).await
}

/// The answer to a query whose range is resolved already.
async fn answer_in_range(
    ch: &Clickhouse,
    site: &Site,
    query: query::Query,
    range: stats::range::Resolved,
) -> std::result::Result<Value, Failure> {
    stats::limits::check(&query, &range)?;
    stats::privacy::check(&query, site)?;
    let plan = plan::plan_for(&query, range, site.min_group_size)?;
    let sqls = statements(&plan, site);
    stats::limits::check_size(&sqls)?;
    let results = try_join_all(sqls.iter().map(|sql| select(ch, sql))).await?;
    let first_page = match first_page_statement(&plan, site, &results) {
        Some(sql) => Some(select(ch, &sql).await?),
        None => None,
    };
    let mut answered = answer(&plan, &results, first_page.as_deref())?;
    if site.min_group_size > 1 {
        // what a null and `meta.suppressed` mean, for the clients that show it
        answered["meta"]["min_group_size"] = site.min_group_size.into();
    }
    Ok(answered)
}

/// `GET /api/v1/stats/aggregate`, `timeseries`, `breakdown`: Plausible's v1,
/// answered as the v2 query it translates to (`stats::v1`).
pub async fn v1(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let started = Date::now().as_millis();
    timed(
        started,
        respond::json("stats", run_v1(&request, &ctx).await),
    )
}

async fn run_v1(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<Response, Failure> {
    let Some(endpoint) = ctx.param("endpoint").and_then(|e| v1::Endpoint::parse(e)) else {
        return Err(Failure::refused(
            404,
            "the v1 endpoints are aggregate, timeseries, breakdown and realtime/visitors",
        ));
    };
    let (config, store, reader) = reader(request, ctx).await?;
    let params: Vec<(String, String)> = request
        .url()?
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let wanted = v1::request(endpoint, &params)?;
    let query = query::parse(wanted.body.to_string().as_bytes())?;
    let site = access::site_for(&store, &reader, &query.site_id)?;
    let ch = &config.clickhouse_read;
    let answer = answer_query(ch, site, &reader, query).await?;
    let previous = match v1::previous_body(&wanted, &answer).filter(|_| wanted.compare) {
        Some(body) => {
            let before = query::parse(body.to_string().as_bytes())?;
            Some(answer_query(ch, site, &reader, before).await?)
        }
        None => None,
    };
    respond::ok(&v1::reshape(&wanted, &answer, previous.as_ref()))
}

async fn run_funnel(
    request: &mut Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<Response, Failure> {
    let (config, store, reader) = reader(request, ctx).await?;
    let body = body::read(request, stats::limits::MAX_BODY_BYTES).await?;
    let parsed = funnel::parse(&body)?;
    let site = access::site_for(&store, &reader, &parsed.query.site_id)?;
    let mut funnel = parsed.saved(site)?;
    if let Reader::Shared(link) = &reader {
        // a link limited to a filter reads nothing outside it
        query::limit_to(
            &mut funnel.query,
            query::filters(&link.filters, "shared link filters")?,
        )?;
    }
    let ch = &config.clickhouse_read;
    let range_sql = resolve_sql(&funnel.query.date_range, site);
    let range = read_resolved(&select(ch, &range_sql).await?)?;
    stats::limits::check(&funnel.query, &range)?;
    // the visits of the range and filters (the `visits` metric's plan), and
    // those that entered, sent together
    stats::privacy::check(&funnel.query, site)?;
    let plan = plan::plan_for(&funnel.query, range.clone(), site.min_group_size)?;
    let mut sqls = statements(&plan, site);
    // with a minimum group size, each step's visitors per day too, and its complements'
    let k = site.min_group_size;
    let guarded = if k > 1 {
        funnel_privacy_statements(&funnel, site, &range)
    } else {
        Vec::new()
    };
    let planned = sqls.len();
    sqls.extend(guarded);
    sqls.push(funnel_statement(&funnel, site, &range));
    stats::limits::check_size(&sqls)?;
    let mut results = try_join_all(sqls.iter().map(|sql| select(ch, sql))).await?;
    let rows = results.pop().unwrap_or_default();
    let furthest = results.split_off(planned);
    let visits = answer(&plan, &results, None)?;
    // null: hidden by the privacy guard
    let all_visits = visits["results"][0]["metrics"][0].as_u64();
    respond::ok(&funnel::answer(
        &funnel, &range, &rows, all_visits, &furthest, k,
    )?)
}

async fn run_realtime(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<Response, Failure> {
    let (config, store, reader) = reader(request, ctx).await?;
    let site = access::site_for(&store, &reader, &site_id_param(request)?)?;
    if matches!(&reader, Reader::Shared(link) if !link.filters.is_empty()) {
        return Err(Failure::refused(
            403,
            "a shared link limited to a filter shows no realtime count",
        ));
    }
    let rows = select(&config.clickhouse_read, &realtime_sql(site)).await?;
    respond::ok(&realtime_answer(&rows, site.min_group_size)?)
}
