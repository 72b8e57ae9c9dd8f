//! Prints the SQL the Stats API runs for queries (its `Plan`), so that a
//! benchmark can time exactly those statements against ClickHouse.
//!
//! Usage: cargo run --example stats_sql -- <input.json>
//!        cargo run --example stats_sql -- --rebuild <from> <to>   (the visits' rebuild statement)
//! input: `{"site": Site, "from": <unix s>, "to": <unix s>, "queries": [body]}`
//! output: per query, every statement of its plan as `{"text", "params"}`,
//! params escaped as ClickHouse's HTTP interface reads them.

use edge::settings::Site;
use edge::stats::query::parse;
use edge::stats::range::Resolved;
use edge::stats::sql::{escaped_param, Sql};
use serde_json::{json, Value};

#[derive(serde::Deserialize)]
struct Input {
    site: Site,
    from: u32,
    to: u32,
    queries: Vec<Value>,
}

fn statement(sql: &Sql) -> Value {
    let params: serde_json::Map<String, Value> = sql
        .params
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(escaped_param(v))))
        .collect();
    json!({ "text": sql.text, "params": params })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--rebuild") {
        let sql = edge::sink::visits::rebuild_sql(&args[2], &args[3]);
        println!("{}", statement(&sql));
        return;
    }
    let path = args.get(1).expect("usage: stats_sql <input.json>");
    let input: Input =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("parse input");
    let range = Resolved {
        from: input.from,
        to: input.to,
        from_local: String::new(),
        to_local: String::new(),
    };
    let plans: Vec<Value> = input
        .queries
        .iter()
        .map(|body| {
            let query = parse(body.to_string().as_bytes()).expect("a valid query");
            let plan = edge::stats::plan(&query, &input.site, &range).expect("a valid plan");
            let statements: Vec<Value> = [
                Some(&plan.main),
                plan.visit_part.as_ref(),
                plan.percentage.as_ref(),
                plan.conversions.as_ref(),
            ]
            .into_iter()
            .flatten()
            .map(statement)
            .collect();
            json!(statements)
        })
        .collect();
    println!("{}", serde_json::to_string(&plans).expect("json"));
}
