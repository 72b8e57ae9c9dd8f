//! A queue batch as ClickHouse statements, each event stored exactly once:
//!
//! 1. [`stored_ids_sql`] asks which of the batch's event ids `events`
//!    already holds (a redelivered message, in whatever batch it now comes);
//! 2. [`rows_insert`] inserts the others, with a deduplication token hashed
//!    from their ids, so an INSERT that is sent again is stored once too
//!    (`non_replicated_deduplication_window` on the tables);
//! 3. [`drops_insert`] adds the batch's drop counts.
//!
//! The materialized `page_days` sees only what step 2 inserts, and
//! `visitor_days` is recomputed from `events` (`super::visits`), so neither
//! counts an event twice either.

use model::message::DropCount;
use model::row::Row;
use model::sql::Sql;
use model::tables::{DROPPED_EVENTS, EVENTS};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::Hasher;
use twox_hash::XxHash3_64;

/// A token for a set of ids: the same ids, in any order, give the same token.
pub fn dedup_token<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    let mut hasher = XxHash3_64::with_seed(0);
    for id in ids {
        hasher.write_u64(id.len() as u64);
        hasher.write(id.as_bytes());
    }
    format!("{:016x}", hasher.finish())
}

/// The id of an event queued before messages carried one (version 1): a
/// hash of its queue message's id, which the queue keeps across retries.
pub fn event_id_of_message(queue_message_id: &str) -> u64 {
    let mut hasher = XxHash3_64::with_seed(1);
    hasher.write(queue_message_id.as_bytes());
    // 0 means "no id": never hand it out
    hasher.finish().max(1)
}

/// Which of `rows`' event ids are stored already. The condition leads with
/// the table's sort key (site, day), so ClickHouse reads only the batch's
/// site-days, and within them the granules the `event_id` skip index allows.
/// The answer is one id per line ([`read_ids`]).
pub fn stored_ids_sql(rows: &[&Row]) -> Sql {
    let mut sql = Sql::default();
    let site_days: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|row| (row.site_domain.as_str(), row.date()))
        .collect();
    let days: Vec<String> = site_days
        .into_iter()
        .map(|(site, date)| {
            let site = sql.bind("String", site);
            let date = sql.bind("Date", date);
            format!("(site_domain = {site} AND toDate(timestamp) = {date})")
        })
        .collect();
    let ids = model::sql::ids(rows.iter().map(|row| row.event_id));
    sql.text = format!(
        "SELECT DISTINCT event_id FROM {EVENTS} WHERE ({}) AND event_id IN {ids} FORMAT TabSeparated",
        if days.is_empty() { "0".to_string() } else { days.join(" OR ") }
    );
    sql
}

/// The ids in [`stored_ids_sql`]'s answer; a line that is not an id makes
/// the whole answer unreadable (an error text after a 200, a cut body): the
/// batch is retried rather than inserted on a partial list.
pub fn read_ids(answer: &str) -> Result<HashSet<u64>, String> {
    answer
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            line.parse().map_err(|_| {
                format!(
                    "stored ids: not an id: {:?}",
                    line.chars().take(80).collect::<String>()
                )
            })
        })
        .collect()
}

/// One INSERT of `rows` into `events` (the statement, then one JSON line per
/// row), or `None` for no rows.
pub fn rows_insert(rows: &[&Row]) -> Result<Option<String>, serde_json::Error> {
    if rows.is_empty() {
        return Ok(None);
    }
    let ids: Vec<String> = rows.iter().map(|row| row.event_id.to_string()).collect();
    // the token is our own hex digest, never client input, so it may stand in the SQL
    let token = dedup_token(ids.iter().map(String::as_str));
    let mut body = format!(
        "INSERT INTO {EVENTS} SETTINGS insert_deduplication_token = '{token}' FORMAT JSONEachRow"
    );
    for row in rows {
        body.push('\n');
        body.push_str(&serde_json::to_string(row)?);
    }
    Ok(Some(body))
}

/// One INSERT of drop counts, summed per day, site and reason; its token
/// comes from the queue messages that carried them (`message_ids`).
pub fn drops_insert<'a>(
    drops: impl IntoIterator<Item = &'a DropCount>,
    message_ids: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut counts: BTreeMap<(&str, &str, &str), u64> = BTreeMap::new();
    for drop in drops {
        *counts
            .entry((&drop.date, &drop.site_domain, &drop.reason))
            .or_default() += 1;
    }
    if counts.is_empty() {
        return None;
    }
    let token = dedup_token(message_ids);
    let mut body = format!("INSERT INTO {DROPPED_EVENTS} SETTINGS insert_deduplication_token = '{token}-dropped' FORMAT JSONEachRow");
    for ((date, site_domain, reason), count) in counts {
        body.push('\n');
        body.push_str(&serde_json::json!({ "date": date, "site_domain": site_domain, "reason": reason, "count": count }).to_string());
    }
    Some(body)
}

/// What ClickHouse's answer to an INSERT means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Stored,
    /// A passing failure (network, 5xx, overload): retry later.
    Retry,
    /// ClickHouse refused the data itself (type mismatch, bad data, a value
    /// out of range): retrying cannot help. The consumer finds the row.
    Poison,
}

/// Classifies ClickHouse's answer (Vector's rule, widened: 2xx stored; data
/// errors are poison — 6/26/27/38/41/53/69/70/72/117/130/131/321/469 (parsing,
/// types, a decimal or number out of range, a too long FixedString, a
/// violated CHECK constraint); the rest retry).
pub fn classify(status: u16, exception_code: Option<u32>) -> Delivery {
    match (status, exception_code) {
        (200..=299, _) => Delivery::Stored,
        (_, Some(6 | 26 | 27 | 38 | 41 | 53 | 69 | 70 | 72 | 117 | 130 | 131 | 321 | 469)) => {
            Delivery::Poison
        }
        _ => Delivery::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(site: &str, timestamp: &str, event_id: u64) -> Row {
        let json = serde_json::json!({
            "site_domain": site, "timestamp": timestamp, "name": "pageview", "visitor_id": 1,
            "hostname": site, "pathname": "/", "referrer": "", "referrer_source": "",
            "utm_medium": "", "utm_source": "", "utm_campaign": "", "utm_content": "", "utm_term": "",
            "click_id_param": "", "country_code": "", "device": "", "browser": "", "browser_version": "",
            "operating_system": "", "operating_system_version": "", "meta.key": [], "meta.value": [],
            "revenue_amount": null, "revenue_currency": "", "scroll_depth": 0, "engagement_time": 0,
            "interactive": true, "tracker_version": 0, "event_id": event_id
        });
        serde_json::from_value(json).expect("a row")
    }

    #[test]
    fn the_token_depends_on_the_ids_not_their_order() {
        assert_eq!(dedup_token(["a", "b"]), dedup_token(["b", "a"]));
        assert_ne!(dedup_token(["a", "b"]), dedup_token(["a", "c"]));
        assert_ne!(dedup_token(["ab", "c"]), dedup_token(["a", "bc"]));
        assert_eq!(dedup_token(["x"]).len(), 16);
    }

    #[test]
    fn a_version_1_message_gets_a_stable_nonzero_id() {
        assert_eq!(event_id_of_message("m1"), event_id_of_message("m1"));
        assert_ne!(event_id_of_message("m1"), event_id_of_message("m2"));
        assert_ne!(event_id_of_message(""), 0);
    }

    #[test]
    fn stored_ids_are_looked_up_per_site_day_with_bound_sites_and_days() {
        let a = row("a.example", "2026-11-28 23:59:59", 7);
        let b = row("b'example", "2026-11-29 00:00:00", 8);
        let c = row("a.example", "2026-11-28 10:00:00", 9);
        let sql = stored_ids_sql(&[&a, &b, &c]);
        assert_eq!(
            sql.text,
            "SELECT DISTINCT event_id FROM events WHERE ((site_domain = {p0:String} AND toDate(timestamp) = {p1:Date}) OR (site_domain = {p2:String} AND toDate(timestamp) = {p3:Date})) AND event_id IN [7,8,9] FORMAT TabSeparated"
        );
        let values: Vec<&str> = sql.params.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            ["a.example", "2026-11-28", "b'example", "2026-11-29"]
        );
        assert_eq!(read_ids("7\n9\n"), Ok(HashSet::from([7, 9])));
        assert_eq!(read_ids(""), Ok(HashSet::new()));
        assert!(read_ids("7\nCode: 241. DB::Exception: Memory limit exceeded").is_err());
    }

    #[test]
    fn rows_insert_with_a_token_of_their_ids() {
        let (a, b) = (
            row("a.example", "2026-11-28 23:59:59", 7),
            row("a.example", "2026-11-28 23:59:59", 8),
        );
        let first = rows_insert(&[&a, &b]).unwrap().unwrap();
        let regrouped = rows_insert(&[&b, &a]).unwrap().unwrap();
        assert_eq!(
            first.lines().next(),
            regrouped.lines().next(),
            "same ids, same token"
        );
        assert_ne!(
            first.lines().next(),
            rows_insert(&[&a]).unwrap().unwrap().lines().next()
        );
        assert_eq!(first.lines().count(), 3);
        assert!(first.contains(r#""event_id":7"#));
        assert!(rows_insert(&[]).unwrap().is_none());
    }

    #[test]
    fn drops_are_summed_per_day_site_and_reason() {
        let dropped = |reason: &str| DropCount {
            date: "2026-11-25".into(),
            site_domain: "p.example".into(),
            reason: reason.into(),
        };
        let drops = [dropped("bot"), dropped("bot"), dropped("unknown_site")];
        let body = drops_insert(&drops, ["m1", "m2", "m3"]).unwrap();
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(
            lines[0],
            format!(
                "INSERT INTO dropped_events SETTINGS insert_deduplication_token = '{}-dropped' FORMAT JSONEachRow",
                dedup_token(["m3", "m2", "m1"])
            )
        );
        assert_eq!(
            lines[1..],
            [
                r#"{"date":"2026-11-25","site_domain":"p.example","reason":"bot","count":2}"#,
                r#"{"date":"2026-11-25","site_domain":"p.example","reason":"unknown_site","count":1}"#
            ]
        );
        assert!(drops_insert(&[], ["m"]).is_none());
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
        assert_eq!(
            classify(400, Some(69)),
            Delivery::Poison,
            "a decimal out of range"
        );
        assert_eq!(
            classify(400, Some(131)),
            Delivery::Poison,
            "too long for a FixedString"
        );
        assert_eq!(classify(0, None), Delivery::Retry, "no answer at all");
        assert_eq!(
            classify(516, Some(516)),
            Delivery::Retry,
            "credentials: fixed by an operator"
        );
    }
}
