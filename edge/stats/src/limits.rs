//! What one Stats API request may cost. A query is refused with a 400 that
//! names the limit before any statement runs when its range or its time
//! buckets are too many; every statement it does run is read-only and
//! bounded in time and memory by ClickHouse itself ([`READ_SETTINGS`]).
//! Its rows are bounded by `pagination.limit` (10,000, Plausible's) and its
//! body by the Worker (`MAX_BODY_BYTES`).

use crate::plan::granularity;
use crate::query::{Query, QueryError};
use crate::range::Resolved;
use crate::schema::Granularity;

/// The largest request body, in bytes: every value travels as a URL parameter.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The longest date range: 20 years of days.
pub const MAX_RANGE_DAYS: u32 = 7_305;
/// The most time buckets a query may ask for (a year of hours is 8,760).
pub const MAX_BUCKETS: u32 = 10_000;
/// How long ClickHouse may work on one statement, in seconds.
pub const MAX_EXECUTION_SECONDS: u32 = 15;
/// How much memory ClickHouse may use for one statement, in bytes.
pub const MAX_MEMORY_BYTES: u64 = 4_000_000_000;

/// The settings every read statement carries: read-only (`readonly = 2`
/// refuses any write, and still lets a statement set its own limits), with
/// ClickHouse's limits on time, memory and result rows.
pub const READ_SETTINGS: &str = "SETTINGS readonly = 2, max_execution_time = 15, \
     max_memory_usage = 4000000000, max_result_rows = 100000, result_overflow_mode = 'throw'";

/// The longest statement sent: ClickHouse refuses a query over its
/// `max_query_size` (256 KiB by default) before running it. A site's
/// privacy checks repeat a query's filters in its statement, so many
/// filter values can reach it: a 400 names them, rather than a 5xx.
pub const MAX_STATEMENT_BYTES: usize = 240_000;

/// A 400 when one of `statements` is over [`MAX_STATEMENT_BYTES`].
pub fn check_size(statements: &[model::sql::Sql]) -> Result<(), crate::query::QueryError> {
    match statements.iter().map(|s| s.text.len()).max() {
        Some(longest) if longest > MAX_STATEMENT_BYTES => Err(crate::query::QueryError(format!(
            "filters: too many clauses or values for this site's privacy checks: a statement of {} KB (at most {} KB); ask with fewer",
            longest / 1000,
            MAX_STATEMENT_BYTES / 1000
        ))),
        _ => Ok(()),
    }
}

/// `sql` as it is sent: with [`READ_SETTINGS`] (and its parameters as they were).
pub fn limited(sql: &model::sql::Sql) -> model::sql::Sql {
    let mut limited = sql.clone();
    limited.text = format!("{} {READ_SETTINGS}", sql.text);
    limited
}

/// ClickHouse's codes for a statement over its time or memory limit.
const TIMEOUT_EXCEEDED: u32 = 159;
const MEMORY_LIMIT_EXCEEDED: u32 = 241;
const TOO_MANY_ROWS_OR_BYTES: u32 = 396;

/// A 400 for a query over a limit, before anything runs.
pub fn check(query: &Query, range: &Resolved) -> Result<(), QueryError> {
    let seconds = range.to.saturating_sub(range.from);
    let days = seconds.div_ceil(86_400);
    if days > MAX_RANGE_DAYS {
        return Err(QueryError(format!(
            "date_range: spans {days} days; at most {MAX_RANGE_DAYS} (20 years)"
        )));
    }
    for dimension in &query.dimensions {
        let Some(g) = granularity(dimension, range) else {
            continue;
        };
        // an upper bound: a DST day has 25 hours, and a range may cut a bucket at each end
        let length = match g {
            Granularity::Hour | Granularity::Auto => 3_600,
            Granularity::Day => 82_800,
            Granularity::Week => 7 * 86_400 - 3_600,
            Granularity::Month => 28 * 86_400 - 3_600,
        };
        let buckets = seconds.div_ceil(length) + 1;
        if buckets > MAX_BUCKETS {
            return Err(QueryError(format!(
                "dimensions: {} over this date_range makes about {buckets} time buckets; at most {MAX_BUCKETS} (choose a coarser time dimension or a shorter range)",
                dimension.name()
            )));
        }
    }
    Ok(())
}

/// The request's fault behind ClickHouse stopping a statement at a limit.
pub fn over_limit(exception_code: Option<u32>) -> Option<QueryError> {
    match exception_code? {
        TIMEOUT_EXCEEDED => Some(QueryError(format!(
            "the query took longer than {MAX_EXECUTION_SECONDS} s: shorten its date_range or narrow its filters"
        ))),
        MEMORY_LIMIT_EXCEEDED => Some(QueryError(
            "the query needs more memory than one query may use: shorten its date_range or group by fewer dimensions".into(),
        )),
        TOO_MANY_ROWS_OR_BYTES => Some(QueryError(
            "the query's answer has more rows than one answer may: group by fewer dimensions or filter".into(),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn resolved(days: u32) -> Resolved {
        Resolved {
            from: 1_700_000_000,
            to: 1_700_000_000 + days * 86_400,
            ..Resolved::default()
        }
    }

    fn query(dimension: &str) -> Query {
        parse(format!(r#"{{"site_id":"s","metrics":["visitors"],"date_range":"all","dimensions":["{dimension}"]}}"#).as_bytes())
            .expect("a query")
    }

    #[test]
    fn ranges_and_buckets_over_their_limits_are_refused_naming_them() {
        assert_eq!(check(&query("time:hour"), &resolved(400)), Ok(()));
        let hours = check(&query("time:hour"), &resolved(8_000)).unwrap_err();
        assert!(
            hours
                .0
                .starts_with("date_range: spans 8000 days; at most 7305"),
            "{}",
            hours.0
        );
        let hours = check(&query("time:hour"), &resolved(417)).unwrap_err();
        assert!(hours.0.starts_with("dimensions: time:hour over this date_range makes about 10009 time buckets; at most 10000"), "{}", hours.0);
        assert_eq!(check(&query("time:day"), &resolved(7_305)), Ok(()));
        assert_eq!(check(&query("time:month"), &resolved(7_305)), Ok(()));
        assert_eq!(
            check(&query("time"), &resolved(7_305)),
            Ok(()),
            "auto: months"
        );
        assert_eq!(check(&query("event:page"), &resolved(7_305)), Ok(()));
    }

    #[test]
    fn the_settings_are_read_only_and_limited() {
        assert!(READ_SETTINGS.contains("readonly = 2"));
        let mut sql = model::sql::Sql::default();
        let p = sql.bind("String", "s");
        sql.text = format!("SELECT 1 WHERE site_domain = {p}");
        let sent = limited(&sql);
        assert_eq!(
            sent.text,
            format!("SELECT 1 WHERE site_domain = {{p0:String}} {READ_SETTINGS}")
        );
        assert_eq!(sent.params, sql.params);
        assert!(READ_SETTINGS.contains(&format!("max_execution_time = {MAX_EXECUTION_SECONDS}")));
        assert!(READ_SETTINGS.contains(&format!("max_memory_usage = {MAX_MEMORY_BYTES}")));
        for code in [159, 241, 396] {
            assert!(over_limit(Some(code)).is_some(), "{code}");
        }
        assert_eq!(over_limit(Some(60)), None);
        assert_eq!(over_limit(None), None);
    }
}
