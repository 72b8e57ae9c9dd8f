-- Visits, stored: one row per visitor and UTC day (a visitor id lives one
-- day), holding that day's visits as arrays. Derived from `events` only —
-- recomputed for the visitors of every inserted batch by the queue consumer,
-- and for whole days by the admin API's rebuild — so a newer row (higher
-- version) replaces the older whole: a late event that joins two visits
-- leaves no stale one behind. Read with FINAL.
CREATE TABLE IF NOT EXISTS visitor_days
(
    site_domain              LowCardinality(String),
    date                     Date,
    visitor_id               UInt64,
    version                  UInt64,
    -- the visitor's own (the same on all its events: the id hashes UA and IP)
    device                   LowCardinality(String),
    browser                  LowCardinality(String),
    browser_version          LowCardinality(String),
    operating_system         LowCardinality(String),
    operating_system_version LowCardinality(String),
    country_code             FixedString(2),
    -- per visit: first and last event, first and last interactive event
    `visit.start`            Array(DateTime('UTC')),
    `visit.end`              Array(DateTime('UTC')),
    `visit.first_active`     Array(DateTime('UTC')),
    `visit.last_active`      Array(DateTime('UTC')),
    `visit.pageviews`        Array(UInt32),
    `visit.interactions`     Array(UInt32),
    `visit.active`           Array(UInt32),
    `visit.entry_page`       Array(String),
    `visit.exit_page`        Array(String),
    `visit.source`           Array(String),
    `visit.referrer`         Array(String),
    `visit.utm_medium`       Array(String),
    `visit.utm_source`       Array(String),
    `visit.utm_campaign`     Array(String),
    `visit.utm_content`      Array(String),
    `visit.utm_term`         Array(String)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(date)
ORDER BY (site_domain, date, visitor_id);
