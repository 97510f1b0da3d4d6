-- Nothing to change on PostgreSQL: its statement-level triggers of
-- 011_statement_counts.sql aggregate per statement in the server and spread
-- concurrent nodes over shards. On SQLite this migration drops the row triggers,
-- and the writer keeps callout_counts itself (counts.go); both dialects keep the
-- same list of migrations.
SELECT 1;
