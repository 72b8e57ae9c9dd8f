//! A message set aside: kept durably (an R2 bucket on Cloudflare) with why,
//! until an operator replays it (`node scripts/admin.mjs dead-letters
//! replay`), which queues its body again. Like every message, it holds no IP
//! address and no User-Agent.

use model::time::utc_date;
use serde::{Deserialize, Serialize};

/// One dead letter, as stored (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Why it was set aside.
    pub reason: String,
    /// The queue message to replay: as it was queued, or re-encoded with
    /// the event id the consumer gave it (so a replay stores it once).
    pub body: String,
    /// The queue's id for it.
    pub queue_message_id: String,
    /// When it was first queued, and when it was set aside (ms since the epoch).
    pub queued_ms: u64,
    pub dead_lettered_ms: u64,
}

/// Where the bucket keeps dead letters.
pub const PREFIX: &str = "dead-letters/";

impl DeadLetter {
    /// Its key: by day set aside, then time, then id — listing the bucket
    /// lists them oldest first, and the same message set aside twice at
    /// different times is two letters (a replay stores its event once).
    pub fn key(&self) -> String {
        format!(
            "{PREFIX}{}/{:013}-{}.json",
            utc_date(self.dead_lettered_ms),
            self.dead_lettered_ms,
            self.queue_message_id
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_are_keyed_by_day_time_and_id() {
        let letter = DeadLetter {
            reason: "ClickHouse refused the row".into(),
            body: "{}".into(),
            queue_message_id: "abc/../1".into(),
            queued_ms: 1_795_651_000_000,
            dead_lettered_ms: 1_795_651_199_000,
        };
        assert_eq!(
            letter.key(),
            "dead-letters/2026-11-25/1795651199000-abc1.json"
        );
        let json = serde_json::to_string(&letter).unwrap();
        assert_eq!(serde_json::from_str::<DeadLetter>(&json).unwrap(), letter);
    }
}
