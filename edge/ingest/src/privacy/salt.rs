//! The salt's lifetime rules: one salt per UTC day, kept for that day and the
//! next (events near midnight), deleted after — at most 48 hours.

use model::time::{epoch_day, utc_date, DAY_MS};

/// The salt's key for the UTC day of `now_ms`: `YYYY-MM-DD`.
pub fn day_of(now_ms: u64) -> String {
    utc_date(now_ms)
}

/// Whether the salt of `day` may still exist at `now_ms`.
pub fn is_kept(day: &str, now_ms: u64) -> bool {
    let today = (now_ms / DAY_MS) as i64;
    epoch_day(day).is_some_and(|d| d == today || d + 1 == today)
}

/// Milliseconds until just after the next UTC midnight: when to look again.
pub fn ms_until_next_day(now_ms: u64) -> u64 {
    DAY_MS - now_ms % DAY_MS + 1_000
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_25_NOON: u64 = 1_795_608_000_000; // 2026-11-25 12:00:00 UTC

    #[test]
    fn today_and_yesterday_are_kept_older_days_are_not() {
        assert_eq!(day_of(NOV_25_NOON), "2026-11-25");
        assert!(is_kept("2026-11-25", NOV_25_NOON));
        assert!(is_kept("2026-11-24", NOV_25_NOON));
        assert!(!is_kept("2026-11-23", NOV_25_NOON));
        assert!(
            !is_kept("2026-11-26", NOV_25_NOON),
            "no salts for the future"
        );
        assert!(!is_kept("garbage", NOV_25_NOON));
        assert!(
            is_kept("2026-01-01", 1_767_312_000_000),
            "2026-01-02 keeps new year's day across the year boundary"
        );
    }

    #[test]
    fn the_next_look_is_just_after_midnight() {
        let wait = ms_until_next_day(NOV_25_NOON);
        assert_eq!(day_of(NOV_25_NOON + wait), "2026-11-26");
        assert!(wait <= 12 * 3_600_000 + 1_000);
    }
}
