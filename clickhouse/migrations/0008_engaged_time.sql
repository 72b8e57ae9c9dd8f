-- `time_on_page` (the engaged time of a group's engagement events per visitor
-- who engaged) needs each rolled day's engaged milliseconds; and each roll now
-- says what it holds (`stats::sql::days::ROLL_FORMAT`): a roll of another
-- format (every roll made before this column: 0) is not read and its day is
-- rolled again by the cron, so days are read from their events meanwhile.
ALTER TABLE day_rollups ADD COLUMN IF NOT EXISTS engaged_ms UInt64;
ALTER TABLE day_rolls ADD COLUMN IF NOT EXISTS format UInt32;
