//! ClickHouse's rows into the Stats API's answer `{results, meta, query}`:
//! each metric made from L4's integer components ([`sql::COMPONENTS`]),
//! rounded here and only here.

use super::query::{DateRange, Direction, Filter, OrderKey, Query};
use super::range::Resolved;
use super::schema::{Dimension, EventDimension, Metric};
use super::sql::COMPONENTS;
use serde_json::{json, Value};
use std::collections::HashMap;

/// One group's integer components, as L4 returns them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Components {
    pub visitors: u64,
    pub visits: u64,
    pub pageviews: u64,
    pub events: u64,
    pub bounces: u64,
    pub duration: u64,
    pub visit_pageviews: u64,
    pub scroll_sum: u64,
    pub scroll_count: u64,
    pub total_rows: u64,
    /// The sum of all groups' visitors (before pagination).
    pub visitors_total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ClickHouse answered a row this code cannot read: {0}")]
pub struct RowError(pub String);

/// A count in a ClickHouse JSON answer: a number, or a string when 64-bit
/// numbers are quoted (`output_format_json_quote_64bit_integers`).
pub fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// One ClickHouse row (`JSONCompact`'s `data`): the dimensions as strings,
/// then the components (numbers, or strings when 64-bit numbers are quoted).
pub fn read_row(row: &Value, dimensions: usize) -> Result<(Vec<String>, Components), RowError> {
    let cells = row
        .as_array()
        .filter(|c| c.len() == dimensions + COMPONENTS.len())
        .ok_or_else(|| RowError(row.to_string()))?;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let number = |v: &Value| count(v).ok_or_else(|| RowError(v.to_string()));
    let dims = cells[..dimensions].iter().map(text).collect();
    let c = &cells[dimensions..];
    Ok((
        dims,
        Components {
            visitors: number(&c[0])?,
            visits: number(&c[1])?,
            pageviews: number(&c[2])?,
            events: number(&c[3])?,
            bounces: number(&c[4])?,
            duration: number(&c[5])?,
            visit_pageviews: number(&c[6])?,
            scroll_sum: number(&c[7])?,
            scroll_count: number(&c[8])?,
            total_rows: number(&c[9])?,
            visitors_total: number(&c[10])?,
        },
    ))
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

fn ratio(numerator: u64, denominator: u64, scale: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        (numerator * scale) as f64 / denominator as f64
    }
}

/// A metric's value from a group's components; `total` is the visitors
/// `percentage` or `conversion_rate` divide by.
pub fn metric_value(metric: Metric, c: &Components, total: u64) -> Value {
    let whole = |x: f64| json!(x.round() as u64);
    match metric {
        Metric::Visitors => json!(c.visitors),
        Metric::Visits => json!(c.visits),
        Metric::Pageviews => json!(c.pageviews),
        Metric::Events => json!(c.events),
        Metric::BounceRate => whole(ratio(c.bounces, c.visits, 100)),
        Metric::VisitDuration => whole(ratio(c.duration, c.visits, 1)),
        Metric::ViewsPerVisit => json!(round_to(ratio(c.visit_pageviews, c.visits, 1), 2)),
        Metric::ScrollDepth if c.scroll_count == 0 => Value::Null,
        Metric::ScrollDepth => whole(ratio(c.scroll_sum, c.scroll_count, 1)),
        Metric::Percentage => json!(round_to(ratio(c.visitors, total, 100), 1)),
        Metric::ConversionRate => json!(round_to(ratio(c.visitors, total, 100), 2)),
    }
}

/// What the statements of one query returned.
pub struct Returned {
    pub rows: Vec<(Vec<String>, Components)>,
    /// The visit components of a split query (no dimensions), for its one row.
    pub visit_components: Option<Components>,
    /// Visitors without dimensions (`percentage`); `None` when the groups
    /// partition the visitors and their sum is the total.
    pub total_visitors: Option<u64>,
    /// Visitors per group of the dimensions other than `event:goal`,
    /// without goal filters (`conversion_rate`).
    pub conversion_totals: Option<HashMap<Vec<String>, u64>>,
    pub time_labels: Option<Vec<String>>,
    /// The number of groups, when the page is past the end.
    pub total_rows: Option<u64>,
}

pub fn answer(query: &Query, range: &Resolved, returned: &Returned) -> Value {
    let rows: Vec<(Vec<String>, Components)> = match returned.visit_components {
        Some(v) => returned
            .rows
            .iter()
            .map(|(dims, c)| {
                let merged = Components {
                    visits: v.visits,
                    bounces: v.bounces,
                    duration: v.duration,
                    visit_pageviews: v.visit_pageviews,
                    ..*c
                };
                (dims.clone(), merged)
            })
            .collect(),
        None => returned.rows.clone(),
    };
    let goal_index = query
        .dimensions
        .iter()
        .position(|d| *d == Dimension::Event(EventDimension::Goal));
    let results: Vec<Value> = rows
        .iter()
        .map(|(dims, c)| {
            let metrics: Vec<Value> = query
                .metrics
                .iter()
                .map(|m| {
                    let total = match m {
                        Metric::Percentage => returned.total_visitors.unwrap_or(c.visitors_total),
                        Metric::ConversionRate => {
                            let key: Vec<String> = dims
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| Some(*i) != goal_index)
                                .map(|(_, d)| d.clone())
                                .collect();
                            returned
                                .conversion_totals
                                .as_ref()
                                .and_then(|t| t.get(&key).copied())
                                .unwrap_or(0)
                        }
                        _ => 0,
                    };
                    metric_value(*m, c, total)
                })
                .collect();
            json!({ "metrics": metrics, "dimensions": dims })
        })
        .collect();
    let mut meta = serde_json::Map::new();
    if let Some(labels) = &returned.time_labels {
        meta.insert("time_labels".into(), json!(labels));
    }
    if query.total_rows {
        let total = rows
            .first()
            .map(|(_, c)| c.total_rows)
            .or(returned.total_rows)
            .unwrap_or(0);
        meta.insert("total_rows".into(), json!(total));
    }
    json!({ "results": results, "meta": meta, "query": echo(query, range) })
}

/// The query as it was understood, with the date range resolved.
fn echo(query: &Query, range: &Resolved) -> Value {
    let order_by: Vec<Value> = query
        .order_by
        .iter()
        .map(|(key, direction)| {
            let name = match key {
                OrderKey::Metric(m) => m.name().to_string(),
                OrderKey::Dimension(d) => d.name(),
            };
            let direction = match direction {
                Direction::Asc => "asc",
                Direction::Desc => "desc",
            };
            json!([name, direction])
        })
        .collect();
    json!({
        "site_id": query.site_id,
        "metrics": query.metrics.iter().map(|m| m.name()).collect::<Vec<_>>(),
        "date_range": [range.from_local, range.to_local],
        "dimensions": query.dimensions.iter().map(Dimension::name).collect::<Vec<_>>(),
        "filters": query.filters.iter().map(filter_json).collect::<Vec<_>>(),
        "order_by": order_by,
        "include": { "time_labels": query.time_labels, "total_rows": query.total_rows },
        "pagination": { "limit": query.limit, "offset": query.offset },
        "date_range_input": match &query.date_range {
            DateRange::Named(name) => json!(name),
            DateRange::Between { from, to } => json!([from, to]),
        },
    })
}

fn filter_json(filter: &Filter) -> Value {
    match filter {
        Filter::Condition {
            operator,
            dimension,
            values,
        } => json!([operator.name(), dimension.name(), values]),
        Filter::And(list) => json!(["and", list.iter().map(filter_json).collect::<Vec<_>>()]),
        Filter::Or(list) => json!(["or", list.iter().map(filter_json).collect::<Vec<_>>()]),
        Filter::Not(inner) => json!(["not", filter_json(inner)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_round_once_and_survive_empty_groups() {
        let c = Components {
            visitors: 3,
            visits: 4,
            bounces: 1,
            duration: 250,
            visit_pageviews: 9,
            ..Components::default()
        };
        assert_eq!(metric_value(Metric::BounceRate, &c, 0), json!(25));
        assert_eq!(metric_value(Metric::VisitDuration, &c, 0), json!(63));
        assert_eq!(metric_value(Metric::ViewsPerVisit, &c, 0), json!(2.25));
        assert_eq!(metric_value(Metric::Percentage, &c, 7), json!(42.9));
        assert_eq!(metric_value(Metric::ConversionRate, &c, 7), json!(42.86));
        assert_eq!(metric_value(Metric::ScrollDepth, &c, 0), Value::Null);
        let empty = Components::default();
        assert_eq!(metric_value(Metric::BounceRate, &empty, 0), json!(0));
        assert_eq!(metric_value(Metric::Percentage, &empty, 0), json!(0.0));
    }

    #[test]
    fn rows_are_read_whether_64_bit_numbers_are_quoted_or_not() {
        let row = json!(["/docs", 5, "6", 7, 0, 1, 2, 3, 4, 5, 1, 9]);
        let (dims, c) = read_row(&row, 1).unwrap();
        assert_eq!(dims, ["/docs"]);
        assert_eq!((c.visitors, c.visits, c.total_rows), (5, 6, 1));
        assert!(read_row(&json!(["/docs", 5]), 1).is_err());
        assert!(read_row(&json!(["/docs", 5, "x", 7, 0, 1, 2, 3, 4, 5, 1, 9]), 1).is_err());
    }
}
