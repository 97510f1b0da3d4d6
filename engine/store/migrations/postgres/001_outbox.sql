-- The outbox: callout deliveries and e-mail notifications, and their attempts.
CREATE TABLE jobs (
    id               TEXT        PRIMARY KEY,
    kind             TEXT        NOT NULL CHECK (kind IN ('callout', 'email', 'note')),
    callout          TEXT        NOT NULL DEFAULT '',
    rule             TEXT        NOT NULL DEFAULT '',
    form             TEXT        NOT NULL DEFAULT '',
    entry_id         TEXT        NOT NULL DEFAULT '',
    event_kind       TEXT        NOT NULL DEFAULT '',
    payload          BYTEA       NOT NULL,
    parent_id        TEXT        NOT NULL DEFAULT '',
    status           TEXT        NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER     NOT NULL DEFAULT 0,
    max_attempts     INTEGER     NOT NULL,
    retry_budget     INTEGER     NOT NULL,
    next_at          TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    last_status_code INTEGER     NOT NULL DEFAULT 0,
    last_error       TEXT        NOT NULL DEFAULT '',
    first_attempt_at TIMESTAMPTZ,
    last_attempt_at  TIMESTAMPTZ,
    lease_owner      TEXT        NOT NULL DEFAULT '',
    lease_until      TIMESTAMPTZ
);

CREATE INDEX jobs_status_next_at ON jobs (status, next_at, id);
CREATE INDEX jobs_form_entry ON jobs (form, entry_id);
CREATE INDEX jobs_parent ON jobs (parent_id) WHERE parent_id <> '';

CREATE TABLE job_attempts (
    job_id      TEXT        NOT NULL,
    n           INTEGER     NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    duration_us BIGINT      NOT NULL,
    status_code INTEGER     NOT NULL,
    error       TEXT        NOT NULL,
    response    BYTEA       NOT NULL,
    PRIMARY KEY (job_id, n)
);
