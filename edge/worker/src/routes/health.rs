//! `GET /api/health`: 200 when ClickHouse answers, 503 with the reason when
//! it does not (events are still accepted: they wait on the queue).

use super::bindings::config;
use super::clickhouse;
use super::respond::{self, Failure};
use worker::{Request, Response, Result, RouteContext};

pub async fn get(_request: Request, ctx: RouteContext<()>) -> Result<Response> {
    respond::json("health", check(&ctx).await)
}

async fn check(ctx: &RouteContext<()>) -> std::result::Result<Response, Failure> {
    let config = config(&ctx.env)?;
    let clickhouse = match clickhouse::ping(&config.clickhouse).await {
        Ok(true) => "ok".to_string(),
        Ok(false) => "ClickHouse answered /ping with an error".to_string(),
        Err(error) => format!("ClickHouse unreachable: {error}"),
    };
    let status = if clickhouse == "ok" { 200 } else { 503 };
    let body = serde_json::json!({ "status": if status == 200 { "ok" } else { "degraded" }, "clickhouse": clickhouse });
    Ok(Response::from_json(&body)?.with_status(status))
}
