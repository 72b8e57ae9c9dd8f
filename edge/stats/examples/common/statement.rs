//! A statement as the examples print it: `{"text", "params"}`, each value
//! escaped as ClickHouse's HTTP interface reads it (shared by the printers).

use model::sql::{escaped_param, Sql};
use serde_json::{json, Value};

pub fn statement(sql: &Sql) -> Value {
    let params: serde_json::Map<String, Value> = sql
        .params
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(escaped_param(v))))
        .collect();
    json!({ "text": sql.text, "params": params })
}
