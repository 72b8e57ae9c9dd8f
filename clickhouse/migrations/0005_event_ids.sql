-- Each event's own id, from its queue message (model::columns::EVENT_ID): the
-- consumer inserts only the events whose id is not stored yet, so an event
-- the queue delivers again, in whatever batch, is stored once. Rows stored
-- before this migration keep 0. The skip index lets that check read only
-- the granules that may hold the batch's ids.
ALTER TABLE events ADD COLUMN IF NOT EXISTS event_id UInt64;
ALTER TABLE events ADD INDEX IF NOT EXISTS event_id_bloom event_id TYPE bloom_filter GRANULARITY 4;
