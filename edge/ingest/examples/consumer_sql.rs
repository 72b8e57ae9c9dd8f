//! Prints what the queue consumer sends ClickHouse for each batch of rows
//! (`edge/worker/src/routes/consumer.rs`, when no event is stored yet and
//! none is refused), so that a benchmark can time exactly those requests
//! beside a raw `INSERT … FORMAT JSONEachRow` of the same rows
//! (bench/insert-path.mjs).
//!
//! Usage: consumer_sql <batch size> < rows.jsonl
//! input: one `events` row per line, as bench/generate-events.mjs prints them
//! (a `visitor_id` may be a string, as ClickHouse's JSON output writes a
//! UInt64; a missing `event_id` becomes the line's number, as the Worker
//! gives each queued event its own).
//! output: per batch, one JSON line `{"rows", "stored_ids", "insert",
//! "visits": [{"refresh", "changed"}]}`: the statements as `{"text",
//! "params"}`, the insert as the body the consumer POSTs.

use ingest::store::batch::{rows_insert, stored_ids_sql};
use ingest::store::visits::{changed_sql, refresh_sql, touched};
use model::row::Row;
use serde_json::{json, Value};
use std::io::{BufRead, Write};

#[path = "../../stats/examples/common/statement.rs"]
mod common;
use common::statement;

fn row(line: &str, number: u64) -> Result<Row, String> {
    let mut value: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let fields = value.as_object_mut().ok_or("a row is a JSON object")?;
    if let Some(Value::String(id)) = fields.get("visitor_id") {
        let id: u64 = id.parse().map_err(|_| format!("visitor_id {id:?}"))?;
        fields.insert("visitor_id".into(), id.into());
    }
    fields.entry("event_id").or_insert(number.into());
    serde_json::from_value(value).map_err(|e| e.to_string())
}

fn batch(rows: &[Row]) -> Value {
    let refs: Vec<&Row> = rows.iter().collect();
    let visits: Vec<Value> = touched(rows.iter())
        .into_iter()
        .map(|((site, date), visitors)| {
            json!({
                "refresh": statement(&refresh_sql(&site, &date, &visitors)),
                "changed": statement(&changed_sql(&site, &date)),
            })
        })
        .collect();
    json!({
        "rows": rows.len(),
        "stored_ids": statement(&stored_ids_sql(&refs)),
        // every row here came from a JSON line that serialized, so it serializes again
        "insert": rows_insert(&refs).expect("a row read from JSON serializes"),
        "visits": visits,
    })
}

fn main() {
    let size: usize = match std::env::args().nth(1).and_then(|n| n.parse().ok()) {
        Some(size) if size > 0 => size,
        _ => {
            eprintln!("usage: consumer_sql <batch size> < rows.jsonl");
            std::process::exit(2);
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut rows = Vec::with_capacity(size);
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.unwrap_or_else(|e| panic!("reading line {}: {e}", i + 1));
        let row = row(&line, i as u64 + 1).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        rows.push(row);
        if rows.len() == size {
            writeln!(out, "{}", batch(&rows)).expect("writing stdout");
            rows.clear();
        }
    }
    if !rows.is_empty() {
        writeln!(out, "{}", batch(&rows)).expect("writing stdout");
    }
}
