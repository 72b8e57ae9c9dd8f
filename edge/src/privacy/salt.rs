//! The salt's lifetime rules: one salt per UTC day, kept for that day and the
//! next (events near midnight), deleted after — at most 48 hours.

use crate::sink::row::utc_date;

const DAY_MS: u64 = 86_400_000;

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

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (Howard Hinnant's days_from_civil).
fn epoch_day(date: &str) -> Option<i64> {
    let mut parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
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

    #[test]
    fn epoch_days_match_the_calendar() {
        assert_eq!(epoch_day("1970-01-01"), Some(0));
        assert_eq!(epoch_day("2000-03-01"), Some(11_017));
        assert_eq!(
            epoch_day(&day_of(NOV_25_NOON)),
            Some((NOV_25_NOON / DAY_MS) as i64)
        );
    }
}
