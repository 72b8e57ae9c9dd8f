//! A funnel's one statement: the range's events with their stored visit (the
//! general path's rows, the funnel's filters applied), each visit's furthest
//! step by `windowFunnel`, then the visits per furthest step.

use super::expression::Builder;
use super::{source, Scope};
use crate::funnel::Funnel;
use crate::plan::Path;
use crate::range::Resolved;
use model::settings::Site;
use model::sql::Sql;

/// Each event's time for `windowFunnel`: its second × 8 plus the first step
/// it completes (8 steps at most), so that in the same second steps count in
/// their order whatever the ClickHouse version (older ones order a second's
/// events as they happen to reach `windowFunnel`). No visit is longer than a UTC day (a visitor id lives
/// one day), so the window (a day, in these units) never ends a visit's
/// funnel early: the visit bounds it.
const TICKS_PER_SECOND: u32 = 8;
const WINDOW_TICKS: u32 = 86_400 * TICKS_PER_SECOND;

/// Rows `[step, visits]`: step 0 for visits in range that entered no step.
pub fn funnel_statement(funnel: &Funnel, site: &Site, range: &Resolved) -> Sql {
    let reading = funnel.reading();
    let mut b = Builder::new(site, &reading);
    let scope = Scope::bind(&mut b.sql, site, range);
    let rows = source(&mut b, &reading, range, &scope, None, Path::General);
    let filter = b.all(&funnel.query.filters, range);
    let steps: Vec<String> = funnel
        .steps
        .iter()
        .map(|step| {
            let completes = b.goal_condition(&step.goal);
            let props = b.all(&crate::funnel::prop_filters(step), range);
            format!("({completes} AND {props})")
        })
        .collect();
    let first_step: Vec<String> = (0..)
        .zip(&steps)
        .map(|(i, c)| format!("{c}, {i}"))
        .collect();
    b.sql.text = format!(
        "SELECT step, count() AS visits FROM (\
         SELECT windowFunnel({WINDOW_TICKS})(toUInt64(timestamp) * {TICKS_PER_SECOND} + multiIf({}, 0), {}) AS step \
         FROM ({rows}) WHERE {filter} \
         GROUP BY visitor_id, s_start HAVING countIf(name != 'engagement') > 0) \
         GROUP BY step ORDER BY step",
        first_step.join(", "),
        steps.join(", ")
    );
    b.sql
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
        assert!(sql.text.contains("windowFunnel(691200)") && sql.text.contains("ASOF JOIN"));
        assert!(sql.params.iter().filter(|(_, v)| v == hostile).count() >= 3);
    }
}
