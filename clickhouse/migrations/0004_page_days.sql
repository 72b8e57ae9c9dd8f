-- Per site, UTC day, event name and page: the day's unique visitors (an exact
-- set) and its event count, kept by a materialized view as events arrive (a
-- deduplicated retry reaches neither table). A visitor id lives one UTC day,
-- so a range's unique visitors per page are the sum of its days' — exact —
-- and the Stats API reads whole days here instead of every event
-- (`stats::sql`, the rollup path). Engagement events are not counted.
CREATE TABLE IF NOT EXISTS page_days
(
    site_domain LowCardinality(String),
    date        Date,
    name        LowCardinality(String),
    pathname    String,
    visitors    AggregateFunction(uniqExact, UInt64),
    events      SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_domain, date, name, pathname)
SETTINGS non_replicated_deduplication_window = 100000;

CREATE MATERIALIZED VIEW IF NOT EXISTS page_days_mv TO page_days AS
SELECT site_domain, toDate(timestamp) AS date, name, pathname,
       uniqExactState(visitor_id) AS visitors, toUInt64(count()) AS events
FROM events
WHERE name != 'engagement'
GROUP BY site_domain, date, name, pathname;

-- the events stored before this migration
INSERT INTO page_days
SELECT site_domain, toDate(timestamp) AS date, name, pathname,
       uniqExactState(visitor_id) AS visitors, toUInt64(count()) AS events
FROM events
WHERE name != 'engagement'
GROUP BY site_domain, date, name, pathname;
