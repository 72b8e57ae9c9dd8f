//! One queue batch as ClickHouse INSERTs: its rows into `events`, its drops,
//! counted, into `dropped_events`. The deduplication token is a hash of the
//! batch's message ids, so a batch the queue delivers again (after a timeout
//! or a failed ack) is stored once: ClickHouse drops an insert whose token it
//! has seen (`non_replicated_deduplication_window` on the tables).

use model::message::{DropCount, QueueMessage};
use model::row::Row;
use model::tables::{DROPPED_EVENTS, EVENTS};
use std::collections::BTreeMap;
use std::hash::Hasher;
use twox_hash::XxHash3_64;

/// The statement; the rows follow it as the request body.
pub fn insert_statement(token: &str) -> String {
    // the token is our own hex digest, never client input, so it may stand in the SQL
    format!(
        "INSERT INTO {EVENTS} SETTINGS insert_deduplication_token = '{token}' FORMAT JSONEachRow"
    )
}

/// A token for a batch: the same message ids, in any order, give the same token.
pub fn dedup_token<'a>(message_ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut ids: Vec<&str> = message_ids.into_iter().collect();
    ids.sort_unstable();
    let mut hasher = XxHash3_64::with_seed(0);
    for id in ids {
        hasher.write_u64(id.len() as u64);
        hasher.write(id.as_bytes());
    }
    format!("{:016x}", hasher.finish())
}

/// The INSERT bodies for a batch: rows, then drop counts (each only when the
/// batch has some). Each has its own token derived from the batch's.
pub fn insert_bodies(
    token: &str,
    messages: &[QueueMessage],
) -> Result<Vec<String>, serde_json::Error> {
    let mut rows: Vec<&Row> = Vec::new();
    let mut drops: BTreeMap<(&str, &str, &str), u64> = BTreeMap::new();
    for message in messages {
        match message {
            QueueMessage::Event(row) => rows.push(row.as_ref()),
            QueueMessage::Dropped(DropCount {
                date,
                site_domain,
                reason,
            }) => {
                *drops.entry((date, site_domain, reason)).or_default() += 1;
            }
        }
    }
    let mut bodies = Vec::new();
    if !rows.is_empty() {
        let mut body = insert_statement(token);
        for row in rows {
            body.push('\n');
            body.push_str(&serde_json::to_string(row)?);
        }
        bodies.push(body);
    }
    if !drops.is_empty() {
        let mut body = format!("INSERT INTO {DROPPED_EVENTS} SETTINGS insert_deduplication_token = '{token}-dropped' FORMAT JSONEachRow");
        for ((date, site_domain, reason), count) in drops {
            body.push('\n');
            body.push_str(&serde_json::json!({ "date": date, "site_domain": site_domain, "reason": reason, "count": count }).to_string());
        }
        bodies.push(body);
    }
    Ok(bodies)
}

/// What to do with a batch after ClickHouse answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Stored,
    /// A passing failure (network, 5xx, overload): retry later.
    Retry,
    /// ClickHouse refused the data itself (type mismatch, bad data): retrying
    /// cannot help, so the batch goes to the dead-letter queue.
    Poison,
}

/// Classifies ClickHouse's answer (Vector's rule: 2xx stored; data errors
/// 53 TYPE_MISMATCH, 26/27 parsing, 117 INCORRECT_DATA are poison; the rest retry).
pub fn classify(status: u16, exception_code: Option<u32>) -> Delivery {
    match (status, exception_code) {
        (200..=299, _) => Delivery::Stored,
        (_, Some(26 | 27 | 53 | 117)) => Delivery::Poison,
        _ => Delivery::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_depends_on_the_ids_not_their_order() {
        assert_eq!(dedup_token(["a", "b"]), dedup_token(["b", "a"]));
        assert_ne!(dedup_token(["a", "b"]), dedup_token(["a", "c"]));
        assert_ne!(dedup_token(["ab", "c"]), dedup_token(["a", "bc"]));
        assert_eq!(dedup_token(["x"]).len(), 16);
    }

    #[test]
    fn a_batch_becomes_one_insert_of_rows_and_one_of_drop_counts() {
        let dropped = |reason: &str| {
            QueueMessage::Dropped(DropCount {
                date: "2026-11-25".into(),
                site_domain: "p.example".into(),
                reason: reason.into(),
            })
        };
        let bodies = insert_bodies(
            "t1",
            &[dropped("bot"), dropped("bot"), dropped("unknown_site")],
        )
        .unwrap();
        assert_eq!(bodies.len(), 1, "no rows, no rows insert");
        let lines: Vec<&str> = bodies[0].lines().collect();
        assert_eq!(lines[0], "INSERT INTO dropped_events SETTINGS insert_deduplication_token = 't1-dropped' FORMAT JSONEachRow");
        assert_eq!(
            lines[1..],
            [
                r#"{"date":"2026-11-25","site_domain":"p.example","reason":"bot","count":2}"#,
                r#"{"date":"2026-11-25","site_domain":"p.example","reason":"unknown_site","count":1}"#
            ]
        );
        assert!(insert_bodies("t", &[]).unwrap().is_empty());
    }

    #[test]
    fn outages_retry_and_bad_data_does_not() {
        assert_eq!(classify(200, None), Delivery::Stored);
        assert_eq!(classify(503, None), Delivery::Retry);
        assert_eq!(
            classify(500, Some(241)),
            Delivery::Retry,
            "memory limit: passing"
        );
        assert_eq!(classify(400, Some(117)), Delivery::Poison);
        assert_eq!(classify(500, Some(53)), Delivery::Poison);
        assert_eq!(classify(0, None), Delivery::Retry, "no answer at all");
    }
}
