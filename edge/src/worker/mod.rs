//! The Cloudflare Workers adapter: routes and bindings around the pure
//! modules. Every decision is made in `ingest`, `privacy` and `sink`.
//!
//! | route | handler |
//! |---|---|
//! | `POST /api/event`, `OPTIONS /api/event` | [`event`] |
//! | `GET /api/health` | [`health`] |
//! | queue `events` | [`consumer`] |
//! | Durable Object `Salts` | [`salt`] |
//!
//! Static assets (`/js/script.js`, its Wasm, the demo) are served by Workers
//! static assets from `www/` (wrangler.toml), before this code runs.

mod clickhouse;
mod consumer;
mod event;
mod health;
mod salt;

use crate::settings::{RawSettings, Settings};
use worker::{event, Context, Env, MessageBatch, Request, Response, Result, Router};

/// Binding names, as in wrangler.toml.
const EVENTS_QUEUE: &str = "EVENTS";
const SALTS: &str = "SALTS";

thread_local! {
    /// The settings, validated on an isolate's first request (the Worker's
    /// start-up, as far as it has one) and reused after.
    static SETTINGS: std::cell::OnceCell<Settings> = const { std::cell::OnceCell::new() };
}

/// The validated settings; a misconfigured Worker fails loudly (a 500 naming
/// the setting) on every request until it is fixed.
fn settings(env: &Env) -> Result<Settings> {
    if let Some(settings) = SETTINGS.with(|cell| cell.get().cloned()) {
        return Ok(settings);
    }
    let var = |name: &str| {
        env.var(name)
            .ok()
            .map(|v| v.to_string())
            .or_else(|| env.secret(name).ok().map(|s| s.to_string()))
    };
    let settings = RawSettings {
        sites: var("SITES"),
        clickhouse_url: var("CLICKHOUSE_URL"),
        clickhouse_user: var("CLICKHOUSE_USER"),
        clickhouse_password: var("CLICKHOUSE_PASSWORD"),
        clickhouse_database: var("CLICKHOUSE_DATABASE"),
        trusted_proxy: var("TRUSTED_PROXY"),
    }
    .validate()
    .map_err(|e| worker::Error::RustError(e.to_string()))?;
    // a concurrent first request may have set it already: either copy is the same
    SETTINGS.with(|cell| cell.set(settings.clone()).ok());
    Ok(settings)
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    Router::new()
        .post_async("/api/event", event::post)
        .options("/api/event", |_, _| event::preflight())
        .get_async("/api/health", health::get)
        .run(request, env)
        .await
}

#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    consumer::consume(batch, &settings(&env)?).await
}
