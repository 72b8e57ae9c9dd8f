//! Enrichment: what a row learns beyond the payload, without keeping the
//! request's personal data — [`source`] (referrer, UTM and click-id
//! attribution) and [`user_agent`] (browser, OS, device, bots).
//!
//! Still to come (issue 3): referrer-spam drops and known source names from
//! Matomo's lists.

pub mod source;
pub mod user_agent;
