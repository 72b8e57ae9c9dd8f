//! The Cloudflare Workers adapter: routes and bindings around the pure
//! modules. Every decision is made in `ingest`, `privacy` and `sink`.
//!
//! | route | handler |
//! |---|---|
//! | `POST /api/event`, `OPTIONS /api/event` | [`event`] |
//! | `GET /api/health` | [`health`] |
//! | `POST /api/v2/query`, `GET /api/v1/stats/realtime/visitors` | [`stats`] |
//! | `/api/admin/…` (sites, goals, retention, API keys) | [`admin`] |
//! | `/api/auth/login`, `/api/auth/logout`, `/api/auth/session` | [`session`] |
//! | queue `events` | [`consumer`] |
//! | cron (wrangler.toml `[triggers]`) | [`retention`] |
//! | Durable Object `Salts` | [`salt`] |
//! | Durable Object `SiteSettings` | [`settings`] |
//!
//! Static assets (`/js/script.js`, its Wasm, the demo) are served by Workers
//! static assets from `www/` (wrangler.toml), before this code runs.

mod admin;
mod clickhouse;
mod consumer;
mod event;
mod health;
mod respond;
mod retention;
mod salt;
mod session;
mod settings;
mod stats;

use crate::config::{Config, RawConfig};
use worker::{
    event, Context, Env, MessageBatch, Request, Response, Result, Router, ScheduleContext,
    ScheduledEvent,
};

/// Binding names, as in wrangler.toml.
const EVENTS_QUEUE: &str = "EVENTS";
const SALTS: &str = "SALTS";
const SITE_SETTINGS: &str = "SITE_SETTINGS";

#[worker::wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The runtime's CSPRNG (Web Crypto).
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// `N` bytes from the runtime's CSPRNG: salts, API keys, session tokens.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    get_random_values(&mut bytes);
    bytes
}

thread_local! {
    /// The configuration, validated on an isolate's first request (the
    /// Worker's start-up, as far as it has one) and reused after.
    static CONFIG: std::cell::OnceCell<Config> = const { std::cell::OnceCell::new() };
}

/// The validated configuration; a misconfigured Worker fails loudly (a 500
/// naming the variable) on every request until it is fixed.
fn config(env: &Env) -> Result<Config> {
    if let Some(config) = CONFIG.with(|cell| cell.get().cloned()) {
        return Ok(config);
    }
    let var = |name: &str| {
        env.var(name)
            .ok()
            .map(|v| v.to_string())
            .or_else(|| env.secret(name).ok().map(|s| s.to_string()))
    };
    let config = RawConfig {
        clickhouse_url: var("CLICKHOUSE_URL"),
        clickhouse_user: var("CLICKHOUSE_USER"),
        clickhouse_password: var("CLICKHOUSE_PASSWORD"),
        clickhouse_database: var("CLICKHOUSE_DATABASE"),
        trusted_proxy: var("TRUSTED_PROXY"),
        admin_token: var("ADMIN_TOKEN"),
        admin_user: var("ADMIN_USER"),
        admin_password_hash: var("ADMIN_PASSWORD_HASH"),
    }
    .validate()
    .map_err(|e| worker::Error::RustError(e.to_string()))?;
    // a concurrent first request may have set it already: either copy is the same
    CONFIG.with(|cell| cell.set(config.clone()).ok());
    Ok(config)
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    Router::new()
        .post_async("/api/event", event::post)
        .options("/api/event", |_, _| event::preflight())
        .get_async("/api/health", health::get)
        .post_async("/api/v2/query", stats::query)
        .get_async("/api/v1/stats/realtime/visitors", stats::realtime)
        .get_async("/api/admin/settings", admin::show)
        .put_async("/api/admin/sites/:domain", admin::put_site)
        .delete_async("/api/admin/sites/:domain", admin::delete_site)
        .post_async("/api/admin/keys", admin::add_key)
        .delete_async("/api/admin/keys/:id", admin::revoke_key)
        .post_async("/api/admin/visits/rebuild", admin::rebuild_visits)
        .post_async("/api/auth/login", session::login)
        .post_async("/api/auth/logout", session::logout)
        .get_async("/api/auth/session", session::show)
        .run(request, env)
        .await
}

#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    consumer::consume(batch, &config(&env)?).await
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    retention::enforce(&env).await;
}
