//! Any bytes as a `POST /api/v2/query` body, through everything the Stats API
//! does before ClickHouse: parse, the limits, the plan and its statements.
//! Never a panic; every statement's values are bound as parameters, so no
//! part of the body longer than a few bytes appears in a statement's text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use model::settings::Site;
use stats::range::Resolved;

fuzz_target!(|body: &[u8]| {
    let Ok(query) = stats::query::parse(body) else {
        return;
    };
    let range = Resolved {
        from: 1_795_000_000,
        to: 1_795_604_800,
        from_local: "2026-11-18T00:00:00+00:00".into(),
        to_local: "2026-11-24T23:59:59+00:00".into(),
    };
    if stats::limits::check(&query, &range).is_err() {
        return;
    }
    let Ok(plan) = stats::plan::plan(&query, range) else {
        return;
    };
    let site = Site::new(&query.site_id);
    for sql in stats::statements(&plan, &site) {
        assert!(!sql.text.is_empty());
        // every string value of the body is bound: a long one never appears in the SQL
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            strings(&value, &mut |s| {
                if s.len() >= 12 && s.chars().any(|c| "'\\;".contains(c)) {
                    assert!(!sql.text.contains(s), "{s:?} spliced into {}", sql.text);
                }
            });
        }
    }
});

fn strings(value: &serde_json::Value, each: &mut impl FnMut(&str)) {
    match value {
        serde_json::Value::String(s) => each(s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, each)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, each)),
        _ => {}
    }
}
