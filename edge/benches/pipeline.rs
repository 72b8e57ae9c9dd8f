//! CPU per event of the pure pipeline, natively: bot check → parse →
//! validate → attribute → User-Agent → visitor id → row → JSON (the queue message). Not a test: `cargo bench -p edge`.

use edge::enrich::user_agent::{is_bot, parse};
use edge::ingest::receive;
use edge::privacy::visitor::{visitor_id, Salt};
use edge::sink::row::{Context, Row};
use std::hint::black_box;
use std::time::Instant;

const BODIES: [&[u8]; 3] = [
    br#"{"n":"pageview","v":1,"u":"https://backstage.fawkes.idp/catalog/default/component/billing?utm_source=newsletter","d":"backstage.fawkes.idp","r":"https://www.google.com/"}"#,
    br#"{"n":"Deploy Application","v":1,"u":"https://backstage.fawkes.idp/create","d":"backstage.fawkes.idp","r":null,"p":{"language":"nodejs","template":"express"}}"#,
    br#"{"n":"engagement","sd":73,"d":"backstage.fawkes.idp","u":"https://backstage.fawkes.idp/docs","e":12345,"v":1}"#,
];
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

fn main() {
    let salt = Salt([42; 16]);
    let events = 300_000;
    for round in 0..3 {
        let start = Instant::now();
        let mut bytes = 0;
        for i in 0..events {
            let body = BODIES[i % BODIES.len()];
            if is_bot(black_box(UA)) {
                continue;
            }
            let (_, event) = receive(black_box(body), |d| d == "backstage.fawkes.idp");
            let event = event.expect("valid");
            let context = Context {
                received_ms: 1_795_651_199_000,
                visitor_id: visitor_id(&salt, UA, "203.0.113.7", "backstage.fawkes.idp"),
                country_code: "DE".into(),
                client: parse(UA),
            };
            let row = Row::new(&event, "backstage.fawkes.idp", &context);
            bytes += serde_json::to_string(&row).expect("serializable").len();
        }
        let elapsed = start.elapsed();
        println!(
            "round {round}: {events} events in {:.3} s: {:.2} µs/event, {:.0} events/s on one core ({} bytes queued)",
            elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1e6 / events as f64,
            events as f64 / elapsed.as_secs_f64(),
            black_box(bytes)
        );
    }
}
