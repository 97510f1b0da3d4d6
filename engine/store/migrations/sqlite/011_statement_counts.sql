-- Nothing to change on SQLite. On PostgreSQL this migration replaces the row-level
-- triggers of callout_counts with statement-level ones (a plpgsql upsert per row
-- was costly there); SQLite's row triggers are plain SQL run in-process, and both
-- dialects keep the same list of migrations.
SELECT 1;
