//! A query's date range in the site's time zone, resolved to UTC instants by
//! ClickHouse (which carries the time-zone database: no copy of it in the
//! Worker). Named ranges are whole local days ending with today (`day`, `7d`,
//! `30d`) or whole calendar periods holding today (`month`, `6mo`, `12mo`,
//! `year`); `all` starts with the site's first event; `[from, to]` dates are
//! whole local days, datetimes exact instants (both ends included).

use crate::columns::{count, RowError};
use crate::error::StatsError;
use crate::query::{DateRange, QueryError};
use crate::schema::Granularity;
use crate::sql::{fresh_days_sql, goals_rolled};
use model::settings::Site;
use model::sql::Sql;
use model::tables::EVENTS;
use serde_json::Value;

/// A resolved range: `[from, to)` in Unix seconds, and its ends as the site
/// sees them (`YYYY-MM-DDThh:mm:ss±hh:mm`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub from: u32,
    pub to: u32,
    pub from_local: String,
    pub to_local: String,
    /// The whole UTC days of the range whose rollup may be read (rolled since
    /// their last change, in the site's time zone of now; [`crate::sql`]'s days).
    pub rolled: Vec<RolledDay>,
}

/// A day whose rollup may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolledDay {
    /// The day's UTC midnight, in Unix seconds.
    pub day: u32,
    /// Its roll's version.
    pub version: u64,
    /// Rolled with the site's goals of now: its goal rows may be read too.
    pub same_goals: bool,
}

/// The statement that resolves `range` for `site` in its time zone: one row
/// `[from, to, from_local, to_local, [[day, version, same goals]]]`.
pub fn resolve_sql(range: &DateRange, site: &Site) -> Sql {
    let mut sql = Sql::default();
    let tz_p = sql.bind("String", &site.timezone);
    let site_p = sql.bind("String", &site.domain);
    let goals_p = sql.bind("String", &goals_rolled(site));
    let today = format!("toDate(now(), {tz_p})");
    // (first local day, day after the last) for day ranges
    let days = |first: String, last: String| (first, format!("({last}) + 1"));
    let bounds = match range {
        DateRange::Named(name) => {
            let (first, end) = match *name {
                "day" => days(today.clone(), today.clone()),
                "7d" => days(format!("{today} - 6"), today.clone()),
                "30d" => days(format!("{today} - 29"), today.clone()),
                "month" => days(
                    format!("toStartOfMonth({today})"),
                    format!("toLastDayOfMonth({today})"),
                ),
                "6mo" => days(
                    format!("addMonths(toStartOfMonth({today}), -5)"),
                    format!("toLastDayOfMonth({today})"),
                ),
                "12mo" => days(
                    format!("addMonths(toStartOfMonth({today}), -11)"),
                    format!("toLastDayOfMonth({today})"),
                ),
                "year" => days(
                    format!("toStartOfYear({today})"),
                    format!("addYears(toStartOfYear({today}), 1) - 1"),
                ),
                // "all": from the site's first event (today when it has none)
                _ => {
                    days(
                        // minOrNull: min() of no rows is 1970-01-01, not "none"
                        format!("least({today}, ifNull((SELECT toDate(minOrNull(timestamp), {tz_p}) FROM {EVENTS} WHERE site_domain = {site_p}), {today}))"),
                        today.clone(),
                    )
                }
            };
            (
                format!("toDateTime({first}, {tz_p})"),
                format!("toDateTime({end}, {tz_p})"),
            )
        }
        DateRange::Between { from, to } if from.len() == 10 => {
            let from_p = sql.bind("Date", from);
            let to_p = sql.bind("Date", to);
            (
                format!("toDateTime({from_p}, {tz_p})"),
                format!("toDateTime({to_p} + 1, {tz_p})"),
            )
        }
        DateRange::Between { from, to } => {
            let from_p = sql.bind("String", from);
            let to_p = sql.bind("String", to);
            // both ends included: to the end of `to`'s second
            (
                format!("parseDateTimeBestEffort({from_p}, {tz_p})"),
                format!("parseDateTimeBestEffort({to_p}, {tz_p}) + 1"),
            )
        }
    };
    let local = |t: &str| {
        format!("concat(formatDateTime({t}, '%Y-%m-%dT%H:%i:%S', {tz_p}), replaceRegexpOne(formatDateTime({t}, '%z', {tz_p}), '(\\\\d\\\\d)$', ':\\\\1'))")
    };
    // the range's whole UTC days whose rollup may be read, from the same bounds
    let rolled = fresh_days_sql(
        &site_p,
        &tz_p,
        &goals_p,
        &format!("toDate({} + 86399, 'UTC')", bounds.0),
        &format!("toDate({}, 'UTC')", bounds.1),
    );
    sql.text = format!(
        "SELECT toUnixTimestamp(f), toUnixTimestamp(t), {}, {}, \
         (SELECT groupArray((toUInt32(toDateTime(date, 'UTC')), version, same_goals)) FROM ({rolled})) \
         FROM (SELECT {} AS f, {} AS t)",
        local("f"),
        local("t - 1"),
        bounds.0,
        bounds.1
    );
    sql
}

/// The range in the rows [`resolve_sql`] returned; a 400 for a range that
/// ends before it starts.
pub fn read_resolved(rows: &[Value]) -> Result<Resolved, StatsError> {
    let row = rows.first().unwrap_or(&Value::Null);
    let unreadable = || RowError(row.to_string());
    let cells = row.as_array().ok_or_else(unreadable)?;
    let seconds = |i: usize| {
        cells
            .get(i)
            .and_then(count)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(unreadable)
    };
    let text = |i: usize| {
        cells
            .get(i)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(unreadable)
    };
    let rolled = cells
        .get(4)
        .and_then(Value::as_array)
        .ok_or_else(unreadable)?
        .iter()
        .map(|cells| {
            let day = cells
                .get(0)
                .and_then(count)
                .and_then(|n| u32::try_from(n).ok());
            let same_goals = cells.get(2).and_then(count);
            match (day, cells.get(1).and_then(count), same_goals) {
                (Some(day), Some(version), Some(same)) => Ok(RolledDay {
                    day,
                    version,
                    same_goals: same == 1,
                }),
                _ => Err(unreadable()),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let resolved = Resolved {
        from: seconds(0)?,
        to: seconds(1)?,
        from_local: text(2)?,
        to_local: text(3)?,
        rolled,
    };
    if resolved.from < resolved.to {
        Ok(resolved)
    } else {
        Err(QueryError("date_range: from is not before to".into()).into())
    }
}

/// The `time` dimension's bucket for a range of `seconds`: hours within two
/// days, days within three months, months beyond.
pub fn auto_granularity(seconds: u32) -> Granularity {
    match seconds {
        s if s <= 2 * 86_400 => Granularity::Hour,
        s if s <= 92 * 86_400 => Granularity::Day,
        _ => Granularity::Month,
    }
}

/// A time bucket's label for `column` (a UTC DateTime) in the site's zone:
/// `YYYY-MM-DD hh:00:00` for hours, the first day otherwise.
pub fn bucket(granularity: Granularity, column: &str, tz_p: &str) -> String {
    match granularity {
        Granularity::Hour | Granularity::Auto => {
            format!("formatDateTime(toStartOfHour({column}, {tz_p}), '%Y-%m-%d %H:00:00', {tz_p})")
        }
        Granularity::Day => format!("toString(toDate({column}, {tz_p}))"),
        Granularity::Week => format!("toString(toMonday({column}, {tz_p}))"),
        Granularity::Month => format!("toString(toStartOfMonth({column}, {tz_p}))"),
    }
}

/// The statement listing every bucket of the range (`include.time_labels`),
/// in order: the bucket of each hour of the range, deduplicated (a local hour
/// that DST repeats is one bucket, as in the query).
pub fn labels_sql(granularity: Granularity, range: &Resolved, tz: &str) -> Sql {
    let mut sql = Sql::default();
    let tz_p = sql.bind("String", tz);
    let from_p = sql.bind("UInt32", &range.from.to_string());
    let hours = range.to.saturating_sub(range.from).div_ceil(3600);
    let hours_p = sql.bind("UInt32", &hours.to_string());
    let label = bucket(
        granularity,
        &format!("toDateTime({from_p} + number * 3600, 'UTC')"),
        &tz_p,
    );
    sql.text = format!("SELECT DISTINCT {label} AS label FROM numbers({hours_p}) ORDER BY label");
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_not_spliced() {
        let range = DateRange::Between {
            from: "2026-03-29T00:00:00'; DROP".into(),
            to: "2026-03-30".into(),
        };
        let site = Site {
            timezone: "Europe/Berlin'--".into(),
            ..Site::new("s")
        };
        let sql = resolve_sql(&range, &site);
        assert!(!sql.text.contains("DROP") && !sql.text.contains("Berlin"));
        assert_eq!(sql.params[0].1, "Europe/Berlin'--");
    }

    #[test]
    fn resolved_rows_are_read_or_refused() {
        let row = serde_json::json!([10, "20", "a", "b", [[86400, "1764000000000000", 1]]]);
        let resolved = read_resolved(&[row]).unwrap();
        assert_eq!(resolved.to, 20);
        let day = RolledDay {
            day: 86_400,
            version: 1_764_000_000_000_000,
            same_goals: true,
        };
        assert_eq!(resolved.rolled, [day]);
        assert!(matches!(
            read_resolved(&[serde_json::json!([10, 20, "a", "b", [[86400, 1]]])]),
            Err(StatsError::Row(_))
        ));
        let inverted = serde_json::json!([20, 10, "a", "b", []]);
        assert!(matches!(
            read_resolved(&[inverted]),
            Err(StatsError::Query(_))
        ));
        assert!(matches!(
            read_resolved(&[serde_json::json!([1, 2])]),
            Err(StatsError::Row(_))
        ));
        assert!(matches!(read_resolved(&[]), Err(StatsError::Row(_))));
    }

    #[test]
    fn auto_buckets_follow_the_length() {
        assert_eq!(auto_granularity(86_400), Granularity::Hour);
        assert_eq!(auto_granularity(30 * 86_400), Granularity::Day);
        assert_eq!(auto_granularity(180 * 86_400), Granularity::Month);
    }
}
