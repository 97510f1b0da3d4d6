-- Circuit breakers, one per callout endpoint (scheme://host:port), and the
-- per-callout rate-limit windows. Both are shared by every node of the store.
CREATE TABLE breakers (
    endpoint    TEXT        PRIMARY KEY,
    callout     TEXT        NOT NULL DEFAULT '',
    state       TEXT        NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    failures    INTEGER     NOT NULL DEFAULT 0,
    cooldown_us BIGINT      NOT NULL DEFAULT 0,
    opened_at   TIMESTAMPTZ,
    open_until  TIMESTAMPTZ,
    probe_owner TEXT        NOT NULL DEFAULT '',
    probe_until TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE rate_windows (
    callout      TEXT        PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    used         INTEGER     NOT NULL
);
