//! The ingest pipeline, in order. Each stage is a pure module of this crate;
//! this file is the only place their order lives. The Worker calls [`admit`],
//! fetches the day's salt (the one asynchronous step), calls [`rows`] and
//! queues what it returns; `benches/pipeline.rs` and the tests below call
//! the same two functions.
//!
//! ```text
//! admit  body ─▶ protocol::payload::parse ─▶ protocol::validate ─▶ drop::sift (site ▸ spam ▸ bot)
//! rows   per site: privacy::visitor (anonymize) ─▶ enrich (source, User-Agent) ─▶ store::row
//! ```

use crate::drop::{sift, Dropped};
use crate::enrich::known::source_name;
use crate::enrich::source::attribute;
use crate::enrich::user_agent;
use crate::privacy::client::Client;
use crate::privacy::visitor::{visitor_id, Salt};
use crate::protocol::payload::parse;
use crate::protocol::validate::{validate, Event, Rejection};
use crate::store::row::{row, Facts};
use model::row::Row;

/// An event that passed every check: valid, for at least one configured
/// site (its other domains removed), not spam, not from a bot.
#[derive(Debug, Clone, PartialEq)]
pub struct Admitted {
    pub event: Event,
}

/// Why a request body becomes no row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a valid event: a 400 naming each bad field; nothing is counted.
    Invalid(Rejection),
    /// Valid, but not stored: answered as accepted, and counted.
    Dropped(Dropped),
}

/// Parse → validate → drop. `is_site` says whether a normalized domain is a
/// configured site; `user_agent` is read only to recognize bots.
pub fn admit(
    body: &[u8],
    is_site: impl Fn(&str) -> bool,
    user_agent: &str,
) -> Result<Admitted, Refused> {
    let raw = parse(body).map_err(|error| Refused::Invalid(error.into()))?;
    let event = validate(raw).map_err(Refused::Invalid)?;
    let event = sift(event, is_site, user_agent).map_err(Refused::Dropped)?;
    Ok(Admitted { event })
}

/// Anonymize → enrich → row: one row per configured site of the event,
/// received at `now_ms`, with `salt` the salt of that UTC day and
/// `new_event_id` giving each row its id. The client's IP and User-Agent go
/// into the visitor id and the parsed [`user_agent::Agent`]; no row holds
/// them. Every row is checked against its columns (`Row::check`), so what is
/// accepted inserts; a row that would not is refused, naming the column.
pub fn rows(
    admitted: &Admitted,
    client: &Client,
    salt: &Salt,
    now_ms: u64,
    mut new_event_id: impl FnMut() -> u64,
) -> Result<Vec<Row>, Refused> {
    let event = &admitted.event;
    // what enrichment learns is the same for every site of the event
    let agent = user_agent::parse(client.user_agent);
    let attribution = attribute(&event.url, event.referrer.as_deref(), source_name);
    event
        .domains
        .iter()
        .map(|site| {
            let facts = Facts {
                received_ms: now_ms,
                // the visitor id is per site: the same person on two sites is two visitors
                visitor_id: visitor_id(salt, client.user_agent, client.ip, site),
                event_id: new_event_id(),
                country_code: client.country,
                agent: &agent,
                attribution: &attribution,
            };
            let row = row(event, site, &facts);
            row.check()
                .map_err(|unfit| Refused::Invalid(Rejection::field(unfit.column, unfit.reason)))?;
            Ok(row)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drop::DropReason;
    use crate::enrich::user_agent::{BOTS, KNOWN};
    use model::message::QueueMessage;

    const NOW: u64 = 1_795_651_199_000; // 2026-11-25 23:59:59 UTC
    const SALT: Salt = Salt([3; 16]);
    const IP: &str = "203.0.113.77";
    const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Marker/1.0";

    fn portal(domain: &str) -> bool {
        domain == "portal.example"
    }

    fn client(user_agent: &str) -> Client<'_> {
        Client {
            ip: IP,
            user_agent,
            country: "DE",
        }
    }

    #[test]
    fn a_row_carries_the_event_and_nothing_of_the_client() {
        let body = br#"{"n":"Deploy Application","u":"https://portal.example/create?x=1","d":"portal.example","r":"https://search.example/","p":{"language":"nodejs"},"$":{"amount":"9.5","currency":"usd"}}"#;
        let ua = KNOWN[1].0;
        let admitted = admit(body, portal, ua).expect("admitted");
        let rows = rows(&admitted, &client(ua), &SALT, NOW, || 1).expect("fits");
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.pathname, "/create");
        assert_eq!(row.timestamp, "2026-11-25 23:59:59");
        assert_eq!(row.visitor_id, visitor_id(&SALT, ua, IP, "portal.example"));
        assert_eq!(
            (row.meta_key.as_slice(), row.meta_value.as_slice()),
            (&["language".to_string()][..], &["nodejs".to_string()][..])
        );
        assert_eq!(
            (row.revenue_amount.as_deref(), row.revenue_currency.as_str()),
            (Some("9.5"), "USD")
        );
        assert_eq!(
            (
                row.browser.as_str(),
                row.operating_system.as_str(),
                row.device.as_str(),
                row.country_code.as_str()
            ),
            ("Microsoft Edge", "Windows", "Desktop", "DE")
        );
        let json = serde_json::to_string(row).unwrap();
        assert!(json.contains(r#""meta.key":["language"]"#), "{json}");
    }

    #[test]
    fn a_queued_event_holds_no_ip_and_no_user_agent() {
        let body = br#"{"n":"pageview","u":"https://portal.example/","d":"portal.example","r":"https://github.com/"}"#;
        let admitted = admit(body, portal, UA).expect("admitted");
        let messages: Vec<String> = rows(&admitted, &client(UA), &SALT, NOW, || 1)
            .expect("fits")
            .into_iter()
            .map(|row| QueueMessage::Event(Box::new(row)).encode().unwrap())
            .collect();
        let message = &messages[0];
        for secret in [
            IP,
            "203.0.113",
            UA,
            "Marker",
            "X11; Linux x86_64",
            "AppleWebKit",
        ] {
            assert!(!message.contains(secret), "{secret} in {message}");
        }
        assert!(
            message.contains(r#""browser":"Chrome""#)
                && message.contains(r#""referrer_source":"GitHub""#)
        );
    }

    #[test]
    fn each_configured_site_gets_its_own_row_and_visitor() {
        let body = br#"{"n":"pageview","u":"https://portal.example/","d":"portal.example,unknown.example,rollup.example"}"#;
        let both = |d: &str| d == "portal.example" || d == "rollup.example";
        let admitted = admit(body, both, UA).expect("admitted");
        assert_eq!(admitted.event.domains, ["portal.example", "rollup.example"]);
        let twice = br#"{"n":"pageview","u":"https://portal.example/","d":"portal.example,PORTAL.example,www.portal.example"}"#;
        assert_eq!(
            admit(twice, portal, UA).expect("admitted").event.domains,
            ["portal.example"],
            "a site named again is the same site"
        );
        let mut ids = 0..;
        let rows = rows(&admitted, &client(UA), &SALT, NOW, || {
            ids.next().unwrap_or(0)
        })
        .expect("fits");
        assert_eq!(
            (rows[0].event_id, rows[1].event_id),
            (0, 1),
            "each row its own id"
        );
        let sites: Vec<&str> = rows.iter().map(|r| r.site_domain.as_str()).collect();
        assert_eq!(sites, ["portal.example", "rollup.example"]);
        assert_ne!(rows[0].visitor_id, rows[1].visitor_id);
    }

    #[test]
    fn drops_come_in_order_site_spam_bot_and_count_their_site() {
        let page = |domain: &str, referrer: &str| {
            format!(r#"{{"n":"pageview","u":"https://{domain}/","d":"{domain}","r":"{referrer}"}}"#)
        };
        let dropped = |body: String, ua: &str| match admit(body.as_bytes(), portal, ua) {
            Err(Refused::Dropped(dropped)) => dropped,
            other => panic!("not dropped: {other:?}"),
        };
        let spam = "http://www.semalt.com/";
        let unknown = dropped(page("other.example", spam), BOTS[0]);
        assert_eq!(
            (unknown.reason, unknown.site.as_str()),
            (DropReason::UnknownSite, ""),
            "an unknown site is decided first, on the payload alone"
        );
        let spammed = dropped(page("portal.example", spam), BOTS[0]);
        assert_eq!(
            (spammed.reason, spammed.site.as_str()),
            (DropReason::ReferrerSpam, "")
        );
        let bot = dropped(page("portal.example", "https://github.com/"), BOTS[0]);
        assert_eq!(
            (bot.reason, bot.site.as_str()),
            (DropReason::Bot, "portal.example")
        );
        let QueueMessage::Dropped(count) = bot.count(NOW) else {
            panic!("a drop count")
        };
        assert_eq!(
            (count.date.as_str(), count.reason.as_str()),
            ("2026-11-25", "bot")
        );
    }

    #[test]
    fn an_invalid_body_is_refused_before_anything_else() {
        match admit(b"{}", portal, BOTS[0]) {
            Err(Refused::Invalid(rejection)) => {
                assert!(rejection.0.contains_key("name") && rejection.0.contains_key("url"))
            }
            other => panic!("not invalid: {other:?}"),
        }
    }
}
