//! One queue batch as one ClickHouse INSERT. The deduplication token is a hash
//! of the batch's message ids, so a batch the queue delivers again (after a
//! timeout or a failed ack) is stored once: ClickHouse drops an insert whose
//! token it has seen (`non_replicated_deduplication_window` on the table).

use super::row::Row;
use std::hash::Hasher;
use twox_hash::XxHash3_64;

/// The statement; the rows follow it as the request body.
pub fn insert_statement(token: &str) -> String {
    // the token is our own hex digest, never client input, so it may stand in the SQL
    format!("INSERT INTO events SETTINGS insert_deduplication_token = '{token}' FORMAT JSONEachRow")
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

/// The request body: the statement, then one JSON row per line.
pub fn insert_body(token: &str, rows: &[Row]) -> Result<String, serde_json::Error> {
    let mut body = insert_statement(token);
    for row in rows {
        body.push('\n');
        body.push_str(&serde_json::to_string(row)?);
    }
    Ok(body)
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
