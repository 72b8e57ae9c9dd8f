//! The cron trigger: deletes each site's events older than its retention
//! (`settings::retention`). Best effort per site: a failure is logged and
//! the next run (an hour later) tries again.

use super::{clickhouse, config, settings};
use crate::settings::retention::delete_sql;
use worker::{console_error, console_log, Env};

pub async fn enforce(env: &Env) {
    let (config, store) = match (config(env), settings::load(env).await) {
        (Ok(config), Ok(store)) => (config, store),
        (Err(e), _) | (_, Err(e)) => return console_error!("retention: {e}"),
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
