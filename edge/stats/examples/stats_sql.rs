//! Prints the SQL the Stats API runs for queries (its `Plan`), so that a
//! benchmark can time exactly those statements against ClickHouse.
//!
//! Usage: cargo run -p stats --example stats_sql -- <input.json>
//! input: `{"site": Site, "from": <unix s>, "to": <unix s>, "queries": [body],
//! (a body with `steps` is a funnel's)
//! "rolled": [[<unix s of a UTC midnight>, <version>]]}` (`rolled`, the days
//! the range resolves as rolled with the site's goals, may be left out: none)
//! output: per query, the statements of its plan (`stats::statements`, which
//! the Worker sends together) as `{"text", "params"}`, params escaped as
//! ClickHouse's HTTP interface reads them.

use model::settings::Site;
use serde_json::{json, Value};

#[path = "common/statement.rs"]
mod common;
use common::statement;
use stats::query::parse;
use stats::range::{Resolved, RolledDay};

#[derive(serde::Deserialize)]
struct Input {
    site: Site,
    from: u32,
    to: u32,
    queries: Vec<Value>,
    #[serde(default)]
    rolled: Vec<(u32, u64)>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: stats_sql <input.json>");
    let input: Input =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("parse input");
    let range = Resolved {
        from: input.from,
        to: input.to,
        rolled: input
            .rolled
            .iter()
            .map(|&(day, version)| RolledDay {
                day,
                version,
                same_goals: true,
            })
            .collect(),
        ..Resolved::default()
    };
    let plans: Vec<Value> = input
        .queries
        .iter()
        .map(|body| {
            // a funnel body (with steps): its one statement
            if body.get("steps").is_some() {
                let funnel =
                    stats::funnel::parse(body.to_string().as_bytes()).expect("a valid funnel");
                // as the Worker sends them: the visits metric's plan, then the funnel's
                let plan =
                    stats::plan::plan_for(&funnel.query, range.clone(), input.site.min_group_size)
                        .expect("a valid plan");
                let mut sqls = stats::statements(&plan, &input.site);
                if input.site.min_group_size > 1 {
                    sqls.extend(stats::sql::funnel_privacy_statements(
                        &funnel,
                        &input.site,
                        &range,
                    ));
                }
                sqls.push(stats::sql::funnel_statement(&funnel, &input.site, &range));
                return json!(sqls.iter().map(statement).collect::<Vec<_>>());
            }
            let query = parse(body.to_string().as_bytes()).expect("a valid query");
            let plan = stats::plan::plan_for(&query, range.clone(), input.site.min_group_size)
                .expect("a valid plan");
            let statements: Vec<Value> = stats::statements(&plan, &input.site)
                .iter()
                .map(statement)
                .collect();
            json!(statements)
        })
        .collect();
    println!("{}", serde_json::to_string(&plans).expect("json"));
}
