-- `time_on_page` (the engaged time of a group's engagement events per visitor
-- who engaged) needs each rolled day's engaged milliseconds. Rolls made before
-- this column existed lack them: forgotten here, so that every day is read
-- from its events until the cron rolls it again (40 days a run; exact all along).
ALTER TABLE day_rollups ADD COLUMN IF NOT EXISTS engaged_ms UInt64;
TRUNCATE TABLE IF EXISTS day_rolls;
TRUNCATE TABLE IF EXISTS day_rollups;
