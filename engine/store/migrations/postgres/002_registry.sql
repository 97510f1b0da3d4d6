-- Registrations made at run time through the HTTP API.

-- counters: the webhook id sequence and the registry revision.
CREATE TABLE counters (
    name  TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('webhook_id', 0), ('revision', 0);

-- AR System webhooks. document is the caller's JSON (password already encrypted).
CREATE TABLE webhooks (
    id         TEXT        PRIMARY KEY,
    form       TEXT        NOT NULL,
    events     TEXT        NOT NULL,
    url        TEXT        NOT NULL,
    document   BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (form, events, url)
);

-- Freshworks-style external-event target URLs. Only the SHA-256 of a token is kept.
CREATE TABLE targets (
    id         TEXT        PRIMARY KEY,
    name       TEXT        NOT NULL,
    token_hash BYTEA       NOT NULL UNIQUE,
    iparams    BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
-- Several installations of one target may be active at once, each with its own URL.
CREATE INDEX targets_name ON targets (name);

-- ServiceDesk Plus-style callback function tokens.
CREATE TABLE callback_tokens (
    api_name   TEXT        PRIMARY KEY,
    published  BOOLEAN     NOT NULL,
    token_hash BYTEA       NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
