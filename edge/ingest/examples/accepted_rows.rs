//! Every row the edge accepts, for a property test against the real engine
//! (tests/insertable.test.mjs inserts them all into ClickHouse): bodies at
//! every column's bound, hostile ones, and deterministic noise around both,
//! through the same `admit` and `rows` the Worker runs. Prints one
//! JSONEachRow line per accepted row, and on stderr how many bodies were
//! tried and refused.
//!
//! Usage: cargo run -p ingest --example accepted_rows -- [ROUNDS=20000]

use ingest::pipeline::{admit, rows};
use ingest::privacy::client::Client;
use ingest::privacy::visitor::Salt;
use std::io::Write;

const NOW: u64 = 1_795_651_199_000; // 2026-11-25 23:59:59 UTC
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

fn seeds() -> Vec<Vec<u8>> {
    let long = |n: usize| "é".repeat(n / 2);
    let props: serde_json::Map<String, serde_json::Value> = (0..30)
        .map(|i| {
            (
                format!("{i:0>300}"),
                serde_json::Value::String("v".repeat(2000)),
            )
        })
        .collect();
    let path = format!("/{}", "p".repeat(1900));
    let bodies = [
        serde_json::json!({"n": "pageview", "u": "https://portal.example/", "d": "portal.example"}),
        serde_json::json!({"n": "x".repeat(120), "u": format!("https://portal.example{path}"), "d": "portal.example", "r": format!("https://{}.example/{}?q=1", "r".repeat(60), "s".repeat(1900))}),
        serde_json::json!({"n": long(120), "u": "https://portal.example/?utm_source=a&utm_medium=b&utm_campaign=c&utm_content=d&utm_term=e&gclid=1", "d": "portal.example", "p": props}),
        serde_json::json!({"n": "Purchase", "u": "https://portal.example/buy", "d": "portal.example", "$": {"amount": "999999999999999.999", "currency": "usd"}}),
        serde_json::json!({"n": "Purchase", "u": "https://portal.example/buy", "d": "portal.example", "$": {"amount": -999999999999999.9, "currency": "EUR"}}),
        serde_json::json!({"n": "Purchase", "u": "https://portal.example/buy", "d": "portal.example", "$": {"amount": 0.30000000000000004, "currency": "EUR"}}),
        serde_json::json!({"n": "Purchase", "u": "https://portal.example/buy", "d": "portal.example", "$": {"amount": "1e14", "currency": "EUR"}}),
        serde_json::json!({"n": "engagement", "u": "https://portal.example/#/x", "d": "portal.example", "h": 1, "sd": 4_000_000_000u64, "e": 2_591_999_999u64}),
        serde_json::json!({"n": "\u{0000}\u{FFFF}'\"\\\t\n", "u": "https://portal.example/%00%ZZ/'\"", "d": "portal.example,portal.example", "v": 4_294_967_295u64, "i": false}),
        serde_json::json!({"n": "p", "u": format!("https://{}/", "h".repeat(63)), "d": "PORTAL.example", "r": "https://user:pw@mail.example/reset?token=secret#frag", "p": "{\"k\":\"v\"}"}),
    ];
    bodies.iter().map(|b| b.to_string().into_bytes()).collect()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let seeds = seeds();
    let salt = Salt([7; 16]);
    let client = Client {
        ip: "203.0.113.9",
        user_agent: UA,
        country: "DE",
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut tried, mut refused, mut accepted) = (0, 0, 0);
    let mut id = 0u64;
    let bodies = seeds
        .iter()
        .cloned()
        .enumerate()
        .chain(model::testing::mutated_bodies(&seeds, rounds));
    for (_, body) in bodies {
        tried += 1;
        let Ok(admitted) = admit(&body, |d| d == "portal.example", UA) else {
            refused += 1;
            continue;
        };
        let Ok(rows) = rows(&admitted, &client, &salt, NOW, || {
            id += 1;
            id
        }) else {
            refused += 1;
            continue;
        };
        for row in rows {
            accepted += 1;
            let line = serde_json::to_string(&row).expect("a row serializes");
            writeln!(out, "{line}").expect("stdout");
        }
    }
    eprintln!("{tried} bodies: {accepted} rows accepted, {refused} refused");
}
