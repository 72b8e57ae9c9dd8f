//! From validated events to ClickHouse: [`row`] is one event as a row of the
//! `events` table, [`batch`] one queue batch as one idempotent INSERT.

pub mod batch;
pub mod row;
