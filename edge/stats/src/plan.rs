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
//! Besides the groups, a query may need a total (`percentage`,
//! `conversion_rate`), the range's time labels, or — for a top-stats row
//! asking event and visit metrics at once — its visit metrics apart ([`split`]).
//! These statements do not depend on one another: the Worker sends them together.

use crate::query::{DateRange, Filter, OrderKey, Query, QueryError, MAX_LIMIT};
use crate::range::{auto_granularity, Resolved};
use crate::schema::{Dimension, EventDimension, Granularity, Metric};

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
    /// goal filters, for `conversion_rate`.
    ConversionTotals(Query),
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

/// The plan for `query` over `range`, or a 400 for what SQL cannot answer.
pub fn plan(query: &Query, range: Resolved) -> Result<Plan, QueryError> {
    check(query)?;
    let mut parts = match split(query) {
        Some((events, visits)) => vec![Part::Groups(events), Part::VisitMetrics(visits)],
        None => vec![Part::Groups(query.clone())],
    };
    if query.metrics.contains(&Metric::Percentage) && !partitions_visitors(query) {
        parts.push(Part::TotalVisitors(total_query(query, false)));
    }
    if query.metrics.contains(&Metric::ConversionRate) {
        parts.push(Part::ConversionTotals(total_query(query, true)));
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
    if query.metrics.contains(&Metric::ConversionRate) && nested {
        return Err(QueryError(
            "filters: with conversion_rate, event:goal filters must be at the top level".into(),
        ));
    }
    // a group's conversion rate divides by that group's own total: SQL can
    // order by it only when the total is one (a breakdown by goal alone)
    let orders_by_conversion = query
        .order_by
        .iter()
        .any(|(key, _)| *key == OrderKey::Metric(Metric::ConversionRate));
    if orders_by_conversion && query.dimensions.iter().any(|d| *d != goal) {
        return Err(QueryError(
            "order_by: conversion_rate orders only a breakdown by event:goal alone".into(),
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
    let event_metric = query
        .metrics
        .iter()
        .any(|m| matches!(m, Metric::Pageviews | Metric::Events | Metric::ScrollDepth));
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
/// dimensions) or `conversion_rate` (no goal dimension, no goal filter).
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
        total
            .filters
            .retain(|f| !matches!(f, Filter::Condition { dimension, .. } if *dimension == goal));
    } else {
        total.dimensions.clear();
    }
    total
}
