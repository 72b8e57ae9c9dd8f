//! Rolled days (`day_rollups`, clickhouse/migrations/0006): the statements
//! that roll a closed UTC day, and the read that takes each rolled day's
//! finished numbers and every other day of the range along the query's own
//! path ([`super::groups`]), summed per group. The sum is exact because a
//! visitor id lives one UTC day, so no visitor is in two days.
//!
//! A day is read from its rollup only while its latest roll (`day_rolls`)
//! is newer than its last change (`day_changes`, stamped by the consumer
//! after it stored events and refreshed their visits): a late event makes a
//! day slower to read until the next roll, never wrong.

use super::expression::Builder;
use super::order::finish;
use super::{groups, Scope};
use crate::columns::RowError;
use crate::plan::{roll_key, roll_sets};
use crate::query::{DateRange, Query};
use crate::range::Resolved;
use crate::schema::{Dimension, EventDimension, Metric, VisitDimension};
use model::settings::Site;
use model::sql::Sql;
use model::tables::{DAY_CHANGES, DAY_ROLLS, DAY_ROLLUPS};

/// The summable components every rolled row holds, in
/// [`crate::columns::COMPONENTS`] order (the last two are per answer).
const SUMMED: [&str; 9] = [
    "visitors",
    "visits",
    "pageviews",
    "events",
    "bounces",
    "duration",
    "visit_pageviews",
    "scroll_sum",
    "scroll_count",
];

/// Seconds in a UTC day.
const DAY: u32 = 86_400;

/// The column a dimension's expression reads ([`Builder::dimension`]). A
/// rolled row holds the expression's value; every one of these expressions
/// gives back a value it already gave, so a filter's expression over the
/// stored value under this name compares as it did over the raw column.
fn column(dimension: &Dimension, i: usize) -> String {
    match dimension {
        Dimension::Event(EventDimension::Page) => "pathname",
        Dimension::Event(EventDimension::Name) => "name",
        Dimension::Event(EventDimension::Hostname) => "hostname",
        Dimension::Visit(v) => match v {
            VisitDimension::Source => "s_source",
            VisitDimension::Referrer => "s_referrer",
            VisitDimension::UtmMedium => "s_utm_medium",
            VisitDimension::UtmSource => "s_utm_source",
            VisitDimension::UtmCampaign => "s_utm_campaign",
            VisitDimension::UtmContent => "s_utm_content",
            VisitDimension::UtmTerm => "s_utm_term",
            VisitDimension::Device => "device",
            VisitDimension::Browser => "browser",
            VisitDimension::BrowserVersion => "browser_version",
            VisitDimension::Os => "operating_system",
            VisitDimension::OsVersion => "operating_system_version",
            VisitDimension::Country => "country_code",
            VisitDimension::EntryPage => "s_entry_page",
            VisitDimension::ExitPage => "s_exit_page",
        },
        // a time bucket is read as it was stored, never recomputed
        _ => return format!("t{i}"),
    }
    .to_string()
}

/// The days of `[first, end)` whose latest roll is newer than their last
/// change, with that roll's version: `date`, `version`.
fn fresh_days(site_p: &str, tz_p: &str, first: &str, end: &str) -> String {
    let days = format!("site_domain = {site_p} AND date >= {first} AND date < {end}");
    format!(
        "SELECT r.date AS date, r.last AS version FROM \
         (SELECT date, max(version) AS last, argMax(timezone, version) AS tz \
         FROM {DAY_ROLLS} WHERE {days} GROUP BY date) AS r \
         LEFT JOIN (SELECT date, max(changed) AS last_change FROM {DAY_CHANGES} WHERE {days} GROUP BY date) AS c \
         ON r.date = c.date WHERE r.last > c.last_change AND r.tz = {tz_p}"
    )
}

/// `query`'s groups from the rolled days of its range where there are, from
/// its own path for the other days; `set` is the rolled set that holds them
/// ([`crate::plan::rolled`]).
pub(super) fn read(
    mut b: Builder,
    query: &Query,
    range: &Resolved,
    set: &[Dimension],
    scope: &Scope,
) -> Sql {
    let Scope {
        site_p,
        from_p,
        to_p,
    } = scope;
    // whole days: from the first UTC midnight at or after `from` to the last at or before `to`
    let first = format!("toDate(toDateTime({from_p}, 'UTC') + 86399)");
    let end = format!("toDate(toDateTime({to_p}, 'UTC'))");
    let fresh = fresh_days(site_p, &b.tz_p.clone(), &first, &end);
    let key_p = b.sql.bind("String", &roll_key(set, &b.site.timezone));
    let stored_columns: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(i, d)| format!("`values`[{}] AS {}", i + 1, column(d, i)))
        .collect();
    let mut selected = stored_columns;
    selected.extend(SUMMED.iter().map(|c| c.to_string()));
    let stored = format!(
        "SELECT {} FROM {DAY_ROLLUPS} WHERE site_domain = {site_p} AND dimension = {key_p} \
         AND date >= {first} AND date < {end} AND (date, version) IN ({fresh})",
        selected.join(", ")
    );
    let filter = b.all(&query.filters, range);
    let names: Vec<String> = (0..query.dimensions.len())
        .map(|i| format!("d{i}"))
        .collect();
    let summed: Vec<String> = (0..SUMMED.len()).map(|i| format!("c{i}")).collect();
    let with_groups = |parts: Vec<String>| {
        let mut all = parts;
        all.extend(
            SUMMED
                .iter()
                .zip(&summed)
                // one type on both sides of the UNION (a path's literal zeros are not UInt64)
                .map(|(c, n)| format!("toUInt64({c}) AS {n}")),
        );
        all.join(", ")
    };
    // the query's one dimension (if any) is the set's last
    let rolled_groups: Vec<String> = names
        .iter()
        .map(|n| format!("{} AS {n}", column(&set[set.len() - 1], set.len() - 1)))
        .collect();
    let rolled = format!(
        "SELECT {} FROM ({stored}) WHERE {filter}",
        with_groups(rolled_groups)
    );

    // the other days of the range: every UTC day it touches, less the fresh ones
    let day_count = (range.to.saturating_sub(1) / DAY).saturating_sub(range.from / DAY) + 1;
    let count_p = b.sql.bind("UInt32", &day_count.to_string());
    let other_days = format!(
        "SELECT day FROM (SELECT toDate(toDateTime({from_p}, 'UTC')) + number AS day FROM numbers({count_p})) \
         WHERE day NOT IN (SELECT date FROM ({fresh}))"
    );
    let (_, raw) = groups(&mut b, query, range, scope, Some(&other_days));
    let raw_groups: Vec<String> = names
        .iter()
        .map(|n| format!("toString({n}) AS {n}"))
        .collect();
    let raw = format!("SELECT {} FROM ({raw})", with_groups(raw_groups));

    let mut totals: Vec<String> = names.clone();
    totals.extend(
        SUMMED
            .iter()
            .zip(&summed)
            .map(|(c, n)| format!("sum({n}) AS {c}")),
    );
    totals.push("count() OVER () AS total_rows".into());
    totals.push("sum(visitors) OVER () AS visitors_total".into());
    let group_by = if names.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", names.join(", "))
    };
    let result = format!(
        "SELECT {} FROM ({rolled} UNION ALL {raw}){group_by}",
        totals.join(", ")
    );
    finish(b, query, &names, result)
}

/// The statement asking ClickHouse's clock: the version of a roll about to
/// begin, taken before it reads anything (one row, one number).
pub fn version_sql() -> Sql {
    Sql {
        text: "SELECT toUInt64(toUnixTimestamp64Micro(now64(6)))".into(),
        params: Vec::new(),
    }
}

/// The INSERT that rolls the UTC day starting at `day` (Unix seconds at
/// midnight) for `site`: every set of [`roll_sets`], each computed along the
/// general path over that day alone, all under `version`.
pub fn roll_sql(site: &Site, day: u32, version: u64) -> Sql {
    let day = day - day % DAY;
    let range = Resolved {
        from: day,
        to: day + DAY,
        from_local: String::new(),
        to_local: String::new(),
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
    let selects: Vec<String> = roll_sets()
        .into_iter()
        .map(|set| {
            let key_p = b.sql.bind("String", &roll_key(&set, &site.timezone));
            all.dimensions = set;
            let (names, result) = groups(&mut b, &all, &range, &scope, None);
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
/// succeeded, with the time zone its time buckets were cut in.
pub fn logged_sql(site: &Site, day: u32, version: u64) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", &site.domain);
    let day_p = sql.bind("UInt32", &(day - day % DAY).to_string());
    let version_p = sql.bind("UInt64", &version.to_string());
    let tz_p = sql.bind("String", &site.timezone);
    sql.text = format!(
        "INSERT INTO {DAY_ROLLS} (site_domain, date, version, timezone) \
         SELECT {site_p}, toDate(toDateTime({day_p}, 'UTC')), {version_p}, {tz_p}"
    );
    sql
}

/// The closed UTC days of `site` that need a roll, the latest first, at
/// most `limit`: one row each, the day's midnight in Unix seconds.
pub fn due_sql(site: &Site, limit: u32) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", &site.domain);
    let tz_p = sql.bind("String", &site.timezone);
    let limit_p = sql.bind("UInt32", &limit.to_string());
    sql.text = format!(
        "SELECT toUInt32(toDateTime(c.date, 'UTC')) AS day FROM \
         (SELECT date, max(changed) AS last_change FROM {DAY_CHANGES} \
         WHERE site_domain = {site_p} AND date < toDate(now(), 'UTC') GROUP BY date) AS c \
         LEFT JOIN (SELECT date, max(version) AS last, argMax(timezone, version) AS tz \
         FROM {DAY_ROLLS} WHERE site_domain = {site_p} GROUP BY date) AS r ON c.date = r.date \
         WHERE c.last_change >= r.last OR r.tz != {tz_p} \
         ORDER BY c.date DESC LIMIT {limit_p}"
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
