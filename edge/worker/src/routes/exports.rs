//! The cron's fourth pass: each site's closed UTC days changed since their
//! last export are written as Parquet files by ClickHouse itself
//! (`ingest::store::parquet`), to `EXPORT_URL`; then marked exported. A
//! failure leaves the day due, and the next run (an hour later) writes it
//! again whole. Self-hosted workerd has no cron: `POST /api/admin/exports/run`
//! runs the same pass.

use super::bindings::config;
use super::{clickhouse, log, settings};
use crate::config::Clickhouse;
use ingest::store::parquet::{due_sql, export_sql, exported_sql, Target, DAYS_PER_RUN};

/// What one pass did.
#[derive(Debug, Default)]
pub struct Pass {
    /// `(site, YYYY-MM-DD)` exported.
    pub exported: Vec<(String, String)>,
    pub failed: Vec<String>,
    /// No `EXPORT_URL`: nothing to do.
    pub off: bool,
}

impl Pass {
    fn fail(&mut self, message: String) {
        log::error("exports", &message);
        self.failed.push(message);
    }
}

/// One pass over every site.
pub async fn run(env: &worker::Env) -> Pass {
    let mut pass = Pass::default();
    let config = match config(env) {
        Ok(config) => config,
        Err(e) => {
            pass.fail(format!("exports: {e}"));
            return pass;
        }
    };
    let Some(target) = &config.export else {
        match config
            .off
            .iter()
            .find(|e| e.variable().starts_with("EXPORT_"))
        {
            Some(refused) => pass.fail(format!("exports: off: {refused}")),
            None => pass.off = true,
        }
        return pass;
    };
    let store = match settings::load(env).await {
        Ok(store) => store,
        Err(e) => {
            pass.fail(format!("exports: {e}"));
            return pass;
        }
    };
    for site in &store.sites {
        // one budget for all sites, as the rollups have
        let budget = DAYS_PER_RUN.saturating_sub(pass.exported.len() as u32);
        if budget == 0 {
            break;
        }
        let due = match clickhouse::text(&config.clickhouse, &due_sql(&site.domain, budget), "TSV")
            .await
        {
            Ok(body) => body,
            Err(e) => {
                pass.fail(format!("exports of {}: {e}", site.domain));
                continue;
            }
        };
        for line in due.lines() {
            let Some((date, changed)) = line
                .split_once('\t')
                .and_then(|(d, c)| Some((d.to_string(), c.parse::<u64>().ok()?)))
            else {
                pass.fail(format!(
                    "exports of {}: unreadable row {line:?}",
                    site.domain
                ));
                continue;
            };
            match export_day(&config.clickhouse, &site.domain, &date, changed, target).await {
                Ok(()) => pass.exported.push((site.domain.clone(), date)),
                Err(e) => pass.fail(format!("export of {} {date}: {e}", site.domain)),
            }
        }
    }
    if !pass.exported.is_empty() {
        log::info("exports", format!("exported {} days", pass.exported.len()));
    }
    pass
}

/// The day's two files, then its mark (only once both are written).
async fn export_day(
    ch: &Clickhouse,
    site: &str,
    date: &str,
    changed: u64,
    target: &Target,
) -> Result<(), String> {
    for statement in export_sql(site, date, target) {
        clickhouse::execute(ch, &statement).await?;
    }
    clickhouse::execute(ch, &exported_sql(site, date, changed)).await
}
