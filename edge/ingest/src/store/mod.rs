//! Everything the write path stores, and every statement that writes to
//! ClickHouse: [`row`] is one event as a row of `events`, [`batch`] one
//! queue batch as idempotent INSERTs, [`visits`] the stored visits
//! recomputed from `events`, [`retention`] the deletes of old data.

pub mod batch;
pub mod retention;
pub mod row;
pub mod visits;
