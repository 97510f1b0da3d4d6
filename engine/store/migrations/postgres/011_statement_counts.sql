-- callout_counts kept per statement instead of per row. The row-level trigger of
-- 009 ran a plpgsql upsert for every job inserted and every status change, which
-- cost the single committer more than the insert and the settle themselves. These
-- triggers see the statement's rows as transition tables and add one aggregated
-- delta per (callout, status): a group commit's multi-row INSERT and a settle of
-- 256 outcomes each make a few upserts, not hundreds. The counts stay exact: the
-- same deltas as before, summed.
--
-- A trigger with transition tables can have one event only and, for UPDATE, no
-- column list, so there are three; the UPDATE one joins the old and the new rows
-- by id (never updated) and counts only rows whose status changed, as 009 did.
DROP TRIGGER jobs_count ON jobs;
DROP FUNCTION ruleflow_count_callout_jobs();

CREATE FUNCTION ruleflow_count_inserted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callout_counts AS c (callout, status, shard, n, last_id)
        SELECT callout, status, pg_backend_pid() % 16, COUNT(*), MAX(id)
        FROM inserted WHERE kind = 'callout' GROUP BY callout, status
        ON CONFLICT (callout, status, shard) DO UPDATE SET n = c.n + excluded.n, last_id = GREATEST(c.last_id, excluded.last_id);
    RETURN NULL;
END
$$;

CREATE FUNCTION ruleflow_count_deleted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callout_counts AS c (callout, status, shard, n, last_id)
        SELECT callout, status, pg_backend_pid() % 16, -COUNT(*), ''
        FROM deleted WHERE kind = 'callout' GROUP BY callout, status
        ON CONFLICT (callout, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION ruleflow_count_updated_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callout_counts AS c (callout, status, shard, n, last_id)
        SELECT d.callout, d.status, pg_backend_pid() % 16, SUM(d.n), ''
        FROM (
            SELECT o.callout, o.status, -1 AS n FROM old_jobs o JOIN new_jobs a ON a.id = o.id
            WHERE o.status <> a.status AND o.kind = 'callout'
            UNION ALL
            SELECT a.callout, a.status, 1 FROM old_jobs o JOIN new_jobs a ON a.id = o.id
            WHERE o.status <> a.status AND a.kind = 'callout'
        ) d
        GROUP BY d.callout, d.status
        HAVING SUM(d.n) <> 0
        ON CONFLICT (callout, status, shard) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ruleflow_count_inserted_jobs();
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION ruleflow_count_deleted_jobs();
CREATE TRIGGER jobs_count_update AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION ruleflow_count_updated_jobs();
