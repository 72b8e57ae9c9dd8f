//! Enrichment: what a row learns beyond the payload, without keeping the
//! request's personal data — [`source`] (referrer, UTM and click-id
//! attribution).
//!
//! Still to come (issue 3): browser/OS/device from the User-Agent, bot and
//! referrer-spam drops, and known source names from Matomo's lists.

pub mod source;
