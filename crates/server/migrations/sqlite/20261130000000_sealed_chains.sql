-- Sealed note texts of end-to-end accounts (docs/e2e-design.md, "Server storage and push").
-- Keep in step with migrations/postgres.

-- Each op's sealed value, as an entry of its note's chain: a snapshot, then the patches and
-- deletes made on it. The server stores and forwards these; it cannot open them.
CREATE TABLE note_entries (
    account_id   TEXT    NOT NULL,
    note_id      TEXT    NOT NULL,
    -- The version the op made, and the one it was made on (NULL for a create).
    version      INTEGER NOT NULL,
    base_version INTEGER,
    -- Where the op sits in the account's change log: a pull sends the entries after its cursor.
    change_seq   INTEGER NOT NULL,
    op_id        TEXT    NOT NULL,
    -- 'snapshot', 'patch' or 'delete'.
    form         TEXT    NOT NULL,
    data         BLOB   NOT NULL,
    device_id    TEXT    NOT NULL,
    PRIMARY KEY (account_id, note_id, version)
);

-- The version of a sealed note's latest snapshot: its chain is the entries from there on.
-- NULL for a note stored in the clear (title and body in this row).
ALTER TABLE notes ADD COLUMN snapshot_version INTEGER;
