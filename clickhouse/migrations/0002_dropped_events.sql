-- What the edge dropped and why (bots, unknown sites, referrer spam), per day:
-- counts only, never the dropped event itself.
CREATE TABLE IF NOT EXISTS dropped_events
(
    date        Date,
    -- '' for events of sites that are not configured (their domain is client input)
    site_domain LowCardinality(String),
    reason      LowCardinality(String),
    count       UInt64
)
ENGINE = SummingMergeTree(count)
ORDER BY (date, site_domain, reason)
SETTINGS non_replicated_deduplication_window = 100000;
