//! The rows of a plan's statements into the Stats API's answer
//! `{results, meta, query}`: each metric made from its group's integer
//! [`Components`], divided and rounded here and only here.

use crate::columns::{count, read_row, Components, RowError};
use crate::plan::{Part, Plan};
use crate::privacy::keeps_hidden_rows;
use crate::query::{DateRange, Direction, Filter, OrderKey, Query};
use crate::range::Resolved;
use crate::schema::{Dimension, EventDimension, Metric};
use serde_json::{json, Value};
use std::collections::HashMap;

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
        Metric::TimeOnPage if c.scroll_count == 0 => Value::Null,
        Metric::TimeOnPage => whole(ratio(c.engaged_ms, c.scroll_count, 1) / 1000.0),
        Metric::Percentage => json!(round_to(ratio(c.visitors, total, 100), 1)),
        Metric::ConversionRate | Metric::GroupConversionRate => {
            json!(round_to(ratio(c.visitors, total, 100), 2))
        }
    }
}

/// The answer to `plan`: `results[i]` are the rows (`JSONCompact`'s `data`)
/// of `plan.parts[i]`, `first_page` those of `plan.first_page` when it was asked.
pub fn answer(
    plan: &Plan,
    results: &[Vec<Value>],
    first_page: Option<&[Value]>,
) -> Result<Value, RowError> {
    if results.len() != plan.parts.len() {
        return Err(RowError(format!(
            "{} results for {} statements",
            results.len(),
            plan.parts.len()
        )));
    }
    let read = |rows: &[Value], dimensions: usize| {
        rows.iter()
            .map(|row| read_row(row, dimensions))
            .collect::<Result<Vec<_>, _>>()
    };
    let mut returned = Returned::default();
    for (part, rows) in plan.parts.iter().zip(results) {
        match part {
            Part::Groups(query) => returned.rows = read(rows, query.dimensions.len())?,
            Part::VisitMetrics(_) => {
                returned.visit_components = read(rows, 0)?.first().map(|(_, c)| *c)
            }
            Part::TotalVisitors(_) => {
                returned.total_visitors = read(rows, 0)?.first().map(|(_, c)| shown(c))
            }
            Part::ConversionTotal(_) => {
                returned.conversion_total =
                    Some(read(rows, 0)?.first().map_or(Some(0), |(_, c)| shown(c)))
            }
            Part::ConversionTotals(query) => {
                let totals = read(rows, query.dimensions.len())?;
                returned.conversion_totals = Some(
                    totals
                        .into_iter()
                        .filter(|(_, c)| c.hidden == 0)
                        .map(|(key, c)| (key, c.visitors))
                        .collect(),
                )
            }
            Part::TimeLabels(_) => {
                returned.time_labels = Some(
                    rows.iter()
                        .filter_map(|r| r.get(0).and_then(Value::as_str).map(str::to_string))
                        .collect(),
                )
            }
        }
    }
    if let (Some(query), Some(rows)) = (&plan.first_page, first_page) {
        let first = read(rows, query.dimensions.len())?;
        returned.total_rows = first.first().map(|(_, c)| c.total_rows);
        returned.suppressed = first.first().map(|(_, c)| c.suppressed);
    }
    Ok(compose(&plan.query, &plan.range, &returned))
}

/// `GET /api/v1/stats/realtime/visitors`: the count of the realtime
/// statement, `null` when fewer than the minimum group size `k` were there.
pub fn realtime_answer(rows: &[Value], k: u32) -> Result<Value, RowError> {
    let read = rows
        .first()
        .and_then(|r| Some((count(r.get(0)?)?, count(r.get(1)?)?)));
    let (visitors, on_one_day) =
        read.ok_or_else(|| RowError(Value::Array(rows.to_vec()).to_string()))?;
    Ok(if crate::privacy::large_enough([on_one_day], k) {
        Value::from(visitors)
    } else {
        Value::Null
    })
}

/// A total's visitors, `None` when the privacy guard hid it (a rate over it
/// would tell it).
fn shown(c: &Components) -> Option<u64> {
    (c.hidden == 0).then_some(c.visitors)
}

/// What the statements of one query returned.
#[derive(Default)]
struct Returned {
    rows: Vec<(Vec<String>, Components)>,
    /// The visit components of a split query (no dimensions), for its one row.
    visit_components: Option<Components>,
    /// Visitors without dimensions (`percentage`); `None` when the groups
    /// partition the visitors and their sum is the total; `Some(None)` hidden.
    total_visitors: Option<Option<u64>>,
    /// Visitors per group of the dimensions other than `event:goal`,
    /// without goal filters (`group_conversion_rate`); a hidden one is missing.
    conversion_totals: Option<HashMap<Vec<String>, u64>>,
    /// Visitors without dimensions or goal filters (`conversion_rate`);
    /// `Some(None)` hidden.
    conversion_total: Option<Option<u64>>,
    time_labels: Option<Vec<String>>,
    /// The number of groups, when the page is past the end.
    total_rows: Option<u64>,
    /// The number of hidden groups, when the page is past the end.
    suppressed: Option<u64>,
}

fn compose(query: &Query, range: &Resolved, returned: &Returned) -> Value {
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
                    // one population: hidden if either part says so
                    hidden: c.hidden.max(v.hidden),
                    suppressed: c.suppressed.max(v.suppressed),
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
    // a hidden group of a breakdown is not answered (the one left when
    // none is shown only carries the count); a time bucket's or the top
    // stats' row keeps its place, its metrics null
    let keeps_hidden = keeps_hidden_rows(query);
    let suppressed = rows
        .first()
        .map(|(_, c)| c.suppressed)
        .or(returned.suppressed)
        .unwrap_or(0);
    let results: Vec<Value> = rows
        .iter()
        .filter(|(_, c)| keeps_hidden || c.hidden == 0)
        .map(|(dims, c)| {
            let metrics: Vec<Value> = query
                .metrics
                .iter()
                .map(|m| {
                    if c.hidden != 0 {
                        return Value::Null;
                    }
                    let total = match m {
                        Metric::Percentage => {
                            returned.total_visitors.unwrap_or(Some(c.visitors_total))
                        }
                        Metric::ConversionRate => returned.conversion_total.unwrap_or(Some(0)),
                        Metric::GroupConversionRate => {
                            let key: Vec<String> = dims
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| Some(*i) != goal_index)
                                .map(|(_, d)| d.clone())
                                .collect();
                            match &returned.conversion_totals {
                                Some(totals) => totals.get(&key).copied(),
                                None => Some(0),
                            }
                        }
                        _ => Some(0),
                    };
                    match total {
                        Some(total) => metric_value(*m, c, total),
                        None => Value::Null,
                    }
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
    if suppressed > 0 {
        meta.insert("suppressed".into(), json!(suppressed));
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

pub(crate) fn filter_json(filter: &Filter) -> Value {
    match filter {
        Filter::Condition {
            operator,
            dimension,
            values,
            case_sensitive: true,
        } => json!([operator.name(), dimension.name(), values]),
        Filter::Condition {
            operator,
            dimension,
            values,
            case_sensitive: false,
        } => json!([
            operator.name(),
            dimension.name(),
            values,
            { "case_sensitive": false }
        ]),
        Filter::And(list) => json!(["and", list.iter().map(filter_json).collect::<Vec<_>>()]),
        Filter::Or(list) => json!(["or", list.iter().map(filter_json).collect::<Vec<_>>()]),
        Filter::Not(inner) => json!(["not", filter_json(inner)]),
        Filter::HasDone { inner, negated } => json!([
            if *negated { "has_not_done" } else { "has_done" },
            filter_json(inner)
        ]),
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
        assert_eq!(metric_value(Metric::TimeOnPage, &c, 0), Value::Null);
        let engaged = Components {
            scroll_count: 4,
            engaged_ms: 130_000,
            ..Components::default()
        };
        // 130 s over 4 engaged visitors: 32.5 s, rounded once
        assert_eq!(metric_value(Metric::TimeOnPage, &engaged, 0), json!(33));
        let empty = Components::default();
        assert_eq!(metric_value(Metric::BounceRate, &empty, 0), json!(0));
        assert_eq!(metric_value(Metric::Percentage, &empty, 0), json!(0.0));
    }
}
