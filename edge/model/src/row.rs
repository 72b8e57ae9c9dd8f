//! One accepted event as a row of `events` (clickhouse/migrations/0001): what
//! is queued and stored. It holds no IP address and no User-Agent — only the
//! visitor id and what enrichment derived from them. Its bounds are its
//! columns' ([`crate::columns`]).

use crate::columns::{self as c, Unfit};
use serde::{Deserialize, Serialize};

/// Custom props kept per event (the rest are dropped, as Plausible does).
pub const MAX_PROPS: usize = c::META_KEY.max_items;
/// The longest prop key a row holds, and so the longest a query may name.
pub const MAX_PROP_KEY_BYTES: usize = c::META_KEY.max as usize;
/// The longest prop value a row holds.
pub const MAX_PROP_VALUE_BYTES: usize = c::META_VALUE.max as usize;

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
    /// ISO 3166 alpha-2, or "" when unknown.
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
    /// The event's own id (`columns::EVENT_ID`), set when it is queued; 0 in
    /// a message queued before ids existed (the consumer derives one).
    #[serde(default)]
    pub event_id: u64,
}

/// Where a visit came from. Field names are the `events` columns: a row
/// embeds this as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// The referrer URL, empty for none or an internal one.
    pub referrer: String,
    pub referrer_source: String,
    pub utm_medium: String,
    pub utm_source: String,
    pub utm_campaign: String,
    pub utm_content: String,
    pub utm_term: String,
    pub click_id_param: String,
    /// The channel these give (`ingest::enrich::channel`); empty in a
    /// message queued before channels existed.
    #[serde(default)]
    pub channel: String,
}

impl Row {
    /// Whether every value fits its column: a row that does inserts. The
    /// edge refuses a row that does not, naming the column, so one event
    /// can never make ClickHouse refuse the batch it shares with others.
    pub fn check(&self) -> Result<(), Unfit> {
        let a = &self.attribution;
        for (column, text) in [
            (c::SITE_DOMAIN, &self.site_domain),
            (c::NAME, &self.name),
            (c::HOSTNAME, &self.hostname),
            (c::PATHNAME, &self.pathname),
            (c::REFERRER, &a.referrer),
            (c::REFERRER_SOURCE, &a.referrer_source),
            (c::UTM_MEDIUM, &a.utm_medium),
            (c::UTM_SOURCE, &a.utm_source),
            (c::UTM_CAMPAIGN, &a.utm_campaign),
            (c::UTM_CONTENT, &a.utm_content),
            (c::UTM_TERM, &a.utm_term),
            (c::CLICK_ID_PARAM, &a.click_id_param),
            (c::CHANNEL, &a.channel),
            (c::COUNTRY_CODE, &self.country_code),
            (c::DEVICE, &self.device),
            (c::BROWSER, &self.browser),
            (c::BROWSER_VERSION, &self.browser_version),
            (c::OPERATING_SYSTEM, &self.operating_system),
            (c::OPERATING_SYSTEM_VERSION, &self.operating_system_version),
            (c::REVENUE_CURRENCY, &self.revenue_currency),
        ] {
            column.check_text(text)?;
        }
        c::TIMESTAMP.check_date_time(&self.timestamp)?;
        c::META_KEY.check_texts(&self.meta_key)?;
        c::META_VALUE.check_texts(&self.meta_value)?;
        if self.meta_key.len() != self.meta_value.len() {
            return Err(Unfit {
                column: c::META_VALUE.name,
                reason: "not as many values as keys".into(),
            });
        }
        if let Some(amount) = &self.revenue_amount {
            c::REVENUE_AMOUNT.check_decimal(amount)?;
        }
        if self.revenue_amount.is_some() == self.revenue_currency.is_empty() {
            return Err(Unfit {
                column: c::REVENUE_CURRENCY.name,
                reason: "an amount needs a currency, and a currency an amount".into(),
            });
        }
        c::SCROLL_DEPTH.check_number(self.scroll_depth.into())?;
        c::ENGAGEMENT_TIME.check_number(self.engagement_time.into())?;
        Ok(())
    }

    /// The UTC date of the row (`YYYY-MM-DD`): its visitor id's day.
    pub fn date(&self) -> &str {
        self.timestamp.get(..10).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn example() -> Row {
        Row {
            site_domain: "portal.example".into(),
            timestamp: "2026-11-29 12:00:00".into(),
            name: "pageview".into(),
            visitor_id: 7,
            hostname: "portal.example".into(),
            pathname: "/".into(),
            attribution: Attribution::default(),
            country_code: "DE".into(),
            device: "Desktop".into(),
            browser: "Firefox".into(),
            browser_version: "133.0".into(),
            operating_system: "Linux".into(),
            operating_system_version: String::new(),
            meta_key: vec!["team".into()],
            meta_value: vec!["payments".into()],
            revenue_amount: Some("9.5".into()),
            revenue_currency: "EUR".into(),
            scroll_depth: 0,
            engagement_time: 0,
            interactive: true,
            tracker_version: 1,
            event_id: 42,
        }
    }

    #[test]
    fn a_row_serializes_with_exactly_the_columns_of_events() {
        let json = serde_json::to_value(example()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut columns: Vec<&str> = c::events().iter().map(|c| c.name).collect();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        columns.sort_unstable();
        assert_eq!(keys_sorted, columns);
    }

    #[test]
    fn check_names_the_column_a_value_does_not_fit() {
        assert_eq!(example().check(), Ok(()));
        let unfit = |change: fn(&mut Row)| {
            let mut row = example();
            change(&mut row);
            row.check().unwrap_err().column
        };
        assert_eq!(
            unfit(|r| r.revenue_amount = Some("1000000000000000000".into())),
            "revenue_amount"
        );
        assert_eq!(
            unfit(|r| r.revenue_currency = String::new()),
            "revenue_currency"
        );
        assert_eq!(
            unfit(|r| r.browser_version = "9".repeat(65)),
            "browser_version"
        );
        assert_eq!(
            unfit(|r| r.attribution.referrer = "r".repeat(2001)),
            "referrer"
        );
        assert_eq!(unfit(|r| r.meta_value.clear()), "meta.value");
        assert_eq!(unfit(|r| r.scroll_depth = 101), "scroll_depth");
        assert_eq!(unfit(|r| r.country_code = "DEU".into()), "country_code");
        assert_eq!(unfit(|r| r.timestamp = "yesterday".into()), "timestamp");
    }

    #[test]
    fn a_message_from_before_event_ids_reads_with_id_0() {
        let mut json = serde_json::to_value(example()).unwrap();
        json.as_object_mut().unwrap().remove("event_id");
        let row: Row = serde_json::from_value(json).unwrap();
        assert_eq!(row.event_id, 0);
    }
}
