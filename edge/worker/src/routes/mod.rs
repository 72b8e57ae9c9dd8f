//! Everything that touches the Workers runtime: the entry points (the router,
//! the queue consumer, the cron) and one file per route or handler. Each
//! stays thin — it reads the request, calls the pure crates
//! (docs/architecture.md), and answers through one error boundary ([`respond`]).
//!
//! | route | file | the pure code it calls |
//! |---|---|---|
//! | `POST /api/event`, `OPTIONS /api/event` | [`event`] | `ingest::pipeline` (admit → salt → rows), `ingest::answer` |
//! | `GET /api/health` | [`health`] | |
//! | `GET /js/script.<extensions>.js` (Plausible's script names) | [`assets`] | `crate::assets` |
//! | `GET /metrics` (behind `METRICS_TOKEN`) | [`metrics`] | `crate::metrics` |
//! | `POST /api/v2/query`, `POST /api/v2/funnel`, `POST /api/v2/export`, `GET /api/v1/stats/realtime/visitors`, `GET /api/v1/stats/{aggregate,timeseries,breakdown}` | [`stats`] | `stats` (range → plan → statements → answer; `stats::funnel`, `stats::v1`, `stats::export`), `control::access` |
//! | `/api/admin/…` (sites, goals, retention, keys, visit rebuilds, export and import) | [`admin`] | `control::admin`, `control::access` |
//! | `/api/auth/login`, `/api/auth/logout`, `/api/auth/session` | [`session`] | `control::login`, `control::people`, `control::access` |
//! | `/api/auth/sso/start`, `/api/auth/sso/callback` (OpenID Connect) | [`sso`] | `control::sso`, `control::people` |
//! | `/api/admin/people`, `/api/admin/invitations`, `/api/admin/audit`, `/api/admin/sites/:domain/shared-links`, `/api/auth/invitations/accept`, `/api/auth/second-factor`, `/api/share`, `/share/:token` | [`people`] | `control::people`, `control::audit`, `control::access` |
//! | `/api/admin/sites/:domain/annotations` (add, remove), `GET /api/v2/annotations` | [`annotations`] | `control::annotations`, `control::access` |
//! | queues `events`, `events-dlq` | [`consumer`] | `ingest::store::{batch, delivery, visits}` |
//! | `/api/admin/dead-letters` (list, replay) | [`dead_letters`] | `ingest::store::dead_letter` |
//! | cron (wrangler.toml `[triggers]`), `POST /api/admin/retention/run` | [`retention`] | `ingest::store::retention` |
//! | cron, after retention; `POST /api/admin/rollups/run` | [`rollups`] | `stats::sql::{due_sql, roll_sql}` |
//! | cron, after rollups; `POST /api/admin/notifications/run` | [`notify`] | `notify` (schedule → measure → alert → message → smtp, webhook) |
//! | cron, last; `POST /api/admin/exports/run` | [`exports`] | `ingest::store::parquet` |
//! | Durable Object `DailySalts` | [`salt`] | `ingest::privacy::salt` |
//! | Durable Object `SiteSettings` | [`settings`] | `control::settings` |
//! | `/internal/state/…` (a self-hosted replica reaching the control instance's objects) | [`state`] | `control::access::shared_secret` |
//!
//! Shared: [`bindings`] (the environment: the variables validated once into
//! `crate::config`, the queue, the Durable Objects, the CSPRNG), [`body`]
//! (request bodies read up to a limit),
//! [`clickhouse`] (the HTTP client), [`caller`] (who the request is, from its
//! headers), [`respond`] (answers and the error boundary). Static assets
//! (`/js/script.js`, its Wasm, the demo, the dashboard) are served by Workers
//! static assets from `www/` (wrangler.toml), before this code runs.

mod admin;
mod annotations;
mod assets;
mod bindings;
mod body;
mod caller;
mod clickhouse;
mod consumer;
mod dead_letters;
mod event;
mod exports;
mod health;
mod log;
mod metrics;
mod notify;
mod people;
mod privacy;
mod respond;
mod retention;
mod rollups;
mod salt;
mod session;
mod settings;
mod sso;
mod state;
mod stats;

use worker::{
    event, Context, Env, MessageBatch, Request, Response, Result, Router, ScheduleContext,
    ScheduledEvent,
};

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    Router::new()
        .post_async("/api/event", event::post)
        .options("/api/event", |_, _| event::preflight())
        .get_async("/api/health", health::get)
        .get_async("/js/:file", assets::script)
        .get_async("/metrics", metrics::get)
        .post_async("/api/v2/query", stats::query)
        .post_async("/api/v2/funnel", stats::funnel)
        .post_async("/api/v2/export", stats::export)
        .get_async("/api/v1/stats/realtime/visitors", stats::realtime)
        .get_async("/api/v1/stats/:endpoint", stats::v1)
        .get_async("/api/admin/settings", admin::show)
        .get_async("/api/admin/export", admin::export)
        .put_async("/api/admin/import", admin::import)
        .put_async("/api/admin/sites/:domain", admin::put_site)
        .delete_async("/api/admin/sites/:domain", admin::delete_site)
        .post_async("/api/admin/keys", admin::add_key)
        .delete_async("/api/admin/keys/:id", admin::revoke_key)
        .post_async("/api/admin/visits/rebuild", admin::rebuild_visits)
        .post_async("/api/admin/retention/run", admin::run_retention)
        .post_async("/api/admin/rollups/run", admin::run_rollups)
        .post_async("/api/admin/notifications/run", admin::run_notifications)
        .post_async("/api/admin/exports/run", admin::run_exports)
        .get_async("/api/admin/dead-letters", dead_letters::list)
        .post_async("/api/admin/dead-letters/replay", dead_letters::replay)
        .get_async("/api/admin/people", people::list)
        .put_async("/api/admin/people/:id/roles/:domain", people::set_role)
        .put_async("/api/admin/people/:id", people::set_super_admin)
        .delete_async("/api/admin/people/:id", people::remove)
        .delete_async(
            "/api/admin/people/:id/second-factor",
            people::reset_second_factor,
        )
        .post_async("/api/admin/invitations", people::invite)
        .delete_async("/api/admin/invitations/:id", people::revoke_invitation)
        .get_async("/api/admin/audit", people::audit_log)
        .post_async("/api/admin/sites/:domain/shared-links", people::share)
        .post_async("/api/admin/sites/:domain/annotations", annotations::add)
        .delete_async(
            "/api/admin/sites/:domain/annotations/:id",
            annotations::remove,
        )
        .get_async("/api/v2/annotations", annotations::list)
        .get_async("/api/v2/privacy", privacy::report)
        .get_async("/api/admin/sites/:domain/props", privacy::props)
        .delete_async(
            "/api/admin/sites/:domain/shared-links/:id",
            people::revoke_share,
        )
        .post_async("/api/auth/login", session::login)
        .post_async("/api/auth/logout", session::logout)
        .get_async("/api/auth/session", session::show)
        .get_async("/api/auth/sso/start", sso::start)
        .get_async("/api/auth/sso/callback", sso::callback)
        .post_async("/api/auth/invitations/accept", people::accept)
        .post_async("/api/auth/second-factor", people::start_second_factor)
        .post_async(
            "/api/auth/second-factor/confirm",
            people::confirm_second_factor,
        )
        .post_async("/api/share/unlock", people::unlock)
        .get_async("/api/share", people::shared)
        .get_async("/share/:token", people::page)
        .get_async("/internal/state/:object", state::serve)
        .post_async("/internal/state/:object", state::serve)
        .get_async("/internal/state/:object/*path", state::serve)
        .post_async("/internal/state/:object/*path", state::serve)
        .run(request, env)
        .await
}

#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
    // a misconfigured Worker leaves the batch on the queue, to be retried
    let config = bindings::config(&env).map_err(|e| worker::Error::RustError(e.to_string()))?;
    consumer::consume(batch, &env, &config).await
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    // failures are logged; the next hour tries again
    retention::enforce(&env).await;
    rollups::roll(&env).await;
    notify::run(&env).await;
    exports::run(&env).await;
}
