-- The management API: operator overrides of the configuration file's active flags,
-- rule statistics, and the indexes that page the deliveries by status and callout.

-- overrides: a callout or rule switched on or off through the API. Every node
-- reads it (the registry revision in counters says when it changed).
CREATE TABLE overrides (
    kind       TEXT        NOT NULL CHECK (kind IN ('callout', 'rule')),
    name       TEXT        NOT NULL,
    active     BOOLEAN     NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, name)
);

-- rule_stats: how often a rule fired and when last, added by every engine once a
-- second from the counts it keeps in memory.
CREATE TABLE rule_stats (
    rule       TEXT        PRIMARY KEY,
    fire_count BIGINT      NOT NULL,
    last_fired TIMESTAMPTZ NOT NULL
);

-- Failed and pending jobs by ID (the lists an operator filters by status; delivered
-- jobs, most of the outbox, are left out so settling a delivery costs the index
-- one removal). Queries must say status <> 'delivered' to use it.
CREATE INDEX jobs_open_id ON jobs (status, id) WHERE status <> 'delivered';
CREATE INDEX jobs_callout_id ON jobs (callout, id);
-- callout_counts: the callout deliveries of each callout by status, kept by a
-- trigger in the transaction of every change, so the listing of the callouts
-- reads a few rows instead of counting the outbox. Each backend writes the shard
-- of its process ID, so nodes committing at once do not queue on one row.
CREATE TABLE callout_counts (
    callout TEXT    NOT NULL,
    status  TEXT    NOT NULL,
    shard   INTEGER NOT NULL,
    n       BIGINT  NOT NULL,
    last_id TEXT    NOT NULL, -- the highest job ID inserted with this status (the newest delivery)
    PRIMARY KEY (callout, status, shard)
);
INSERT INTO callout_counts (callout, status, shard, n, last_id)
    SELECT callout, status, 0, COUNT(*), MAX(id) FROM jobs WHERE kind = 'callout' GROUP BY callout, status;

CREATE FUNCTION ruleflow_count_callout_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s integer := pg_backend_pid() % 16;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.kind = 'callout' THEN
        INSERT INTO callout_counts AS c (callout, status, shard, n, last_id) VALUES (OLD.callout, OLD.status, s, -1, '')
            ON CONFLICT (callout, status, shard) DO UPDATE SET n = c.n - 1;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.kind = 'callout' THEN
        INSERT INTO callout_counts AS c (callout, status, shard, n, last_id)
            VALUES (NEW.callout, NEW.status, s, 1, CASE WHEN TG_OP = 'INSERT' THEN NEW.id ELSE '' END)
            ON CONFLICT (callout, status, shard) DO UPDATE SET n = c.n + 1, last_id = GREATEST(c.last_id, excluded.last_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_count AFTER INSERT OR DELETE OR UPDATE OF status ON jobs
    FOR EACH ROW EXECUTE FUNCTION ruleflow_count_callout_jobs();
