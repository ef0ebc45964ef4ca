-- A device's whole state. The file is encrypted with SQLCipher; its key is in the OS keyring.

-- One row: who this device is and its logical clock (strictly increasing per op).
CREATE TABLE device (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    device_id TEXT    NOT NULL,
    clock     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE notes (
    id         TEXT    PRIMARY KEY,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    -- The server version this note was last synced at; NULL until the server has it.
    version    INTEGER
);
CREATE INDEX notes_by_update ON notes (deleted, updated_at DESC);

-- The outbox: local changes waiting for the server, replayed in `seq` order.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id        TEXT    NOT NULL UNIQUE,
    note_id      TEXT    NOT NULL REFERENCES notes (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
    title        TEXT,
    body         TEXT,
    base_version INTEGER,
    device_id    TEXT    NOT NULL,
    clock        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    -- Set when a push carrying this op has started: from then on it may be on the server,
    -- so later edits must not be folded into it.
    sent_at      INTEGER,
    CHECK ((kind = 'delete') = (title IS NULL AND body IS NULL))
);
CREATE INDEX outbox_by_note ON outbox (note_id, seq);

-- The last text each note is known to have on the server: the base of a three-way merge.
CREATE TABLE bases (
    note_id TEXT    PRIMARY KEY REFERENCES notes (id),
    version INTEGER NOT NULL,
    title   TEXT    NOT NULL,
    body    TEXT    NOT NULL
);

-- Notes whose local and server texts could not be merged, until the person decides.
CREATE TABLE conflicts (
    id             TEXT    PRIMARY KEY,
    note_id        TEXT    NOT NULL REFERENCES notes (id),
    base_body      TEXT,
    mine_title     TEXT    NOT NULL,
    mine_body      TEXT    NOT NULL,
    theirs_title   TEXT    NOT NULL,
    theirs_body    TEXT    NOT NULL,
    theirs_version INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    resolved_at    INTEGER
);
CREATE INDEX conflicts_open ON conflicts (note_id) WHERE resolved_at IS NULL;

-- Settings a person changes with `quire config` (see quire_core::settings) and engine state.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
