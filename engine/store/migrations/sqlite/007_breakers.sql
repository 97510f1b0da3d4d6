-- Circuit breakers, one per callout endpoint (scheme://host:port), and the
-- per-callout rate-limit windows. Both are shared by every node of the store.
CREATE TABLE breakers (
    endpoint    TEXT    PRIMARY KEY,
    callout     TEXT    NOT NULL DEFAULT '',  -- the callout whose attempt changed it last
    state       TEXT    NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    failures    INTEGER NOT NULL DEFAULT 0,   -- consecutive failed attempts
    cooldown_us INTEGER NOT NULL DEFAULT 0,   -- the cool-down of the current (or next) opening
    opened_at   INTEGER,
    open_until  INTEGER,
    probe_owner TEXT    NOT NULL DEFAULT '',
    probe_until INTEGER,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE rate_windows (
    callout      TEXT    PRIMARY KEY,
    window_start INTEGER NOT NULL,
    used         INTEGER NOT NULL
) STRICT;
