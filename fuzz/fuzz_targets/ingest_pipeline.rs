//! Any bytes as a `POST /api/event` body, through the Worker's own pipeline
//! (`admit`, then `rows`). Never a panic; and what is accepted holds:
//! every row fits its columns (so it inserts), names a configured site,
//! keeps no referrer query or fragment, and survives the queue unchanged.
#![no_main]

use ingest::pipeline::{admit, rows};
use ingest::privacy::client::Client;
use ingest::privacy::visitor::Salt;
use libfuzzer_sys::fuzz_target;
use model::message::QueueMessage;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

fuzz_target!(|body: &[u8]| {
    let is_site = |domain: &str| domain == "portal.example" || domain == "docs.example";
    let Ok(admitted) = admit(body, is_site, UA) else {
        return;
    };
    let client = Client {
        ip: "203.0.113.9",
        user_agent: UA,
        country: "DE",
    };
    let mut id = 0;
    let Ok(rows) = rows(
        &admitted,
        &client,
        &Salt([1; 16]),
        1_795_651_199_000,
        || {
            id += 1;
            id
        },
    ) else {
        return;
    };
    for row in rows {
        assert_eq!(row.check(), Ok(()), "an accepted row fits its columns");
        assert!(is_site(&row.site_domain));
        // host and path only: a query or fragment never survives (userinfo is checked in enrich::source)
        assert!(
            !row.attribution.referrer.contains(['?', '#']),
            "{}",
            row.attribution.referrer
        );
        let message = QueueMessage::Event(Box::new(row));
        let text = message.encode().expect("a row serializes");
        assert_eq!(QueueMessage::decode(&text).ok(), Some(message));
    }
});
