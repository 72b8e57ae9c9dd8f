//! What the queue carries from the fetch handler to its consumer: an
//! accepted event's row, or a drop to count. Like a row, a message holds no
//! IP address and no User-Agent.

use super::row::Row;
use serde::{Deserialize, Serialize};

/// One queue message, adjacently tagged: `{"t":"event","v":{…row…}}` or
/// `{"t":"dropped","v":{"date":…,"site_domain":…,"reason":…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum QueueMessage {
    Event(Box<Row>),
    Dropped(DropCount),
}

/// One dropped event to count, per day, site and reason (`dropped_events`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DropCount {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    /// The configured site it was for, or "" when it named none.
    pub site_domain: String,
    pub reason: String,
}

impl QueueMessage {
    /// The message as the queue carries it: a JSON string (workers-rs would
    /// turn a `serde_json::Value` into an empty object on the way).
    pub fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    pub fn decode(text: &str) -> Result<QueueMessage, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_with_their_tag() {
        let dropped = QueueMessage::Dropped(DropCount {
            date: "2026-11-25".into(),
            site_domain: String::new(),
            reason: "bot".into(),
        });
        let json = dropped.encode().unwrap();
        assert_eq!(
            json,
            r#"{"t":"dropped","v":{"date":"2026-11-25","site_domain":"","reason":"bot"}}"#
        );
        assert_eq!(QueueMessage::decode(&json).unwrap(), dropped);
    }
}
