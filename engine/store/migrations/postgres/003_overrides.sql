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

-- rule_stats: how often a rule fired and when last, written in the transaction
-- that stores the event's deliveries.
CREATE TABLE rule_stats (
    rule       TEXT        PRIMARY KEY,
    fire_count BIGINT      NOT NULL,
    last_fired TIMESTAMPTZ NOT NULL
);

CREATE INDEX jobs_status_id ON jobs (status, id);
CREATE INDEX jobs_callout_kind_status ON jobs (callout, kind, status, id);
