//! The order and the page of a statement's groups.

use super::expression::Builder;
use crate::query::{Direction, OrderKey, Query};
use crate::schema::{Dimension, Metric};
use model::sql::Sql;

/// The order and the page.
pub(super) fn finish(mut b: Builder, query: &Query, names: &[String], result: String) -> Sql {
    let order = order_by(query, names);
    let limit_p = b.sql.bind("UInt64", &query.limit.to_string());
    let offset_p = b.sql.bind("UInt64", &query.offset.to_string());
    b.sql.text = format!("{result} ORDER BY {order} LIMIT {limit_p} OFFSET {offset_p}");
    b.sql
}

/// The metric's sort expression over a group's components (ratios as the same
/// floating-point division [`answer`](crate::answer) makes).
pub fn metric_order(metric: Metric) -> &'static str {
    match metric {
        // a group conversion rate is ordered only where its total is one
        Metric::Visitors
        | Metric::Percentage
        | Metric::ConversionRate
        | Metric::GroupConversionRate => "visitors",
        Metric::Visits => "visits",
        Metric::Pageviews => "pageviews",
        Metric::Events => "events",
        Metric::BounceRate => "if(visits = 0, 0, bounces * 100 / visits)",
        Metric::VisitDuration => "if(visits = 0, 0, duration / visits)",
        Metric::ViewsPerVisit => "if(visits = 0, 0, visit_pageviews / visits)",
        Metric::ScrollDepth => "if(scroll_count = 0, 0, scroll_sum / scroll_count)",
        Metric::TimeOnPage => "if(scroll_count = 0, 0, engaged_ms / scroll_count)",
    }
}

/// The query's order, then every dimension ascending, so that ties (and so
/// pages) are always cut the same way. Without an order: time ascending,
/// else the first metric descending.
fn order_by(query: &Query, names: &[String]) -> String {
    let mut keys: Vec<String> = query
        .order_by
        .iter()
        .map(|(key, direction)| {
            let expression = match key {
                OrderKey::Metric(m) => metric_order(*m).to_string(),
                OrderKey::Dimension(d) => {
                    let i = query.dimensions.iter().position(|x| x == d).unwrap_or(0);
                    names.get(i).cloned().unwrap_or_else(|| "1".into())
                }
            };
            let dir = match direction {
                Direction::Asc => "ASC",
                Direction::Desc => "DESC",
            };
            format!("{expression} {dir}")
        })
        .collect();
    if query.order_by.is_empty() {
        match query.dimensions.iter().position(Dimension::is_time) {
            Some(i) => keys.push(format!("{} ASC", names[i])),
            None => keys.push(format!("{} DESC", metric_order(query.metrics[0]))),
        }
    }
    keys.extend(names.iter().map(|n| format!("{n} ASC")));
    keys.join(", ")
}
