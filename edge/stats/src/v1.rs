//! Plausible's Stats API v1 (`GET /api/v1/stats/aggregate`, `timeseries`,
//! `breakdown`), for the clients that still speak it (Grafana data sources,
//! Home Assistant, scripts): each request becomes a v2 query body, answered by
//! the same parser, planner and statements as `POST /api/v2/query`, and the
//! v2 answer is reshaped into v1's.
//!
//! ```text
//! query string ─▶ v1::request ─▶ v2 body ─▶ query::parse ─▶ (as v2) ─▶ v1::reshape
//! ```
//!
//! v1's periods are relative to `date` (default: today in the site's time
//! zone, which v2's named ranges already are); `filters` is v1's string
//! syntax (`visit:source==Google|GitHub;event:page!=/admin*`).

use crate::query::QueryError;
use crate::sql::page_pattern;
use model::time::{date_of_epoch_day, epoch_day, is_date};
use serde_json::{json, Map, Value};

/// The three v1 endpoints answered from v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Aggregate,
    Timeseries,
    Breakdown,
}

impl Endpoint {
    pub fn parse(name: &str) -> Option<Endpoint> {
        match name {
            "aggregate" => Some(Endpoint::Aggregate),
            "timeseries" => Some(Endpoint::Timeseries),
            "breakdown" => Some(Endpoint::Breakdown),
            _ => None,
        }
    }
}

/// A v1 request as the v2 query that answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub endpoint: Endpoint,
    /// The v2 body (`query::parse` checks it as any v2 request).
    pub body: Value,
    /// `compare=previous_period` (aggregate only): each value's change in
    /// percent against the period just before.
    pub compare: bool,
}

fn fail<T>(message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError(message.into()))
}

/// The most rows one breakdown page holds (v1's limit), and its default.
pub const MAX_BREAKDOWN_LIMIT: u64 = 1000;
const DEFAULT_BREAKDOWN_LIMIT: u64 = 100;

const PARAMETERS: [&str; 11] = [
    "site_id",
    "period",
    "date",
    "metrics",
    "filters",
    "compare",
    "interval",
    "property",
    "limit",
    "page",
    "with_imported",
];

/// The v2 body for a v1 request's query-string parameters, or a 400 naming
/// the parameter.
pub fn request(endpoint: Endpoint, params: &[(String, String)]) -> Result<Request, QueryError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some((unknown, _)) = params
        .iter()
        .find(|(k, _)| !PARAMETERS.contains(&k.as_str()))
    {
        return fail(format!(
            "unknown parameter {unknown:?}: the parameters are {}",
            PARAMETERS.join(", ")
        ));
    }
    let Some(site_id) = get("site_id").filter(|s| !s.trim().is_empty()) else {
        return fail("site_id is required");
    };
    let period = get("period").unwrap_or("30d");
    let date_range = date_range(period, get("date"))?;
    let metrics: Vec<&str> = get("metrics")
        .unwrap_or("visitors")
        .split(',')
        .map(str::trim)
        .collect();
    let filters = match get("filters") {
        None | Some("") => Vec::new(),
        Some(text) => filters(text)?,
    };
    let compare = match get("compare") {
        None | Some("") => false,
        Some("previous_period") if endpoint == Endpoint::Aggregate => true,
        Some("previous_period") => return fail("compare: only the aggregate endpoint compares"),
        Some(other) => return fail(format!("compare: {other:?} is not previous_period")),
    };
    let mut body = json!({
        "site_id": site_id,
        "metrics": metrics,
        "date_range": date_range,
        "filters": filters,
    });
    match endpoint {
        Endpoint::Aggregate => {}
        Endpoint::Timeseries => {
            let dimension = match get("interval") {
                None | Some("") => match period {
                    "day" => "time:hour",
                    "6mo" | "12mo" | "year" => "time:month",
                    _ => "time:day",
                },
                Some("hour") => "time:hour",
                Some("day" | "date") => "time:day",
                Some("week") => "time:week",
                Some("month") => "time:month",
                Some(other) => {
                    return fail(format!(
                        "interval: {other:?} is not one of hour, date, day, week, month"
                    ))
                }
            };
            body["dimensions"] = json!([dimension]);
            body["include"] = json!({ "time_labels": true });
            body["metrics"] = group_rates(&metrics);
        }
        Endpoint::Breakdown => {
            let Some(property) = get("property").filter(|p| !p.is_empty()) else {
                return fail("property is required");
            };
            let number = |name: &str, default: u64| -> Result<u64, QueryError> {
                match get(name) {
                    None | Some("") => Ok(default),
                    Some(text) => text.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        QueryError(format!("{name}: {text:?} is not a whole number from 1"))
                    }),
                }
            };
            let limit = number("limit", DEFAULT_BREAKDOWN_LIMIT)?;
            if limit > MAX_BREAKDOWN_LIMIT {
                return fail(format!("limit: {limit}; at most {MAX_BREAKDOWN_LIMIT}"));
            }
            let page = number("page", 1)?;
            body["dimensions"] = json!([property]);
            body["metrics"] = group_rates(&metrics);
            body["pagination"] =
                json!({ "limit": limit, "offset": (page - 1).saturating_mul(limit) });
        }
    }
    Ok(Request {
        endpoint,
        body,
        compare,
    })
}

/// The v2 metric a v1 breakdown's or time series' `conversion_rate` is.
const GROUP_RATE: &str = "group_conversion_rate";

/// v1's metrics for a breakdown or a time series: its rate is each group's
/// (bucket's) own, v2's `group_conversion_rate`, as Plausible's v1 has it
/// (`reshape` names it back); put after the others, since a first metric
/// orders a breakdown and this one cannot.
fn group_rates(metrics: &[&str]) -> Value {
    let rate = |m: &str| m == "conversion_rate" || m == GROUP_RATE;
    let mut out: Vec<&str> = metrics.iter().copied().filter(|m| !rate(m)).collect();
    if out.len() < metrics.len() {
        if out.is_empty() {
            // a breakdown by its rate alone is ordered by its visitors
            out.push("visitors");
        }
        out.push(GROUP_RATE);
    }
    json!(out)
}

/// v1's `period` and `date` as a v2 `date_range`: without a date, v2's named
/// range (relative to today); with one, the same span ending with that date.
fn date_range(period: &str, date: Option<&str>) -> Result<Value, QueryError> {
    let named = ["day", "7d", "30d", "month", "6mo", "12mo"];
    if period == "custom" {
        let Some((from, to)) = date.and_then(|d| d.split_once(',')) else {
            return fail("date: a custom period needs date=YYYY-MM-DD,YYYY-MM-DD");
        };
        let (from, to) = (from.trim(), to.trim());
        if !is_date(from) || !is_date(to) || from > to {
            return fail(format!(
                "date: {from:?},{to:?} is not two dates YYYY-MM-DD, the first not after the second"
            ));
        }
        return Ok(json!([from, to]));
    }
    if !named.contains(&period) {
        return fail(format!(
            "period: {period:?} is not one of {}, custom",
            named.join(", ")
        ));
    }
    let Some(date) = date.filter(|d| !d.is_empty()) else {
        return Ok(json!(period));
    };
    let Some(day) = epoch_day(date) else {
        return fail(format!("date: {date:?} is not a date (YYYY-MM-DD)"));
    };
    let back = |days: i64| date_of_epoch_day(day - days);
    let (first, last) = match period {
        "day" => (back(0), back(0)),
        "7d" => (back(6), back(0)),
        "30d" => (back(29), back(0)),
        // calendar months: the month of `date`, or it and the n - 1 before
        _ => {
            let months = match period {
                "6mo" => 6,
                "12mo" => 12,
                _ => 1,
            };
            let (year, month) = (
                date[..4].parse::<i64>().unwrap_or(1970),
                date[5..7].parse::<i64>().unwrap_or(1),
            );
            let index = year * 12 + (month - 1);
            let first_index = index - (months - 1);
            let first = format!(
                "{:04}-{:02}-01",
                first_index.div_euclid(12),
                first_index.rem_euclid(12) + 1
            );
            let next = index + 1;
            let next_first = format!(
                "{:04}-{:02}-01",
                next.div_euclid(12),
                next.rem_euclid(12) + 1
            );
            let last = epoch_day(&next_first)
                .map_or_else(|| date.to_string(), |d| date_of_epoch_day(d - 1));
            (first, last)
        }
    };
    Ok(json!([first, last]))
}

/// v1's filter syntax: `;` joins conditions, `==` / `!=` compare, `|` lists
/// values (`\|` is a literal bar), `*` is a wildcard (`**` any characters,
/// `*` any but `/`, as page goals).
fn filters(text: &str) -> Result<Vec<Value>, QueryError> {
    text.split(';')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (dimension, negated, values) = if let Some((d, v)) = part.split_once("!=") {
                (d, true, v)
            } else if let Some((d, v)) = part.split_once("==") {
                (d, false, v)
            } else {
                return fail(format!(
                    "filters: {part:?} is not property==value or property!=value"
                ));
            };
            let values = split_values(values);
            let wildcard = values.iter().any(|v| v.contains('*'));
            let (operator, values): (&str, Vec<String>) = if wildcard {
                let patterns = values.iter().map(|v| page_pattern(v)).collect();
                (if negated { "matches_not" } else { "matches" }, patterns)
            } else {
                (if negated { "is_not" } else { "is" }, values)
            };
            Ok(json!([operator, dimension.trim(), values]))
        })
        .collect()
}

/// `a|b\|c` → `["a", "b|c"]`.
fn split_values(text: &str) -> Vec<String> {
    let mut values = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                if let Some(v) = values.last_mut() {
                    v.push('|')
                }
            }
            '|' => values.push(String::new()),
            c => {
                if let Some(v) = values.last_mut() {
                    v.push(c)
                }
            }
        }
    }
    values
}

/// The name a breakdown row gives its property's value: `visit:source` →
/// `source`, `event:props:method` → `method`.
fn short_name(property: &str) -> &str {
    property
        .strip_prefix("event:props:")
        .or_else(|| property.split_once(':').map(|(_, rest)| rest))
        .unwrap_or(property)
}

/// The v2 body of the period just before `answer`'s (its echoed
/// `query.date_range`, local datetimes): the same number of whole days.
pub fn previous_body(request: &Request, answer: &Value) -> Option<Value> {
    let range = answer.get("query")?.get("date_range")?.as_array()?;
    let day = |v: &Value| {
        v.as_str()
            .and_then(|s| s.get(..10))
            .filter(|d| is_date(d))
            .and_then(epoch_day)
    };
    let (from, to) = (day(range.first()?)?, day(range.get(1)?)?);
    let days = to - from + 1;
    let mut body = request.body.clone();
    body["date_range"] = json!([date_of_epoch_day(from - days), date_of_epoch_day(from - 1)]);
    Some(body)
}

/// A v2 answer (and the previous period's, for `compare`) in v1's shape.
pub fn reshape(request: &Request, answer: &Value, previous: Option<&Value>) -> Value {
    let metrics: Vec<&str> = request.body["metrics"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let rows = answer["results"].as_array().cloned().unwrap_or_default();
    let row_metrics = |row: &Value| -> Map<String, Value> {
        metrics
            .iter()
            .zip(row["metrics"].as_array().into_iter().flatten())
            .map(|(name, value)| {
                let name = if *name == GROUP_RATE {
                    "conversion_rate"
                } else {
                    name
                };
                (name.to_string(), value.clone())
            })
            .collect()
    };
    match request.endpoint {
        Endpoint::Aggregate => {
            let now = rows.first().map(row_metrics).unwrap_or_default();
            let before = previous
                .and_then(|p| p["results"].as_array()?.first().map(row_metrics))
                .unwrap_or_default();
            let results: Map<String, Value> = now
                .into_iter()
                .map(|(name, value)| {
                    let mut entry = json!({ "value": value });
                    if previous.is_some() {
                        entry["change"] = change(&name, &value, before.get(&name));
                    }
                    (name, entry)
                })
                .collect();
            json!({ "results": results })
        }
        Endpoint::Timeseries => {
            // every bucket of the range, an empty one with zeros (v1's shape)
            let labels: Vec<Value> = answer["meta"]["time_labels"]
                .as_array()
                .cloned()
                .unwrap_or_else(|| rows.iter().map(|r| r["dimensions"][0].clone()).collect());
            let by_label: std::collections::HashMap<String, &Value> = rows
                .iter()
                .map(|r| (r["dimensions"][0].to_string(), r))
                .collect();
            let results: Vec<Value> = labels
                .into_iter()
                .map(|label| {
                    let mut out = match by_label.get(&label.to_string()) {
                        Some(row) => row_metrics(row),
                        None => metrics.iter().map(|m| (m.to_string(), json!(0))).collect(),
                    };
                    out.insert("date".into(), label);
                    Value::Object(out)
                })
                .collect();
            json!({ "results": results })
        }
        Endpoint::Breakdown => {
            let property = request.body["dimensions"][0].as_str().unwrap_or("");
            let results: Vec<Value> = rows
                .iter()
                .map(|row| {
                    let mut out = row_metrics(row);
                    out.insert(short_name(property).into(), row["dimensions"][0].clone());
                    Value::Object(out)
                })
                .collect();
            json!({ "results": results })
        }
    }
}

/// Plausible's change: the difference in percent of the previous value,
/// rounded (100 when it grew from 0, 0 when both are 0); for a rate, the
/// difference in points.
fn change(metric: &str, now: &Value, before: Option<&Value>) -> Value {
    let (Some(now), Some(before)) = (now.as_f64(), before.and_then(Value::as_f64)) else {
        return Value::Null;
    };
    if matches!(metric, "bounce_rate" | "conversion_rate") {
        return json!(((now - before) * 100.0).round() / 100.0);
    }
    if before == 0.0 {
        return json!(if now > 0.0 { 100 } else { 0 });
    }
    json!(((now - before) / before * 100.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn requests_become_v2_bodies() {
        let r = request(
            Endpoint::Breakdown,
            &params(&[
                ("site_id", "portal.example"),
                ("period", "7d"),
                ("date", "2026-03-02"),
                ("property", "visit:source"),
                ("metrics", "visitors,bounce_rate"),
                (
                    "filters",
                    "event:page==/docs**;visit:country!=FR|DE;event:props:x==a\\|b",
                ),
                ("limit", "5"),
                ("page", "3"),
            ]),
        )
        .unwrap();
        assert_eq!(
            r.body,
            json!({
                "site_id": "portal.example",
                "metrics": ["visitors", "bounce_rate"],
                "date_range": ["2026-02-24", "2026-03-02"],
                "filters": [["matches", "event:page", ["^/docs.*$"]], ["is_not", "visit:country", ["FR", "DE"]],
                            ["is", "event:props:x", ["a|b"]]],
                "dimensions": ["visit:source"],
                "pagination": {"limit": 5, "offset": 10},
            })
        );
        crate::query::parse(r.body.to_string().as_bytes()).expect("a v2 query");
        // a breakdown's conversion rate is each group's own, named as v1 names it
        let rate = request(
            Endpoint::Breakdown,
            &params(&[
                ("site_id", "s"),
                ("property", "visit:source"),
                ("metrics", "visitors,conversion_rate"),
                ("filters", "event:goal==Signup"),
            ]),
        )
        .unwrap();
        assert_eq!(
            rate.body["metrics"],
            json!(["visitors", "group_conversion_rate"])
        );
        // first, or alone: after the visitors, which order the breakdown
        let first = |metrics: &str| {
            request(
                Endpoint::Breakdown,
                &params(&[
                    ("site_id", "s"),
                    ("property", "visit:source"),
                    ("metrics", metrics),
                ]),
            )
            .unwrap()
            .body["metrics"]
                .clone()
        };
        assert_eq!(
            first("conversion_rate,pageviews"),
            json!(["pageviews", "group_conversion_rate"])
        );
        assert_eq!(
            first("conversion_rate"),
            json!(["visitors", "group_conversion_rate"])
        );
        let shaped = reshape(
            &rate,
            &json!({"results": [{"metrics": [3, 37.5], "dimensions": ["Google"]}]}),
            None,
        );
        assert_eq!(
            shaped["results"],
            json!([{"source": "Google", "visitors": 3, "conversion_rate": 37.5}])
        );
        let t = request(
            Endpoint::Timeseries,
            &params(&[("site_id", "s"), ("period", "6mo"), ("date", "2026-03-15")]),
        )
        .unwrap();
        assert_eq!(t.body["date_range"], json!(["2025-10-01", "2026-03-31"]));
        assert_eq!(t.body["dimensions"], json!(["time:month"]));
        let month = request(
            Endpoint::Aggregate,
            &params(&[
                ("site_id", "s"),
                ("period", "month"),
                ("date", "2024-02-10"),
            ]),
        )
        .unwrap();
        assert_eq!(
            month.body["date_range"],
            json!(["2024-02-01", "2024-02-29"])
        );
        let today = request(Endpoint::Aggregate, &params(&[("site_id", "s")])).unwrap();
        assert_eq!(
            (today.body["date_range"].clone(), today.compare),
            (json!("30d"), false)
        );
        let custom = request(
            Endpoint::Timeseries,
            &params(&[
                ("site_id", "s"),
                ("period", "custom"),
                ("date", "2026-01-01,2026-01-31"),
                ("interval", "week"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (
                custom.body["date_range"].clone(),
                custom.body["dimensions"].clone()
            ),
            (json!(["2026-01-01", "2026-01-31"]), json!(["time:week"]))
        );
    }

    #[test]
    fn bad_requests_name_the_parameter() {
        for (endpoint, list, message) in [
            (Endpoint::Aggregate, vec![], "site_id is required"),
            (
                Endpoint::Aggregate,
                vec![("site_id", "s"), ("period", "3y")],
                "period: \"3y\" is not one of",
            ),
            (
                Endpoint::Aggregate,
                vec![("site_id", "s"), ("period", "custom")],
                "date: a custom period needs",
            ),
            (
                Endpoint::Aggregate,
                vec![
                    ("site_id", "s"),
                    ("period", "custom"),
                    ("date", "2026-02-01,2026-01-01"),
                ],
                "date: \"2026-02-01\",\"2026-01-01\" is not two dates",
            ),
            (
                Endpoint::Aggregate,
                vec![("site_id", "s"), ("date", "2023-02-29")],
                "date: \"2023-02-29\" is not a date",
            ),
            (
                Endpoint::Aggregate,
                vec![("site_id", "s"), ("date", "yesterday")],
                "date: \"yesterday\" is not a date",
            ),
            (
                Endpoint::Aggregate,
                vec![("site_id", "s"), ("filters", "visit:source=Google")],
                "filters: \"visit:source=Google\" is not",
            ),
            (
                Endpoint::Aggregate,
                vec![("site_id", "s"), ("compare", "last_year")],
                "compare: \"last_year\"",
            ),
            (
                Endpoint::Timeseries,
                vec![("site_id", "s"), ("compare", "previous_period")],
                "compare: only the aggregate",
            ),
            (
                Endpoint::Timeseries,
                vec![("site_id", "s"), ("interval", "minute")],
                "interval: \"minute\"",
            ),
            (
                Endpoint::Breakdown,
                vec![("site_id", "s")],
                "property is required",
            ),
            (
                Endpoint::Breakdown,
                vec![
                    ("site_id", "s"),
                    ("property", "event:page"),
                    ("limit", "1001"),
                ],
                "limit: 1001; at most 1000",
            ),
            (
                Endpoint::Breakdown,
                vec![("site_id", "s"), ("property", "event:page"), ("page", "0")],
                "page: \"0\" is not a whole number",
            ),
            (
                Endpoint::Aggregate,
                vec![("site_id", "s"), ("sort", "x")],
                "unknown parameter \"sort\"",
            ),
        ] {
            let list: Vec<(String, String)> = list
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let error = request(endpoint, &list).unwrap_err().0;
            assert!(error.starts_with(message), "{list:?}: {error}");
        }
    }

    #[test]
    fn answers_take_v1_shapes() {
        let aggregate = request(
            Endpoint::Aggregate,
            &params(&[
                ("site_id", "s"),
                ("metrics", "visitors,bounce_rate"),
                ("compare", "previous_period"),
            ]),
        )
        .unwrap();
        let now = json!({"results": [{"metrics": [120, 40], "dimensions": []}],
                         "query": {"date_range": ["2026-03-01T00:00:00+01:00", "2026-03-30T23:59:59+02:00"]}});
        let before = json!({"results": [{"metrics": [100, 0], "dimensions": []}]});
        assert_eq!(
            previous_body(&aggregate, &now).unwrap()["date_range"],
            json!(["2026-01-30", "2026-02-28"])
        );
        assert_eq!(
            reshape(&aggregate, &now, Some(&before)),
            json!({"results": {"visitors": {"value": 120, "change": 20}, "bounce_rate": {"value": 40, "change": 40.0}}})
        );
        let breakdown = request(
            Endpoint::Breakdown,
            &params(&[("site_id", "s"), ("property", "event:props:method")]),
        )
        .unwrap();
        let rows = json!({"results": [{"metrics": [7], "dimensions": ["HTTP"]}]});
        assert_eq!(
            reshape(&breakdown, &rows, None),
            json!({"results": [{"method": "HTTP", "visitors": 7}]})
        );
        let series = request(Endpoint::Timeseries, &params(&[("site_id", "s")])).unwrap();
        let rows = json!({"results": [{"metrics": [3], "dimensions": ["2026-03-02"]}],
                          "meta": {"time_labels": ["2026-03-01", "2026-03-02"]}});
        assert_eq!(
            reshape(&series, &rows, None),
            json!({"results": [{"date": "2026-03-01", "visitors": 0}, {"date": "2026-03-02", "visitors": 3}]})
        );
    }
}
