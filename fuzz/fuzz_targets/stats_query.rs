//! Any bytes as a `POST /api/v2/query` body (or, with `steps`, a `POST
//! /api/v2/funnel` body), through everything the Stats API does before
//! ClickHouse: parse, the limits, the plan and its statements.
//! Never a panic; and every value is bound as a parameter: a string of the
//! body that shows in a statement's text must show there as well when that
//! string is replaced by another (then it is the statement's own text, such
//! as `'Direct / None'`, not the value spliced in).
#![no_main]

use libfuzzer_sys::fuzz_target;
use model::settings::Site;
use serde_json::Value;
use stats::range::{Resolved, RolledDay};

fuzz_target!(|body: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        // not JSON: parse must refuse it without a panic
        let _ = stats::query::parse(body);
        let _ = stats::funnel::parse(body);
        return;
    };
    let Some(texts) = statements(body) else {
        return;
    };
    let mut suspects = Vec::new();
    strings(&value, &mut |s| {
        if s.len() >= 12
            && s.chars().any(|c| "'\\;".contains(c))
            && texts.iter().any(|t| t.contains(s))
        {
            suspects.push(s.to_string());
        }
    });
    for suspect in suspects {
        let neutral = replace(&value, &suspect, "zq9zq9zq9zq9");
        let Ok(neutral_body) = serde_json::to_vec(&neutral) else {
            continue;
        };
        if let Some(neutral_texts) = statements(&neutral_body) {
            let own = neutral_texts.iter().any(|t| t.contains(&suspect));
            assert!(own, "{suspect:?} spliced into {texts:?}");
        }
    }
});

/// The statements' texts for a body, when it is a query within the limits.
fn statements(body: &[u8]) -> Option<Vec<String>> {
    let range = Resolved {
        from: 1_795_000_000,
        to: 1_795_604_800,
        from_local: "2026-11-18T00:00:00+00:00".into(),
        to_local: "2026-11-24T23:59:59+00:00".into(),
        // two whole UTC days rolled: the rolled path is fuzzed too
        rolled: [1_795_046_400, 1_795_132_800]
            .into_iter()
            .map(|day| RolledDay {
                day,
                version: 7,
                same_goals: true,
            })
            .collect(),
    };
    if let Ok(funnel) = stats::funnel::parse(body) {
        // a saved funnel's steps are the settings' (checked when saved)
        let funnel = funnel.saved(&Site::new("fuzz.example")).ok()?;
        stats::limits::check(&funnel.query, &range).ok()?;
        let site = Site::new(&funnel.query.site_id);
        let text = stats::sql::funnel_statement(&funnel, &site, &range).text;
        assert!(!text.is_empty());
        return Some(vec![text]);
    }
    let query = stats::query::parse(body).ok()?;
    stats::limits::check(&query, &range).ok()?;
    let plan = stats::plan::plan(&query, range).ok()?;
    let site = Site::new(&query.site_id);
    let texts: Vec<String> = stats::statements(&plan, &site)
        .into_iter()
        .map(|sql| sql.text)
        .collect();
    assert!(texts.iter().all(|t| !t.is_empty()));
    Some(texts)
}

fn strings(value: &Value, each: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => each(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, each)),
        Value::Object(map) => map.values().for_each(|v| strings(v, each)),
        _ => {}
    }
}

fn replace(value: &Value, from: &str, to: &str) -> Value {
    match value {
        Value::String(s) if s == from => Value::String(to.into()),
        Value::Array(items) => Value::Array(items.iter().map(|v| replace(v, from, to)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), replace(v, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}
