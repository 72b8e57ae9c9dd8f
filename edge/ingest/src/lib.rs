//! The write path: from `POST /api/event`'s body to the statements that store
//! it. Every stage is a pure module; [`pipeline`] is the one place their order
//! lives, and the Worker, the benchmark and the tests all call it.
//!
//! ```text
//! admit: body ─▶ protocol (parse ▸ validate) ─▶ drop (site ▸ spam ▸ bot) ─▶ Admitted
//!                                         (the Worker fetches the day's salt)
//! rows:  Admitted + client + salt ─▶ privacy (visitor id) ─▶ enrich (source, User-Agent) ─▶ store::row ─▶ Row per site
//! queue consumer: rows ─▶ store::batch (INSERT, dedup token, retry or not) ─▶ store::visits (refresh)
//! cron: store::retention (deletes)
//! ```
//!
//! - [`protocol`]: Plausible's wire format and limits, field by field
//! - [`drop`]: what is valid but not stored (unknown sites, referrer spam, bots), counted
//! - [`privacy`]: the client's IP and User-Agent, and where they stop (the visitor id, the salt's lifetime)
//! - [`enrich`]: what a row learns beyond the payload (source, browser, OS, device)
//! - [`store`]: rows, and every statement that writes to ClickHouse
//! - [`answer`]: what the client hears for each outcome

pub mod answer;
pub mod drop;
pub mod enrich;
pub mod pipeline;
pub mod privacy;
pub mod protocol;
pub mod store;

#[cfg(test)]
mod hostile_inputs;
