-- Registrations of external-event target installations in the external product:
-- the state of the register call made when an installation is created and of the
-- deregister call made when it is revoked. The calls themselves are callout jobs
-- (event_kind 'register' or 'deregister'); target_url is the installation's URL
-- sealed by the engine (the token is never stored in the clear).
CREATE TABLE target_registrations (
    target_id         TEXT        PRIMARY KEY,
    status            TEXT        NOT NULL CHECK (status IN ('none', 'pending', 'registered', 'failed')),
    registration_id   TEXT        NOT NULL DEFAULT '',
    error             TEXT        NOT NULL DEFAULT '',
    register_job      TEXT        NOT NULL DEFAULT '',
    target_url        BYTEA       NOT NULL,
    deregister_status TEXT        NOT NULL DEFAULT '' CHECK (deregister_status IN ('', 'pending', 'deregistered', 'failed', 'skipped')),
    deregister_job    TEXT        NOT NULL DEFAULT '',
    deregister_error  TEXT        NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
