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
