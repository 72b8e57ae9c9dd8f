//! What the queue carries from the fetch handler to its consumer: an
//! accepted event's row, or a drop to count. Like a row, a message holds no
//! IP address and no User-Agent.
//!
//! Messages carry their format's version, so a consumer deployed before or
//! after the fetch handler that queued them knows what it reads: it reads
//! this version and the one before, and sets aside (dead-letters) what it
//! cannot read — never acknowledging a message it did not store.

use super::row::Row;
use serde::{Deserialize, Serialize};

/// The format queued now. Version 2 added `event_id` to rows; version 1
/// (no `version` key) reads with id 0, which the consumer replaces.
pub const VERSION: u64 = 2;

/// One queue message, adjacently tagged: `{"version":2,"t":"event","v":{…row…}}`
/// or `{"version":2,"t":"dropped","v":{"date":…,"site_domain":…,"reason":…}}`.
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

/// The largest message a Cloudflare Queue takes (128 KB), with room for its envelope.
pub const MAX_MESSAGE_BYTES: usize = 120_000;
/// The largest send (256 KB for the whole batch), with room to spare.
pub const MAX_SEND_BYTES: usize = 250_000;
/// The most messages one send takes.
pub const MAX_SEND_MESSAGES: usize = 100;

/// Whether encoded messages go in one send: `Err` says how large they are.
pub fn check_send(messages: &[String]) -> Result<(), String> {
    let total: usize = messages.iter().map(String::len).sum();
    let largest = messages.iter().map(String::len).max().unwrap_or(0);
    if largest > MAX_MESSAGE_BYTES || total > MAX_SEND_BYTES || messages.len() > MAX_SEND_MESSAGES {
        return Err(format!(
            "the event's rows come to {total} bytes ({} of them, the largest {largest}); the queue takes {MAX_SEND_BYTES} bytes a send and {MAX_MESSAGE_BYTES} a row",
            messages.len()
        ));
    }
    Ok(())
}

/// Encoded messages in sends the queue takes, in order (a message too large
/// for any send goes alone, and its send fails on its own).
pub fn sends(messages: Vec<String>) -> Vec<Vec<String>> {
    let mut sends: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for message in messages {
        let full = sends.last().is_none_or(|last| {
            last.len() == MAX_SEND_MESSAGES || bytes + message.len() > MAX_SEND_BYTES
        });
        if full {
            sends.push(Vec::new());
            bytes = 0;
        }
        bytes += message.len();
        if let Some(last) = sends.last_mut() {
            last.push(message);
        }
    }
    sends
}

/// Why a consumer cannot read a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("message version {0} is newer than this consumer reads ({VERSION})")]
    Version(u64),
    #[error("not a queue message: {0}")]
    Malformed(String),
}

#[derive(Serialize)]
struct Versioned<'a> {
    version: u64,
    #[serde(flatten)]
    message: &'a QueueMessage,
}

impl QueueMessage {
    /// The message as the queue carries it: a JSON string (workers-rs would
    /// turn a `serde_json::Value` into an empty object on the way).
    pub fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&Versioned {
            version: VERSION,
            message: self,
        })
    }

    /// This version's messages and the one before.
    pub fn decode(text: &str) -> Result<QueueMessage, Unreadable> {
        let malformed = |e: serde_json::Error| Unreadable::Malformed(e.to_string());
        let mut value: serde_json::Value = serde_json::from_str(text).map_err(malformed)?;
        let version = match value.as_object_mut().and_then(|o| o.remove("version")) {
            None => 1,
            Some(v) => v
                .as_u64()
                .ok_or_else(|| Unreadable::Malformed("version is not a number".into()))?,
        };
        if version > VERSION {
            return Err(Unreadable::Version(version));
        }
        serde_json::from_value(value).map_err(malformed)
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
            r#"{"version":2,"t":"dropped","v":{"date":"2026-11-25","site_domain":"","reason":"bot"}}"#
        );
        assert_eq!(QueueMessage::decode(&json).unwrap(), dropped);
    }

    #[test]
    fn sends_stay_within_the_queues_limits() {
        let message = |bytes: usize| "x".repeat(bytes);
        assert_eq!(check_send(&[message(1000), message(1000)]), Ok(()));
        assert!(check_send(&[message(MAX_MESSAGE_BYTES + 1)]).is_err());
        assert!(
            check_send(&vec![message(MAX_MESSAGE_BYTES); 3]).is_err(),
            "three large rows"
        );
        let split = sends(vec![message(100_000); 5]);
        assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        let many = sends(vec![message(10); 250]);
        assert_eq!(
            many.iter().map(Vec::len).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        assert!(sends(Vec::new()).is_empty());
    }

    #[test]
    fn the_previous_version_reads_and_a_newer_or_broken_one_does_not() {
        let v1 = r#"{"t":"dropped","v":{"date":"2026-11-25","site_domain":"","reason":"bot"}}"#;
        assert!(matches!(
            QueueMessage::decode(v1),
            Ok(QueueMessage::Dropped(_))
        ));
        let v3 = r#"{"version":3,"t":"dropped","v":{"date":"2026-11-25","site_domain":"","reason":"bot"}}"#;
        assert_eq!(QueueMessage::decode(v3), Err(Unreadable::Version(3)));
        assert_eq!(
            QueueMessage::decode(v3).unwrap_err().to_string(),
            "message version 3 is newer than this consumer reads (2)"
        );
        for broken in [
            "",
            "[]",
            "{}",
            r#"{"t":"event","v":{}}"#,
            r#"{"version":"2"}"#,
        ] {
            assert!(
                matches!(QueueMessage::decode(broken), Err(Unreadable::Malformed(_))),
                "{broken}"
            );
        }
    }
}
