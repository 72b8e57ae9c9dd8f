//! What is due now: a report for each period that ended and was not sent,
//! an alert check for each alert not quiet. Keys of what was sent
//! (`model::settings::Sent`): `report:<frequency>:<first day>`, `alert:<name>`.

use model::settings::{Alert, Frequency, Sent, Site};
use model::time::{date_of_epoch_day, epoch_day, utc_date, DAY_MS};

/// A report is sent once its period has ended in every time zone: twelve
/// hours after the UTC midnight that ends it (UTC−12 is the last zone).
const REPORT_DELAY_MS: u64 = 12 * 3_600_000;

/// A report to send: its period, whole local days of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReport {
    pub frequency: Frequency,
    /// First and last day, `YYYY-MM-DD`, both included.
    pub first: String,
    pub last: String,
    /// The period before, for the changes.
    pub previous_first: String,
    pub previous_last: String,
    pub recipients: Vec<String>,
    pub key: String,
}

/// The site's reports whose last whole period has ended and was not sent.
pub fn due_reports(site: &Site, now_ms: u64, sent: &[Sent]) -> Vec<DueReport> {
    let Some(shifted) = now_ms.checked_sub(REPORT_DELAY_MS) else {
        return Vec::new();
    };
    // the day (UTC, shifted by the delay) the last whole period ended before
    let Some(today) = epoch_day(&utc_date(shifted)) else {
        return Vec::new();
    };
    site.reports
        .iter()
        .filter_map(|report| {
            let (first, last, previous_first) = match report.frequency {
                Frequency::Weekly => {
                    // 1970-01-01 was a Thursday: Monday is day 4 mod 7
                    let monday = today - (today - 4).rem_euclid(7);
                    (monday - 7, monday - 1, monday - 14)
                }
                Frequency::Monthly => {
                    let this_month = month_start(today)?;
                    let first = month_start(this_month - 1)?;
                    (first, this_month - 1, month_start(first - 1)?)
                }
            };
            // two reports of one frequency (to other people) are sent apart
            let key = format!(
                "report:{}:{}:{}",
                report.frequency.name(),
                date_of_epoch_day(first),
                recipients_tag(&report.recipients)
            );
            if was_sent(sent, &site.domain, &key) {
                return None;
            }
            Some(DueReport {
                frequency: report.frequency,
                first: date_of_epoch_day(first),
                last: date_of_epoch_day(last),
                previous_first: date_of_epoch_day(previous_first),
                previous_last: date_of_epoch_day(first - 1),
                recipients: report.recipients.clone(),
                key,
            })
        })
        .collect()
}

/// A short tag of a report's recipients (in any order).
fn recipients_tag(recipients: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted = recipients.to_vec();
    sorted.sort();
    let digest = Sha256::digest(sorted.join(",").as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// The first day of the month holding `day`.
fn month_start(day: i64) -> Option<i64> {
    let date = date_of_epoch_day(day);
    epoch_day(&format!("{}-01", date.get(..7)?))
}

/// The key an alert's firing is kept under.
pub fn alert_key(alert: &Alert) -> String {
    format!("alert:{}", alert.name)
}

/// The hourly runs do not start on the second: a window ending this close
/// to now has ended (else a 1-hour alert could wait two runs).
const RUN_JITTER_MS: u64 = 10 * 60_000;

/// Whether `alert` may fire now: it has not fired within its window (a
/// spike that lasts a day is told once a window, not every hour).
pub fn alert_may_fire(site: &str, alert: &Alert, now_ms: u64, sent: &[Sent]) -> bool {
    let quiet_ms = u64::from(alert.hours) * 3_600_000;
    let key = alert_key(alert);
    !sent.iter().any(|s| {
        s.site == site
            && s.key == key
            && now_ms.saturating_add(RUN_JITTER_MS) < s.at_ms.saturating_add(quiet_ms)
    })
}

/// The window an alert measures: the last `hours` up to now, as the Stats
/// API's datetimes (UTC, whole seconds).
pub fn alert_window(alert: &Alert, now_ms: u64) -> (String, String) {
    let from = now_ms.saturating_sub(u64::from(alert.hours) * 3_600_000);
    (iso(from), iso(now_ms.saturating_sub(1000)))
}

fn iso(ms: u64) -> String {
    model::time::utc_timestamp(ms).replace(' ', "T") + "Z"
}

fn was_sent(sent: &[Sent], site: &str, key: &str) -> bool {
    sent.iter().any(|s| s.site == site && s.key == key)
}

/// What was sent before this time is forgotten: a report's key is needed
/// while its period is the last one (a month and a day at most), an alert's
/// for its window (four weeks at most).
pub fn forget_before(now_ms: u64) -> u64 {
    now_ms.saturating_sub(62 * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::settings::{AlertKind, Report};

    const HOUR: u64 = 3_600_000;

    fn ms(date: &str, hour: u64) -> u64 {
        epoch_day(date).unwrap() as u64 * DAY_MS + hour * HOUR
    }

    fn site() -> Site {
        let mut site = Site::new("portal.example");
        site.reports = vec![
            Report {
                frequency: Frequency::Weekly,
                recipients: vec!["a@b.io".into()],
            },
            Report {
                frequency: Frequency::Monthly,
                recipients: vec!["a@b.io".into()],
            },
        ];
        site
    }

    #[test]
    fn reports_cover_the_last_whole_period_once_it_ended_everywhere() {
        // Monday 2026-11-30, 11:00 UTC: the week has not ended at UTC−12
        let early = due_reports(&site(), ms("2026-11-30", 11), &[]);
        assert_eq!(early[0].first, "2026-11-16");
        assert_eq!(early[0].last, "2026-11-22");
        // 12:00 UTC: last week (23rd to 29th) is due, and October
        let due = due_reports(&site(), ms("2026-11-30", 12), &[]);
        assert_eq!(
            (due[0].first.as_str(), due[0].last.as_str()),
            ("2026-11-23", "2026-11-29")
        );
        assert_eq!(
            (
                due[0].previous_first.as_str(),
                due[0].previous_last.as_str()
            ),
            ("2026-11-16", "2026-11-22")
        );
        assert!(due[0].key.starts_with("report:weekly:2026-11-23:"));
        // the same period to other people is another report
        let mut two = site();
        two.reports[1] = Report {
            frequency: Frequency::Weekly,
            recipients: vec!["c@d.io".into()],
        };
        let both = due_reports(&two, ms("2026-11-30", 12), &[]);
        assert_ne!(both[0].key, both[1].key);
        assert_eq!(
            (due[1].first.as_str(), due[1].last.as_str()),
            ("2026-10-01", "2026-10-31")
        );
        assert_eq!(
            (
                due[1].previous_first.as_str(),
                due[1].previous_last.as_str()
            ),
            ("2026-09-01", "2026-09-30")
        );
        // January's report covers December of the year before
        let january = due_reports(&site(), ms("2027-01-01", 12), &[]);
        assert_eq!(
            (january[1].first.as_str(), january[1].last.as_str()),
            ("2026-12-01", "2026-12-31")
        );
        // sent: not again
        let sent = vec![Sent {
            site: "portal.example".into(),
            key: due[0].key.clone(),
            at_ms: ms("2026-11-30", 12),
        }];
        let again = due_reports(&site(), ms("2026-11-30", 13), &sent);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].frequency, Frequency::Monthly);
    }

    #[test]
    fn an_alert_is_quiet_for_its_window_after_it_fired() {
        let alert = Alert {
            name: "Spike".into(),
            kind: AlertKind::Spike,
            goal: None,
            threshold: 10,
            hours: 6,
            recipients: vec![],
        };
        let fired = vec![Sent {
            site: "portal.example".into(),
            key: alert_key(&alert),
            at_ms: ms("2026-11-30", 1),
        }];
        assert!(!alert_may_fire(
            "portal.example",
            &alert,
            ms("2026-11-30", 6),
            &fired
        ));
        // the run after the window, started a minute early, may fire
        assert!(alert_may_fire(
            "portal.example",
            &alert,
            ms("2026-11-30", 7) - 60_000,
            &fired
        ));
        assert!(alert_may_fire(
            "other.example",
            &alert,
            ms("2026-11-30", 2),
            &fired
        ));
        assert_eq!(
            alert_window(&alert, ms("2026-11-30", 7)),
            ("2026-11-30T01:00:00Z".into(), "2026-11-30T06:59:59Z".into())
        );
    }
}
