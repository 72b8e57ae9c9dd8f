//! The plan of a query: which statements answer it, and how each reads the
//! data — decided here, rendered into SQL by [`sql`](crate::sql).
//!
//! Visits are stored (`visitor_days`, written by the ingest crate). Each
//! statement takes the cheapest [`Path`] that answers it exactly:
//!
//! ```text
//! Rollup   unique visitors and counts per page, name or goal, unfiltered:
//!          whole UTC days from `page_days`, the range's cut days from `events`
//! Events   no visit metric, no visit property: one GROUP BY over `events`
//! Visits   visit metrics by visit properties, over whole days: one GROUP BY
//!          over the stored visits, no event read at all
//! General  anything else: each event in range joined to its visit
//!          (ASOF JOIN on visitor and start), then grouped per visit,
//!          per visitor, and per group of the dimensions
//! ```
//!
//! Before any of them, [`rolled`]: a query whose dimensions and filters a
//! day's rollup holds reads each rolled day's finished numbers from
//! `day_rollups` and only the other days (the range's cut days, days not
//! rolled yet or changed since) along its path, then sums the two.
//!
//! Besides the groups, a query may need a total (`percentage`,
//! `conversion_rate`), the range's time labels, or — for a top-stats row
//! asking event and visit metrics at once — its visit metrics apart ([`split`]).
//! These statements do not depend on one another: the Worker sends them together.

use crate::query::{DateRange, Filter, OrderKey, Query, QueryError, MAX_LIMIT};
use crate::range::{auto_granularity, Resolved};
use crate::schema::{Dimension, EventDimension, Granularity, Metric, Operator, VisitDimension};

/// What one statement computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The query's groups: its dimensions, then the components of its metrics.
    Groups(Query),
    /// A split query's visit metrics: these components replace the groups'.
    VisitMetrics(Query),
    /// Visitors without dimensions, for `percentage`.
    TotalVisitors(Query),
    /// Visitors per group of the dimensions other than `event:goal`, without
    /// goal filters, for `group_conversion_rate`.
    ConversionTotals(Query),
    /// Visitors without dimensions or goal filters, for `conversion_rate`.
    ConversionTotal(Query),
    /// Every time bucket of the range, for `include.time_labels`.
    TimeLabels(Granularity),
}

/// The statements one query needs, over its resolved range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub query: Query,
    pub range: Resolved,
    /// Independent of one another; `Groups` first.
    pub parts: Vec<Part>,
    /// Asked only when the page of groups comes back empty
    /// (`include.total_rows` with an offset past the end): the first page,
    /// whose row carries the number of groups.
    pub first_page: Option<Query>,
}

/// The plan for `query` over `range`, or a 400 for what SQL cannot answer,
/// for a site without a minimum group size.
pub fn plan(query: &Query, range: Resolved) -> Result<Plan, QueryError> {
    plan_for(query, range, 1)
}

/// The plan for `query` over `range` on a site whose minimum group size is
/// `min_group_size`: above 1, a percentage always divides by its own
/// guarded total, never by the sum of the groups (hidden ones included),
/// which a filter could difference ([`crate::privacy`]).
pub fn plan_for(query: &Query, range: Resolved, min_group_size: u32) -> Result<Plan, QueryError> {
    check(query)?;
    let mut parts = match split(query) {
        Some((events, visits)) => vec![Part::Groups(events), Part::VisitMetrics(visits)],
        None => vec![Part::Groups(query.clone())],
    };
    if query.metrics.contains(&Metric::Percentage)
        && (min_group_size > 1 || !partitions_visitors(query))
    {
        parts.push(Part::TotalVisitors(total_query(query, false)));
    }
    if query.metrics.contains(&Metric::GroupConversionRate) {
        parts.push(Part::ConversionTotals(total_query(query, true)));
    }
    if query.metrics.contains(&Metric::ConversionRate) {
        let mut total = total_query(query, true);
        total.dimensions.clear();
        parts.push(Part::ConversionTotal(total));
    }
    if query.time_labels {
        if let Some(g) = query.dimensions.iter().find_map(|d| granularity(d, &range)) {
            parts.push(Part::TimeLabels(g));
        }
    }
    let first_page = (query.total_rows && query.offset > 0).then(|| {
        let mut first = query.clone();
        first.offset = 0;
        first.limit = 1;
        first
    });
    Ok(Plan {
        query: query.clone(),
        range,
        parts,
        first_page,
    })
}

/// What SQL cannot answer, checked before any statement is made.
fn check(query: &Query) -> Result<(), QueryError> {
    let goal = Dimension::Event(EventDimension::Goal);
    let nested = query.filters.iter().any(|f| match f {
        Filter::Condition { .. } => false,
        other => other.mentions(|d| *d == goal),
    });
    for metric in [Metric::ConversionRate, Metric::GroupConversionRate] {
        if query.metrics.contains(&metric) && nested {
            return Err(QueryError(format!(
                "filters: with {}, event:goal filters must be at the top level",
                metric.name()
            )));
        }
    }
    // a group's conversion rate divides by that group's own total: SQL can
    // order by it only when the total is one (a breakdown by goal alone);
    // `conversion_rate` divides every group by the same total
    let orders_by_group_conversion = query
        .order_by
        .iter()
        .any(|(key, _)| *key == OrderKey::Metric(Metric::GroupConversionRate));
    if orders_by_group_conversion && query.dimensions.iter().any(|d| *d != goal) {
        return Err(QueryError(
            "order_by: group_conversion_rate orders only a breakdown by event:goal alone".into(),
        ));
    }
    // without an order_by, the first metric orders: the same rule
    let first_is_group_rate = query.metrics.first() == Some(&Metric::GroupConversionRate);
    let by_time = query.dimensions.iter().any(Dimension::is_time);
    if query.order_by.is_empty()
        && first_is_group_rate
        && !by_time
        && query.dimensions.iter().any(|d| *d != goal)
    {
        return Err(QueryError(
            "metrics: group_conversion_rate first orders the groups by it, which only a breakdown by event:goal alone allows: put another metric first or give order_by".into(),
        ));
    }
    Ok(())
}

/// Whether the query needs visits: a visit metric, or a dimension or filter
/// that is a property of the visit rather than of the event.
pub fn needs_visits(query: &Query) -> bool {
    query.metrics.iter().any(|m| m.is_visit_metric())
        || query.dimensions.iter().any(Dimension::is_visit_level)
        || query
            .filters
            .iter()
            .any(|f| f.mentions(Dimension::is_visit_level))
}

/// The granularity a time dimension buckets by, for this range.
pub fn granularity(dimension: &Dimension, range: &Resolved) -> Option<Granularity> {
    match dimension {
        Dimension::Time(Granularity::Auto) => Some(auto_granularity(range.to - range.from)),
        Dimension::Time(g) => Some(*g),
        _ => None,
    }
}

/// How a statement reads the data; see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Unique visitors and counts per page, event name or goal, unfiltered:
    /// whole UTC days from `page_days`, the range's partial days from `events`.
    Rollup,
    Events,
    Visits,
    General,
}

/// The cheapest path that answers `query` exactly.
pub fn path(query: &Query) -> Path {
    let event_metric = query.metrics.iter().any(|m| {
        matches!(
            m,
            Metric::Pageviews | Metric::Events | Metric::ScrollDepth | Metric::TimeOnPage
        )
    });
    let event_level = query.dimensions.iter().any(Dimension::is_event_level)
        || query
            .filters
            .iter()
            .any(|f| f.mentions(Dimension::is_event_level));
    // a visit counts when it has an interaction inside the range; stored
    // visits tell that exactly unless one visit spans the whole range, which
    // only a range shorter than a day (datetimes) allows
    let whole_days =
        !matches!(&query.date_range, DateRange::Between { from, .. } if from.len() > 10);
    let rollup_dimension = matches!(
        query.dimensions.as_slice(),
        [Dimension::Event(
            EventDimension::Page | EventDimension::Name | EventDimension::Goal
        )]
    );
    let rollup_metrics = query.metrics.iter().all(|m| {
        matches!(
            m,
            Metric::Visitors
                | Metric::Pageviews
                | Metric::Events
                | Metric::Percentage
                | Metric::ConversionRate
                | Metric::GroupConversionRate
        )
    });
    if rollup_dimension && rollup_metrics && query.filters.is_empty() {
        Path::Rollup
    } else if !needs_visits(query) {
        Path::Events
    } else if !event_metric && !event_level && whole_days {
        Path::Visits
    } else {
        Path::General
    }
}

/// For a query without dimensions that needs the general path only because
/// it asks both event and visit metrics (a dashboard's top stats): the two
/// queries whose components together answer it, each on a fast path.
pub fn split(query: &Query) -> Option<(Query, Query)> {
    if !query.dimensions.is_empty() || path(query) != Path::General {
        return None;
    }
    let (visit, event): (Vec<Metric>, Vec<Metric>) =
        query.metrics.iter().partition(|m| m.is_visit_metric());
    let mut events = query.clone();
    events.metrics = event;
    events.metrics.push(Metric::Visitors);
    let mut visits = query.clone();
    visits.metrics = visit;
    (path(&events) == Path::Events && path(&visits) == Path::Visits).then_some((events, visits))
}

/// Whether every visitor is in exactly one group of `query`'s dimensions
/// (all are the visitor's own properties): the groups' visitors then add up
/// to the total `percentage` divides by.
pub fn partitions_visitors(query: &Query) -> bool {
    !query.dimensions.is_empty() && query.dimensions.iter().all(Dimension::is_visitors_own)
}

/// The query whose visitors divide a group's for `percentage` (no
/// dimensions) or a conversion rate (no goal dimension; no goal or prop
/// filter at the top level, as Plausible's: a conversion is the goal with
/// its props, of every visitor of the rest of the filters).
pub fn total_query(query: &Query, for_conversions: bool) -> Query {
    let mut total = query.clone();
    total.metrics = vec![Metric::Visitors];
    total.order_by.clear();
    total.time_labels = false;
    total.limit = MAX_LIMIT * 10;
    total.offset = 0;
    if for_conversions {
        let goal = Dimension::Event(EventDimension::Goal);
        total.dimensions.retain(|d| *d != goal);
        total.filters.retain(|f| {
            !matches!(f, Filter::Condition { dimension, .. }
                if *dimension == goal || matches!(dimension, Dimension::Prop(_)))
        });
    } else {
        total.dimensions.clear();
    }
    total
}

/// The dimensions a day is rolled by alone: every visit dimension, and the
/// event dimensions without a parameter (props are open-ended). Goals too,
/// besides these: a roll counts the site's goals of then, and is read for
/// goals only while they are the site's (`range::RolledDay::same_goals`).
pub const ROLLED: [Dimension; 19] = [
    Dimension::Event(EventDimension::Page),
    Dimension::Event(EventDimension::Name),
    Dimension::Event(EventDimension::Hostname),
    Dimension::Visit(VisitDimension::Source),
    Dimension::Visit(VisitDimension::Referrer),
    Dimension::Visit(VisitDimension::UtmMedium),
    Dimension::Visit(VisitDimension::UtmSource),
    Dimension::Visit(VisitDimension::UtmCampaign),
    Dimension::Visit(VisitDimension::UtmContent),
    Dimension::Visit(VisitDimension::UtmTerm),
    Dimension::Visit(VisitDimension::Device),
    Dimension::Visit(VisitDimension::Browser),
    Dimension::Visit(VisitDimension::BrowserVersion),
    Dimension::Visit(VisitDimension::Os),
    Dimension::Visit(VisitDimension::OsVersion),
    Dimension::Visit(VisitDimension::Country),
    Dimension::Visit(VisitDimension::EntryPage),
    Dimension::Visit(VisitDimension::ExitPage),
    Dimension::Visit(VisitDimension::Channel),
];

/// The time buckets rolled, in the site's time zone (each UTC day's part of
/// every local bucket it overlaps).
pub const ROLLED_TIMES: [Granularity; 4] = [
    Granularity::Hour,
    Granularity::Day,
    Granularity::Week,
    Granularity::Month,
];

/// The filters a dashboard applies when a person clicks a source, country,
/// device, browser or system: each is crossed with [`CUBE_BREAKDOWNS`].
pub const CUBE_FILTERS: [Dimension; 5] = [
    Dimension::Visit(VisitDimension::Source),
    Dimension::Visit(VisitDimension::Country),
    Dimension::Visit(VisitDimension::Device),
    Dimension::Visit(VisitDimension::Browser),
    Dimension::Visit(VisitDimension::Os),
];

/// The dashboard's panels, broken down under a [`CUBE_FILTERS`] filter.
pub const CUBE_BREAKDOWNS: [Dimension; 11] = [
    Dimension::Time(Granularity::Day),
    Dimension::Event(EventDimension::Goal),
    Dimension::Event(EventDimension::Page),
    Dimension::Event(EventDimension::Name),
    Dimension::Visit(VisitDimension::Source),
    Dimension::Visit(VisitDimension::EntryPage),
    Dimension::Visit(VisitDimension::ExitPage),
    Dimension::Visit(VisitDimension::Country),
    Dimension::Visit(VisitDimension::Device),
    Dimension::Visit(VisitDimension::Browser),
    Dimension::Visit(VisitDimension::Os),
];

/// Every set of dimensions a day is rolled by, a filter's first: none (the
/// day's total), each alone, the site's goals, each time bucket, each filter
/// with each panel.
pub fn roll_sets() -> Vec<Vec<Dimension>> {
    let mut sets = vec![Vec::new()];
    sets.extend(ROLLED.iter().map(|d| vec![d.clone()]));
    sets.push(vec![Dimension::Event(EventDimension::Goal)]);
    sets.extend(ROLLED_TIMES.iter().map(|g| vec![Dimension::Time(*g)]));
    for filter in &CUBE_FILTERS {
        for breakdown in CUBE_BREAKDOWNS.iter().filter(|b| *b != filter) {
            sets.push(vec![filter.clone(), breakdown.clone()]);
        }
    }
    sets
}

/// The name of a set's rows in `day_rollups` (its `dimension`): the API
/// names, time buckets with the time zone they were cut in.
pub fn roll_key(set: &[Dimension], timezone: &str) -> String {
    let names: Vec<String> = set
        .iter()
        .map(|d| match d {
            Dimension::Time(_) => format!("{}@{timezone}", d.name()),
            other => other.name(),
        })
        .collect();
    names.join(",")
}

/// The set of dimensions whose rolled days answer `query` exactly, if any.
///
/// Summing days is exact for any metric (a visitor id lives one UTC day), so
/// what decides is whether one rolled set holds the query's groups: at most
/// one dimension, and at most one filter that is a [`CUBE_FILTERS`] one. A
/// filter on a visit property (source) that one visitor's visits may differ
/// in must select one value: summing the visitors of several values would
/// count a visitor who came by two of them twice.
pub fn rolled(query: &Query, range: &Resolved) -> Option<Vec<Dimension>> {
    let dimension = match query.dimensions.as_slice() {
        [] => None,
        [d] => Some(match granularity(d, range) {
            Some(g) if ROLLED_TIMES.contains(&g) => Dimension::Time(g),
            Some(_) => return None,
            None if ROLLED.contains(d) || *d == Dimension::Event(EventDimension::Goal) => d.clone(),
            None => return None,
        }),
        _ => return None,
    };
    let filter = match query.filters.as_slice() {
        [] => None,
        // (a rolled value compares exactly: a filter that ignores case reads events)
        [Filter::Condition {
            operator,
            dimension: f,
            values,
            case_sensitive: true,
        }] if CUBE_FILTERS.contains(f)
            && (f.is_visitors_own() || (*operator == Operator::Is && values.len() == 1)) =>
        {
            Some(f.clone())
        }
        _ => return None,
    };
    match (filter, dimension) {
        (None, None) => Some(Vec::new()),
        (None, Some(d)) => Some(vec![d]),
        (Some(f), None) => Some(vec![f]),
        (Some(f), Some(d)) if f == d => Some(vec![d]),
        (Some(f), Some(d)) if CUBE_BREAKDOWNS.contains(&d) => Some(vec![f, d]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rolled_of(body: serde_json::Value) -> Option<Vec<String>> {
        let mut body = body;
        body["site_id"] = "s".into();
        body["date_range"] = "30d".into();
        let query = crate::query::parse(body.to_string().as_bytes()).unwrap();
        let range = Resolved {
            from: 1_774_738_800,
            to: 1_774_738_800 + 30 * 86_400,
            ..Resolved::default()
        };
        rolled(&query, &range).map(|set| set.iter().map(Dimension::name).collect())
    }

    #[test]
    fn a_query_reads_rolled_days_only_when_one_rolled_set_holds_its_groups_exactly() {
        use serde_json::json;
        let top = json!({"metrics": ["visitors", "visits", "bounce_rate"]});
        assert_eq!(rolled_of(top), Some(vec![]));
        let pages = json!({"metrics": ["visitors"], "dimensions": ["event:page"]});
        assert_eq!(rolled_of(pages), Some(vec!["event:page".into()]));
        // `time` over 30 days is by day
        let series = json!({"metrics": ["visitors"], "dimensions": ["time"]});
        assert_eq!(rolled_of(series), Some(vec!["time:day".into()]));
        // a source filter with one value: its cube; with two, a visitor of both would count twice
        let google = json!({"metrics": ["visitors"], "dimensions": ["event:page"],
                            "filters": [["is", "visit:source", ["Google"]]]});
        assert_eq!(
            rolled_of(google),
            Some(vec!["visit:source".into(), "event:page".into()])
        );
        let two = json!({"metrics": ["visitors"], "dimensions": ["event:page"],
                         "filters": [["is", "visit:source", ["Google", "Bing"]]]});
        assert_eq!(rolled_of(two), None);
        // a visitor's own property: any operator, any number of values
        let devices = json!({"metrics": ["visitors"],
                             "filters": [["is_not", "visit:device", ["Mobile", "Tablet"]]]});
        assert_eq!(rolled_of(devices), Some(vec!["visit:device".into()]));
        let goals =
            json!({"metrics": ["visitors", "conversion_rate"], "dimensions": ["event:goal"]});
        assert_eq!(rolled_of(goals), Some(vec!["event:goal".into()]));
        // not rolled: props, two dimensions, two filters, an event filter
        for body in [
            json!({"metrics": ["visitors"], "dimensions": ["event:props:plan"]}),
            json!({"metrics": ["visitors"], "dimensions": ["visit:source", "event:page"]}),
            json!({"metrics": ["visitors"], "filters": [["is", "visit:device", ["Mobile"]],
                                                         ["is", "visit:browser", ["Firefox"]]]}),
            json!({"metrics": ["visitors"], "filters": [["is", "event:page", ["/"]]]}),
        ] {
            assert_eq!(rolled_of(body.clone()), None, "{body}");
        }
        assert_eq!(
            roll_key(
                &[CUBE_FILTERS[0].clone(), Dimension::Time(Granularity::Day)],
                "Europe/Berlin"
            ),
            "visit:source,time:day@Europe/Berlin"
        );
    }
}
