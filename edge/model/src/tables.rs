//! The ClickHouse tables, by name: the one place SQL text takes them from.
//! `clickhouse/migrations` creates each (the test below reads the migrations).

/// One row per accepted event (`row::Row`).
pub const EVENTS: &str = "events";
/// Drops counted per UTC day, site and reason (`message::DropCount`).
pub const DROPPED_EVENTS: &str = "dropped_events";
/// One row per visitor and UTC day holding that day's visits, recomputed from `events`.
pub const VISITOR_DAYS: &str = "visitor_days";
/// Unique visitors per site, UTC day, event name and page, filled from `events`
/// by a materialized view as rows arrive.
pub const PAGE_DAYS: &str = "page_days";
/// Each rolled UTC day's finished numbers per dimension value (`stats::rollups`).
pub const DAY_ROLLUPS: &str = "day_rollups";
/// One row per finished roll of a day, with its version.
pub const DAY_ROLLS: &str = "day_rolls";
/// When each day last changed (the consumer, a visits rebuild): a roll older is not read.
pub const DAY_CHANGES: &str = "day_changes";
/// Which change of each closed day the Parquet export wrote last.
pub const DAY_EXPORTS: &str = "day_exports";

/// Where the tables are (docs/scaling.md). On a cluster each table is a
/// Distributed table over `<name>_local`, a Replicated table on every node
/// (`CLICKHOUSE_CLUSTER`; scripts/lib/clickhouse.mjs generates that schema):
/// reads and INSERTs use the Distributed names as they are, but a DELETE must
/// reach the local tables on every node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Topology {
    #[default]
    Single,
    /// The cluster's name, an identifier (checked by the Worker's configuration).
    Cluster(String),
}

impl Topology {
    /// What a `DELETE FROM` names for `table`.
    pub fn delete_target(&self, table: &str) -> String {
        match self {
            Topology::Single => table.to_string(),
            Topology::Cluster(cluster) => format!("{table}_local ON CLUSTER {cluster}"),
        }
    }
}

/// Every table (the test below finds each created by a migration).
pub const ALL: [&str; 8] = [
    EVENTS,
    DROPPED_EVENTS,
    VISITOR_DAYS,
    PAGE_DAYS,
    DAY_ROLLUPS,
    DAY_ROLLS,
    DAY_CHANGES,
    DAY_EXPORTS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_reaches_every_node_of_a_cluster() {
        assert_eq!(Topology::Single.delete_target(EVENTS), "events");
        assert_eq!(
            Topology::Cluster("analytics".into()).delete_target(EVENTS),
            "events_local ON CLUSTER analytics"
        );
    }

    #[test]
    fn every_table_is_created_by_a_migration() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../clickhouse/migrations");
        let mut migrations = String::new();
        for entry in std::fs::read_dir(dir).expect("clickhouse/migrations") {
            let path = entry.expect("a migration").path();
            migrations.push_str(&std::fs::read_to_string(path).expect("readable"));
        }
        for table in ALL {
            assert!(
                migrations.contains(&format!("CREATE TABLE IF NOT EXISTS {table}\n")),
                "no migration creates {table}"
            );
        }
    }
}
