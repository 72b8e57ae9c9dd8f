//! The edge worker's logic, as pure modules that `cargo test` runs natively.
//!
//! A request flows one way (ARCHITECTURE.md):
//!
//! ```text
//! body ─▶ ingest::payload (parse) ─▶ ingest::validate (Plausible's limits) ─▶ drop (sites, bots)
//!      ─▶ privacy::visitor (anonymize) ─▶ enrich ─▶ row ─▶ queue ─▶ ClickHouse
//! ```
//!
//! The Cloudflare glue (`worker::*`) is a thin adapter around these modules,
//! in `src/worker/`, compiled only for the Worker's Wasm.

pub mod auth;
pub mod bound;
pub mod config;
pub mod enrich;
pub mod hex;
pub mod ingest;
pub mod privacy;
pub mod settings;
pub mod sink;
pub mod stats;

#[cfg(test)]
mod testing;

#[cfg(target_arch = "wasm32")]
mod worker;
