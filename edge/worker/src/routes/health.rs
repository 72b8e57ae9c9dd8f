//! `GET /api/health`: 200 when ClickHouse answers, 503 with the reason when
//! it does not (events are still accepted: they wait on the queue).
//! `GET /api/health?check=worker`: 200 when this Worker is configured and
//! answering, whatever ClickHouse does — the probe for a load balancer or
//! Kubernetes, which must keep sending events to a replica through a
//! ClickHouse outage (they wait on its queue).

use super::bindings::config;
use super::clickhouse;
use super::respond::{self, Failure};
use worker::{Request, Response, Result, RouteContext};

pub async fn get(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let worker_only = request.url().is_ok_and(|url| {
        url.query_pairs()
            .any(|(k, v)| k == "check" && v == "worker")
    });
    respond::json("health", check(&ctx, worker_only).await)
}

async fn check(
    ctx: &RouteContext<()>,
    worker_only: bool,
) -> std::result::Result<Response, Failure> {
    let config = config(&ctx.env)?;
    // optional features refused at start-up: off, named (never their values);
    // the key is there only when one is
    let off: Vec<String> = config.off.iter().map(ToString::to_string).collect();
    let with_off = |mut body: serde_json::Value| {
        if !off.is_empty() {
            body["off"] = serde_json::json!(off);
        }
        body
    };
    if worker_only {
        let body = with_off(serde_json::json!({ "status": "ok", "clickhouse": "not checked" }));
        return Ok(Response::from_json(&body)?);
    }
    let clickhouse = match clickhouse::ping(&config.clickhouse).await {
        Ok(true) => "ok".to_string(),
        Ok(false) => "ClickHouse answered /ping with an error".to_string(),
        Err(error) => format!("ClickHouse unreachable: {error}"),
    };
    let status = if clickhouse == "ok" { 200 } else { 503 };
    let body = with_off(serde_json::json!({
        "status": if status == 200 { "ok" } else { "degraded" },
        "clickhouse": clickhouse,
    }));
    Ok(Response::from_json(&body)?.with_status(status))
}
