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

-- rule_stats: how often a rule fired and when last, written in the transaction
-- that stores the event's deliveries.
CREATE TABLE rule_stats (
    rule       TEXT    PRIMARY KEY,
    fire_count INTEGER NOT NULL,
    last_fired INTEGER NOT NULL
) STRICT;

CREATE INDEX jobs_status_id ON jobs (status, id);
CREATE INDEX jobs_callout_kind_status ON jobs (callout, kind, status, id);
