//! The numbers behind an alert and a report, asked as Stats API v2 queries:
//! the Worker answers them with the same planner as `POST /api/v2/query`,
//! so an alert counts visitors exactly as the dashboard does.

use crate::schedule::DueReport;
use model::settings::{Alert, AlertKind, Site};
use serde_json::{json, Value};

/// How many pages, sources and goals a report lists.
pub const REPORT_TOP: u64 = 5;

/// The query of an alert over `[from, to]` (datetimes).
pub fn alert_query(site: &Site, alert: &Alert, window: &(String, String)) -> Value {
    let mut query = json!({
        "site_id": site.domain,
        "metrics": ["visitors"],
        "date_range": [window.0, window.1],
    });
    if let (AlertKind::Goal, Some(goal)) = (alert.kind, &alert.goal) {
        query["filters"] = json!([["is", "event:goal", [goal]]]);
    }
    query
}

/// The queries of a report, in the order [`Report::read`] reads their answers.
pub fn report_queries(site: &Site, due: &DueReport) -> Vec<Value> {
    let period = json!([due.first, due.last]);
    let totals = |range: Value| {
        json!({
            "site_id": site.domain,
            "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"],
            "date_range": range,
        })
    };
    let top = |dimension: &str, metrics: Value| {
        json!({
            "site_id": site.domain,
            "metrics": metrics,
            "dimensions": [dimension],
            "date_range": period,
            "order_by": [["visitors", "desc"], [dimension, "asc"]],
            "pagination": {"limit": REPORT_TOP},
        })
    };
    let mut queries = vec![
        totals(period.clone()),
        totals(json!([due.previous_first, due.previous_last])),
        top("event:page", json!(["visitors", "pageviews"])),
        top("visit:source", json!(["visitors"])),
    ];
    if !site.goals.is_empty() {
        queries.push(top("event:goal", json!(["visitors", "events"])));
    }
    queries
}

/// Whether an answer's first number is hidden by the site's minimum group
/// size: an alert on it would tell it, so none fires.
pub fn hidden(answer: &Value) -> bool {
    answer.pointer("/meta/min_group_size").is_some()
        && answer
            .pointer("/results/0/metrics/0")
            .is_some_and(Value::is_null)
}

/// An answer's first row's first metric (an aggregate's), as a whole number.
pub fn first_number(answer: &Value) -> Option<u64> {
    answer
        .pointer("/results/0/metrics/0")
        .and_then(Value::as_f64)
        .filter(|n| *n >= 0.0)
        .map(|n| n as u64)
}

/// The figures of a report, read from its queries' answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// visitors, visits, pageviews, bounce rate (%), visit duration (s)
    pub totals: [f64; 5],
    pub previous: [f64; 5],
    /// (page, visitors, pageviews)
    pub pages: Vec<(String, f64, f64)>,
    /// (source, visitors)
    pub sources: Vec<(String, f64)>,
    /// (goal, visitors, events)
    pub goals: Vec<(String, f64, f64)>,
    /// The site's minimum group size, when it has one: a total it hides is
    /// `NaN` here, and the e-mail says "fewer than k" (hidden rows of the
    /// lists are not in the answers at all).
    pub min_group_size: Option<u64>,
}

impl Report {
    /// `answers` in the order of [`report_queries`].
    pub fn read(answers: &[Value]) -> Option<Report> {
        let totals = |answer: &Value| -> Option<[f64; 5]> {
            let metrics = answer.pointer("/results/0/metrics")?.as_array()?;
            let mut out = [0.0; 5];
            let hidden = answer.pointer("/meta/min_group_size").is_some()
                && answer.pointer("/meta/suppressed").is_some();
            for (slot, value) in out.iter_mut().zip(metrics) {
                // an empty period's bounce rate and duration are null: none;
                // with a minimum group size, null may be hidden instead
                *slot = match value.as_f64() {
                    Some(v) => v,
                    None if hidden => f64::NAN,
                    None => 0.0,
                };
            }
            Some(out)
        };
        let rows = |answer: &Value| -> Vec<(String, Vec<f64>)> {
            answer
                .get("results")
                .and_then(Value::as_array)
                .map(|rows| {
                    rows.iter()
                        .filter_map(|row| {
                            let name = row.pointer("/dimensions/0")?.as_str()?.to_string();
                            let numbers = row
                                .get("metrics")?
                                .as_array()?
                                .iter()
                                .map(|v| v.as_f64().unwrap_or(0.0))
                                .collect();
                            Some((name, numbers))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let n = |numbers: &[f64], i: usize| numbers.get(i).copied().unwrap_or(0.0);
        Some(Report {
            min_group_size: answers
                .iter()
                .find_map(|a| a.pointer("/meta/min_group_size").and_then(Value::as_u64)),
            totals: totals(answers.first()?)?,
            previous: totals(answers.get(1)?)?,
            pages: rows(answers.get(2)?)
                .into_iter()
                .map(|(name, m)| (name, n(&m, 0), n(&m, 1)))
                .collect(),
            sources: rows(answers.get(3)?)
                .into_iter()
                .map(|(name, m)| (name, n(&m, 0)))
                .collect(),
            goals: answers
                .get(4)
                .map(rows)
                .unwrap_or_default()
                .into_iter()
                .map(|(name, m)| (name, n(&m, 0), n(&m, 1)))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::settings::Goal;

    #[test]
    fn a_goal_alert_filters_by_its_goal() {
        let mut site = Site::new("portal.example");
        site.goals = vec![Goal::Event {
            event_name: "Deploy".into(),
        }];
        let alert = Alert {
            name: "Deploys".into(),
            kind: AlertKind::Goal,
            goal: Some("Deploy".into()),
            threshold: 3,
            hours: 2,
            recipients: vec![],
        };
        let query = alert_query(&site, &alert, &("a".into(), "b".into()));
        assert_eq!(query["filters"], json!([["is", "event:goal", ["Deploy"]]]));
        assert_eq!(query["date_range"], json!(["a", "b"]));
    }

    #[test]
    fn report_answers_are_read_in_order() {
        let answers = [
            json!({"results": [{"metrics": [10, 12, 30, 25.0, 61], "dimensions": []}]}),
            json!({"results": [{"metrics": [0, 0, 0, null, null], "dimensions": []}]}),
            json!({"results": [{"metrics": [7, 9], "dimensions": ["/create"]}]}),
            json!({"results": [{"metrics": [4], "dimensions": ["Direct / None"]}]}),
        ];
        let report = Report::read(&answers).unwrap();
        assert_eq!(report.totals, [10.0, 12.0, 30.0, 25.0, 61.0]);
        assert_eq!(report.previous, [0.0; 5]);
        assert_eq!(report.pages, vec![("/create".into(), 7.0, 9.0)]);
        assert_eq!(report.sources, vec![("Direct / None".into(), 4.0)]);
        assert!(report.goals.is_empty());
        assert_eq!(first_number(&answers[0]), Some(10));
        assert_eq!(Report::read(&answers[..2]), None);
        assert!(!hidden(&answers[1]), "no minimum group size: null is none");
    }

    #[test]
    fn a_hidden_number_is_neither_zero_nor_an_alert() {
        let hidden_answer = json!({"results": [{"metrics": [null, null, null, null, null], "dimensions": []}],
            "meta": {"min_group_size": 5, "suppressed": 1}});
        assert!(hidden(&hidden_answer));
        let shown =
            json!({"results": [{"metrics": [9], "dimensions": []}], "meta": {"min_group_size": 5}});
        assert!(!hidden(&shown));
        let answers = [
            hidden_answer.clone(),
            shown,
            json!({"results": []}),
            json!({"results": []}),
        ];
        let report = Report::read(&answers).unwrap();
        assert!(report.totals.iter().all(|t| t.is_nan()));
        assert_eq!(report.min_group_size, Some(5));
    }
}
