//! The read path: the Stats API (Plausible's v2 `POST /api/v2/query`, and
//! realtime visitors), as pure modules. The Worker runs the statements; all
//! else is here, and runs natively in tests.
//!
//! ```text
//! body ─▶ query::parse ─▶ range::resolve_sql ──(ClickHouse: the site's time zone)──▶ range::read_resolved
//!      ─▶ plan::plan ─▶ statements (independent: sent together) ──(ClickHouse)──▶ answer::answer
//! ```
//!
//! - [`schema`]: the one list of metrics, dimensions and operators
//! - [`query`]: a request body into a validated query, or a 400 naming the field
//! - [`range`]: the date range in the site's time zone, resolved by ClickHouse
//! - [`plan`]: which statements answer a query, each on its cheapest path
//! - [`limits`]: what one request may cost (range, buckets, body; ClickHouse's own limits)
//! - [`sql`]: a plan's statements in SQL, every value bound
//! - [`columns`]: what every statement returns, and how its rows are read
//! - [`answer`]: the rows into the answer, every metric rounded once
//! - [`funnel`]: `POST /api/v2/funnel`: ordered steps counted within a visit
//! - [`export`]: `POST /api/v2/export`: a view as Plausible's zip of one CSV per panel
//! - [`v1`]: Plausible's Stats API v1 (aggregate, timeseries, breakdown) as v2 queries
//! - [`privacy`]: no number from fewer visitors than the site's minimum group size
//! - [`error`]: the request's fault, or an unreadable answer from storage

pub mod answer;
pub mod columns;
pub mod error;
pub mod export;
pub mod funnel;
pub mod limits;
pub mod plan;
pub mod privacy;
pub mod query;
pub mod range;
pub mod schema;
pub mod sql;
pub mod v1;

use model::settings::Site;
use model::sql::Sql;
use model::tables::EVENTS;
use plan::{Part, Plan};
use serde_json::Value;

/// The statements of `plan`, one per part and in the same order: none needs
/// another's result, so they may all be sent at once.
pub fn statements(plan: &Plan, site: &Site) -> Vec<Sql> {
    plan.parts
        .iter()
        .map(|part| match part {
            Part::Groups(query)
            | Part::VisitMetrics(query)
            | Part::TotalVisitors(query)
            | Part::ConversionTotals(query)
            | Part::ConversionTotal(query) => sql::statement(query, site, &plan.range),
            Part::TimeLabels(granularity) => {
                range::labels_sql(*granularity, &plan.range, &site.timezone)
            }
        })
        .collect()
}

/// The statement to send after the others, when the page of groups came
/// back empty and the query asked for the number of groups.
pub fn first_page_statement(plan: &Plan, site: &Site, results: &[Vec<Value>]) -> Option<Sql> {
    let groups_empty = results.first().is_some_and(Vec::is_empty);
    let first = plan.first_page.as_ref().filter(|_| groups_empty)?;
    Some(sql::statement(first, site, &plan.range))
}

/// `GET /api/v1/stats/realtime/visitors`: visitors of the last 5 minutes,
/// and the most of them on one UTC day (the privacy rule's count).
pub fn realtime_sql(site: &Site) -> Sql {
    let mut sql = Sql::default();
    let site_p = sql.bind("String", &site.domain);
    sql.text = format!(
        "SELECT uniqExact(visitor_id), \
         arrayMax(arrayConcat([toUInt64(0)], mapValues(uniqExactMap(map(toDate(timestamp), visitor_id))))) \
         FROM {EVENTS} WHERE site_domain = {site_p} \
         AND timestamp >= now() - 300 AND name != 'engagement'"
    );
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::answer;
    use crate::range::Resolved;
    use serde_json::json;

    fn site() -> Site {
        Site {
            timezone: "Europe/Berlin".into(),
            ..Site::new("backstage.example")
        }
    }

    fn planned(body: Value) -> Plan {
        let query = query::parse(body.to_string().as_bytes()).unwrap();
        let range = Resolved {
            from: 1_774_738_800,
            to: 1_774_825_200,
            from_local: "2026-03-29T00:00:00+01:00".into(),
            to_local: "2026-03-29T23:59:59+02:00".into(),
            ..Resolved::default()
        };
        plan::plan(&query, range).unwrap()
    }

    /// A row of components as ClickHouse returns it, after the dimensions.
    fn row(dimensions: &[&str], components: [u64; 12]) -> Value {
        let mut cells: Vec<Value> = dimensions.iter().map(|d| json!(d)).collect();
        cells.extend(components.iter().map(|c| json!(c.to_string())));
        // not hidden, none suppressed
        cells.extend([json!(0), json!(0)]);
        Value::Array(cells)
    }

    #[test]
    fn top_stats_are_two_statements_whose_components_merge() {
        let plan = planned(json!({"site_id": "backstage.example", "date_range": "day",
            "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]}));
        let statements = statements(&plan, &site());
        assert_eq!(statements.len(), 2, "events and visits apart");
        assert!(statements[1].text.contains("visitor_days"));
        let events = vec![row(&[], [7, 0, 20, 25, 0, 0, 0, 0, 0, 0, 1, 7])];
        let visits = vec![row(&[], [7, 9, 0, 0, 3, 900, 18, 0, 0, 0, 1, 7])];
        let answered = answer(&plan, &[events, visits], None).unwrap();
        assert_eq!(
            answered["results"][0]["metrics"],
            json!([7, 9, 20, 33, 100])
        );
        assert_eq!(
            answered["query"]["date_range"][0],
            "2026-03-29T00:00:00+01:00"
        );
    }

    #[test]
    fn a_percentage_reads_its_total_and_labels_come_with_their_statement() {
        let plan = planned(json!({"site_id": "backstage.example", "date_range": "day",
            "metrics": ["visitors", "percentage"], "dimensions": ["event:page"],
            "filters": [["is", "visit:device", ["Mobile"]]]}));
        assert_eq!(
            statements(&plan, &site()).len(),
            2,
            "groups and their total"
        );
        let groups = vec![
            row(&["/docs"], [3, 0, 4, 4, 0, 0, 0, 0, 0, 0, 2, 5]),
            row(&["/"], [2, 0, 2, 2, 0, 0, 0, 0, 0, 0, 2, 5]),
        ];
        let total = vec![row(&[], [4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4])];
        let answered = answer(&plan, &[groups, total], None).unwrap();
        assert_eq!(answered["results"][0]["metrics"], json!([3, 75.0]));
        assert_eq!(answered["results"][1]["dimensions"], json!(["/"]));

        let plan = planned(json!({"site_id": "backstage.example", "date_range": "day",
            "metrics": ["visitors"], "dimensions": ["time:hour"], "include": {"time_labels": true}}));
        let labels = vec![
            json!(["2026-03-29 00:00:00"]),
            json!(["2026-03-29 01:00:00"]),
        ];
        let answered = answer(&plan, &[vec![], labels], None).unwrap();
        assert_eq!(answered["meta"]["time_labels"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn the_first_page_is_asked_only_when_the_page_is_past_the_end() {
        let plan = planned(json!({"site_id": "backstage.example", "date_range": "day",
            "metrics": ["visitors"], "dimensions": ["event:page"],
            "include": {"total_rows": true}, "pagination": {"limit": 5, "offset": 100}}));
        let full = vec![vec![row(&["/"], [1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 120, 1])]];
        assert_eq!(first_page_statement(&plan, &site(), &full), None);
        let empty = vec![vec![]];
        assert!(first_page_statement(&plan, &site(), &empty).is_some());
        let first = vec![row(&["/"], [1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 42, 1])];
        let answered = answer(&plan, &empty, Some(&first)).unwrap();
        assert_eq!(answered["meta"]["total_rows"], 42);
    }

    #[test]
    fn a_group_rate_orders_only_where_its_total_is_one() {
        let plan = |metrics: Value, dimensions: Value, order: Value| {
            let body = json!({"site_id": "backstage.example", "date_range": "day",
                "metrics": metrics, "dimensions": dimensions, "order_by": order,
                "filters": [["is", "event:goal", ["Signup"]]]});
            let query = query::parse(body.to_string().as_bytes()).unwrap();
            plan::plan(&query, Resolved::default()).map(|_| ())
        };
        let rate_first = json!(["group_conversion_rate", "visitors"]);
        let error = plan(rate_first.clone(), json!(["visit:source"]), json!([])).unwrap_err();
        assert!(
            error.0.starts_with("metrics: group_conversion_rate first"),
            "{}",
            error.0
        );
        assert!(plan(rate_first.clone(), json!(["event:goal"]), json!([])).is_ok());
        assert!(
            plan(rate_first, json!(["time:day"]), json!([])).is_ok(),
            "time orders"
        );
        let by_rate = json!([["group_conversion_rate", "desc"]]);
        assert!(plan(
            json!(["visitors", "group_conversion_rate"]),
            json!(["visit:source"]),
            by_rate
        )
        .is_err());
    }

    #[test]
    fn unreadable_rows_are_errors_not_answers() {
        let plan = planned(json!({"site_id": "backstage.example", "date_range": "day",
            "metrics": ["visitors"], "dimensions": ["event:page"]}));
        assert!(answer(&plan, &[vec![json!(["/", "x"])]], None).is_err());
        assert!(answer(&plan, &[], None).is_err(), "a missing result");
    }
}
