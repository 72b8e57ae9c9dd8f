//! Visits, stored (`visitor_days`, clickhouse/migrations/0003): the
//! statements that recompute them from `events`, the one source of truth.
//!
//! A visit is a visitor's events with no gap over 30 minutes (Plausible's
//! rule); a visitor id lives one UTC day, so a visitor-day is split into
//! visits alone. Its entry and exit pages are its first and last pageview's;
//! its source, referrer, UTM and channel come from its first interactive
//! event (not an `engagement`). Timestamps are whole seconds, so ties are broken the same
//! way everywhere: pageviews first, then by name, path and the value itself.
//!
//! After each queue batch the consumer runs [`refresh_sql`] for the
//! visitor-days it touched; [`rebuild_sql`] recomputes whole days (events
//! loaded another way, or a repair). Both write whole visitor-days with a
//! newer version, which replaces the old row (`ReplacingMergeTree`).

use model::row::Row;
use model::sql::Sql;
use model::tables::{DAY_CHANGES, EVENTS, VISITOR_DAYS};
use std::collections::BTreeMap;

/// A visit ends after this many seconds without an event.
pub const VISIT_GAP_SECONDS: u32 = 1800;

/// The INSERT … SELECT that recomputes the visitor-days of `events` rows
/// selected by `selection` (a condition over `events`).
fn recompute(selection: &str) -> String {
    let gap = VISIT_GAP_SECONDS;
    // a visit starts at a visitor-day's first event and after every gap;
    // events of one second share a visit (RANGE counts tied rows together)
    let window = "PARTITION BY site_domain, toDate(timestamp), visitor_id ORDER BY timestamp";
    let numbered = format!(
        "SELECT *, sum(is_new) OVER ({window} RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS visit_no \
         FROM (SELECT *, ifNull(toUInt32(dateDiff('second', lagInFrame(toNullable(timestamp)) \
         OVER ({window} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), timestamp) > {gap}), 1) AS is_new \
         FROM {EVENTS} WHERE {selection})"
    );
    let active = "name != 'engagement'";
    let first = |column: &str| {
        format!("argMinIf({column}, (timestamp, name != 'pageview', name, pathname, {column}), {active}) AS v_{column}")
    };
    let visitor = |column: &str| {
        format!("argMin({column}, (timestamp, name, pathname, {column})) AS v_{column}")
    };
    let per_visit = format!(
        "SELECT site_domain, toDate(timestamp) AS date, visitor_id, visit_no, \
         min(timestamp) AS v_start, max(timestamp) AS v_end, \
         minIf(timestamp, {active}) AS v_first_active, maxIf(timestamp, {active}) AS v_last_active, \
         toUInt32(countIf(name = 'pageview')) AS v_pageviews, \
         toUInt32(countIf(name NOT IN ('pageview', 'engagement') AND interactive)) AS v_interactions, \
         toUInt32(countIf({active})) AS v_active, \
         argMinIf(pathname, (timestamp, pathname), name = 'pageview') AS v_entry_page, \
         argMaxIf(pathname, (timestamp, pathname), name = 'pageview') AS v_exit_page, \
         {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {} \
         FROM ({numbered}) GROUP BY site_domain, date, visitor_id, visit_no",
        first("channel"),
        first("referrer_source"),
        first("referrer"),
        first("utm_medium"),
        first("utm_source"),
        first("utm_campaign"),
        first("utm_content"),
        first("utm_term"),
        visitor("device"),
        visitor("browser"),
        visitor("browser_version"),
        visitor("operating_system"),
        visitor("operating_system_version"),
        visitor("country_code"),
    );
    let visitor_first = |column: &str| format!("argMin(v_{column}, v_start) AS {column}");
    format!(
        "INSERT INTO {VISITOR_DAYS} SELECT site_domain, date, visitor_id, \
         toUInt64(toUnixTimestamp64Micro(now64(6))) AS version, \
         {}, {}, {}, {}, {}, {}, \
         groupArray(v_start), groupArray(v_end), groupArray(v_first_active), groupArray(v_last_active), \
         groupArray(v_pageviews), groupArray(v_interactions), groupArray(v_active), \
         groupArray(v_entry_page), groupArray(v_exit_page), groupArray(v_referrer_source), \
         groupArray(v_referrer), groupArray(v_utm_medium), groupArray(v_utm_source), \
         groupArray(v_utm_campaign), groupArray(v_utm_content), groupArray(v_utm_term), \
         groupArray(v_channel) \
         FROM ({per_visit}) GROUP BY site_domain, date, visitor_id",
        visitor_first("device"),
        visitor_first("browser"),
        visitor_first("browser_version"),
        visitor_first("operating_system"),
        visitor_first("operating_system_version"),
        visitor_first("country_code"),
    )
}

/// Recomputes the visits of `visitor_ids` on `site` and UTC `date` (YYYY-MM-DD).
pub fn refresh_sql(site: &str, date: &str, visitor_ids: &[u64]) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", site);
    let date_p = sql.bind("Date", date);
    let ids = model::sql::ids(visitor_ids.iter().copied());
    sql.text = recompute(&format!(
        "site_domain = {site_p} AND toDate(timestamp) = {date_p} AND visitor_id IN {ids}"
    ));
    sql
}

/// Recomputes every visit of the UTC days `from` to `to` (inclusive).
pub fn rebuild_sql(from: &str, to: &str) -> Sql {
    let mut sql = Sql::default();
    let from_p = sql.bind("Date", from);
    let to_p = sql.bind("Date", to);
    sql.text = recompute(&format!("toDate(timestamp) BETWEEN {from_p} AND {to_p}"));
    sql
}

/// ClickHouse's clock now, as a day's change stamp (microseconds).
const NOW: &str = "toUInt64(toUnixTimestamp64Micro(now64(6)))";

/// Stamps `site`'s UTC `date` as changed now: run after the day's events are
/// stored and their visits refreshed, so that a roll of the day that began
/// earlier (and may have missed them) is no longer read (`stats::sql::days`).
pub fn changed_sql(site: &str, date: &str) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", site);
    let date_p = sql.bind("Date", date);
    sql.text = format!(
        "INSERT INTO {DAY_CHANGES} (site_domain, date, changed) SELECT {site_p}, {date_p}, {NOW}"
    );
    sql
}

/// Stamps every site's days from `from` to `to` (inclusive) that hold
/// events as changed now: run after [`rebuild_sql`] of those days.
pub fn rebuilt_sql(from: &str, to: &str) -> Sql {
    let mut sql = Sql::default();
    let from_p = sql.bind("Date", from);
    let to_p = sql.bind("Date", to);
    sql.text = format!(
        "INSERT INTO {DAY_CHANGES} (site_domain, date, changed) SELECT site_domain, toDate(timestamp) AS date, {NOW} \
         FROM {EVENTS} WHERE toDate(timestamp) BETWEEN {from_p} AND {to_p} GROUP BY site_domain, date"
    );
    sql
}

/// The visitor-days a batch's rows touched: (site, UTC date) → visitor ids.
pub fn touched<'a>(
    rows: impl IntoIterator<Item = &'a Row>,
) -> BTreeMap<(String, String), Vec<u64>> {
    let mut days: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for row in rows {
        let ids = days
            .entry((row.site_domain.clone(), row.date().to_string()))
            .or_default();
        if !ids.contains(&row.visitor_id) {
            ids.push(row.visitor_id);
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_binds_its_site_date_and_visitors() {
        let sql = refresh_sql("a'.example", "2026-11-25", &[7, 9]);
        assert!(!sql.text.contains("a'.example") && !sql.text.contains("2026"));
        assert!(sql.text.contains("visitor_id IN [7,9]") && sql.params.len() == 2);
        assert!(sql.text.starts_with("INSERT INTO visitor_days SELECT"));
        let stamp = changed_sql("a'.example", "2026-11-25");
        assert!(!stamp.text.contains("a'.example") && stamp.text.contains("day_changes"));
    }
}
