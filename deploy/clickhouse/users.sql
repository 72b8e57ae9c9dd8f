-- The two ClickHouse users of a production installation (docs/deploy-cloudflare.md,
-- docs/self-hosting.md), run once as an administrator after the migrations.
-- Replace the two passwords (openssl rand -hex 24 each); they become the
-- secrets CLICKHOUSE_PASSWORD and CLICKHOUSE_READ_PASSWORD.

-- The Stats API's reads: each statement already sets readonly = 2 and its own
-- limits (edge/stats/src/limits.rs); the profile caps what any statement may
-- ask for, so a key that leaked cannot run the server out of memory or time.
CREATE SETTINGS PROFILE IF NOT EXISTS edge_reader_limits SETTINGS
    max_execution_time = 15 MAX 15,
    max_memory_usage = 4000000000 MAX 4000000000,
    max_result_rows = 100000 MAX 100000,
    max_concurrent_queries_for_user = 20,
    readonly = 2 CONST;

-- SELECT only. Not readonly = 1: it would refuse the limits each read sets.
CREATE USER IF NOT EXISTS edge_reader IDENTIFIED WITH sha256_password BY 'REPLACE-WITH-READER-PASSWORD'
    SETTINGS PROFILE edge_reader_limits;
GRANT SELECT ON analytics.* TO edge_reader;

-- The queue consumer (INSERT, and SELECT for the ids already stored and the
-- visits refresh), the hourly retention pass (lightweight DELETE) and the
-- admin API's visit rebuilds. No DDL: the migrations run as an administrator.
CREATE USER IF NOT EXISTS edge_writer IDENTIFIED WITH sha256_password BY 'REPLACE-WITH-WRITER-PASSWORD';
GRANT SELECT, INSERT, ALTER DELETE ON analytics.* TO edge_writer;
