//! What the queue carries: an accepted event's row, or a drop to count.

use super::row::Row;
use serde::{Deserialize, Serialize};

/// One queue message, adjacently tagged: `{"t":"event","v":{…row…}}` or
/// `{"t":"dropped","v":{"date":…,"site_domain":…,"reason":…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum QueueMessage {
    Event(Box<Row>),
    Dropped(Dropped),
}

/// One dropped event: counted per day, site and reason (`dropped_events`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dropped {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    /// The configured site it was for, or "" when it named none.
    pub site_domain: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::user_agent::parse;
    use crate::ingest::receive;
    use crate::privacy::visitor::{visitor_id, Salt};
    use crate::sink::row::Context;

    #[test]
    fn a_queued_event_holds_no_ip_and_no_user_agent() {
        const IP: &str = "203.0.113.77";
        const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Marker/1.0";
        let body = br#"{"n":"pageview","u":"https://portal.example/","d":"portal.example","r":"https://github.com/"}"#;
        let (_, event) = receive(body, |d| d == "portal.example");
        let context = Context {
            received_ms: 1_795_651_199_000,
            visitor_id: visitor_id(&Salt([3; 16]), UA, IP, "portal.example"),
            country_code: "DE".into(),
            client: parse(UA),
        };
        let message = serde_json::to_string(&QueueMessage::Event(Box::new(Row::new(
            &event.unwrap(),
            "portal.example",
            &context,
        ))))
        .unwrap();
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
    fn messages_round_trip_with_their_tag() {
        let dropped = QueueMessage::Dropped(Dropped {
            date: "2026-11-25".into(),
            site_domain: String::new(),
            reason: "bot".into(),
        });
        let json = serde_json::to_string(&dropped).unwrap();
        assert_eq!(
            json,
            r#"{"t":"dropped","v":{"date":"2026-11-25","site_domain":"","reason":"bot"}}"#
        );
        assert_eq!(
            serde_json::from_str::<QueueMessage>(&json).unwrap(),
            dropped
        );
    }
}
