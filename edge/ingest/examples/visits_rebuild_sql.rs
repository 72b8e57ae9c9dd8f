//! Prints the statement that recomputes the stored visits of whole UTC days
//! (`store::visits::rebuild_sql`, which the admin API's rebuild runs), so that
//! a benchmark loading events straight into ClickHouse can run it too.
//!
//! Usage: cargo run -p ingest --example visits_rebuild_sql -- <from> <to>
//! output: `{"text", "params"}`, params escaped as ClickHouse's HTTP interface reads them.

use model::sql::escaped_param;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(from), Some(to)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: visits_rebuild_sql <from YYYY-MM-DD> <to YYYY-MM-DD>");
        std::process::exit(2);
    };
    let sql = ingest::store::visits::rebuild_sql(from, to);
    let params: serde_json::Map<String, serde_json::Value> = sql
        .params
        .iter()
        .map(|(k, v)| (k.clone(), escaped_param(v).into()))
        .collect();
    println!(
        "{}",
        serde_json::json!({ "text": sql.text, "params": params })
    );
}
