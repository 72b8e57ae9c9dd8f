//! Everything the write path stores, and every statement that writes to
//! ClickHouse: [`row`] is one event as a row of `events`, [`batch`] one
//! queue batch as statements that store each event once, [`delivery`] each
//! message's fate (stored, retried, set aside), [`dead_letter`] a message
//! set aside, [`visits`] the stored visits recomputed from `events`,
//! [`retention`] the deletes of old data, [`parquet`] the scheduled export
//! of closed days as Parquet files.

pub mod batch;
pub mod dead_letter;
pub mod delivery;
pub mod parquet;
pub mod retention;
pub mod row;
pub mod visits;
