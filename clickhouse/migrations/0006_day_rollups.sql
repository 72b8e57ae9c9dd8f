-- Each closed UTC day's finished numbers, per dimension value (docs/architecture.md,
-- "Rolled days"): a visitor id lives one UTC day, so a range's unique
-- visitors per value are the sum of its days' — exact — and a panel reads
-- about one row per day and value whatever the traffic. Rolled by the
-- Worker's cron (`stats::rollups`), never by a view: a day's visits are only
-- final once the consumer has refreshed them.
--
-- `dimension` names what `values` holds: '' the day's total, `visit:source`
-- one dimension, `visit:source,event:page` a filter dimension crossed with a
-- breakdown, `time:day@Europe/Berlin` a time bucket in a time zone. Every
-- roll of a day writes all its rows under one `version`; readers take only
-- the version `day_rolls` names, and only while no change is newer.
CREATE TABLE IF NOT EXISTS day_rollups
(
    site_domain     LowCardinality(String),
    date            Date,
    dimension       LowCardinality(String),
    version         UInt64,
    `values`        Array(String),
    visitors        UInt64,
    visits          UInt64,
    pageviews       UInt64,
    events          UInt64,
    bounces         UInt64,
    duration        UInt64,
    visit_pageviews UInt64,
    scroll_sum      UInt64,
    scroll_count    UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_domain, dimension, date, version);

-- One row per finished roll of a day; its version is ClickHouse's clock when
-- the roll began (microseconds), taken before it read anything; its time
-- zone and goals the site's then (time buckets are cut in the one, goal rows
-- count the other: a roll is read only while they are the site's still).
CREATE TABLE IF NOT EXISTS day_rolls
(
    site_domain LowCardinality(String),
    date        Date,
    version     UInt64,
    timezone    LowCardinality(String),
    goals       String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_domain, date);

-- When a day last changed: stamped by the queue consumer after it stored a
-- batch's events and refreshed their visits, and by a visits rebuild. A roll
-- older than the day's last change is not read.
CREATE TABLE IF NOT EXISTS day_changes
(
    site_domain LowCardinality(String),
    date        Date,
    changed     UInt64
)
ENGINE = ReplacingMergeTree(changed)
ORDER BY (site_domain, date);

-- the days stored before this migration: changed, so that the cron rolls them
INSERT INTO day_changes
SELECT site_domain, toDate(timestamp) AS date, toUInt64(toUnixTimestamp64Micro(now64(6))) AS changed
FROM events
GROUP BY site_domain, date;
