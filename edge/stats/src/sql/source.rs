//! What a statement reads: the columns of `events` it needs, and the stored
//! visits of the range's days under the names the dimensions use.

use super::expression::visit_column;
use crate::query::{Filter, Query};
use crate::schema::{Dimension, EventDimension};
use model::tables::VISITOR_DAYS;

/// The UTC days `visitor_days` holds for the range's events.
pub(super) fn day_bounds(from_p: &str, to_p: &str) -> String {
    format!(
        "date BETWEEN toDate(toDateTime({from_p}, 'UTC')) AND toDate(toDateTime({to_p} - 1, 'UTC'))"
    )
}

/// The stored visits of the range's days, one row each, under the names the
/// dimensions use (`s_…` for the visit's, the visitor's own as in `events`).
pub(super) fn stored_visits(site_p: &str, from_p: &str, to_p: &str, with_visitor: bool) -> String {
    let visitor = if with_visitor {
        "device, browser, browser_version, operating_system, operating_system_version, country_code, "
    } else {
        ""
    };
    format!(
        "SELECT visitor_id AS v_visitor, date AS v_date, {visitor}`visit.start` AS s_start, `visit.end` AS s_end, \
         `visit.first_active` AS s_first_active, `visit.last_active` AS s_last_active, \
         `visit.pageviews` AS s_pageviews, `visit.interactions` AS s_interactions, \
         `visit.active` AS s_active, `visit.entry_page` AS s_entry_page, \
         `visit.exit_page` AS s_exit_page, `visit.source` AS s_source, \
         `visit.referrer` AS s_referrer, `visit.utm_medium` AS s_utm_medium, \
         `visit.utm_source` AS s_utm_source, `visit.utm_campaign` AS s_utm_campaign, \
         `visit.utm_content` AS s_utm_content, `visit.utm_term` AS s_utm_term, \
         `visit.channel` AS s_channel \
         FROM {VISITOR_DAYS} FINAL ARRAY JOIN visit \
         WHERE site_domain = {site_p} AND {}",
        day_bounds(from_p, to_p)
    )
}

/// Every dimension a query names, in its dimensions and filters.
fn named_dimensions(query: &Query) -> Vec<&Dimension> {
    let mut out: Vec<&Dimension> = query.dimensions.iter().collect();
    out.extend(query.filters.iter().flat_map(Filter::dimensions));
    out
}

/// The columns of `events` a query reads: fewer columns, less to scan and join.
pub(super) fn event_columns(query: &Query) -> Vec<&'static str> {
    let mut columns = vec![
        "timestamp",
        "name",
        "visitor_id",
        "interactive",
        "scroll_depth",
        "engagement_time",
    ];
    for dimension in named_dimensions(query) {
        let needed: &[&'static str] = match dimension {
            // goals match names and paths
            Dimension::Event(EventDimension::Page | EventDimension::Goal) => &["pathname"],
            Dimension::Event(EventDimension::Hostname) => &["hostname"],
            Dimension::Prop(_) => &["`meta.key`", "`meta.value`"],
            // the visitor's own, which every event carries
            Dimension::Visit(v) if dimension.is_visitors_own() => &[visit_column(*v)],
            // name and timestamp are always read; visit properties come from the visits
            _ => &[],
        };
        for column in needed {
            if !columns.contains(column) {
                columns.push(column);
            }
        }
    }
    columns
}
