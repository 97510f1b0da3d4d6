-- ServiceDesk Plus-style callback functions created through the HTTP API (those of
-- the configuration file are not stored). document is the function as JSON; its
-- publication state and token are in callback_tokens, keyed by the same api_name.
CREATE TABLE callback_functions (
    api_name   TEXT    PRIMARY KEY,
    document   BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
