//! `GET /metrics`: this isolate's [`Metrics`] in Prometheus' text format,
//! behind `Authorization: Bearer <METRICS_TOKEN>` (unset: 404, no metrics
//! endpoint). The routes record into it through [`record`].

use super::bindings::config;
use super::caller::Caller;
use crate::metrics::Metrics;
use control::access::shared_secret;
use worker::{Headers, Request, Response, Result, RouteContext};

thread_local! {
    static METRICS: std::cell::RefCell<Metrics> = std::cell::RefCell::new(Metrics::default());
}

/// Changes this isolate's metrics.
pub fn record(change: impl FnOnce(&mut Metrics)) {
    METRICS.with(|metrics| change(&mut metrics.borrow_mut()));
}

/// Seconds since `started_ms`, for a latency.
pub fn seconds_since(started_ms: u64) -> f64 {
    worker::Date::now().as_millis().saturating_sub(started_ms) as f64 / 1000.0
}

pub async fn get(request: Request, ctx: RouteContext<()>) -> Result<Response> {
    let Some(token) = config(&ctx.env).ok().and_then(|c| c.metrics_token) else {
        return Response::error("no metrics endpoint: METRICS_TOKEN is not set", 404);
    };
    let required = "Authorization: Bearer <METRICS_TOKEN> is required";
    if let Err(denied) = shared_secret(
        &Caller::of(&request).credentials(),
        Some(&token.0),
        required,
    ) {
        return Response::error(denied.to_string(), denied.status());
    }
    let text = METRICS.with(|metrics| metrics.borrow().render());
    let headers = Headers::new();
    headers.set("content-type", "text/plain; version=0.0.4; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::ok(text)?.with_headers(headers))
}
