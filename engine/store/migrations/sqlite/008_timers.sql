-- Time-based rules: one timer per (time rule, record), and the latest values of the
-- records of forms that have time rules, which a timer's condition is evaluated on.
-- Times are INTEGER microseconds since the Unix epoch (UTC); NULL means unset.
CREATE TABLE timers (
    rule          TEXT    NOT NULL,
    form          TEXT    NOT NULL,
    entry_id      TEXT    NOT NULL,
    anchor        INTEGER NOT NULL,           -- the anchor field's value it was armed for
    offset_us     INTEGER NOT NULL,           -- the rule's offset when armed
    repetition    INTEGER NOT NULL DEFAULT 0, -- the firing due next, 0-based
    repetitions   INTEGER NOT NULL,           -- firings allowed for this anchor (1 + repeat max)
    every_us      INTEGER NOT NULL DEFAULT 0, -- repeat interval; 0: no repeat
    due_at        INTEGER NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('armed', 'done')),
    fired         INTEGER NOT NULL DEFAULT 0, -- firings whose condition held
    armed_by      TEXT    NOT NULL DEFAULT '',
    armed_at      INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_fired_at INTEGER,
    lease_owner   TEXT    NOT NULL DEFAULT '',
    lease_until   INTEGER,
    PRIMARY KEY (rule, form, entry_id)
) STRICT;

CREATE INDEX timers_due ON timers (due_at) WHERE state = 'armed';
CREATE INDEX timers_record ON timers (form, entry_id);
CREATE INDEX timers_leased ON timers (lease_until) WHERE lease_until IS NOT NULL;

CREATE TABLE timer_records (
    form       TEXT    NOT NULL,
    entry_id   TEXT    NOT NULL,
    data       BLOB    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (form, entry_id)
) STRICT;
