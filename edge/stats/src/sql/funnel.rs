//! A funnel's statement: the events of the range that complete a step, each
//! with its stored visit (the latest of its visitor-day's visits that began
//! at or before it), the funnel's filters applied, each visit's furthest step
//! by `windowFunnel`, then the visits per furthest step.
//!
//! The visit is found in the visitor-day's arrays rather than by an `ASOF
//! JOIN` over every visit of the range: at 10 M events that halved the
//! statement (docs/benchmarks.md).

use super::expression::Builder;
use super::source::{day_bounds, event_columns};
use super::Scope;
use crate::funnel::Funnel;
use crate::range::Resolved;
use model::settings::Site;
use model::sql::Sql;
use model::tables::{EVENTS, VISITOR_DAYS};

/// Each event's time for `windowFunnel`: its second × 8 plus the first step
/// it completes (8 steps at most), so that in the same second steps count in
/// their order whatever the ClickHouse version (older ones order a second's
/// events as they happen to reach `windowFunnel`). No visit is longer than a
/// UTC day (a visitor id lives one day), so the window (a day, in these
/// units) never ends a visit's funnel early: the visit bounds it.
const TICKS_PER_SECOND: u32 = 8;
const WINDOW_TICKS: u32 = 86_400 * TICKS_PER_SECOND;

/// The stored visit's arrays a filter may read, and the names the
/// dimensions give them (as `source::stored_visits` does).
const VISIT_ARRAYS: [(&str, &str); 12] = [
    ("start", "s_start"),
    ("end", "s_end"),
    ("entry_page", "s_entry_page"),
    ("exit_page", "s_exit_page"),
    ("source", "s_source"),
    ("referrer", "s_referrer"),
    ("utm_medium", "s_utm_medium"),
    ("utm_source", "s_utm_source"),
    ("utm_campaign", "s_utm_campaign"),
    ("utm_content", "s_utm_content"),
    ("utm_term", "s_utm_term"),
    ("channel", "s_channel"),
];

/// Rows `[step, visits]` for the visits that entered the funnel (step ≥ 1);
/// the visits that entered none are the `visits` metric of the same range
/// and filters less these ([`crate::funnel::answer`]).
pub fn funnel_statement(funnel: &Funnel, site: &Site, range: &Resolved) -> Sql {
    statement(funnel, site, range, false)
}

/// For a site with a minimum group size: per step reached and UTC day, the
/// visitors whose furthest step (over their visits) it is — what the
/// funnel's privacy rule counts ([`crate::funnel::answer`]).
pub fn funnel_furthest_statement(funnel: &Funnel, site: &Site, range: &Resolved) -> Sql {
    statement(funnel, site, range, true)
}

/// For a site with a minimum group size, the statements its funnels' rule
/// reads ([`crate::funnel::answer`]): the furthest steps of the funnel; and,
/// when it has filters, one statement of rows `[complement, day, visitors]`:
/// per complement ([`crate::privacy::complements`]: what one filter less
/// differs by), the visitors per UTC day of its events that complete a step
/// — counted, not walked, as a differing event may be a later step's alone.
pub fn funnel_privacy_statements(funnel: &Funnel, site: &Site, range: &Resolved) -> Vec<Sql> {
    let mut out = vec![funnel_furthest_statement(funnel, site, range)];
    let complements = crate::privacy::complements(&funnel.query);
    if complements.is_empty() {
        return out;
    }
    let reading = funnel.reading();
    let mut b = Builder::new(site, &reading);
    let scope = Scope::bind(&mut b.sql, site, range);
    let parts: Vec<String> = complements
        .iter()
        .enumerate()
        .map(|(i, complement)| {
            let mut other = funnel.clone();
            other.query.filters = complement.filters.clone();
            let visits = per_visit(&mut b, &other, range, &scope);
            format!(
                "SELECT {} AS complement, visit_day, uniqExact(visitor_id) AS visitors                  FROM ({visits}) GROUP BY visit_day",
                i + 1
            )
        })
        .collect();
    b.sql.text = format!(
        "SELECT * FROM ({}) ORDER BY complement, visit_day",
        parts.join(" UNION ALL ")
    );
    out.push(b.sql);
    out
}

fn statement(funnel: &Funnel, site: &Site, range: &Resolved, furthest: bool) -> Sql {
    let reading = funnel.reading();
    let mut b = Builder::new(site, &reading);
    let scope = Scope::bind(&mut b.sql, site, range);
    let per_visit = per_visit(&mut b, funnel, range, &scope);
    b.sql.text = if furthest {
        // a visitor id lives one UTC day: per visitor, the furthest step of
        // their visits, counted per step and day
        format!(
            "SELECT furthest, visitor_day, count() AS visitors FROM (\
             SELECT visitor_id, any(visit_day) AS visitor_day, max(step) AS furthest FROM ({per_visit}) GROUP BY visitor_id) \
             WHERE furthest > 0 GROUP BY furthest, visitor_day ORDER BY furthest, visitor_day"
        )
    } else {
        format!(
            "SELECT step, count() AS visits FROM ({per_visit}) WHERE step > 0 GROUP BY step ORDER BY step"
        )
    };
    b.sql
}

/// Per visit of the range and the funnel's filters that has an event
/// completing a step: its visitor, its UTC day and its furthest step.
fn per_visit(b: &mut Builder, funnel: &Funnel, range: &Resolved, scope: &Scope) -> String {
    let reading = funnel.reading();
    let Scope {
        site_p,
        from_p,
        to_p,
    } = scope;
    let steps: Vec<String> = funnel
        .steps
        .iter()
        .map(|step| {
            let completes = b.goal_condition(&step.goal);
            let props = b.all(&crate::funnel::prop_filters(step), range);
            format!("({completes} AND {props})")
        })
        .collect();
    let filter = b.all(&funnel.query.filters, range);
    let rows = format!(
        "SELECT {}, toDate(timestamp) AS day FROM {EVENTS} WHERE site_domain = {site_p} \
         AND timestamp >= toDateTime({from_p}, 'UTC') AND timestamp < toDateTime({to_p}, 'UTC') AND ({})",
        event_columns(&reading).join(", "),
        steps.join(" OR ")
    );
    // the visit's own properties only when a filter reads one: string arrays
    // cost more to read than the events' columns
    let visit_filter = funnel
        .query
        .filters
        .iter()
        .any(|f| f.mentions(|d| d.is_visit_level() && !d.is_visitors_own()));
    let wanted = if visit_filter {
        &VISIT_ARRAYS[..]
    } else {
        &VISIT_ARRAYS[..1]
    };
    let arrays: Vec<String> = wanted
        .iter()
        .map(|(array, name)| format!("`visit.{array}` AS {name}s"))
        .collect();
    let visits = format!(
        "SELECT visitor_id AS v_visitor, date, {} FROM {VISITOR_DAYS} FINAL \
         WHERE site_domain = {site_p} AND {}",
        arrays.join(", "),
        day_bounds(from_p, to_p)
    );
    let visit_of_event: Vec<String> = wanted
        .iter()
        .map(|(_, name)| format!("{name}s[i] AS {name}"))
        .collect();
    let first_step: Vec<String> = (0..)
        .zip(&steps)
        .map(|(i, c)| format!("{c}, {i}"))
        .collect();
    format!(
        "SELECT visitor_id, any(day) AS visit_day, \
         windowFunnel({WINDOW_TICKS})(toUInt64(timestamp) * {TICKS_PER_SECOND} + multiIf({}, 0), {}) AS step \
         FROM (SELECT *, {} FROM (\
         SELECT *, indexOf(s_starts, arrayMax(arrayFilter(s -> s <= timestamp, s_starts))) AS i \
         FROM ({rows}) AS e INNER JOIN ({visits}) AS v ON e.visitor_id = v.v_visitor AND e.day = v.date)) \
         WHERE i > 0 AND {filter} GROUP BY visitor_id, s_start",
        first_step.join(", "),
        steps.join(", "),
        visit_of_event.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_value_is_a_parameter() {
        let hostile = "x' OR 1=1 --";
        let body = serde_json::json!({
            "site_id": "portal.example", "date_range": "7d",
            "filters": [["is", "visit:source", [hostile]]],
            "steps": [{"page_path": format!("/{hostile}")},
                      {"event_name": hostile, "props": {hostile: hostile}}],
        });
        let funnel = crate::funnel::parse(body.to_string().as_bytes()).unwrap();
        let sql = funnel_statement(&funnel, &Site::new("portal.example"), &Resolved::default());
        assert!(!sql.text.contains("1=1"), "{}", sql.text);
        assert!(
            sql.text.contains("windowFunnel(691200)") && sql.text.contains("visitor_days FINAL")
        );
        // bound once (per type), used at each place it is compared
        let uses = super::super::placeholder_uses(&sql, hostile);
        assert!(uses >= 3, "{uses}");
    }
}
