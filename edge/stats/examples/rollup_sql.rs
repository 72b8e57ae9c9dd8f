//! Prints the statements the Worker's rollup pass runs for days of a site
//! (`stats::sql::roll_sql`, then `logged_sql`), so that a benchmark can roll
//! its generated days with exactly that SQL.
//!
//! Usage: cargo run -p stats --example rollup_sql -- <input.json>
//! input: `{"site": Site, "days": [<unix s of a UTC midnight>], "version": <u64>}`
//! output: per day, `[[roll…], logged]` (the roll's INSERTs, then the row
//! that makes it readable), each `{"text", "params"}` with params escaped as
//! ClickHouse's HTTP interface reads them.

use model::settings::Site;
use serde_json::{json, Value};

#[path = "common/statement.rs"]
mod common;
use common::statement;

#[derive(serde::Deserialize)]
struct Input {
    site: Site,
    days: Vec<u32>,
    version: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: rollup_sql <input.json>");
    let input: Input =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("parse input");
    let days: Vec<Value> = input
        .days
        .iter()
        .map(|day| {
            let inserts: Vec<Value> = stats::sql::roll_sql(&input.site, *day, input.version)
                .iter()
                .map(statement)
                .collect();
            json!([
                inserts,
                statement(&stats::sql::logged_sql(&input.site, *day, input.version)),
            ])
        })
        .collect();
    println!("{}", serde_json::to_string(&days).expect("json"));
}
