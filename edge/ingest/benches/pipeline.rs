//! CPU per event of the ingest pipeline, natively: exactly the functions the
//! Worker calls for `POST /api/event` — `pipeline::admit` (parse → validate →
//! drop), `pipeline::rows` (anonymize → enrich → row) and the queue message's
//! JSON. Not a test: `cargo bench -p ingest --bench pipeline`.

use ingest::pipeline::{admit, rows};
use ingest::privacy::client::Client;
use ingest::privacy::visitor::Salt;
use model::message::QueueMessage;
use std::hint::black_box;
use std::time::Instant;

const BODIES: [&[u8]; 3] = [
    br#"{"n":"pageview","v":1,"u":"https://backstage.fawkes.idp/catalog/default/component/billing?utm_source=newsletter","d":"backstage.fawkes.idp","r":"https://www.google.com/"}"#,
    br#"{"n":"Deploy Application","v":1,"u":"https://backstage.fawkes.idp/create","d":"backstage.fawkes.idp","r":null,"p":{"language":"nodejs","template":"express"}}"#,
    br#"{"n":"engagement","sd":73,"d":"backstage.fawkes.idp","u":"https://backstage.fawkes.idp/docs","e":12345,"v":1}"#,
];
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const NOW: u64 = 1_795_651_199_000;

fn main() {
    let salt = Salt([42; 16]);
    let client = Client {
        ip: "203.0.113.7",
        user_agent: UA,
        country: "DE",
    };
    let is_site = |domain: &str| domain == "backstage.fawkes.idp";
    let events = 300_000;
    for round in 0..3 {
        let start = Instant::now();
        let mut bytes = 0;
        for i in 0..events {
            let body = BODIES[i % BODIES.len()];
            let admitted = admit(black_box(body), is_site, black_box(UA)).expect("admitted");
            for row in rows(&admitted, black_box(&client), &salt, NOW, || i as u64).expect("fits") {
                bytes += QueueMessage::Event(Box::new(row))
                    .encode()
                    .expect("serializable")
                    .len();
            }
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
