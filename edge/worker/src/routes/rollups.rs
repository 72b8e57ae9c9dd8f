//! The cron trigger's second pass, after retention: rolls each site's closed
//! UTC days changed since their last roll (`stats::sql::{due_sql, roll_sql}`).
//! Per day: ClickHouse's clock as the roll's version, the INSERT of its rows,
//! then the row that makes them readable; a failure leaves the day read from
//! its events, and the next run (an hour later) tries again. Self-hosted
//! workerd has no cron: `POST /api/admin/rollups/run` runs the same pass.

use super::bindings::config;
use super::{clickhouse, log, settings};
use crate::config::Clickhouse;
use model::settings::Site;
use model::sql::Sql;
use stats::sql::{due_sql, logged_sql, read_numbers, roll_sql, version_sql};
use worker::Env;

/// Days rolled per run, all sites together: each is ~9 ClickHouse requests
/// (a Worker invocation may make 1,000 subrequests on a paid plan), and a
/// year of one site's backlog takes ten hourly runs.
pub const DAYS_PER_RUN: u32 = 40;

/// What one pass did.
#[derive(Debug, Default)]
pub struct Pass {
    /// (site, Unix seconds of the day's UTC midnight) rolled.
    pub rolled: Vec<(String, u32)>,
    pub failed: Vec<String>,
    /// More days were due than one run rolls.
    pub more: bool,
}

/// One pass over every site.
pub async fn roll(env: &Env) -> Pass {
    let mut pass = Pass::default();
    let config = match config(env) {
        Ok(config) => config,
        Err(e) => return pass.fail(format!("rollups: {e}")),
    };
    let store = match settings::load(env).await {
        Ok(store) => store,
        Err(e) => return pass.fail(format!("rollups: {e}")),
    };
    for site in &store.sites {
        let budget = DAYS_PER_RUN.saturating_sub(pass.rolled.len() as u32);
        if budget == 0 {
            pass.more = true;
            break;
        }
        let due = match numbers(&config.clickhouse, &due_sql(site, budget)).await {
            Ok(due) => due,
            Err(e) => {
                pass = pass.fail(format!("rollups for {}: {e}", site.domain));
                continue;
            }
        };
        pass.more |= due.len() >= budget as usize;
        for day in due {
            let Ok(day) = u32::try_from(day) else {
                pass = pass.fail(format!("rollups for {}: no such day {day}", site.domain));
                continue;
            };
            match roll_day(&config.clickhouse, site, day).await {
                Ok(()) => pass.rolled.push((site.domain.clone(), day)),
                Err(e) => pass = pass.fail(format!("rollup of {} day {day}: {e}", site.domain)),
            }
        }
    }
    if !pass.rolled.is_empty() {
        log::info("rollups", format!("rolled {} days", pass.rolled.len()));
    }
    pass
}

async fn roll_day(clickhouse: &Clickhouse, site: &Site, day: u32) -> Result<(), String> {
    let version = numbers(clickhouse, &version_sql())
        .await?
        .first()
        .copied()
        .ok_or("no clock")?;
    for insert in roll_sql(site, day, version) {
        run(clickhouse, &insert).await?;
    }
    run(clickhouse, &logged_sql(site, day, version)).await
}

async fn run(clickhouse: &Clickhouse, sql: &Sql) -> Result<(), String> {
    clickhouse::execute(clickhouse, sql).await
}

async fn numbers(clickhouse: &Clickhouse, sql: &Sql) -> Result<Vec<u64>, String> {
    let body = clickhouse::text(clickhouse, sql, "TSV").await?;
    read_numbers(&body).map_err(|e| e.to_string())
}

impl Pass {
    fn fail(mut self, message: String) -> Pass {
        log::error("rollups", &message);
        self.failed.push(message);
        self
    }
}
