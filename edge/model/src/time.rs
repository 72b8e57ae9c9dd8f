//! UTC calendar arithmetic: a row's timestamp, a salt's day, a date's shape.
//! Hand-written (Howard Hinnant's civil-from-days and days-from-civil):
//! `chrono` for these few functions would be most of the Worker's date code.
//! Time zones are ClickHouse's job (the Stats API resolves ranges there).

/// Milliseconds in a UTC day.
pub const DAY_MS: u64 = 86_400_000;

/// `YYYY-MM-DD hh:mm:ss` for milliseconds since the epoch (UTC, proleptic Gregorian).
pub fn utc_timestamp(ms: u64) -> String {
    let seconds = ms / 1000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The UTC date `YYYY-MM-DD` of a timestamp: a salt's day, a row's day.
pub fn utc_date(ms: u64) -> String {
    let (year, month, day) = civil_from_days((ms / DAY_MS) as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `YYYY-MM-DD`, a day of the calendar (`2023-02-29` and `04-31` are not).
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if !(b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit()))
    {
        return false;
    }
    // ASCII digits at fixed places, checked above
    let number = |range: std::ops::Range<usize>| s.get(range).and_then(|t| t.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, or `None` for another shape.
pub fn epoch_day(date: &str) -> Option<i64> {
    if !is_date(date) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| date.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The `YYYY-MM-DD` date `days` after 1970-01-01 (the inverse of [`epoch_day`]).
pub fn date_of_epoch_day(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_times() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(utc_timestamp(1_795_651_199_999), "2026-11-25 23:59:59");
        assert_eq!(utc_date(1_795_651_199_999), "2026-11-25");
        assert_eq!(utc_date(1_795_651_200_000), "2026-11-26");
        for date in ["1970-01-01", "2000-02-29", "2026-03-01", "2026-12-31"] {
            assert_eq!(date_of_epoch_day(epoch_day(date).unwrap()), date);
        }
    }

    #[test]
    fn epoch_days_match_the_calendar() {
        assert_eq!(epoch_day("1970-01-01"), Some(0));
        assert_eq!(epoch_day("2000-03-01"), Some(11_017));
        let noon = 1_795_608_000_000; // 2026-11-25 12:00:00 UTC
        assert_eq!(epoch_day(&utc_date(noon)), Some((noon / DAY_MS) as i64));
        assert_eq!(epoch_day("2026-1-1"), None);
        assert_eq!(epoch_day("garbage"), None);
    }

    #[test]
    fn dates_have_their_shape_and_ranges() {
        assert!(is_date("2026-02-28"));
        assert!(!is_date("2026-13-01") && !is_date("2026-01-32") && !is_date("2026-1-01"));
        assert!(!is_date("2026-01-01T00:00:00"));
        assert!(is_date("2024-02-29") && is_date("2000-02-29") && is_date("2026-04-30"));
        assert!(!is_date("2023-02-29") && !is_date("1900-02-29") && !is_date("2026-04-31"));
    }
}
