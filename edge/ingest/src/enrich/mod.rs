//! Enrichment: what a row learns beyond the payload, without keeping the
//! request's personal data — [`source`] (referrer, UTM and click-id
//! attribution, with names from [`known`]) and [`user_agent`] (browser, OS,
//! device, bots). [`known`] also knows referrer spam; [`channel`] names a
//! visit's channel from its attribution.

pub mod channel;
pub mod known;
mod known_data;
pub mod source;
pub mod user_agent;
