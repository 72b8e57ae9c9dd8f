//! Reports, alerts and webhooks (issue 16), as pure stages the Worker's
//! cron runs in order (`edge/worker/src/routes/notify.rs`):
//!
//! ```text
//! site settings + now + what was sent ─▶ schedule (what is due)
//!   ─▶ measure (Stats API v2 bodies, answered by the same planner) ─▶ alert::decide
//!   ─▶ message (e-mails, webhook bodies) ─▶ smtp (the dialogue) / webhook (signature, backoff)
//! ```
//!
//! - [`schedule`]: which reports are due and which alerts may fire, from the time and what was sent
//! - [`measure`]: the Stats API queries behind an alert and a report, and their answers read
//! - [`alert`]: whether an alert fires, from its measured number
//! - [`message`]: the e-mails and the webhook body
//! - [`webhook`]: Standard Webhooks signatures, and the retry schedule
//! - [`smtp`]: an e-mail as RFC 5322 text, and the SMTP client's dialogue

pub mod alert;
pub mod measure;
pub mod message;
pub mod schedule;
pub mod smtp;
pub mod webhook;
