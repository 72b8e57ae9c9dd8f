-- Each event's channel (Plausible's `visit:channel`: Organic Search, Referral,
-- Direct, …), named by the edge from its attribution (ingest::enrich::channel),
-- and each stored visit's, from its first interactive event. Rows stored
-- before this migration have none (''); a visits rebuild cannot name it, the
-- rules live in the edge.
ALTER TABLE events ADD COLUMN IF NOT EXISTS channel LowCardinality(String);
ALTER TABLE visitor_days ADD COLUMN IF NOT EXISTS `visit.channel` Array(String) DEFAULT arrayMap(x -> '', `visit.start`);
