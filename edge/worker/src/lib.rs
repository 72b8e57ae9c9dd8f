//! The Worker: the only crate that knows `worker::*` (Cloudflare's
//! workers-rs, also run self-hosted under workerd). Its pure part,
//! [`config`], builds and is tested natively; everything that touches the
//! runtime is in `routes/`, one file per route or handler, around the pure
//! crates (docs/architecture.md). `routes/mod.rs` is the route table.

pub mod assets;
pub mod config;
pub mod log;
pub mod metrics;
pub mod privacy_report;

#[cfg(target_arch = "wasm32")]
mod routes;
