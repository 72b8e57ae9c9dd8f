//! One accepted event as a row of `events` (clickhouse/migrations): what is
//! queued and stored. It holds no IP address and no User-Agent — only the
//! visitor id and what enrichment derived.

use crate::enrich::known::source_name;
use crate::enrich::source::{attribute, Attribution};
use crate::enrich::user_agent::Client;
use crate::ingest::validate::Event;
use serde::{Deserialize, Serialize};

/// A row, serialized as one line of `INSERT … FORMAT JSONEachRow`. Field
/// names are the table's column names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub site_domain: String,
    /// `YYYY-MM-DD hh:mm:ss`, UTC.
    pub timestamp: String,
    pub name: String,
    pub visitor_id: u64,
    pub hostname: String,
    pub pathname: String,
    /// referrer, referrer_source, utm_*, click_id_param
    #[serde(flatten)]
    pub attribution: Attribution,
    pub country_code: String,
    pub device: String,
    pub browser: String,
    pub browser_version: String,
    pub operating_system: String,
    pub operating_system_version: String,
    #[serde(rename = "meta.key")]
    pub meta_key: Vec<String>,
    #[serde(rename = "meta.value")]
    pub meta_value: Vec<String>,
    pub revenue_amount: Option<String>,
    pub revenue_currency: String,
    pub scroll_depth: u8,
    pub engagement_time: u32,
    pub interactive: bool,
    pub tracker_version: u32,
}

/// What the request told us besides the body, already anonymized: the IP
/// and User-Agent are reduced to the visitor id, a country and a `Client`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Milliseconds since the Unix epoch.
    pub received_ms: u64,
    pub visitor_id: u64,
    /// ISO 3166 alpha-2, or "" when unknown.
    pub country_code: String,
    pub client: Client,
}

impl Row {
    /// The row for one of the event's sites.
    pub fn new(event: &Event, site_domain: &str, context: &Context) -> Row {
        let (meta_key, meta_value) = event.props.iter().cloned().unzip();
        Row {
            site_domain: site_domain.to_string(),
            timestamp: utc_timestamp(context.received_ms),
            name: event.name.clone(),
            visitor_id: context.visitor_id,
            hostname: event.hostname.clone(),
            pathname: event.pathname.clone(),
            attribution: attribute(&event.url, event.referrer.as_deref(), source_name),
            country_code: context.country_code.clone(),
            device: context.client.device.to_string(),
            browser: context.client.browser.to_string(),
            browser_version: context.client.browser_version.clone(),
            operating_system: context.client.os.to_string(),
            operating_system_version: context.client.os_version.clone(),
            meta_key,
            meta_value,
            revenue_amount: event.revenue.as_ref().map(|r| r.amount.clone()),
            revenue_currency: event
                .revenue
                .as_ref()
                .map(|r| r.currency.clone())
                .unwrap_or_default(),
            scroll_depth: event.scroll_depth.unwrap_or(0),
            engagement_time: event.engagement_ms.unwrap_or(0),
            interactive: event.interactive,
            tracker_version: event.tracker_version.unwrap_or(0),
        }
    }
}

/// `YYYY-MM-DD hh:mm:ss` for milliseconds since the epoch (UTC, proleptic
/// Gregorian; Howard Hinnant's civil-from-days). Hand-written: `chrono` for one
/// formatting function would be most of the Worker's date code.
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

/// The UTC date `YYYY-MM-DD` of a timestamp: the salt's day.
pub fn utc_date(ms: u64) -> String {
    let (year, month, day) = civil_from_days((ms / 1000 / 86_400) as i64);
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
    use crate::ingest::receive;

    #[test]
    fn timestamps_are_utc_calendar_times() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(utc_timestamp(1_795_651_199_999), "2026-11-25 23:59:59");
        assert_eq!(utc_date(1_795_651_199_999), "2026-11-25");
        assert_eq!(utc_date(1_795_651_200_000), "2026-11-26");
    }

    #[test]
    fn a_row_carries_the_event_and_nothing_of_the_client() {
        let body = br#"{"n":"Deploy Application","u":"https://portal.example/create?x=1","d":"portal.example","r":"https://search.example/","p":{"language":"nodejs"},"$":{"amount":"9.5","currency":"usd"}}"#;
        let (_, event) = receive(body, |d| d == "portal.example");
        let context = Context {
            received_ms: 1_795_651_199_000,
            visitor_id: 42,
            country_code: "DE".into(),
            client: crate::enrich::user_agent::parse(crate::enrich::user_agent::KNOWN[1].0),
        };
        let row = Row::new(&event.unwrap(), "portal.example", &context);
        assert_eq!(row.pathname, "/create");
        assert_eq!(
            (row.meta_key.as_slice(), row.meta_value.as_slice()),
            (&["language".to_string()][..], &["nodejs".to_string()][..])
        );
        assert_eq!(
            (row.revenue_amount.as_deref(), row.revenue_currency.as_str()),
            (Some("9.5"), "USD")
        );
        assert_eq!(
            (
                row.browser.as_str(),
                row.operating_system.as_str(),
                row.device.as_str()
            ),
            ("Microsoft Edge", "Windows", "Desktop")
        );
        let json = serde_json::to_string(&row).unwrap();
        assert!(
            json.contains(r#""meta.key":["language"]"#)
                && json.contains(r#""timestamp":"2026-11-25 23:59:59""#),
            "{json}"
        );
    }
}
