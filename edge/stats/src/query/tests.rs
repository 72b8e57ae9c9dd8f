//! Valid queries, and bad ones with the exact message each gets.

use super::*;
use crate::schema::{Granularity, VisitDimension};

fn ok(json: &str) -> Query {
    parse(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn err(json: &str) -> String {
    parse(json.as_bytes()).expect_err(json).0
}

#[test]
fn a_dashboard_breakdown() {
    let q = ok(
        r#"{"site_id":"backstage.fawkes.idp","metrics":["visitors","percentage"],"date_range":"30d",
        "dimensions":["visit:source"],"filters":[["is","event:page",["/catalog"]],["or",[["contains","visit:utm_campaign",["launch"]],["not",["is","visit:country",["US"]]]]]],
        "order_by":[["visitors","desc"]],"include":{"total_rows":true},"pagination":{"limit":100,"offset":200}}"#,
    );
    assert_eq!(q.metrics, [Metric::Visitors, Metric::Percentage]);
    assert_eq!(q.date_range, DateRange::Named("30d"));
    assert_eq!(q.dimensions, [Dimension::Visit(VisitDimension::Source)]);
    assert_eq!(q.filters.len(), 2);
    assert!(matches!(&q.filters[1], Filter::Or(inner) if matches!(&inner[1], Filter::Not(_))));
    assert_eq!(
        q.order_by,
        [(OrderKey::Metric(Metric::Visitors), Direction::Desc)]
    );
    assert_eq!(
        (q.total_rows, q.time_labels, q.limit, q.offset),
        (true, false, 100, 200)
    );
}

#[test]
fn time_series_goals_and_props() {
    let q = ok(
        r#"{"site_id":"s","metrics":["visitors","conversion_rate"],"date_range":["2026-10-25","2026-11-25"],
        "dimensions":["time:day","event:goal","event:props:language"],"include":{"time_labels":true}}"#,
    );
    assert_eq!(q.dimensions[0], Dimension::Time(Granularity::Day));
    assert_eq!(q.dimensions[2], Dimension::Prop("language".into()));
    assert!(q.time_labels);
    assert_eq!(q.limit, MAX_LIMIT);
    let q = ok(
        r#"{"site_id":"s","metrics":["events"],"date_range":["2026-03-29T00:30:00+01:00","2026-03-29T03:30:00Z"]}"#,
    );
    assert!(matches!(q.date_range, DateRange::Between { .. }));
}

#[test]
fn values_are_carried_not_interpreted() {
    let q = ok(
        r#"{"site_id":"s","metrics":["visitors"],"date_range":"all","filters":[["is","event:name",["'); DROP TABLE events;--", 42]]]}"#,
    );
    assert_eq!(
        q.filters[0],
        Filter::Condition {
            operator: Operator::Is,
            dimension: Dimension::Event(EventDimension::Name),
            values: vec!["'); DROP TABLE events;--".into(), "42".into()],
            case_sensitive: true,
        }
    );
}

#[test]
fn bad_requests_name_the_field_and_the_value() {
    let base = r#""site_id":"s","date_range":"7d""#;
    let cases = [
        ("[]", "the body must be a JSON object"),
        (r#"{"site_id":"s""#, "the body is not valid JSON: EOF while parsing an object at line 1 column 14"),
        (r#"{"metrics":["visitors"],"date_range":"7d"}"#, "site_id is required"),
        (&format!(r#"{{{base},"metrics":["visitors"],"sort":1}}"#), "unknown field \"sort\": the fields are site_id, metrics, date_range, dimensions, filters, order_by, include, pagination"),
        (&format!(r#"{{{base}}}"#), "metrics is required"),
        (&format!(r#"{{{base},"metrics":[]}}"#), "metrics: at least one metric is required"),
        (&format!(r#"{{{base},"metrics":["visitors","visitors"]}}"#), "metrics[1]: visitors is listed twice"),
        (r#"{"site_id":"s","metrics":["visitors"],"date_range":"8d"}"#, "date_range: \"8d\" is not one of day, 7d, 30d, month, 6mo, 12mo, year, all or [from, to]"),
        (r#"{"site_id":"s","metrics":["visitors"],"date_range":["2026-11-25","2026-11-01"]}"#, "date_range: 2026-11-25 is after 2026-11-01"),
        (r#"{"site_id":"s","metrics":["visitors"],"date_range":["2026-13-01","2026-11-01"]}"#, "date_range: [\"2026-13-01\", \"2026-11-01\"] must be two dates (YYYY-MM-DD) or two ISO 8601 datetimes"),
        (&format!(r#"{{{base},"metrics":["visitors"],"dimensions":["time","time:day"]}}"#), "dimensions[1]: only one time dimension is allowed"),
        (&format!(r#"{{{base},"metrics":["visitors"],"filters":[["=","event:page",["/"]]]}}"#), "filters[0][0]: \"=\" is not an operator (is, is_not, contains, contains_not, matches, matches_not, or and/or/not)"),
        (&format!(r#"{{{base},"metrics":["visitors"],"filters":[["is","time:day",["x"]]]}}"#), "filters[0][1]: time dimensions cannot be filtered; use date_range"),
        (&format!(r#"{{{base},"metrics":["visitors"],"filters":[["is","event:page",[]]]}}"#), "filters[0][2]: at least one value is required"),
        (&format!(r#"{{{base},"metrics":["visitors"],"filters":[["is","event:page",[null]]]}}"#), "filters[0][2][0]: null is not a string"),
        (&format!(r#"{{{base},"metrics":["visitors"],"order_by":[["pageviews","desc"]]}}"#), "order_by[0]: \"pageviews\" is not one of the query's metrics or dimensions"),
        (&format!(r#"{{{base},"metrics":["visitors"],"order_by":[["visitors","down"]]}}"#), "order_by[0]: \"down\" is not \"asc\" or \"desc\""),
        (&format!(r#"{{{base},"metrics":["conversion_rate"]}}"#), "metrics: conversion_rate needs an event:goal dimension or filter"),
        (&format!(r#"{{{base},"metrics":["percentage"],"dimensions":["time"]}}"#), "metrics: percentage needs a dimension other than time"),
        (&format!(r#"{{{base},"metrics":["visitors"],"include":{{"time_labels":true}}}}"#), "include.time_labels needs a time dimension"),
        (&format!(r#"{{{base},"metrics":["visitors"],"include":{{"imports":true}}}}"#), "include: unknown option \"imports\" (time_labels, total_rows)"),
        (&format!(r#"{{{base},"metrics":["visitors"],"pagination":{{"limit":10001}}}}"#), "pagination.limit: 10001 is not between 1 and 10000"),
        (&format!(r#"{{{base},"metrics":["visitors"],"pagination":{{"offset":-1}}}}"#), "pagination.offset: -1 is not a whole number"),
    ];
    for (json, message) in cases {
        assert_eq!(err(json), message, "{json}");
    }
    assert!(err(&format!(r#"{{{base},"metrics":["uniques"]}}"#))
        .starts_with("metrics[0]: \"uniques\" is not a metric (visitors, visits,"));
    assert!(err(&format!(
        r#"{{{base},"metrics":["visitors"],"dimensions":["visit:city"]}}"#
    ))
    .starts_with("dimensions[0]: \"visit:city\" is not a dimension (event:name,"));
}

#[test]
fn deep_or_huge_input_is_refused_not_crashed_on() {
    let mut deep = r#"["is","event:page",["/"]]"#.to_string();
    for _ in 0..20 {
        deep = format!(r#"["not",{deep}]"#);
    }
    let message = err(&format!(
        r#"{{"site_id":"s","metrics":["visitors"],"date_range":"7d","filters":[{deep}]}}"#
    ));
    assert!(
        message.ends_with("filters nest at most 8 deep"),
        "{message}"
    );
    let long = "x".repeat(10_000);
    let message = err(&format!(
        r#"{{"site_id":"s","metrics":["{long}"],"date_range":"7d"}}"#
    ));
    assert!(message.len() < 400, "values are shortened in messages");
    assert_eq!(
        QueryError("a \"b\"".into()).to_json(),
        r#"{"error":"a \"b\""}"#
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let seeds: [&[u8]; 3] = [
        br#"{"site_id":"s","metrics":["visitors","percentage"],"date_range":"30d","dimensions":["visit:source"],"filters":[["is","event:page",["/a"]],["or",[["not",["is","visit:country",["US"]]]]]],"order_by":[["visitors","desc"]],"include":{"total_rows":true},"pagination":{"limit":100}}"#,
        br#"{"site_id":"s","metrics":["events"],"date_range":["2026-03-29T00:30:00+01:00","2026-03-29T03:30:00Z"],"dimensions":["time:hour"],"include":{"time_labels":true}}"#,
        br#"{"site_id":"s","metrics":["visitors"],"date_range":["2026-10-25","2026-11-25"]}"#,
    ];
    let seeds: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_vec()).collect();
    for (_, body) in model::testing::mutated_bodies(&seeds, 20_000) {
        let _ = parse(&body);
    }
}

#[test]
fn a_scope_on_pages_shows_no_entry_or_exit_pages() {
    let scope = || {
        filters(
            &[serde_json::json!(["is", "event:page", ["/public"]])],
            "scope",
        )
        .unwrap()
    };
    let body = |extra: &str| {
        format!(r#"{{"site_id":"a.example","metrics":["visitors"],"date_range":"7d"{extra}}}"#)
    };
    let mut plain = parse(body("").as_bytes()).unwrap();
    limit_to(&mut plain, scope()).unwrap();
    assert_eq!(plain.filters.len(), 1, "the scope is added");
    for extra in [
        r#","dimensions":["visit:entry_page"]"#,
        r#","filters":[["is","visit:exit_page",["/admin"]]]"#,
    ] {
        let mut query = parse(body(extra).as_bytes()).unwrap();
        assert!(limit_to(&mut query, scope()).is_err(), "{extra}");
    }
    let mut by_source = parse(body(r#","dimensions":["visit:source"]"#).as_bytes()).unwrap();
    assert!(limit_to(&mut by_source, scope()).is_ok());
    let visit_scope = filters(
        &[serde_json::json!(["is", "visit:country", ["DE"]])],
        "scope",
    )
    .unwrap();
    let mut entry = parse(body(r#","dimensions":["visit:entry_page"]"#).as_bytes()).unwrap();
    assert!(
        limit_to(&mut entry, visit_scope).is_ok(),
        "a scope on visits keeps whole visits"
    );
}

#[test]
fn plausibles_case_insensitive_modifier() {
    let with = |filter: &str| {
        format!(
            r#"{{"site_id":"s","metrics":["visitors"],"date_range":"7d","filters":[{filter}]}}"#
        )
    };
    let q = ok(&with(
        r#"["contains","event:page",["/DOCS"],{"case_sensitive":false}]"#,
    ));
    assert!(matches!(
        q.filters[0],
        Filter::Condition {
            case_sensitive: false,
            ..
        }
    ));
    let explicit = ok(&with(
        r#"["is","visit:source",["Google"],{"case_sensitive":true}]"#,
    ));
    assert_eq!(explicit, ok(&with(r#"["is","visit:source",["Google"]]"#)));
    let nested = ok(&with(
        r#"["not",["or",[["is","event:name",["a"]],["is","event:name",["b"],{"case_sensitive":false}]]]]"#,
    ));
    let Filter::Not(or) = &nested.filters[0] else {
        panic!("not a not")
    };
    assert!(
        matches!(&**or, Filter::Or(list) if matches!(list[1], Filter::Condition { case_sensitive: false, .. }))
    );
    assert_eq!(
        err(&with(r#"["matches","event:page",["^/a"],{"case_sensitive":false}]"#)),
        "filters[0][3]: case_sensitive applies to is, is_not, contains and contains_not; a matches pattern can start with (?i)"
    );
    assert_eq!(
        err(&with(r#"["is","event:page",["/a"],{"case":false}]"#)),
        "filters[0][3]: {\"case\":false} is not {\"case_sensitive\": true or false}"
    );
    assert!(err(&with(r#"["is","event:page",["/a"],{},{}]"#)).starts_with("filters[0]: "));
}

#[test]
fn has_done_takes_an_event_filter() {
    let with = |filter: &str| {
        format!(
            r#"{{"site_id":"s","metrics":["visitors"],"date_range":"7d","filters":[{filter}]}}"#
        )
    };
    let q = ok(&with(r#"["has_done",["is","event:name",["Signup"]]]"#));
    assert_eq!(
        q.filters[0],
        Filter::HasDone {
            inner: Box::new(Filter::Condition {
                operator: Operator::Is,
                dimension: Dimension::Event(EventDimension::Name),
                values: vec!["Signup".into()],
                case_sensitive: true,
            }),
            negated: false,
        }
    );
    let not = ok(&with(
        r#"["has_not_done",["or",[["is","event:goal",["Visit /docs/**"]],["contains","event:props:plan",["team"]]]]]"#,
    ));
    assert!(matches!(
        not.filters[0],
        Filter::HasDone { negated: true, .. }
    ));
    assert_eq!(
        err(&with(r#"["has_done",["is","visit:source",["Google"]]]"#)),
        "filters[0][1]: has_done takes a filter on event dimensions (event:name, event:page, event:goal, event:hostname, event:props:…)"
    );
}
