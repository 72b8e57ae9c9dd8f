//! Rolled days (`day_rollups`, clickhouse/migrations/0006): the statements
//! that roll a closed UTC day, and the read that takes each rolled day's
//! finished numbers and every other day of the range along the query's own
//! path ([`super::groups`]), summed per group. The sum is exact because a
//! visitor id lives one UTC day, so no visitor is in two days.
//!
//! A day is read from its rollup only while its latest roll (`day_rolls`)
//! is newer than its last change (`day_changes`, stamped by the consumer
//! after it stored events and refreshed their visits): a late event makes a
//! day slower to read until the next roll, never wrong. Those days come with
//! the resolved range ([`fresh_days_sql`] is part of its statement), so a
//! statement names its rolled and other days as bound lists, and leaves out
//! the part it does not need.

use super::expression::{event_column, visit_column, Builder};
use super::{groups, Scope};
use crate::columns::{RowError, COMPONENTS};
use crate::plan::{roll_key, roll_sets};
use crate::query::{DateRange, Query};
use crate::range::{Resolved, RolledDay};
use crate::schema::{Dimension, EventDimension, Metric};
use model::settings::Site;
use model::sql::Sql;
use model::tables::{DAY_CHANGES, DAY_ROLLS, DAY_ROLLUPS};

/// The summable components every rolled row holds: the first ten of
/// [`COMPONENTS`] (the others are per answer).
const SUMMED: &[&str] = COMPONENTS.split_at(10).0;

/// Seconds in a UTC day.
const DAY: u32 = 86_400;

/// What a roll holds, as a number kept with it (`day_rolls.format`): raised
/// whenever a roll gains rows or columns (1: `visit:channel` rows; 2: the
/// engaged time). A roll of another format is never read, and its day is due
/// again, so a deploy re-rolls old days by itself and no old Worker's roll
/// made meanwhile is ever taken for a new one.
pub const ROLL_FORMAT: u32 = 2;

/// The name a rolled value is read under: the column its dimension's
/// expression reads ([`Builder::dimension`]), so that a filter's expression
/// over the stored value compares as it did over the raw column (each gives
/// back a value it already gave); a time bucket's own name, read as stored.
fn column(dimension: &Dimension, i: usize) -> String {
    match dimension {
        Dimension::Event(e) => event_column(*e).into(),
        Dimension::Visit(v) => visit_column(*v).into(),
        _ => format!("t{i}"),
    }
}

/// The days of `[first, end)` (`Date` expressions) whose latest roll is
/// newer than their last change and was cut in time zone `tz_p`, with that
/// roll's version: `date`, `version`. Asked with the range
/// ([`crate::range::resolve_sql`]), so that each statement knows its days.
pub(crate) fn fresh_days_sql(
    site_p: &str,
    tz_p: &str,
    goals_p: &str,
    first: &str,
    end: &str,
) -> String {
    let days = format!("site_domain = {site_p} AND date >= {first} AND date < {end}");
    format!(
        "SELECT r.date AS date, r.last AS version, r.goals = {goals_p} AS same_goals FROM ({}) AS r \
         LEFT JOIN ({}) AS c ON r.date = c.date WHERE r.last > c.last_change AND r.tz = {tz_p} \
         AND r.format = {ROLL_FORMAT}",
        latest_rolls(&days),
        last_changes(&days)
    )
}

/// Per day of `days` (a condition), its latest roll: `date`, `last` (the
/// version), `tz`, `goals`.
fn latest_rolls(days: &str) -> String {
    format!(
        "SELECT date, max(version) AS last, argMax(timezone, version) AS tz, \
         argMax(goals, version) AS goals, argMax(format, version) AS format \
         FROM {DAY_ROLLS} WHERE {days} GROUP BY date"
    )
}

/// Per day of `days` (a condition), when it last changed: `date`, `last_change`.
fn last_changes(days: &str) -> String {
    format!(
        "SELECT date, max(changed) AS last_change FROM {DAY_CHANGES} WHERE {days} GROUP BY date"
    )
}

/// The site's goals as a roll counted them, to tell whether its goal rows
/// are still the site's (any change of a goal, or of their order, tells).
pub fn goals_rolled(site: &Site) -> String {
    // a list of plain structs and strings always serializes
    serde_json::to_string(&site.goals).unwrap_or_default()
}

/// The rolled days a statement of `set` over `range` reads from their
/// rollup: whole UTC days inside it, rolled with today's goals if `set`
/// breaks down by goal.
pub(super) fn rolled_days(range: &Resolved, set: &[Dimension]) -> Vec<RolledDay> {
    let goals = set.contains(&Dimension::Event(EventDimension::Goal));
    range
        .rolled
        .iter()
        .filter(|r| r.day % DAY == 0 && r.day >= range.from && r.day + DAY <= range.to)
        .filter(|r| r.same_goals || !goals)
        .copied()
        .collect()
}

/// `YYYY-MM-DD` of the UTC day holding `seconds` (the civil-from-days
/// arithmetic of Howard Hinnant's date algorithms; written out because the
/// Worker needs this one conversion and carries no date crate).
fn utc_date(seconds: u32) -> String {
    let z = i64::from(seconds / DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A bound `Array(Date)` of the days starting at `days` (Unix seconds).
fn date_list(days: impl Iterator<Item = u32>) -> String {
    let dates: Vec<String> = days.map(|d| format!("'{}'", utc_date(d))).collect();
    format!("[{}]", dates.join(","))
}

/// `query`'s groups from `rolled_days` ([`rolled_days`] of its range, not
/// empty), and from its own path for the other days, if any; `set` is the
/// rolled set that holds them ([`crate::plan::rolled`]).
pub(super) fn read(
    b: &mut Builder,
    query: &Query,
    range: &Resolved,
    set: &[Dimension],
    rolled_days: &[RolledDay],
    scope: &Scope,
) -> (Vec<String>, String) {
    let site_p = &scope.site_p;
    let key_p = b.sql.bind("String", &roll_key(set, &b.site.timezone));
    let rolls: Vec<String> = rolled_days
        .iter()
        .map(|r| format!("('{}',{})", utc_date(r.day), r.version))
        .collect();
    let rolls_p = b.sql.bind(
        "Array(Tuple(Date, UInt64))",
        &format!("[{}]", rolls.join(",")),
    );
    let stored_columns: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(i, d)| format!("`values`[{}] AS {}", i + 1, column(d, i)))
        .collect();
    let mut selected = stored_columns;
    selected.extend(SUMMED.iter().map(|c| c.to_string()));
    // each group's visitors per UTC day, for the privacy guard: a rolled
    // row is one day's
    if b.daily {
        selected.push("map(date, toUInt64(visitors)) AS daily".into());
    }
    let stored = format!(
        "SELECT {} FROM {DAY_ROLLUPS} WHERE site_domain = {site_p} AND dimension = {key_p} \
         AND (date, version) IN {rolls_p}",
        selected.join(", ")
    );
    let filter = b.all(&query.filters, range);
    let names: Vec<String> = (0..query.dimensions.len())
        .map(|i| format!("d{i}"))
        .collect();
    let summed: Vec<String> = (0..SUMMED.len()).map(|i| format!("c{i}")).collect();
    let with_daily = b.daily;
    let with_groups = |parts: Vec<String>| {
        let mut all = parts;
        all.extend(
            SUMMED
                .iter()
                .zip(&summed)
                // one type on both sides of the UNION (a path's literal zeros are not UInt64)
                .map(|(c, n)| format!("toUInt64({c}) AS {n}")),
        );
        if with_daily {
            all.push("CAST(daily, 'Map(Date, UInt64)') AS m".into());
        }
        all.join(", ")
    };
    // the query's one dimension (if any) is the set's last
    let rolled_groups: Vec<String> = names
        .iter()
        .map(|n| format!("{} AS {n}", column(&set[set.len() - 1], set.len() - 1)))
        .collect();
    let mut parts = vec![format!(
        "SELECT {} FROM ({stored}) WHERE {filter}",
        with_groups(rolled_groups)
    )];

    // the other days the range touches, along the query's own path
    let first_day = range.from - range.from % DAY;
    let other_days: Vec<u32> = (first_day..range.to)
        .step_by(DAY as usize)
        .filter(|day| !rolled_days.iter().any(|r| r.day == *day))
        .collect();
    if !other_days.is_empty() {
        let days_p = b
            .sql
            .bind("Array(Date)", &date_list(other_days.into_iter()));
        let (_, raw) = groups(b, query, range, scope, Some(&days_p), true);
        let raw_groups: Vec<String> = names
            .iter()
            .map(|n| format!("toString({n}) AS {n}"))
            .collect();
        parts.push(format!("SELECT {} FROM ({raw})", with_groups(raw_groups)));
    }

    let mut totals: Vec<String> = names.clone();
    totals.extend(
        SUMMED
            .iter()
            .zip(&summed)
            .map(|(c, n)| format!("sum({n}) AS {c}")),
    );
    totals.push("count() OVER () AS total_rows".into());
    totals.push("sum(visitors) OVER () AS visitors_total".into());
    if b.daily {
        totals.push("sumMap(m) AS daily".into());
    }
    // the paths' own condition, over the sum: a group with an event that is
    // not an engagement (the visits path's groups are visits, of such events)
    let group_by = if names.is_empty() {
        String::new()
    } else {
        format!(
            " GROUP BY {} HAVING sum(c3) > 0 OR sum(c1) > 0",
            names.join(", ")
        )
    };
    let result = format!(
        "SELECT {} FROM ({}){group_by}",
        totals.join(", "),
        parts.join(" UNION ALL ")
    );
    (names, result)
}

/// The statement asking ClickHouse's clock: the version of a roll about to
/// begin, taken before it reads anything (one row, one number).
pub fn version_sql() -> Sql {
    let mut sql = Sql::default();
    sql.text = "SELECT toUInt64(toUnixTimestamp64Micro(now64(6)))".into();
    sql
}

/// Sets of a roll per INSERT: a day of a million events rolls its 74 sets in
/// ~20 s on two cores (docs/benchmarks.md), and no statement may run past
/// the Worker's ClickHouse timeout (30 s).
const SETS_PER_INSERT: usize = 12;

/// The INSERTs that roll the UTC day starting at `day` (Unix seconds at
/// midnight) for `site`: every set of [`roll_sets`], each computed along the
/// general path over that day alone, all under `version`, [`SETS_PER_INSERT`]
/// at a time. Run in any order; the roll is read once [`logged_sql`] ran.
pub fn roll_sql(site: &Site, day: u32, version: u64) -> Vec<Sql> {
    roll_sets()
        .chunks(SETS_PER_INSERT)
        .map(|sets| roll_insert(site, day, version, sets))
        .collect()
}

fn roll_insert(site: &Site, day: u32, version: u64, sets: &[Vec<Dimension>]) -> Sql {
    let day = day - day % DAY;
    let range = Resolved {
        from: day,
        to: day + DAY,
        ..Resolved::default()
    };
    let mut all = Query {
        site_id: site.domain.clone(),
        metrics: vec![
            Metric::Visitors,
            Metric::Visits,
            Metric::Pageviews,
            Metric::Events,
            Metric::BounceRate,
            Metric::VisitDuration,
            Metric::ViewsPerVisit,
            Metric::ScrollDepth,
            Metric::TimeOnPage,
        ],
        date_range: DateRange::Named("day"),
        dimensions: Vec::new(),
        filters: Vec::new(),
        order_by: Vec::new(),
        time_labels: false,
        total_rows: false,
        limit: 0,
        offset: 0,
    };
    let mut b = Builder::new(site, &all);
    let scope = Scope::bind(&mut b.sql, site, &range);
    let version_p = b.sql.bind("UInt64", &version.to_string());
    let selects: Vec<String> = sets
        .iter()
        .cloned()
        .map(|set| {
            let key_p = b.sql.bind("String", &roll_key(&set, &site.timezone));
            b.goal_dimension = set.contains(&Dimension::Event(EventDimension::Goal));
            all.dimensions = set;
            let (names, result) = groups(&mut b, &all, &range, &scope, None, true);
            let values: Vec<String> = names.iter().map(|n| format!("toString({n})")).collect();
            format!(
                "SELECT {}, toDate(toDateTime({}, 'UTC')), {key_p}, {version_p}, [{}]::Array(String), {} FROM ({result})",
                scope.site_p,
                scope.from_p,
                values.join(", "),
                SUMMED.join(", ")
            )
        })
        .collect();
    b.sql.text = format!(
        "INSERT INTO {DAY_ROLLUPS} (site_domain, date, dimension, version, `values`, {}) {}",
        SUMMED.join(", "),
        selects.join(" UNION ALL ")
    );
    b.sql
}

/// The row that makes a finished roll readable: written after its INSERT
/// succeeded, with the time zone its time buckets were cut in and the goals
/// its goal rows counted.
pub fn logged_sql(site: &Site, day: u32, version: u64) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", &site.domain);
    let day_p = sql.bind("UInt32", &(day - day % DAY).to_string());
    let version_p = sql.bind("UInt64", &version.to_string());
    let tz_p = sql.bind("String", &site.timezone);
    let goals_p = sql.bind("String", &goals_rolled(site));
    sql.text = format!(
        "INSERT INTO {DAY_ROLLS} (site_domain, date, version, timezone, goals, format) \
         SELECT {site_p}, toDate(toDateTime({day_p}, 'UTC')), {version_p}, {tz_p}, {goals_p}, {ROLL_FORMAT}"
    );
    sql
}

/// The closed UTC days of `site` that need a roll, the latest first, at
/// most `limit`: one row each, the day's midnight in Unix seconds.
pub fn due_sql(site: &Site, limit: u32) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", &site.domain);
    let tz_p = sql.bind("String", &site.timezone);
    let goals_p = sql.bind("String", &goals_rolled(site));
    let limit_p = sql.bind("UInt32", &limit.to_string());
    sql.text = format!(
        "SELECT toUInt32(toDateTime(c.date, 'UTC')) AS day FROM ({}) AS c LEFT JOIN ({}) AS r \
         ON c.date = r.date WHERE c.last_change >= r.last OR r.tz != {tz_p} OR r.goals != {goals_p} \
         OR r.format != {ROLL_FORMAT} \
         ORDER BY c.date DESC LIMIT {limit_p}",
        last_changes(&format!(
            "site_domain = {site_p} AND date < toDate(now(), 'UTC')"
        )),
        latest_rolls(&format!("site_domain = {site_p}"))
    );
    sql
}

/// The numbers of a one-column `TSV` answer ([`version_sql`], [`due_sql`]).
pub fn read_numbers(tsv: &str) -> Result<Vec<u64>, RowError> {
    tsv.lines()
        .filter(|line| !line.is_empty())
        .map(|line| line.parse().map_err(|_| RowError(line.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    #[test]
    fn utc_dates_are_the_calendar_s() {
        // every 3 hours over 1970..2100, leap years and centuries included
        for seconds in (0..4_102_444_800u32).step_by(3 * 3_600 + 17) {
            let expected = DateTime::<Utc>::from_timestamp(i64::from(seconds), 0)
                .unwrap()
                .format("%Y-%m-%d")
                .to_string();
            assert_eq!(utc_date(seconds), expected, "{seconds}");
        }
    }

    #[test]
    fn only_whole_rolled_days_inside_the_range_are_read_from_rollups() {
        let day = |n: u32, same_goals: bool| RolledDay {
            day: n * DAY,
            version: u64::from(n),
            same_goals,
        };
        let range = Resolved {
            from: 10 * DAY + 3_600,
            to: 13 * DAY,
            rolled: vec![day(10, true), day(11, false), day(12, true), day(13, true)],
            ..Resolved::default()
        };
        assert_eq!(rolled_days(&range, &[]), [day(11, false), day(12, true)]);
        // a day rolled with other goals than the site's now: not for goals
        let goals = [Dimension::Event(EventDimension::Goal)];
        assert_eq!(rolled_days(&range, &goals), [day(12, true)]);
    }
}
