//! The bottom layer of the edge (docs/architecture.md): the facts every other
//! crate shares, and nothing that decides. No crate of this workspace is
//! imported here; `ingest`, `stats`, `control` and the Worker all import it.
//!
//! - [`time`]: UTC calendar arithmetic (timestamps, days, dates)
//! - [`sql`]: SQL with bound parameters, the only way a value reaches ClickHouse
//! - [`tables`]: the ClickHouse tables' names (clickhouse/migrations creates them)
//! - [`columns`]: the columns of `events`, their types and bounds
//! - [`row`]: one event as a row of `events`, checked against its columns
//! - [`message`]: what the queue carries between the fetch handler and its consumer
//! - [`settings`]: the site settings document (sites, goals, keys, sessions)
//! - [`funnel`]: a funnel's steps, as requests and the site settings carry them
//! - [`hex`]: lower-case hex and constant-time comparison of secrets

pub mod columns;
pub mod funnel;
pub mod hex;
pub mod message;
pub mod row;
pub mod settings;
pub mod sql;
pub mod tables;
pub mod time;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
