//! One accepted event as a row of `events` (clickhouse/migrations/0001): what
//! is queued and stored. It holds no IP address and no User-Agent — only the
//! visitor id and what enrichment derived from them.

use serde::{Deserialize, Serialize};

/// Custom props kept per event (the rest are dropped, as Plausible does).
pub const MAX_PROPS: usize = 30;
/// The longest prop key a row holds, and so the longest a query may name.
pub const MAX_PROP_KEY_BYTES: usize = 300;
/// The longest prop value a row holds.
pub const MAX_PROP_VALUE_BYTES: usize = 2000;

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
}

impl Row {
    /// The UTC date of the row (`YYYY-MM-DD`): its visitor id's day.
    pub fn date(&self) -> &str {
        self.timestamp.get(..10).unwrap_or_default()
    }
}
