//! From validated events to ClickHouse: [`row`] is one event as a row of the
//! `events` table, [`message`] what the queue carries (rows and drops to
//! count), [`batch`] one queue batch as idempotent INSERTs.

pub mod batch;
pub mod message;
pub mod row;
pub mod visits;
