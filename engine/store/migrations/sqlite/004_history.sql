-- Event history: one row per handled event, written in the transaction that
-- enqueues the event's jobs. doc is the engine's compact JSON record (rules
-- evaluated, callouts fired or skipped, values set, rejection); opaque to the store.
-- IDs are time-ordered (evt_ + ULID): pages and purges walk the primary key.
-- rules_id names the list of rules (with their callouts) the event was run
-- through, stored once per configuration in history_rules, so a row holds only
-- what differs from "false": the rules that held or failed, and the callouts.
CREATE TABLE history (
    id         TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL,
    form       TEXT    NOT NULL,
    entry_id   TEXT    NOT NULL,
    rules_id   TEXT    NOT NULL,
    event_kind TEXT    NOT NULL,
    doc        BLOB    NOT NULL
) STRICT, WITHOUT ROWID; -- clustered on id: one b-tree fewer to write per event
-- One record's history, newest first.
CREATE INDEX history_record ON history (form, entry_id, id);

-- The rule lists history rows refer to, by a hash of their content. Small (one per
-- form and event kind per configuration version) and kept: rows that refer to them
-- may be read at any time.
CREATE TABLE history_rules (
    id         TEXT    PRIMARY KEY,
    created_at INTEGER  NOT NULL,
    doc        BLOB    NOT NULL
) STRICT;
