//! The cron trigger: deletes each site's data older than its retention
//! (`ingest::store::retention`). Best effort per site: a failure is logged
//! and the next run (an hour later) tries again.

use super::bindings::config;
use super::{clickhouse, settings};
use ingest::store::retention::delete_sql;
use worker::{console_error, console_log, Env};

pub async fn enforce(env: &Env) {
    let config = match config(env) {
        Ok(config) => config,
        Err(e) => return console_error!("retention: {e}"),
    };
    let store = match settings::load(env).await {
        Ok(store) => store,
        Err(e) => return console_error!("retention: {e}"),
    };
    for site in &store.sites {
        for sql in delete_sql(site) {
            match clickhouse::run(&config.clickhouse, &sql, "").await {
                Ok(answer) if answer.status == 200 => {
                    console_log!("retention: applied {:?} to {}", site.retention, site.domain)
                }
                Ok(answer) => console_error!(
                    "retention for {}: ClickHouse {}",
                    site.domain,
                    answer.status
                ),
                Err(e) => console_error!("retention for {}: {e}", site.domain),
            }
        }
    }
}
