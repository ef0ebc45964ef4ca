-- Rate limits counted before a password is checked, and indexes for background pruning.
-- Keep in step with migrations/postgres.

-- Login and registration attempts, written before the password is hashed and counted with
-- it (see the server's attempts module). They replace login_failures, which counted only
-- failures, after hashing, and whose rows only count for minutes anyway.
DROP TABLE login_failures;
CREATE TABLE auth_attempts (
    id    TEXT    PRIMARY KEY,
    -- What it counts against: 'login:ADDR', 'login:ADDR NAME' or 'register:ADDR'.
    scope TEXT    NOT NULL,
    at    INTEGER NOT NULL
);
CREATE INDEX auth_attempts_by_scope ON auth_attempts (scope, at);
CREATE INDEX auth_attempts_by_age ON auth_attempts (at);

-- Pruning finds dead sessions and old op answers without reading whole tables.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX applied_ops_by_age ON applied_ops (created_at);
