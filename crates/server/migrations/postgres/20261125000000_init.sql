-- The sync server's store (PostgreSQL). Keep in step with migrations/sqlite.

CREATE TABLE accounts (
    id              TEXT    PRIMARY KEY,
    username        TEXT    NOT NULL UNIQUE,
    password_hash   TEXT    NOT NULL,
    conflict_policy TEXT    NOT NULL DEFAULT 'merge',
    -- The account's change-log counter. Every push takes it (and so the row's write lock)
    -- first: per account, changes commit in the order of their sequence numbers.
    change_seq      BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the bearer token: the token itself is never stored.
    token_hash TEXT    PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE notes (
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    id         TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    version    BIGINT NOT NULL,
    deleted    BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    -- Position of this note's latest change in the account's change log (pull cursor).
    change_seq BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX notes_by_change ON notes (account_id, change_seq);

-- Every op's answer, so a replayed op gets the same answer and changes nothing.
CREATE TABLE applied_ops (
    account_id TEXT    NOT NULL,
    op_id      TEXT    NOT NULL,
    result     TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, op_id)
);

-- Texts that a last-write-wins push replaced without having seen them.
CREATE TABLE note_history (
    account_id  TEXT    NOT NULL,
    note_id     TEXT    NOT NULL,
    version     BIGINT NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    deleted     BIGINT NOT NULL,
    replaced_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, note_id, version)
);

-- Failed logins, by account name and by address, for rate limiting across instances.
CREATE TABLE login_failures (
    scope TEXT    NOT NULL,
    at    BIGINT NOT NULL
);
CREATE INDEX login_failures_by_scope ON login_failures (scope, at);
