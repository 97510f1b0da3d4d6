-- Event history: one row per handled event, written in the transaction that
-- enqueues the event's jobs. doc is the engine's compact JSON record (rules
-- evaluated, callouts fired or skipped, values set, rejection); opaque to the store.
-- IDs are time-ordered (evt_ + ULID): pages and purges walk the primary key.
CREATE TABLE history (
    id         TEXT        PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    form       TEXT        NOT NULL,
    entry_id   TEXT        NOT NULL,
    event_kind TEXT        NOT NULL,
    doc        BYTEA       NOT NULL
);
-- One record's history, newest first.
CREATE INDEX history_record ON history (form, entry_id, id);
