-- Sync: last-write-wins ops, and ops the server refused, kept for the person to see.

ALTER TABLE outbox ADD COLUMN lww INTEGER NOT NULL DEFAULT 0 CHECK (lww IN (0, 1));

-- Ops the server rejected: out of the queue (so they block nothing), never silently lost.
CREATE TABLE attention (
    op_id       TEXT    PRIMARY KEY,
    note_id     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    title       TEXT,
    body        TEXT,
    reason      TEXT    NOT NULL,
    rejected_at INTEGER NOT NULL
);
