//! The cron trigger: deletes each site's data older than its retention
//! (`ingest::store::retention`). Best effort per site: a failure is logged
//! and the next run (an hour later) tries again. Self-hosted workerd has no
//! cron: `POST /api/admin/retention/run` (a Kubernetes CronJob, or the
//! self-host launcher's timer) runs the same pass.

use super::bindings::config;
use super::{clickhouse, log, settings};
use ingest::store::retention::delete_sql;
use worker::Env;

/// One pass over every site; what failed, each logged too.
pub async fn enforce(env: &Env) -> Vec<String> {
    let config = match config(env) {
        Ok(config) => config,
        Err(e) => return failed(format!("retention: {e}")),
    };
    let store = match settings::load(env).await {
        Ok(store) => store,
        Err(e) => return failed(format!("retention: {e}")),
    };
    let mut failures = Vec::new();
    for site in &store.sites {
        for sql in delete_sql(site, &config.topology) {
            match clickhouse::run(&config.clickhouse, &sql, "").await {
                Ok(answer) if answer.status == 200 => log::info(
                    "retention",
                    format!("applied {:?} to {}", site.retention, site.domain),
                ),
                Ok(answer) => failures.extend(failed(format!(
                    "retention for {}: ClickHouse {}",
                    site.domain, answer.status
                ))),
                Err(e) => failures.extend(failed(format!("retention for {}: {e}", site.domain))),
            }
        }
    }
    failures
}

fn failed(message: String) -> Vec<String> {
    log::error("retention", &message);
    vec![message]
}
