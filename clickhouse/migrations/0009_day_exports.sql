-- The scheduled Parquet export of each closed UTC day's events and visits
-- (docs/exports.md): which change of a day (`day_changes`) was exported last.
-- A day is exported again when it changed since (a late event, a rebuild).
CREATE TABLE IF NOT EXISTS day_exports
(
    site_domain LowCardinality(String),
    date        Date,
    changed     UInt64
)
ENGINE = ReplacingMergeTree(changed)
ORDER BY (site_domain, date);
