-- The management API: operator overrides of the configuration file's active flags,
-- rule statistics, and the indexes that page the deliveries by status and callout.

-- overrides: a callout or rule switched on or off through the API. Every node
-- reads it (the registry revision in counters says when it changed).
CREATE TABLE overrides (
    kind       TEXT    NOT NULL CHECK (kind IN ('callout', 'rule')),
    name       TEXT    NOT NULL,
    active     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
) STRICT;

-- rule_stats: how often a rule fired and when last, added by every engine once a
-- second from the counts it keeps in memory.
CREATE TABLE rule_stats (
    rule       TEXT    PRIMARY KEY,
    fire_count INTEGER NOT NULL,
    last_fired INTEGER NOT NULL
) STRICT;

-- Failed and pending jobs by ID (the lists an operator filters by status; delivered
-- jobs, most of the outbox, are left out so settling a delivery costs the index
-- one removal). Queries must say status <> 'delivered' to use it.
CREATE INDEX jobs_open_id ON jobs (status, id) WHERE status <> 'delivered';
CREATE INDEX jobs_callout_id ON jobs (callout, id);
-- callout_counts: the callout deliveries of each callout by status, kept by
-- triggers in the transaction of every change, so the listing of the callouts
-- reads a few rows instead of counting the outbox. shard is always 0 here (one
-- writer); PostgreSQL spreads concurrent writers over shards.
CREATE TABLE callout_counts (
    callout TEXT    NOT NULL,
    status  TEXT    NOT NULL,
    shard   INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    last_id TEXT    NOT NULL, -- the highest job ID inserted with this status (the newest delivery)
    PRIMARY KEY (callout, status, shard)
) STRICT;
INSERT INTO callout_counts (callout, status, shard, n, last_id)
    SELECT callout, status, 0, COUNT(*), MAX(id) FROM jobs WHERE kind = 'callout' GROUP BY callout, status;

CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs WHEN NEW.kind = 'callout' BEGIN
    INSERT INTO callout_counts (callout, status, shard, n, last_id) VALUES (NEW.callout, NEW.status, 0, 1, NEW.id)
        ON CONFLICT (callout, status, shard) DO UPDATE SET n = n + 1,
            last_id = CASE WHEN excluded.last_id > last_id THEN excluded.last_id ELSE last_id END;
END;
CREATE TRIGGER jobs_count_update AFTER UPDATE OF status ON jobs
    WHEN OLD.kind = 'callout' AND NEW.status <> OLD.status BEGIN
    UPDATE callout_counts SET n = n - 1 WHERE callout = OLD.callout AND status = OLD.status AND shard = 0;
    INSERT INTO callout_counts (callout, status, shard, n, last_id) VALUES (NEW.callout, NEW.status, 0, 1, '')
        ON CONFLICT (callout, status, shard) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs WHEN OLD.kind = 'callout' BEGIN
    UPDATE callout_counts SET n = n - 1 WHERE callout = OLD.callout AND status = OLD.status AND shard = 0;
END;
