//! `POST /api/v2/query` and `GET /api/v1/stats/realtime/visitors`: a key
//! check, then `stats` (parse → range → plan → ClickHouse → answer).

use super::clickhouse::{self, Answer};
use super::{config, respond, session, settings};
use crate::config::Clickhouse;
use crate::settings::{keys, ApiKey, Site, Store};
use crate::stats::answer::{answer, count, read_row, Returned};
use crate::stats::query::{parse, QueryError};
use crate::stats::range::{read_resolved, resolve_sql, Resolved};
use crate::stats::sql::Sql;
use crate::stats::{plan, realtime_sql};
use serde_json::Value;
use std::collections::HashMap;
use worker::{console_error, Request, Response, Result, RouteContext};

/// Bodies larger than this are refused: every value travels as a URL parameter.
const MAX_BODY: usize = 16 * 1024;
/// ClickHouse's code for a regular expression it cannot compile (`matches`).
const CANNOT_COMPILE_REGEXP: u32 = 427;

/// Why a request gets no answer, as its status and message.
enum Refusal {
    Status(u16, String),
    Failed(worker::Error),
}

impl From<worker::Error> for Refusal {
    fn from(e: worker::Error) -> Self {
        Refusal::Failed(e)
    }
}

impl From<QueryError> for Refusal {
    fn from(e: QueryError) -> Self {
        Refusal::Status(400, e.0)
    }
}

fn refuse<T>(status: u16, message: impl Into<String>) -> std::result::Result<T, Refusal> {
    Err(Refusal::Status(status, message.into()))
}

fn reply(result: std::result::Result<Value, Refusal>) -> Result<Response> {
    match result {
        Ok(value) => respond::json(&value),
        Err(Refusal::Status(status, message)) => respond::error(status, &message),
        Err(Refusal::Failed(e)) => {
            console_error!("stats: {e}");
            respond::error(
                503,
                "the Stats API cannot reach its storage; try again shortly",
            )
        }
    }
}

/// Who may read: an API key's sites, or every site (the dashboard's session).
enum Reader {
    Key(ApiKey),
    Administrator,
}

/// The reader of `Authorization: Bearer <API key>` or of the session cookie, or 401.
fn reader(request: &Request, store: &Store) -> std::result::Result<Reader, Refusal> {
    let header = request.headers().get("Authorization").ok().flatten();
    let Some(token) = keys::bearer(header.as_deref()) else {
        if session::has_session(request, store) {
            return Ok(Reader::Administrator);
        }
        return refuse(401, "Authorization: Bearer <API key> is required");
    };
    match store.key_by_hash(&keys::sha256_hex(token.as_bytes())) {
        Some(key) => Ok(Reader::Key(key.clone())),
        None => refuse(401, "the API key is not valid (revoked or mistyped)"),
    }
}

/// The site the reader may read, or 403 (the same for a site that does not exist).
fn site_for<'a>(
    store: &'a Store,
    reader: &Reader,
    site_id: &str,
) -> std::result::Result<&'a Site, Refusal> {
    let allowed = match reader {
        Reader::Key(key) => key.sites.iter().any(|s| s == site_id),
        Reader::Administrator => true,
    };
    match store.site(site_id) {
        Some(site) if allowed => Ok(site),
        _ => refuse(
            403,
            format!("site_id: this API key cannot read {site_id:?}"),
        ),
    }
}

/// `data` of a `JSONCompact` answer; ClickHouse errors become refusals.
async fn select(clickhouse: &Clickhouse, sql: &Sql) -> std::result::Result<Vec<Value>, Refusal> {
    let Answer {
        status,
        exception_code,
        body,
    } = clickhouse::run(clickhouse, sql, "JSONCompact").await?;
    if status != 200 {
        if exception_code == Some(CANNOT_COMPILE_REGEXP) {
            return refuse(
                400,
                "filters: a matches value is not a valid regular expression (RE2 syntax)",
            );
        }
        console_error!("stats: ClickHouse {status} (code {exception_code:?})");
        return refuse(
            503,
            "the Stats API cannot query its storage; try again shortly",
        );
    }
    let parsed: Value = serde_json::from_str(&body)
        .map_err(|e| worker::Error::RustError(format!("ClickHouse JSON: {e}")))?;
    Ok(parsed
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

fn bad_row(row: &Value) -> Refusal {
    Refusal::Failed(worker::Error::RustError(format!("unexpected row {row}")))
}

async fn resolve(clickhouse: &Clickhouse, sql: &Sql) -> std::result::Result<Resolved, Refusal> {
    let rows = select(clickhouse, sql).await?;
    let row = rows.first().cloned().unwrap_or(Value::Null);
    match read_resolved(&row) {
        Some(resolved) => Ok(resolved?),
        None => Err(bad_row(&row)),
    }
}

async fn run_query(
    request: &mut Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<Value, Refusal> {
    let config = config(&ctx.env)?;
    let store = settings::load(&ctx.env).await?;
    let key = reader(request, &store)?;
    let body = request.bytes().await.unwrap_or_default();
    if body.len() > MAX_BODY {
        return refuse(400, format!("the body is larger than {MAX_BODY} bytes"));
    }
    let query = parse(&body)?;
    let site = site_for(&store, &key, &query.site_id)?;
    let ch = &config.clickhouse;
    let range = resolve(
        ch,
        &resolve_sql(&query.date_range, &site.domain, &site.timezone),
    )
    .await?;
    let plan = plan(&query, site, &range)?;
    let dims = query.dimensions.len();
    let read = |rows: Vec<Value>, n: usize| {
        rows.iter()
            .map(|r| read_row(r, n).map_err(|_| bad_row(r)))
            .collect::<std::result::Result<Vec<_>, _>>()
    };
    let rows = read(select(ch, &plan.main).await?, dims)?;
    let total_visitors = match &plan.percentage {
        Some(sql) => read(select(ch, sql).await?, 0)?
            .first()
            .map(|(_, c)| c.visitors),
        None => None,
    };
    let conversion_totals = match &plan.conversions {
        Some(sql) => Some(
            read(select(ch, sql).await?, plan.conversion_dimensions)?
                .into_iter()
                .map(|(key, c)| (key, c.visitors))
                .collect::<HashMap<_, _>>(),
        ),
        None => None,
    };
    let time_labels = match &plan.labels {
        Some(sql) => Some(
            select(ch, sql)
                .await?
                .iter()
                .filter_map(|r| r.get(0).and_then(Value::as_str).map(str::to_string))
                .collect(),
        ),
        None => None,
    };
    let total_rows = match (&plan.first_page, rows.is_empty()) {
        (Some(sql), true) => read(select(ch, sql).await?, dims)?
            .first()
            .map(|(_, c)| c.total_rows),
        _ => None,
    };
    let visit_components = match &plan.visit_part {
        Some(sql) => read(select(ch, sql).await?, 0)?.first().map(|(_, c)| *c),
        None => None,
    };
    let returned = Returned {
        visit_components,
        total_rows,
        rows,
        total_visitors,
        conversion_totals,
        time_labels,
    };
    Ok(answer(&query, &range, &returned))
}

pub async fn query(mut request: Request, ctx: RouteContext<()>) -> Result<Response> {
    reply(run_query(&mut request, &ctx).await)
}

async fn run_realtime(
    request: &Request,
    ctx: &RouteContext<()>,
) -> std::result::Result<Value, Refusal> {
    let config = config(&ctx.env)?;
    let store = settings::load(&ctx.env).await?;
    let key = reader(request, &store)?;
    let url = request.url()?;
    let Some(site_id) = url
        .query_pairs()
        .find(|(k, _)| k == "site_id")
        .map(|(_, v)| v.to_string())
    else {
        return refuse(400, "site_id is required");
    };
    let site = site_for(&store, &key, &site_id)?;
    let rows = select(&config.clickhouse, &realtime_sql(site)).await?;
    let visitors = rows
        .first()
        .and_then(|r| r.get(0))
        .and_then(count)
        .ok_or_else(|| bad_row(&Value::Array(rows.clone())))?;
    Ok(Value::from(visitors))
}

pub async fn realtime(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    reply(run_realtime(&request, &ctx).await)
}
