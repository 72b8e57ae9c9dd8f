//! [`Path::Rollup`](crate::plan::Path::Rollup): unique visitors and counts
//! per page, event name or goal from the small `page_days` rollup.

use super::expression::{goal_join, Builder};
use crate::query::Query;
use crate::range::Resolved;
use model::tables::{EVENTS, PAGE_DAYS};

/// Per group and UTC day, unique visitors and counts —
/// from `page_days` for the days wholly inside the range, from `events` for
/// the (at most two) days the range cuts — then summed over the days. The
/// sum is exact because a visitor id lives one UTC day.
pub(super) fn rollup(
    b: &mut Builder,
    query: &Query,
    range: &Resolved,
    site_p: &str,
    from_p: &str,
    to_p: &str,
) -> (Vec<String>, String) {
    let dimension = b.dimension(&query.dimensions[0], range);
    let goal_join = if b.goal_dimension {
        goal_join(b)
    } else {
        String::new()
    };
    // whole days: from the first UTC midnight at or after `from` to the last at or before `to`
    let first = format!("toDate(toDateTime({from_p}, 'UTC') + 86399)");
    let end = format!("toDate(toDateTime({to_p}, 'UTC'))");
    let stored = format!(
        "SELECT {dimension} AS d0, date AS day, uniqExactMerge(visitors) AS v, \
         sumIf(events, name = 'pageview') AS pv, sum(events) AS ev \
         FROM {PAGE_DAYS}{goal_join} WHERE site_domain = {site_p} AND date >= {first} AND date < {end} \
         GROUP BY d0, day"
    );
    let cut = format!(
        "SELECT {dimension} AS d0, toDate(timestamp) AS day, uniqExact(visitor_id) AS v, \
         countIf(name = 'pageview') AS pv, count() AS ev \
         FROM (SELECT timestamp, name, visitor_id, pathname FROM {EVENTS} WHERE site_domain = {site_p} \
         AND timestamp >= toDateTime({from_p}, 'UTC') AND timestamp < toDateTime({to_p}, 'UTC') \
         AND name != 'engagement' AND NOT (toDate(timestamp) >= {first} AND toDate(timestamp) < {end})){goal_join} \
         GROUP BY d0, day"
    );
    // each group's visitors per UTC day, for the privacy guard
    let daily = if b.daily {
        ", sumMap(map(day, toUInt64(v))) AS daily"
    } else {
        ""
    };
    let result = format!(
        "SELECT d0, sum(v) AS visitors, 0 AS visits, sum(pv) AS pageviews, sum(ev) AS events, \
         0 AS bounces, 0 AS duration, 0 AS visit_pageviews, 0 AS scroll_sum, 0 AS scroll_count, \
         0 AS engaged_ms, \
         count() OVER () AS total_rows, sum(visitors) OVER () AS visitors_total{daily} \
         FROM ({stored} UNION ALL {cut}) GROUP BY d0"
    );
    (vec!["d0".to_string()], result)
}
