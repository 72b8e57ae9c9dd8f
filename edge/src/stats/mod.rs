//! The Stats API (Plausible's v2 `POST /api/v2/query`), as pure modules:
//!
//! ```text
//! body ─▶ query::parse ─▶ range::resolve_sql (ClickHouse resolves the site's
//!      time zone) ─▶ plan (sql::statement, totals, labels) ─▶ ClickHouse
//!      ─▶ answer::read_row ─▶ answer::answer
//! ```
//!
//! [`schema`] is the one list of metrics, dimensions and filter operators that
//! validation and SQL both read.

pub mod answer;
pub mod query;
pub mod range;
pub mod schema;
pub mod sql;

use crate::settings::Site;
use query::{Filter, Query, QueryError};
use range::Resolved;
use schema::{Dimension, EventDimension, Metric};
use sql::Sql;

/// The statements one query needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub main: Sql,
    /// With no dimensions, event and visit metrics asked together are two
    /// fast statements ([`sql::split`]): this one's visit components replace
    /// `main`'s.
    pub visit_part: Option<Sql>,
    /// Visitors without dimensions, for `percentage`.
    pub percentage: Option<Sql>,
    /// Visitors per non-goal group without goal filters, for `conversion_rate`.
    pub conversions: Option<Sql>,
    /// The number of non-goal dimensions `conversions` groups by.
    pub conversion_dimensions: usize,
    /// Every time bucket of the range, for `include.time_labels`.
    pub labels: Option<Sql>,
    /// The first page of `main`, whose rows carry the total when the asked
    /// page is past the end (`include.total_rows` with a large offset).
    pub first_page: Option<Sql>,
}

/// What depends on the site's settings, checked before any SQL is made.
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
        .any(|(key, _)| *key == query::OrderKey::Metric(Metric::ConversionRate));
    if orders_by_conversion && query.dimensions.iter().any(|d| *d != goal) {
        return Err(QueryError(
            "order_by: conversion_rate orders only a breakdown by event:goal alone".into(),
        ));
    }
    Ok(())
}

pub fn plan(query: &Query, site: &Site, range: &Resolved) -> Result<Plan, QueryError> {
    check(query)?;
    let percentage = (query.metrics.contains(&Metric::Percentage)
        && !sql::partitions_visitors(query))
    .then(|| sql::statement(&sql::total_query(query, false), site, range));
    let conversions = query
        .metrics
        .contains(&Metric::ConversionRate)
        .then(|| sql::total_query(query, true));
    let labels = query
        .time_labels
        .then(|| {
            query
                .dimensions
                .iter()
                .find_map(|d| sql::granularity(d, range))
                .map(|g| range::labels_sql(g, range, &site.timezone))
        })
        .flatten();
    let first_page = (query.total_rows && query.offset > 0).then(|| {
        let mut first = query.clone();
        first.offset = 0;
        first.limit = 1;
        sql::statement(&first, site, range)
    });
    let (main, visit_part) = match sql::split(query) {
        Some((events, visits)) => (
            sql::statement(&events, site, range),
            Some(sql::statement(&visits, site, range)),
        ),
        None => (sql::statement(query, site, range), None),
    };
    Ok(Plan {
        main,
        visit_part,
        first_page,
        percentage,
        conversion_dimensions: conversions.as_ref().map_or(0, |q| q.dimensions.len()),
        conversions: conversions.map(|q| sql::statement(&q, site, range)),
        labels,
    })
}

/// `GET /api/v1/stats/realtime/visitors`: visitors of the last 5 minutes.
pub fn realtime_sql(site: &Site) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", &site.domain);
    sql.text = format!(
        "SELECT uniqExact(visitor_id) FROM events WHERE site_domain = {site_p} \
         AND timestamp >= now() - 300 AND name != 'engagement'"
    );
    sql
}
