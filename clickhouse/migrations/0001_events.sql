-- The events table, modelled on Plausible's events_v2 (ANCHORS.md): one row per
-- accepted event, no IP and no User-Agent, only what enrichment derived from them.
CREATE TABLE IF NOT EXISTS events
(
    site_domain              LowCardinality(String),
    timestamp                DateTime('UTC'),
    name                     LowCardinality(String),
    -- SipHash of (daily salt, UA, IP, site): a visitor within one day, never across days
    visitor_id               UInt64,
    hostname                 LowCardinality(String),
    pathname                 String,
    referrer                 String CODEC(ZSTD(3)),
    referrer_source          LowCardinality(String),
    utm_medium               String CODEC(ZSTD(3)),
    utm_source               String CODEC(ZSTD(3)),
    utm_campaign             String CODEC(ZSTD(3)),
    utm_content              String CODEC(ZSTD(3)),
    utm_term                 String CODEC(ZSTD(3)),
    click_id_param           LowCardinality(String),
    -- ISO 3166 alpha-2; '' when unknown. Never finer than a country.
    country_code             FixedString(2),
    device                   LowCardinality(String),
    browser                  LowCardinality(String),
    browser_version          LowCardinality(String),
    operating_system         LowCardinality(String),
    operating_system_version LowCardinality(String),
    `meta.key`               Array(String),
    `meta.value`             Array(String),
    revenue_amount           Nullable(Decimal(18, 3)),
    revenue_currency         FixedString(3),
    -- engagement events: percent scrolled and milliseconds engaged
    scroll_depth             UInt8,
    engagement_time          UInt32,
    interactive              Bool,
    tracker_version          UInt32
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (site_domain, toDate(timestamp), name, visitor_id, timestamp)
SAMPLE BY visitor_id
-- a retried batch (same insert_deduplication_token) is stored once
SETTINGS non_replicated_deduplication_window = 100000;
