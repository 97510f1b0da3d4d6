-- Time-based rules: one timer per (time rule, record), and the latest values of the
-- records of forms that have time rules, which a timer's condition is evaluated on.
-- Times are TIMESTAMPTZ.
CREATE TABLE timers (
    rule          TEXT    NOT NULL,
    form          TEXT    NOT NULL,
    entry_id      TEXT    NOT NULL,
    anchor        TIMESTAMPTZ NOT NULL,       -- the anchor field's value it was armed for
    offset_us     BIGINT  NOT NULL,           -- the rule's offset when armed
    repetition    INTEGER NOT NULL DEFAULT 0, -- the firing due next, 0-based
    repetitions   INTEGER NOT NULL,           -- firings allowed for this anchor (1 + repeat max)
    every_us      BIGINT  NOT NULL DEFAULT 0, -- repeat interval; 0: no repeat
    due_at        TIMESTAMPTZ NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('armed', 'done')),
    fired         INTEGER NOT NULL DEFAULT 0, -- firings whose condition held
    armed_by      TEXT    NOT NULL DEFAULT '',
    armed_at      TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    last_fired_at TIMESTAMPTZ,
    lease_owner   TEXT    NOT NULL DEFAULT '',
    lease_until   TIMESTAMPTZ,
    PRIMARY KEY (rule, form, entry_id)
);
-- Times are TIMESTAMPTZ.
CREATE INDEX timers_due ON timers (due_at) WHERE state = 'armed';
CREATE INDEX timers_record ON timers (form, entry_id);
CREATE INDEX timers_leased ON timers (lease_until) WHERE lease_until IS NOT NULL;
-- Times are TIMESTAMPTZ.
CREATE TABLE timer_records (
    form       TEXT    NOT NULL,
    entry_id   TEXT    NOT NULL,
    data       BYTEA   NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (form, entry_id)
);
