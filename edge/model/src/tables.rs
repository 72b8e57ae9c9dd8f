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

/// Every table (the test below finds each created by a migration).
pub const ALL: [&str; 4] = [EVENTS, DROPPED_EVENTS, VISITOR_DAYS, PAGE_DAYS];

#[cfg(test)]
mod tests {
    #[test]
    fn every_table_is_created_by_a_migration() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../clickhouse/migrations");
        let mut migrations = String::new();
        for entry in std::fs::read_dir(dir).expect("clickhouse/migrations") {
            let path = entry.expect("a migration").path();
            migrations.push_str(&std::fs::read_to_string(path).expect("readable"));
        }
        for table in super::ALL {
            assert!(
                migrations.contains(&format!("CREATE TABLE IF NOT EXISTS {table}\n")),
                "no migration creates {table}"
            );
        }
    }
}
