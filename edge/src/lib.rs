//! The edge worker's logic, as pure modules that `cargo test` runs natively.
//!
//! A request flows one way (ARCHITECTURE.md):
//!
//! ```text
//! body ─▶ ingest::payload (parse) ─▶ ingest::validate (Plausible's limits) ─▶ drop (sites, bots)
//!      ─▶ privacy::visitor (anonymize) ─▶ enrich ─▶ row ─▶ queue ─▶ ClickHouse
//! ```
//!
//! The Cloudflare glue (`worker::*`) will be a thin adapter around these
//! modules; nothing here touches the platform.

pub mod ingest;
pub mod privacy;
pub mod sink;
