//! The row stage: a validated event and what the request told us about it,
//! already anonymized and enriched, as one row of `events` per site.

use crate::enrich::user_agent::Agent;
use crate::protocol::validate::Event;
use model::columns::{self, Column};
use model::row::{Attribution, Row};
use model::time::utc_timestamp;

/// What a row holds besides the event: no IP and no User-Agent, only what
/// the pipeline derived from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts<'a> {
    /// Milliseconds since the Unix epoch.
    pub received_ms: u64,
    pub visitor_id: u64,
    /// A new random id for the event (`columns::EVENT_ID`).
    pub event_id: u64,
    /// ISO 3166 alpha-2, or "" when unknown.
    pub country_code: &'a str,
    pub agent: &'a Agent,
    pub attribution: &'a Attribution,
}

/// The row for one of the event's sites.
pub fn row(event: &Event, site_domain: &str, facts: &Facts) -> Row {
    let (meta_key, meta_value) = event.props.iter().cloned().unzip();
    Row {
        site_domain: site_domain.to_string(),
        timestamp: utc_timestamp(facts.received_ms),
        name: event.name.clone(),
        visitor_id: facts.visitor_id,
        hostname: event.hostname.clone(),
        pathname: event.pathname.clone(),
        attribution: facts.attribution.clone(),
        country_code: facts.country_code.to_string(),
        device: facts.agent.device.to_string(),
        browser: facts.agent.browser.to_string(),
        // versions come from the User-Agent, which is client input: cut to the column
        browser_version: fit(&columns::BROWSER_VERSION, &facts.agent.browser_version),
        operating_system: facts.agent.os.to_string(),
        operating_system_version: fit(&columns::OPERATING_SYSTEM_VERSION, &facts.agent.os_version),
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
        event_id: facts.event_id,
    }
}

/// The text cut to the column's bound.
fn fit(column: &Column, text: &str) -> String {
    columns::cut(text, column.max as usize).to_string()
}
